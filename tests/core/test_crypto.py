"""Personal data is encrypted at rest; the phone index is keyed; keys rotate without losing anything."""

from __future__ import annotations

import hashlib
import hmac
import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from harbour.core import crypto
from harbour.core.audit import verify
from harbour.core.rotation import rotate_keys

API = "/api/v1/hotline"
NAME, PHONE, EMAIL = "Fictional Person", "613-555-0123", "fictional.person@example.com"
SUMMARY = "Fictional caller describes a fictional workplace."
PLAINTEXTS = (NAME, "Fictional", "5550123", "555-0123", "fictional.person", "fictional workplace", "Fictional Alias",
              "Fictional notes", "Fictional blue", "Fictional consent note", "Fictional danger")


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch):
    from argon2 import PasswordHasher

    from harbour.core import security

    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def h(make_user, token_for):
    return token_for(make_user("hotline_advocate"))


@pytest.fixture
def records(client, h) -> dict:
    """One of each kind of hotline record, with every encrypted field filled in."""
    contact = client.post(f"{API}/contacts", json={"channel": "phone", "caller_name": NAME, "caller_phone": PHONE,
                                                   "caller_email": EMAIL, "summary": SUMMARY}, headers=h).json()
    case = client.post(f"{API}/cases", json={"contact_ids": [contact["id"]], "survivor_alias": "Fictional Alias",
                                             "notes": "Fictional notes"}, headers=h).json()
    consent = client.post(f"{API}/cases/{case['id']}/consents",
                          json={"purpose": "referral", "method": "verbal", "note": "Fictional consent note"},
                          headers=h).json()
    client.post(f"{API}/consents/{consent['id']}/revoke", json={"reason": "Fictional revoke reason"}, headers=h)
    client.put(f"{API}/cases/{case['id']}/safety-plan", json={"code_word": "Fictional blue",
                                                             "safe_times": "Fictional mornings",
                                                             "notes": "Fictional plan"}, headers=h)
    client.post(f"{API}/cases/{case['id']}/escalations", json={"reason": "Fictional danger"}, headers=h)
    client.post(f"{API}/cases/{case['id']}/overrides", json={"purpose": "follow_up",
                                                            "reason": "Fictional danger, cannot ask"}, headers=h)
    return {"contact": contact, "case": case}


def encrypted_values(app) -> dict[tuple, str]:
    """{(table, column, primary key...): stored text} for every non-null encrypted column."""
    from harbour.models_registry import metadata

    found = {}
    with app.state.engine.connect() as conn:
        for table, column in crypto.encrypted_columns(metadata):
            pks = [c.name for c in metadata.tables[table].primary_key.columns]
            sql = f'SELECT {", ".join(pks)}, "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL'
            for row in conn.execute(text(sql)):
                found[(table, column, *row[:-1])] = row[-1]
    return found


# -- at rest ---------------------------------------------------------------------------------
def test_personal_fields_are_stored_encrypted(app, client, h, records):
    # -- personal fields are stored encrypted
    with app.state.engine.connect() as conn:
        row = conn.execute(text("SELECT caller_name, caller_phone, caller_email, summary, phone_index "
                                "FROM hotline_contact WHERE id = :i"), {"i": records["contact"]["id"]}).one()
    for value in row[:4]:
        assert value.startswith("enc1:")
    ring = crypto.keyring()
    assert [ring.decrypt(v) for v in row[:4]] == [NAME, "+16135550123", EMAIL, SUMMARY]

    stored = encrypted_values(app)
    tables = {k[0] for k in stored}
    assert {"hotline_contact", "hotline_case", "hotline_consent", "hotline_safety_plan", "hotline_escalation",
            "hotline_consent_override"} <= tables
    for key, value in stored.items():
        assert value.startswith(crypto.ENC_PREFIX), key
        for plain in PLAINTEXTS:
            assert plain not in value, (key, plain)

    # -- same plaintext encrypts differently each time
    ids = [client.post(f"{API}/contacts", json={"channel": "phone", "caller_name": NAME}, headers=h).json()["id"]
           for _ in range(2)]
    with app.state.engine.connect() as conn:
        values = [conn.execute(text("SELECT caller_name FROM hotline_contact WHERE id = :i"), {"i": i}).scalar_one()
                  for i in ids]
    assert values[0] != values[1]
    assert {crypto.keyring().decrypt(v) for v in values} == {NAME}

    # -- a tampered value is refused not returned
    from harbour.core.crypto import KeyFileError

    ring = crypto.keyring()
    with app.state.engine.connect() as conn:
        value = conn.execute(text("SELECT caller_name FROM hotline_contact WHERE id = :i"),
                             {"i": records["contact"]["id"]}).scalar_one()
    flipped = value[:-6] + ("A" if value[-6] != "A" else "B") + value[-5:]
    with pytest.raises(KeyFileError):
        ring.decrypt(flipped)
    with pytest.raises(KeyFileError):
        ring.decrypt("Fictional Person")  # plaintext that was never encrypted


