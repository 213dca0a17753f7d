"""A missing or wrong key file stops Harbour before it reads or writes anything (finding 1 of issue 12).

Before: with data in the database and HARBOUR_KEY_FILE moved away, `harbour audit verify` and `harbour serve`
each wrote a brand-new key ring; reads then answered 500, writes went in under the new key, repeat-caller
matching stopped matching, and once the old file was back the new rows were unreadable and the audit chain
"BROKEN" for good.  Now a ring is created only for an empty database, and every process proves its ring
opens the data first.
"""

from __future__ import annotations

import json
import shutil

import pytest
from sqlalchemy import create_engine, text

from harbour.core import crypto
from harbour.core.config import get_settings
from harbour.core.keycheck import KeyRingError, inspect_database
from tests.conftest import invoke_cli

API = "/api/v1/hotline"
PHONE = "613-555-0199"


@pytest.fixture(autouse=True)
def _restore_ring(settings):
    yield
    crypto.configure(settings.key_file)
    get_settings.cache_clear()


@pytest.fixture
def populated(app, client, make_user, token_for):
    """Encrypted values, a phone's blind index and audit entries, written through the API."""
    headers = token_for(make_user("hotline_advocate"))
    contact = client.post(f"{API}/contacts", json={"channel": "phone", "caller_name": "Fictional Keyholder",
                                                   "caller_phone": PHONE, "summary": "Fictional summary"},
                          headers=headers)
    assert contact.status_code == 201
    return {"headers": headers, "contact": contact.json()}


def _counts(url: str) -> tuple:
    engine = create_engine(url)
    with engine.connect() as conn:
        counts = tuple(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                       for t in ("audit_log", "hotline_contact", "key_check", "user_account"))
    engine.dispose()
    return counts


def _cli(monkeypatch, settings, key_file, *args):
    return invoke_cli(monkeypatch, settings.database_url, key_file, *args)


def _copy(settings, tmp_path, name="copy.json"):
    path = tmp_path / name
    shutil.copy(settings.key_file, path)
    path.chmod(0o600)
    return path


# -- a missing key file ---------------------------------------------------------------------------------
COMMANDS = [("audit", "verify"), ("serve", "--port", "1"), ("demo", "--contacts", "1", "--providers", "1"),
            ("db", "upgrade"), ("keys", "init"), ("users", "list"), ("keys", "rotate")]


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c[:2]) for c in COMMANDS])
def test_a_missing_key_file_is_never_replaced(populated, settings, tmp_path, monkeypatch, command):
    missing = tmp_path / "moved-away" / "harbour-keys.json"
    before = _counts(settings.database_url)
    result = _cli(monkeypatch, settings, missing, *command)
    assert result.exit_code in (1, 2), result.output
    assert "does not exist" in result.output and str(missing) in result.output, result.output
    if command != ("keys", "init"):
        assert "already holds encrypted data" in result.output, result.output
    assert not missing.exists() and not missing.parent.exists()
    assert _counts(settings.database_url) == before


def test_the_application_refuses_to_start_without_its_key_file(populated, settings, tmp_path):
    from harbour.app import create_app

    missing = tmp_path / "nowhere.json"
    before = _counts(settings.database_url)
    with pytest.raises(KeyRingError, match="already holds encrypted data"):
        create_app(settings.model_copy(update={"key_file": missing}))
    assert not missing.exists()
    assert _counts(settings.database_url) == before


# -- a wrong key file -------------------------------------------------------------------------------------
def _variant(settings, tmp_path, kind: str):
    """Key files that do not belong to this database, each wrong in one way."""
    own = crypto.load_keyring(settings.key_file)
    other = crypto.load_keyring(tmp_path / "other.json", create=True)
    path = tmp_path / f"{kind}.json"
    if kind == "another-deployment":
        ring = crypto.KeyRing(path, other.encryption_keys, other.index_key, other.audit_key)
    elif kind == "other-index-key":
        ring = crypto.KeyRing(path, own.encryption_keys, other.index_key, own.audit_key)
    elif kind == "other-audit-key":
        ring = crypto.KeyRing(path, own.encryption_keys, own.index_key, other.audit_key)
    else:
        raise AssertionError(kind)
    ring.save()
    return path


