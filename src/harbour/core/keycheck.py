"""Prove that a key ring opens this database before anything is read or written with it.

The rule this module enforces: **a process never works with a key ring that does not belong to its
database.**  A missing key file is never silently replaced (data written under a new ring could never be
read together with the old), and a wrong one (an older or newer copy, another deployment's) is refused
before it can write a single value.  A new ring is created only for an empty database.

Every entry point that touches encrypted data calls :func:`open_ring` first (``harbour serve`` and each
server worker, every ``harbour`` command); ``harbour keys check`` runs the same check and reports it; the
readiness endpoint runs :func:`quick_check`.  The check:

* decrypts a sample of real encrypted values, the oldest and the newest of every encrypted column, so a
  ring that lacks either an old key (a later copy) or a new one (an earlier copy) is caught;
* recomputes blind indexes: the key-check canary and, where there is one, a real repeat-caller phone
  index, so a ring with another index key (matching would silently stop) is caught;
* checks the audit chain's head MAC and the canary MAC with the audit key.

On PostgreSQL the sample reads across agencies (row-level security would otherwise hide agency-owned rows
from the tables' owner, and a check that sees nothing proves nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Text, column, create_engine, func, inspect, select, table, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from harbour.core import crypto
from harbour.core.crypto import KeyFileError, KeyRing

CANARY = "harbour key check"
SAMPLE = 2  # values from each end of every encrypted column


class KeyRingError(RuntimeError):
    """The key ring cannot be used with this database; the message says why and what to do."""


@dataclass
class Report:
    path: Path
    empty: bool = True
    sealed: bool = False
    values_checked: int = 0
    values_failed: int = 0
    failed_columns: list[str] = field(default_factory=list)
    index_checked: int = 0
    index_failed: int = 0
    audit_checked: bool = False
    audit_ok: bool = True
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def lines(self) -> list[str]:
        out = [f"key file: {self.path}",
               f"database: {'empty' if self.empty else 'holds data'}, "
               f"{'sealed with a key check' if self.sealed else 'no key check recorded yet'}",
               f"encrypted values sampled: {self.values_checked}, could not be decrypted: {self.values_failed}",
               f"blind indexes recomputed: {self.index_checked}, wrong: {self.index_failed}",
               "audit chain head: " + ("matches" if self.audit_ok else "DOES NOT MATCH") if self.audit_checked
               else "audit chain head: no entries yet"]
        return out


def _in_all_agencies(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT set_config('harbour.all_agencies', 'on', true)"))


def _encrypted_columns(conn: Connection) -> list[tuple[str, str, list[str]]]:
    """(table, column, primary key columns) for every encrypted column that exists in this schema (an older
    revision may lack some)."""
    from harbour.models_registry import metadata

    insp = inspect(conn)
    present = set(insp.get_table_names())
    found = []
    for table_name, col_name in crypto.encrypted_columns(metadata):
        if table_name not in present:
            continue
        if col_name not in {c["name"] for c in insp.get_columns(table_name)}:
            continue
        pks = [c.name for c in metadata.tables[table_name].primary_key.columns]
        found.append((table_name, col_name, pks))
    return found


def _sample(conn: Connection, table_name: str, col_name: str, pks: list[str], n: int) -> list[str]:
    t = table(table_name, *[column(p) for p in pks], column(col_name, Text))
    values: list[str] = []
    for order in ([t.c[p].asc() for p in pks], [t.c[p].desc() for p in pks]):
        rows = conn.execute(select(t.c[col_name]).where(t.c[col_name].is_not(None)).order_by(*order).limit(n))
        values += [r[0] for r in rows]
    return values


def _count(conn: Connection, table_name: str) -> int:
    return conn.execute(select(func.count()).select_from(table(table_name))).scalar_one()


def inspect_database(engine: Engine, ring: KeyRing, *, per_column: int = SAMPLE) -> Report:
    """Check ``ring`` against the database; never writes.  ``Report.ok`` is the verdict."""
    report = Report(ring.path)
    with engine.connect() as conn, conn.begin():
        _in_all_agencies(conn)
        present = set(inspect(conn).get_table_names())
        if "audit_log" in present and _count(conn, "audit_log"):
            report.empty = False
        # -- the key check row
        if "key_check" in present:
            row = conn.execute(text("SELECT canary, index_canary, audit_canary FROM key_check WHERE id = 1")).first()
            if row is not None:
                report.sealed, report.empty = True, False
                report.values_checked += 1
                try:
                    ring.decrypt(row[0])
                except KeyFileError:
                    report.values_failed += 1
                    report.failed_columns.append("key_check.canary")
                report.index_checked += 1
                if ring.blind_index(CANARY, domain="key_check") != row[1]:
                    report.index_failed += 1
                if ring.audit_mac(CANARY.encode()) != row[2]:
                    report.audit_checked, report.audit_ok = True, False
        # -- real encrypted values, oldest and newest of every column
        for table_name, col_name, pks in _encrypted_columns(conn):
            if table_name == "key_check":
                continue
            failed = 0
            for token in _sample(conn, table_name, col_name, pks, per_column):
                report.empty = False
                report.values_checked += 1
                try:
                    ring.decrypt(token)
                except KeyFileError:
                    failed += 1
            if failed:
                report.values_failed += failed
                report.failed_columns.append(f"{table_name}.{col_name}")
        # -- a real blind index: the repeat-caller phone index
        if "hotline_contact" in present:
            for phone, index in conn.execute(text(
                    "SELECT caller_phone, phone_index FROM hotline_contact WHERE caller_phone IS NOT NULL "
                    "AND phone_index IS NOT NULL ORDER BY id DESC LIMIT 2")):
                try:
                    plain = ring.decrypt(phone)
                except KeyFileError:
                    continue  # already counted above
                report.index_checked += 1
                if ring.blind_index(plain, domain="phone") != index:
                    report.index_failed += 1
        # -- the audit chain's head
        if "audit_head" in present and "audit_log" in present:
            head = conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
            if head is not None and head[0] > 0:
                last = conn.execute(text("SELECT hash FROM audit_log WHERE seq = :s"), {"s": head[0]}).scalar()
                report.audit_checked = True
                if last is None or ring.audit_mac(f"head:{head[0]}:{last}".encode()) != head[1]:
                    report.audit_ok = False
    _explain(report)
    return report


def _explain(report: Report) -> None:
    path = report.path
    if report.values_failed:
        report.problems.append(
            f"the key file {path} does not open this database: {report.values_failed} of "
            f"{report.values_checked} encrypted values sampled could not be decrypted (in "
            f"{', '.join(report.failed_columns[:6])}{' …' if len(report.failed_columns) > 6 else ''}). "
            f"It is not the key ring this data was written with (an older or newer copy, or another "
            f"deployment's)")
    if report.index_failed:
        report.problems.append(
            f"the blind-index key in {path} is not the one this database was written with: repeat-caller "
            f"and record matching would silently stop matching")
    if report.audit_checked and not report.audit_ok:
        report.problems.append(
            f"the audit key in {path} does not match the audit chain's head: every new entry would break "
            f"the chain")


def quick_check(engine: Engine, ring: KeyRing) -> str | None:
    """The readiness probe's check (a few queries): None, or what is wrong."""
    with engine.connect() as conn, conn.begin():
        row = conn.execute(text("SELECT canary, index_canary, audit_canary FROM key_check WHERE id = 1")).first()
        head = conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
        last = conn.execute(text("SELECT hash FROM audit_log WHERE seq = :s"),
                            {"s": head[0]}).scalar() if head is not None and head[0] > 0 else None
    if row is not None:
        try:
            ring.decrypt(row[0])
        except KeyFileError:
            return "the key ring does not decrypt this database's key check"
        if ring.blind_index(CANARY, domain="key_check") != row[1] or ring.audit_mac(CANARY.encode()) != row[2]:
            return "the key ring's index or audit key is not this database's"
    if head is not None and head[0] > 0 and (last is None
                                             or ring.audit_mac(f"head:{head[0]}:{last}".encode()) != head[1]):
        return "the key ring's audit key does not match the audit chain's head"
    return None


