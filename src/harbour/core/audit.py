"""Hash-chained, append-only audit log.

Each entry's ``hash`` is an HMAC-SHA256 (audit key from the key file) over its
own fields and the previous entry's hash, so altering, deleting or reordering
any row breaks the chain from that row on; ``audit_head`` holds the latest
(seq, hash) so removing the newest rows is detected too.  Entries are written
in the caller's transaction: if the action rolls back, so does its audit row.
Details must never contain personal data (ids, codes and counts only).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from harbour.core.crypto import keyring
from harbour.core.db import utcnow
from harbour.core.models import AuditEntry, AuditHead

GENESIS = "0" * 64


def head_mac(seq: int, last_hash: str) -> str:
    """The head row stores a MAC of the newest (seq, hash), not a copy: without the audit key nobody
    can rewrite it to hide removed newest entries (an old database snapshot aside: record
    checkpoints elsewhere with `harbour audit verify --checkpoint`)."""
    if seq == 0:
        return GENESIS
    return keyring().audit_mac(f"head:{seq}:{last_hash}".encode())


@dataclass(frozen=True)
class Actor:
    id: int | None
    label: str
    role: str | None = None
    organization: str | None = None

    @classmethod
    def system(cls, label: str) -> Actor:
        return cls(None, f"system:{label}")


def _payload(
    *, seq: int, at: datetime, actor_id, actor: str, action: str, record_type: str,
    record_id, purpose, detail, prev_hash: str,
) -> bytes:
    body = {
        "seq": seq,
        "at": at.isoformat(timespec="microseconds"),
        "actor_id": actor_id,
        "actor": actor,
        "action": action,
        "record_type": record_type,
        "record_id": record_id,
        "purpose": purpose,
        "detail": detail or {},
        "prev_hash": prev_hash,
    }
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _lock_head(session: Session) -> None:
    """Serialise appends to the chain.  PostgreSQL: ``SELECT ... FOR UPDATE`` below locks the head row.
    SQLite ignores FOR UPDATE, and its driver opens a transaction only at the first write, so a head read
    before any write could be stale by the time the entry is inserted (two requests appending the same
    sequence number: ``UNIQUE constraint failed: audit_log.seq``).  A no-op write to the head row first takes
    the database's write lock (waiting out the busy timeout behind other writers); every read after it in
    this transaction sees the latest chain."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(AuditHead).where(AuditHead.id == 1).values(seq=AuditHead.seq)
                        .execution_options(synchronize_session=False))


def _head(session: Session) -> AuditHead:
    _lock_head(session)
    # populate_existing: a head loaded by an earlier transaction of this session (sessions keep objects after
    # commit) is refreshed from the row just locked, never trusted.
    head = session.execute(select(AuditHead).where(AuditHead.id == 1).with_for_update()
                           .execution_options(populate_existing=True)).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        session.add(head)
        session.flush()
    return head


def record(
    session: Session,
    actor: Actor,
    action: str,
    record_type: str,
    record_id: object | None = None,
    *,
    purpose: str | None = None,
    detail: dict | None = None,
) -> AuditEntry:
    """Append one entry in the caller's transaction."""
    head = _head(session)  # locked: one writer at a time extends the chain
    prev_hash = GENESIS if head.seq == 0 else session.execute(
        select(AuditEntry.hash).where(AuditEntry.seq == head.seq)).scalar_one()
    at = utcnow()
    seq = head.seq + 1
    rid = None if record_id is None else str(record_id)
    fields = dict(
        seq=seq, at=at, actor_id=actor.id, actor=actor.label, action=action, record_type=record_type,
        record_id=rid, purpose=purpose, detail=detail or {}, prev_hash=prev_hash,
    )
    digest = keyring().audit_mac(_payload(**fields))
    entry = AuditEntry(**fields, hash=digest)
    session.add(entry)
    head.seq, head.hash = seq, head_mac(seq, digest)
    session.flush()
    return entry


@dataclass
class VerifyResult:
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    first_bad_id: int | None = None
    reason: str | None = None
    last_hash: str | None = None


def verify(session: Session, *, batch: int = 5000) -> VerifyResult:
    """Walk the chain in insertion order (id) and check every link."""
    prev_hash, expected_seq, checked = GENESIS, 1, 0
    last_id = 0
    while True:
        rows = session.execute(
            select(AuditEntry).where(AuditEntry.id > last_id).order_by(AuditEntry.id).limit(batch)
        ).scalars().all()
        if not rows:
            break
        for e in rows:
            last_id = e.id
            problem = None
            if e.seq != expected_seq:
                problem = f"expected sequence {expected_seq}, found {e.seq} (row missing or reordered)"
            elif e.prev_hash != prev_hash:
                problem = "previous-hash link broken (row missing or reordered)"
            else:
                digest = keyring().audit_mac(
                    _payload(
                        seq=e.seq, at=e.at, actor_id=e.actor_id, actor=e.actor, action=e.action,
                        record_type=e.record_type, record_id=e.record_id, purpose=e.purpose,
                        detail=e.detail, prev_hash=e.prev_hash,
                    )
                )
                if digest != e.hash:
                    problem = "contents do not match their hash (row altered)"
            if problem:
                return VerifyResult(False, checked, e.seq, e.id, problem)
            prev_hash, expected_seq, checked = e.hash, expected_seq + 1, checked + 1
        session.expunge_all()
    head = session.get(AuditHead, 1)
    if head is None:
        if checked:
            return VerifyResult(False, checked, checked + 1, None, "the chain's head record is missing")
        return VerifyResult(True, 0)
    if head.seq != checked or head.hash != head_mac(checked, prev_hash):
        return VerifyResult(
            False, checked, checked + 1, None,
            f"chain ends at sequence {checked} but the head does not match it (newest rows removed or head forged)",
        )
    return VerifyResult(True, checked, last_hash=prev_hash)


def check_checkpoint(session: Session, seq: int, entry_hash: str) -> str | None:
    """Compare with a checkpoint recorded elsewhere: None if entry `seq` still has that hash."""
    entry = session.execute(select(AuditEntry).where(AuditEntry.seq == seq)).scalar_one_or_none()
    if entry is None:
        return f"entry {seq} from the checkpoint is missing (chain truncated)"
    if entry.hash != entry_hash:
        return f"entry {seq} no longer has the checkpoint's hash (history rewritten)"
    return None


def viewers(session: Session, record_type: str, record_id: object) -> list[AuditEntry]:
    """Who read a record, newest first (for supervisors' "who viewed this case")."""
    return list(
        session.execute(
            select(AuditEntry)
            .where(
                AuditEntry.record_type == record_type,
                AuditEntry.record_id == str(record_id),
                AuditEntry.action == "read",
            )
            .order_by(AuditEntry.seq.desc())
        ).scalars()
    )