@pytest.mark.parametrize("kind,problem", [
    ("another-deployment", "could not be decrypted"),
    ("other-index-key", "blind-index key"),
    ("other-audit-key", "audit key"),
])
def test_a_wrong_key_file_is_refused_before_anything_is_written(populated, settings, tmp_path, monkeypatch,
                                                              kind, problem):
    from harbour.app import create_app

    wrong = _variant(settings, tmp_path, kind)
    before = _counts(settings.database_url)
    with pytest.raises(KeyRingError, match=problem):
        create_app(settings.model_copy(update={"key_file": wrong}))
    for command in (("audit", "verify"), ("users", "list"), ("serve", "--port", "1")):
        result = _cli(monkeypatch, settings, wrong, *command)
        assert result.exit_code == 2 and problem in result.output and str(wrong) in result.output, result.output
    check = _cli(monkeypatch, settings, wrong, "keys", "check")
    assert check.exit_code == 1 and problem in check.output, check.output
    assert _counts(settings.database_url) == before
    # and the right file still works, so nothing was harmed
    right = _cli(monkeypatch, settings, settings.key_file, "keys", "check")
    assert right.exit_code == 0 and "the key ring opens this database" in right.output, right.output


def test_an_older_or_newer_copy_of_the_ring_is_refused(populated, app, client, settings, tmp_path):
    """A copy from before a new key was added cannot open the newest values; a copy from after the old key was
    retired cannot open the oldest: each is caught by the sample, which reads both ends of every column."""
    original = crypto.load_keyring(settings.key_file)
    newer_path = _copy(settings, tmp_path, "newer.json")
    newer = crypto.load_keyring(newer_path)
    newer.encryption_keys = [crypto.new_encryption_key(), *newer.encryption_keys]
    newer.save()
    crypto.configure(newer_path)  # the application now writes under the new key
    second = client.post(f"{API}/contacts", json={"channel": "phone", "caller_name": "Fictional Later Caller"},
                         headers=populated["headers"])
    assert second.status_code == 201
    older = inspect_database(app.state.engine, original)
    assert not older.ok and "hotline_contact.caller_name" in older.failed_columns
    retired_path = tmp_path / "retired.json"
    crypto.KeyRing(retired_path, newer.encryption_keys[:1], newer.index_key, newer.audit_key).save()
    later = inspect_database(app.state.engine, crypto.load_keyring(retired_path))
    assert not later.ok and later.values_failed
    assert inspect_database(app.state.engine, newer).ok


def test_a_key_file_others_can_read_is_refused(populated, settings, tmp_path, monkeypatch):
    from harbour.app import create_app

    loose = _copy(settings, tmp_path)
    loose.chmod(0o644)
    with pytest.raises(KeyRingError, match="chmod 600"):
        create_app(settings.model_copy(update={"key_file": loose}))
    result = _cli(monkeypatch, settings, loose, "keys", "check")
    assert result.exit_code == 1 and "mode 0644" in result.output
    loose.chmod(0o600)
    assert _cli(monkeypatch, settings, loose, "keys", "check").exit_code == 0


# -- a new ring, only for an empty database ------------------------------------------------------------------
@pytest.fixture
def empty_url(backend, tmp_path):
    from tests.core.test_migrations import pg_database

    kind, _info = backend
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'fresh' / 'harbour.db'}"
        return
    with pg_database("harbour_keys") as url:
        yield url