def is_empty(engine: Engine) -> bool:
    """Nothing recorded yet: no audit entry, no key check, no encrypted value (a new ring may be made)."""
    with engine.connect() as conn, conn.begin():
        _in_all_agencies(conn)
        present = set(inspect(conn).get_table_names())
        if "audit_log" in present and _count(conn, "audit_log"):
            return False
        if "key_check" in present and _count(conn, "key_check"):
            return False
        for table_name, col_name, pks in _encrypted_columns(conn):
            if _sample(conn, table_name, col_name, pks, 1):
                return False
    return True


def seal(engine: Engine, ring: KeyRing) -> bool:
    """Record the key check for ``ring`` if the database has none yet (the schema must be at 0070 or later).
    Returns whether a row was written."""
    with engine.connect() as conn:
        if "key_check" not in set(inspect(conn).get_table_names()):
            return False
    from harbour.core.db import UTCDateTime, utcnow

    key_check = table("key_check", column("id"), column("sealed_at", UTCDateTime()), column("canary", Text),
                      column("index_canary"), column("audit_canary"))
    try:
        with engine.begin() as conn:
            if conn.execute(text("SELECT 1 FROM key_check WHERE id = 1")).first():
                return False
            conn.execute(key_check.insert().values(
                id=1, sealed_at=utcnow(), canary=ring.encrypt(CANARY),
                index_canary=ring.blind_index(CANARY, domain="key_check"), audit_canary=ring.audit_mac(CANARY.encode())))
    except IntegrityError:  # another process sealed it first
        return False
    return True


