"""The hash-chained audit log: what is written, when, and how tampering is caught."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from harbour.core import audit
from harbour.core.models import AuditEntry

API = "/api/v1/hotline"


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch):
    from argon2 import PasswordHasher

    from harbour.core import security

    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def advocate(make_user):
    return make_user("hotline_advocate")


@pytest.fixture
def h(advocate, token_for):
    return token_for(advocate)


def entries(app) -> list[AuditEntry]:
    with app.state.sessionmaker() as s:
        rows = list(s.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars())
        s.expunge_all()
        return rows


def verify(app) -> audit.VerifyResult:
    with app.state.sessionmaker() as s:
        return audit.verify(s)


def new_entries(app, before: int) -> list[AuditEntry]:
    return [e for e in entries(app) if e.seq > before]


def last_seq(app) -> int:
    rows = entries(app)
    return rows[-1].seq if rows else 0


# -- what is written -----------------------------------------------------------------
def _one(app, before, **want) -> AuditEntry:
    got = new_entries(app, before)
    assert len(got) == 1, [(e.action, e.record_type) for e in got]
    e = got[0]
    for key, value in want.items():
        assert getattr(e, key) == value, (key, getattr(e, key), value)
    assert e.at.tzinfo is not None and e.at.utcoffset() == timedelta(0)
    assert now() - timedelta(minutes=1) < e.at <= now() + timedelta(seconds=1)
    return e


def test_contact_and_case_reads_and_writes_are_audited(app, client, h, advocate):
    who = {"actor": advocate.username, "actor_id": advocate.id}

    seq = last_seq(app)
    r = client.post(f"{API}/contacts", json={"channel": "phone", "caller_name": "Fictional Person",
                                             "caller_phone": "613-555-0160", "summary": "Fictional summary"},
                    headers=h)
    contact = r.json()["id"]
    _one(app, seq, action="create", record_type="contact", record_id=str(contact), purpose="case_management", **who)

    seq = last_seq(app)
    client.get(f"{API}/contacts/{contact}", params={"purpose": "supervision"}, headers=h)
    _one(app, seq, action="read", record_type="contact", record_id=str(contact), purpose="supervision", **who)

    seq = last_seq(app)
    client.get(f"{API}/contacts/{contact}", headers=h)
    _one(app, seq, action="read", record_type="contact", record_id=str(contact), purpose="case_management", **who)

    seq = last_seq(app)
    client.patch(f"{API}/contacts/{contact}", json={"caller_name": "Another Fictional Person"}, headers=h)
    e = _one(app, seq, action="update", record_type="contact", record_id=str(contact), purpose="case_management",
             **who)
    assert e.detail["fields"] == ["caller_name"]

    seq = last_seq(app)
    case = client.post(f"{API}/cases", json={"contact_ids": [contact], "survivor_alias": "Fictional Alias"},
                       headers=h).json()["id"]
    e = _one(app, seq, action="create", record_type="case", record_id=str(case), purpose="case_management", **who)
    assert e.detail["contacts"] == [contact]

    seq = last_seq(app)
    client.get(f"{API}/cases/{case}", params={"purpose": "quality_review"}, headers=h)
    _one(app, seq, action="read", record_type="case", record_id=str(case), purpose="quality_review", **who)

    seq = last_seq(app)
    client.patch(f"{API}/cases/{case}", json={"risk_level": "high"}, headers=h)
    e = _one(app, seq, action="update", record_type="case", record_id=str(case), purpose="case_management", **who)
    assert e.detail["fields"] == ["risk_level"]

    seq = last_seq(app)
    client.post(f"{API}/contacts/{client.post(f'{API}/contacts', json={'channel': 'text'}, headers=h).json()['id']}"
                "/attach", json={"case_id": case}, headers=h)
    actions = [(e.action, e.record_type) for e in new_entries(app, seq)]
    assert actions == [("create", "contact"), ("update", "contact")]

    seq = last_seq(app)
    client.get(f"{API}/contacts", headers=h)
    e = _one(app, seq, action="list", record_type="contact", **who)
    assert e.detail["count"] == 2

    # details carry ids and codes only, never what the caller said
    everything = json.dumps([[e.actor, e.action, e.record_type, e.record_id, e.purpose, e.detail]
                             for e in entries(app)], ensure_ascii=False)
    for secret in ("Fictional Person", "5550160", "555-0160", "Fictional summary", "Fictional Alias"):
        assert secret not in everything
    assert verify(app).ok


def test_unknown_purpose_is_refused_and_not_audited(app, client, h, advocate, db):
    # -- unknown purpose is refused and not audited
    contact = client.post(f"{API}/contacts", json={"channel": "phone"}, headers=h).json()["id"]
    case = client.post(f"{API}/cases", json={}, headers=h).json()["id"]
    seq = last_seq(app)
    for path in (f"/contacts/{contact}", f"/cases/{case}"):
        r = client.get(API + path, params={"purpose": "curiosity"}, headers=h)
        assert r.status_code == 422
        assert r.json()["error"]["fields"][0]["field"] == "purpose"
    assert new_entries(app, seq) == []

    # -- the service refuses an unknown purpose too
    from harbour.core.errors import ValidationFailed
    from harbour.hotline import service
    from harbour.hotline.schemas import ContactCreate
    from tests.conftest import actor_of

    contact, _ = service.create_contact(db, actor=actor_of(advocate), data=ContactCreate(channel="phone"))
    seq = last_seq(app)
    with pytest.raises(ValidationFailed):
        service.get_contact(db, actor=actor_of(advocate), contact_id=contact.id, purpose="curiosity")
    db.rollback()
    assert new_entries(app, seq) == []


def test_a_refused_request_leaves_no_audit_entry(app, client, h, make_user, token_for):
    sup_h = token_for(make_user("hotline_supervisor"))
    case = client.post(f"{API}/cases", json={}, headers=h).json()["id"]
    ov = client.post(f"{API}/cases/{case}/overrides",
                     json={"purpose": "referral", "reason": "Fictional emergency, details on file"},
                     headers=sup_h).json()["id"]
    seq = last_seq(app)
    refused = [
        client.patch(f"{API}/cases/{case}", json={"status": "closed", "risk_level": "high"}, headers=h),  # no outcome
        client.patch(f"{API}/cases/{case}", json={"risk_level": "high", "version": 7}, headers=h),  # stale version
        client.post(f"{API}/cases/{case}/tasks", json={"title": "Call", "kind": "follow_up_contact",
                                                       "due_at": now().isoformat()}, headers=h),  # no consent
        client.post(f"{API}/overrides/{ov}/decision", json={"approve": True}, headers=sup_h),  # own request
        client.post(f"{API}/contacts", json={"channel": "phone", "case_id": 999_999}, headers=h),
        client.get(f"{API}/cases/999999", headers=h),
    ]
    assert [r.status_code for r in refused] == [422, 409, 409, 422, 422, 404]
    assert new_entries(app, seq) == []
    r = client.get(f"{API}/cases/{case}", headers=sup_h).json()
    assert r["status"] == "open" and r["risk_level"] is None
    assert verify(app).ok


def test_a_failure_after_the_audit_row_was_written_rolls_it_back(app, advocate, db, monkeypatch):
    """The audit row lives in the action's transaction: when the commit fails, the row goes too."""
    from sqlalchemy.orm import Session

    from harbour.hotline import service
    from harbour.hotline.schemas import ContactCreate
    from tests.conftest import actor_of

    seq = last_seq(app)

    def broken_commit(self):
        raise RuntimeError("simulated crash at commit")

    monkeypatch.setattr(Session, "commit", broken_commit)
    with pytest.raises(RuntimeError):
        service.create_contact(db, actor=actor_of(advocate), data=ContactCreate(channel="phone"))
    monkeypatch.undo()
    db.rollback()
    assert new_entries(app, seq) == []
    with app.state.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM hotline_contact")).scalar_one() == 0
    assert verify(app).ok