def test_an_empty_database_gets_a_private_ring_once(empty_url, settings, tmp_path, monkeypatch):
    keys = tmp_path / "keys" / "harbour-keys.json"
    fresh = settings.model_copy(update={"database_url": empty_url})
    served = _cli(monkeypatch, fresh, keys, "serve", "--port", "1")
    assert served.exit_code == 2 and "run `harbour db upgrade` first" in served.output and not keys.exists()

    upgraded = _cli(monkeypatch, fresh, keys, "db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert "created a new key ring" in upgraded.output
    assert keys.stat().st_mode & 0o777 == 0o600 and keys.parent.stat().st_mode & 0o777 == 0o700
    if empty_url.startswith("sqlite"):
        db_file = tmp_path / "fresh" / "harbour.db"
        assert db_file.stat().st_mode & 0o777 == 0o600 and db_file.parent.stat().st_mode & 0o777 == 0o700
    ring_before = keys.read_text()
    again = _cli(monkeypatch, fresh, keys, "db", "upgrade")
    assert again.exit_code == 0 and "created" not in again.output and keys.read_text() == ring_before
    init = _cli(monkeypatch, fresh, keys, "keys", "init")
    assert init.exit_code == 2 and "already exists" in init.output and keys.read_text() == ring_before
    assert _counts(empty_url)[2] == 1  # sealed: the key check is recorded
    check = _cli(monkeypatch, fresh, keys, "keys", "check")
    assert check.exit_code == 0 and "sealed with a key check" in check.output, check.output

    # keys init on an empty database (no schema yet) works too, and only once
    other_keys = tmp_path / "other" / "keys.json"
    blank = settings.model_copy(update={"database_url": f"sqlite:///{tmp_path / 'blank.db'}"})
    made = _cli(monkeypatch, blank, other_keys, "keys", "init")
    assert made.exit_code == 0 and other_keys.stat().st_mode & 0o777 == 0o600
    assert _cli(monkeypatch, blank, other_keys, "keys", "init").exit_code == 2


def test_a_database_with_data_but_no_key_check_is_sealed_by_the_right_ring_only(populated, settings, tmp_path):
    """Data written before the key check existed (migration 0070): the sample decides, then the check is
    recorded, so later checks are quick."""
    from harbour.core.keycheck import open_ring

    engine = create_engine(settings.database_url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM key_check"))
    other = crypto.load_keyring(tmp_path / "other.json", create=True)
    with pytest.raises(KeyRingError, match="could not be decrypted"):
        open_ring(other.path, engine=engine)
    assert _counts(settings.database_url)[2] == 0
    open_ring(settings.key_file, engine=engine)
    assert _counts(settings.database_url)[2] == 1
    engine.dispose()


# -- a key file changed while Harbour runs ------------------------------------------------------------------
def test_a_running_process_refuses_a_replaced_foreign_ring(populated, app, client, settings, tmp_path):
    """Rotation changes the file step by step, always keeping a key in common; a file swapped for another
    deployment's ring is not taken: the process keeps writing under the ring that opens its data, and says so."""
    path = _copy(settings, tmp_path)
    crypto.configure(path)
    original = path.read_text()
    other = crypto.load_keyring(tmp_path / "other.json", create=True)
    path.write_text(other.to_json())
    ring = crypto.refresh(force=True)
    assert ring.key_ids == [k["id"] for k in json.loads(original)["encryption_keys"]]  # kept, not swapped
    assert crypto.reload_problem and "does not belong to this database" in crypto.reload_problem
    written = client.post(f"{API}/contacts", json={"channel": "phone", "caller_name": "Fictional Steady"},
                          headers=populated["headers"])
    assert written.status_code == 201
    got = client.get(f"{API}/contacts/{written.json()['id']}", headers=populated["headers"])
    assert got.json()["caller_name"] == "Fictional Steady"
    path.write_text(original)
    crypto.refresh(force=True)
    assert crypto.reload_problem is None


def test_repeat_caller_matching_survives_a_refused_ring(populated, client, settings, tmp_path):
    """The point of refusing: with the right ring back, the phone still matches (nothing was indexed under a
    stray ring in between)."""
    found = client.post(f"{API}/repeat-callers/lookup", json={"phone": PHONE}, headers=populated["headers"]).json()
    assert [m["contact_id"] for m in found] == [populated["contact"]["id"]]


def test_commands_refuse_a_database_without_the_current_schema(empty_url, settings, tmp_path, monkeypatch):
    """Before: `harbour demo` on a database nobody had migrated made a key file, then failed with a traceback."""
    from harbour.core.migrate import upgrade

    keys = tmp_path / "keys.json"
    fresh = settings.model_copy(update={"database_url": empty_url})
    for command in (("demo", "--contacts", "1"), ("users", "list"), ("serve", "--port", "1")):
        result = _cli(monkeypatch, fresh, keys, *command)
        assert result.exit_code == 2 and "has no schema yet: run `harbour db upgrade` first" in result.output, \
            result.output
        assert not keys.exists()
    upgrade(empty_url, "0060")
    behind = _cli(monkeypatch, fresh, keys, "users", "list")
    assert behind.exit_code == 2 and "at revision 0060, behind" in behind.output and not keys.exists()