def test_plaintext_is_nowhere_in_the_sqlite_files(app, records, settings):
    if not settings.is_sqlite:
        pytest.skip("file check applies to the SQLite backend")
    app.state.engine.dispose()
    db_file = Path(settings.database_url.split("///", 1)[1])
    blob = b"".join(p.read_bytes() for p in db_file.parent.glob(db_file.name + "*"))
    assert len(blob) > 10_000
    for plain in PLAINTEXTS + ("+16135550123", EMAIL):
        assert plain.encode() not in blob, plain


# -- blind index -------------------------------------------------------------------------------
def test_phone_blind_index_is_a_keyed_hmac(app, client, h, tmp_path, records):
    with app.state.engine.connect() as conn:
        index = conn.execute(text("SELECT phone_index FROM hotline_contact WHERE id = :i"),
                             {"i": records["contact"]["id"]}).scalar_one()
    ring = crypto.keyring()
    expected = hmac.new(ring.index_key, b"phone:+16135550123", hashlib.sha256).hexdigest()
    assert index == expected
    assert index != hashlib.sha256(b"+16135550123").hexdigest()  # not a plain (guessable) hash
    for digits in ("6135550123", "5550123", "+16135550123"):
        assert digits not in index
    other_ring = crypto.load_keyring(tmp_path / "other-keys.json", create=True)
    assert other_ring.blind_index("+16135550123", domain="phone") != index

    # the same number written differently gets the same index; another number does not
    same = client.post(f"{API}/contacts", json={"channel": "phone", "caller_phone": "+1 (613) 555-0123"},
                       headers=h).json()
    other = client.post(f"{API}/contacts", json={"channel": "phone", "caller_phone": "613-555-0124"},
                        headers=h).json()
    with app.state.engine.connect() as conn:
        got = dict(conn.execute(text("SELECT id, phone_index FROM hotline_contact WHERE id IN (:a, :b)"),
                                {"a": same["id"], "b": other["id"]}).all())
    assert got[same["id"]] == index
    assert got[other["id"]] != index


# -- rotation ------------------------------------------------------------------------------
@pytest.fixture
def key_copy(settings, tmp_path):
    """A copy of the session's key file; the session key ring is restored afterwards."""
    copy = tmp_path / "keys.json"
    shutil.copy(settings.key_file, copy)
    crypto.configure(copy)
    yield copy
    crypto.configure(settings.key_file)


def _decrypt_all(ring, stored: dict) -> dict:
    return {k: ring.decrypt(v) for k, v in stored.items()}