# -- the database refuses changes -------------------------------------------------------
def test_database_refuses_update_and_delete_of_audit_rows(app, client, h):
    client.post(f"{API}/contacts", json={"channel": "phone"}, headers=h)
    statements = ["UPDATE audit_log SET action = 'nothing' WHERE seq = 1", "DELETE FROM audit_log WHERE seq = 1"]
    if not app.state.settings.is_sqlite:
        statements.append("TRUNCATE audit_log")
    for sql in statements:
        with pytest.raises(DBAPIError, match="append-only"):
            with app.state.engine.begin() as conn:
                conn.execute(text(sql))
    assert verify(app).ok


# -- tampering is detected ------------------------------------------------------------------
@contextmanager
def tampering(app):
    """What an attacker with direct database access can do: get past the append-only triggers."""
    with app.state.engine.begin() as conn:
        if app.state.settings.is_sqlite:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
        else:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
        yield conn


@pytest.fixture
def chain(app, client, h) -> list[AuditEntry]:
    """At least eight entries from ordinary work; the chain verifies."""
    contact = client.post(f"{API}/contacts", json={"channel": "phone", "caller_name": "Fictional Person"},
                          headers=h).json()["id"]
    case = client.post(f"{API}/cases", json={"contact_ids": [contact]}, headers=h).json()["id"]
    client.get(f"{API}/cases/{case}", headers=h)
    client.patch(f"{API}/cases/{case}", json={"risk_level": "medium"}, headers=h)
    client.get(f"{API}/contacts/{contact}", params={"purpose": "supervision"}, headers=h)
    client.get(f"{API}/contacts", headers=h)
    client.get(f"{API}/cases", headers=h)
    client.get(f"{API}/cases/{case}", params={"purpose": "quality_review"}, headers=h)
    rows = entries(app)
    assert len(rows) >= 8
    assert [e.seq for e in rows] == list(range(1, len(rows) + 1))
    result = verify(app)
    assert result.ok and result.checked == len(rows) and result.first_bad_seq is None
    return rows