def _missing_file_message(path: Path, empty: bool) -> str:
    if empty:
        return (f"the key file {path} does not exist. This database is empty: create a key ring with "
                f"`harbour keys init` (or `harbour db upgrade`), then keep a copy of it somewhere safe")
    return (f"the key file {path} does not exist, but this database already holds encrypted data and audit "
            f"entries. Harbour will not make a new key ring for it: data written under a new ring could never "
            f"be read together with the old. Put the key file back (your own copy, or from a backup made with "
            f"--with-keys: `harbour backup restore DIR --keys-only --with-keys --passphrase-file FILE`), or set "
            f"HARBOUR_KEY_FILE to where it is. Nothing was written")


def open_ring(key_file: Path, database_url: str | None = None, *, engine: Engine | None = None,
              create_if_empty: bool = False) -> KeyRing:
    """Load the key ring for this process and prove it opens the database; raise :class:`KeyRingError`
    (nothing written, no file created) if it does not.  With ``create_if_empty``, a missing key file is
    created, but only for an empty database.  On success the ring is this process's ring, and the database
    is sealed with it if it was not yet."""
    path = Path(key_file)
    own_engine = engine is None
    if engine is None:
        from harbour.core.db import make_engine

        engine = make_engine(database_url) if database_url else create_engine("sqlite://")
    try:
        if not path.exists():
            empty = is_empty(engine)
            if not (empty and create_if_empty):
                raise KeyRingError(_missing_file_message(path, empty))
            ring = crypto.new_keyring(path)
            crypto.configure(path)
            seal(engine, ring)
            return ring
        try:
            crypto.check_private(path)
            ring = crypto.load_keyring(path)
        except KeyFileError as exc:
            raise KeyRingError(f"{exc}. Nothing was written") from None
        report = inspect_database(engine, ring)
        if not report.ok:
            raise KeyRingError("; ".join(report.problems) + ". Point HARBOUR_KEY_FILE at the key file this "
                               "database was written with (`harbour keys check` explains); nothing was written")
        crypto.configure(path)
        seal(engine, ring)
        return ring
    finally:
        if own_engine:
            engine.dispose()