def test_rotation_re_encrypts_everything_under_one_new_key(app, client, h, records, settings, key_copy):
    # -- rotation re encrypts everything under one new key
    from harbour.core.crypto import KeyFileError
    from harbour.models_registry import metadata

    old_ring = crypto.load_keyring(settings.key_file, create=False)
    before = encrypted_values(app)
    plain = _decrypt_all(old_ring, before)
    assert NAME in plain.values() and len(before) >= 12

    result = rotate_keys(settings.model_copy(update={"key_file": key_copy}))

    data = json.loads(key_copy.read_text())
    assert [k["id"] for k in data["encryption_keys"]] == [result.new_key_id]
    assert result.new_key_id not in {k["id"] for k in old_ring.encryption_keys}
    assert result.retired == [k["id"] for k in old_ring.encryption_keys]
    assert result.values == len(before)
    assert result.columns == len(crypto.encrypted_columns(metadata))
    new_ring = crypto.load_keyring(key_copy, create=False)
    assert (new_ring.index_key, new_ring.audit_key) == (old_ring.index_key, old_ring.audit_key)

    after = encrypted_values(app)
    assert after.keys() == before.keys()
    for key in before:
        assert after[key] != before[key], key
        assert after[key].startswith(crypto.ENC_PREFIX)
    assert _decrypt_all(new_ring, after) == plain
    for value in after.values():
        with pytest.raises(KeyFileError):
            old_ring.decrypt(value)
    # the running application reads through the new key ring
    got = client.get(f"{API}/contacts/{records['contact']['id']}", headers=h).json()
    assert (got["caller_name"], got["caller_email"], got["summary"]) == (NAME, EMAIL, SUMMARY)
    # the phone index and the audit chain do not depend on the encryption key
    again = client.post(f"{API}/repeat-callers/lookup", json={"phone": PHONE}, headers=h).json()
    assert [m["contact_id"] for m in again] == [records["contact"]["id"]]
    with app.state.sessionmaker() as s:
        check = verify(s)
        assert check.ok, check
        rotations = s.execute(text("SELECT actor, record_id FROM audit_log WHERE action = 'rotate' "
                                   "AND record_type = 'key_ring'")).all()
    assert rotations == [("system:keys-rotate", result.new_key_id)]

    # and again: a second rotation works from the rotated state
    second = rotate_keys(settings.model_copy(update={"key_file": key_copy}))
    assert second.new_key_id != result.new_key_id
    ring2 = crypto.load_keyring(key_copy, create=False)
    assert [k["id"] for k in ring2.encryption_keys] == [second.new_key_id]
    final = encrypted_values(app)
    assert _decrypt_all(ring2, final) == plain
    for value in final.values():
        with pytest.raises(KeyFileError):
            new_ring.decrypt(value)
    with app.state.sessionmaker() as s:
        assert verify(s).ok

    # -- new writes after rotation use the new key
    result = rotate_keys(settings.model_copy(update={"key_file": key_copy}))
    new = client.post(f"{API}/contacts", json={"channel": "phone", "caller_name": "Second Fictional Person"},
                      headers=h).json()
    with app.state.engine.connect() as conn:
        value = conn.execute(text("SELECT caller_name FROM hotline_contact WHERE id = :i"),
                             {"i": new["id"]}).scalar_one()
    only_new = crypto.load_keyring(key_copy, create=False)
    assert [k["id"] for k in only_new.encryption_keys] == [result.new_key_id]
    assert only_new.decrypt(value) == "Second Fictional Person"


def test_cli_keys_rotate(app, client, h, records, settings, key_copy, monkeypatch):
    from typer.testing import CliRunner

    from harbour.cli import app as cli
    from harbour.core.config import get_settings

    before = encrypted_values(app)
    plain = _decrypt_all(crypto.load_keyring(settings.key_file, create=False), before)
    monkeypatch.setenv("HARBOUR_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HARBOUR_KEY_FILE", str(key_copy))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["keys", "rotate"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "rotated to key" in result.output and f"{len(before)} values" in result.output
    ring = crypto.load_keyring(key_copy, create=False)
    assert len(ring.encryption_keys) == 1
    assert _decrypt_all(ring, encrypted_values(app)) == plain
    # the session's own key file was not touched
    assert len(crypto.load_keyring(settings.key_file, create=False).encryption_keys) == 1
    assert json.loads(settings.key_file.read_text())["encryption_keys"][0]["id"] != ring.encryption_keys[0]["id"]


def test_key_file_is_private(tmp_path):
    path = tmp_path / "fresh" / "keys.json"
    ring = crypto.load_keyring(path, create=True)
    assert path.stat().st_mode & 0o777 == 0o600
    assert len(ring.encryption_keys) == 1 and len(ring.index_key) == 32 and len(ring.audit_key) == 32
    with pytest.raises(crypto.KeyFileError):
        crypto.load_keyring(tmp_path / "missing.json", create=False)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(crypto.KeyFileError):
        crypto.load_keyring(broken)
    assert datetime.fromisoformat(ring.encryption_keys[0]["created"]) > datetime.now(UTC) - timedelta(minutes=1)