COLUMNS = ("seq", "at", "actor_id", "actor", "action", "record_type", "record_id", "purpose", "detail",
           "prev_hash", "hash")


def test_verify_catches_an_altered_row(app, chain):
    victim = chain[3]
    with tampering(app) as conn:
        conn.execute(text("UPDATE audit_log SET actor = 'system:nobody' WHERE id = :i"), {"i": victim.id})
    result = verify(app)
    assert not result.ok
    assert (result.first_bad_seq, result.first_bad_id) == (victim.seq, victim.id)
    assert result.checked == victim.seq - 1
    assert "altered" in result.reason
    with tampering(app) as conn:  # put it back: the chain verifies again
        conn.execute(text("UPDATE audit_log SET actor = :a WHERE id = :i"), {"a": victim.actor, "i": victim.id})
    assert verify(app).ok

    # any field counts, including the time and the details
    victim = chain[-2]
    later = victim.at + timedelta(seconds=1)
    for column, value in [("purpose", "emergency"), ("record_id", "999"), ("detail", '{"count": 0}'),
                          ("action", "delete"), ("actor_id", 999),
                          ("at", later.replace(tzinfo=None) if app.state.settings.is_sqlite else later)]:
        with tampering(app) as conn:
            original = conn.execute(text(f"SELECT {column} FROM audit_log WHERE id = :i"), {"i": victim.id}).scalar()
            conn.execute(text(f"UPDATE audit_log SET {column} = :v WHERE id = :i"), {"v": value, "i": victim.id})
        result = verify(app)
        assert not result.ok and result.first_bad_id == victim.id, column
        with tampering(app) as conn:
            if isinstance(original, dict):
                original = json.dumps(original)
            conn.execute(text(f"UPDATE audit_log SET {column} = :v WHERE id = :i"), {"v": original, "i": victim.id})
        assert verify(app).ok, column


def test_verify_catches_a_deleted_middle_row(app, chain):
    gone, after = chain[2], chain[3]
    with tampering(app) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = :i"), {"i": gone.id})
    result = verify(app)
    assert not result.ok
    assert (result.first_bad_seq, result.first_bad_id) == (after.seq, after.id)
    assert result.checked == gone.seq - 1
    assert "missing" in result.reason


def _swap_contents(app, a_id: int, b_id: int) -> None:
    with tampering(app) as conn:
        cols = ", ".join(COLUMNS)
        rows = {r[0]: r[1:] for r in conn.execute(text(f"SELECT id, {cols} FROM audit_log WHERE id IN (:a, :b)"),
                                                   {"a": a_id, "b": b_id})}
        # move both out of the way of the unique seq constraint, then write each one's content into the other
        conn.execute(text("UPDATE audit_log SET seq = -seq WHERE id IN (:a, :b)"), {"a": a_id, "b": b_id})
        for target, source in ((a_id, b_id), (b_id, a_id)):
            values = dict(zip(COLUMNS, rows[source], strict=True))
            if isinstance(values["detail"], dict):
                values["detail"] = json.dumps(values["detail"])
            sets = ", ".join(f"{c} = :{c}" for c in COLUMNS)
            conn.execute(text(f"UPDATE audit_log SET {sets} WHERE id = :target"), {**values, "target": target})


def test_verify_catches_swapped_or_reordered_rows(app, chain):
    a, b = chain[2], chain[3]
    _swap_contents(app, a.id, b.id)
    result = verify(app)
    assert not result.ok
    assert result.first_bad_id == a.id
    assert result.checked == a.seq - 1
    _swap_contents(app, a.id, b.id)  # swapped back, the chain is whole again
    assert verify(app).ok

    # swapping only the sequence numbers (the content stays put) breaks the chain too
    a, b = chain[4], chain[5]
    with tampering(app) as conn:
        conn.execute(text("UPDATE audit_log SET seq = -1 WHERE id = :a"), {"a": a.id})
        conn.execute(text("UPDATE audit_log SET seq = :s WHERE id = :b"), {"s": a.seq, "b": b.id})
        conn.execute(text("UPDATE audit_log SET seq = :s WHERE id = :a"), {"s": b.seq, "a": a.id})
    result = verify(app)
    assert not result.ok and result.first_bad_id == a.id
    assert result.checked == a.seq - 1


def test_verify_catches_removal_of_the_newest_rows(app, chain):
    keep = chain[:-2]
    with tampering(app) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq > :s"), {"s": keep[-1].seq})
    result = verify(app)
    assert not result.ok
    assert result.checked == len(keep)
    assert result.first_bad_seq == keep[-1].seq + 1
    assert "head" in result.reason


def test_verify_catches_tail_truncation_with_a_forged_head(app, chain):
    keep = chain[:-2]
    with tampering(app) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq > :s"), {"s": keep[-1].seq})
        conn.execute(text("UPDATE audit_head SET seq = :s, hash = :h WHERE id = 1"),
                     {"s": keep[-1].seq, "h": keep[-1].hash})
    assert not verify(app).ok


def test_verify_catches_tail_truncation_with_the_head_deleted(app, chain):
    keep = chain[:-3]
    with tampering(app) as conn:
        conn.execute(text("DELETE FROM audit_log WHERE seq > :s"), {"s": keep[-1].seq})
        conn.execute(text("DELETE FROM audit_head"))
    result = verify(app)
    assert not result.ok


def test_verify_catches_a_forged_row_appended_without_the_key(app, chain):
    """A row appended with a plain SHA-256 (no audit key) does not pass for a real entry."""
    import hashlib

    last = chain[-1]
    forged = {"seq": last.seq + 1, "at": (now().replace(tzinfo=None) if app.state.settings.is_sqlite else now()),
              "actor_id": None, "actor": "system:forged", "action": "read", "record_type": "case",
              "record_id": "1", "purpose": "case_management", "detail": "{}", "prev_hash": last.hash}
    forged["hash"] = hashlib.sha256(json.dumps(forged, default=str).encode()).hexdigest()
    with tampering(app) as conn:
        conn.execute(text(f"INSERT INTO audit_log ({', '.join(COLUMNS)}) VALUES "
                          f"({', '.join(':' + c for c in COLUMNS)})"), forged)
        conn.execute(text("UPDATE audit_head SET seq = :s, hash = :h WHERE id = 1"),
                     {"s": forged["seq"], "h": forged["hash"]})
    result = verify(app)
    assert not result.ok and result.first_bad_seq == last.seq + 1 and "altered" in result.reason


# -- harbour audit verify --------------------------------------------------------------------
@pytest.fixture
def cli_env(settings, monkeypatch):
    from harbour.core.config import get_settings

    monkeypatch.setenv("HARBOUR_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HARBOUR_KEY_FILE", str(settings.key_file))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_cli_audit_verify_exit_codes(app, chain, cli_env):
    from typer.testing import CliRunner

    from harbour.cli import app as cli

    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"{len(chain)} entries verified" in result.output

    victim = chain[4]
    with tampering(app) as conn:
        conn.execute(text("UPDATE audit_log SET purpose = 'emergency' WHERE id = :i"), {"i": victim.id})
    result = CliRunner().invoke(cli, ["audit", "verify"])
    assert result.exit_code == 1
    assert f"seq={victim.seq}" in result.output
    assert "BROKEN" in result.output


def test_a_session_that_appended_before_sees_the_appends_of_others(app):
    """Sessions keep their objects after a commit (expire_on_commit=False): a chain head loaded by an earlier
    append must be re-read under the lock, not reused, or the session appends a sequence number another
    session already took."""
    actor = audit.Actor.system("test")
    with app.state.sessionmaker() as first, app.state.sessionmaker() as second:
        audit.record(first, actor, "read", "test_record", 1)
        first.commit()
        audit.record(second, actor, "read", "test_record", 2)
        second.commit()
        entry = audit.record(first, actor, "read", "test_record", 3)
        first.commit()
    assert [e.record_id for e in entries(app)[-3:]] == ["1", "2", "3"]
    assert entry.seq == entries(app)[-1].seq == entries(app)[-2].seq + 1
    assert verify(app).ok
