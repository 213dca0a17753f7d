"""What a backup records about its database, and the checks that prove a restored copy is that database.

The rule this module enforces: **a restored database is accepted only when the key ring opens it and it is the
database the manifest describes** —

* the key ring opens it: ``keycheck.inspect_database`` (sampled values of every encrypted column, blind
  indexes, the audit head's MAC), then every encrypted value decrypted;
* the audit chain verifies from its first entry to its head (``core.audit.verify``), and the head is the
  manifest's;
* every table holds the manifest's row count, and the schema revision is the manifest's.

Counting and decrypting read across agencies on PostgreSQL (``harbour.all_agencies``, the row-level security
policies' cross-agency mode): a check that the policies blind would prove nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Text, column, inspect, select, table, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from harbour.core import crypto
from harbour.core.crypto import KeyFileError, KeyRing

# tables whose rows are not data: the schema version, the key check seal, process heartbeats, rate-limit counters
BOOKKEEPING = frozenset({"alembic_version", "key_check", "key_worker", "rate_limit"})


def across_agencies(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT set_config('harbour.all_agencies', 'on', true)"))


def _quoted(conn: Connection, name: str) -> str:
    return conn.dialect.identifier_preparer.quote(name)


def row_counts(conn: Connection) -> dict[str, int]:
    return {name: conn.execute(text(f"SELECT count(*) FROM {_quoted(conn, name)}")).scalar_one()
            for name in sorted(inspect(conn).get_table_names())}


def facts(conn: Connection) -> dict:
    """Schema revision, audit head and row counts, read in the caller's transaction (one snapshot)."""
    across_agencies(conn)
    counts = row_counts(conn)
    revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar() \
        if "alembic_version" in counts else None
    head = conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).first() \
        if "audit_head" in counts else None
    return {"schema_revision": revision, "audit_head": {"seq": head[0], "hash": head[1]} if head else None,
            "row_counts": counts}


def read_facts(engine: Engine) -> dict:
    with engine.connect() as conn, conn.begin():
        return facts(conn)


def occupied(engine: Engine) -> list[str]:
    """What a database holds beyond an empty schema, most rows first: ``["audit_log (40 rows)", …]``."""
    with engine.connect() as conn, conn.begin():
        across_agencies(conn)
        counts = row_counts(conn)
    held = sorted(((n, t) for t, n in counts.items() if n and t not in BOOKKEEPING and t != "audit_head"),
                  key=lambda x: (-x[0], x[1]))  # audit_head: audit_log tells
    return [f"{t} ({n} row{'s' if n != 1 else ''})" for n, t in held]


def decrypt_all(engine: Engine, ring: KeyRing, *, batch: int = 5000) -> tuple[int, dict[str, int]]:
    """Decrypt every encrypted value; returns (values checked, failures per ``table.column``)."""
    from harbour.models_registry import metadata

    checked, failed = 0, {}
    with engine.connect() as conn, conn.begin():
        across_agencies(conn)
        insp = inspect(conn)
        present = set(insp.get_table_names())
        for table_name, col_name in crypto.encrypted_columns(metadata):
            if table_name not in present or col_name not in {c["name"] for c in insp.get_columns(table_name)}:
                continue
            t = table(table_name, column(col_name, Text))
            rows = conn.execution_options(stream_results=True, yield_per=batch).execute(
                select(t.c[col_name]).where(t.c[col_name].is_not(None)))
            for part in rows.partitions():
                for (token,) in part:
                    checked += 1
                    try:
                        ring.decrypt(token)
                    except KeyFileError:
                        key = f"{table_name}.{col_name}"
                        failed[key] = failed.get(key, 0) + 1
    return checked, failed


@dataclass
class Outcome:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    ring_problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not self.ring_problems


def prove(engine: Engine, ring: KeyRing, manifest: dict, *, every_value: bool = True, chain: bool = True) -> Outcome:
    """Check a restored database against ``ring`` and ``manifest``.  ``ring`` must also be this process's ring
    (``crypto.configure``): the audit chain is verified with it."""
    from harbour.core.audit import verify
    from harbour.core.keycheck import inspect_database

    out = Outcome()
    report = inspect_database(engine, ring)
    if report.ok:
        out.lines.append(f"key ring {ring.path}: opens it ({report.values_checked} encrypted values sampled, "
                         f"{report.index_checked} blind indexes recomputed, audit head "
                         f"{'matches' if report.audit_checked else 'empty'})")
    else:
        out.ring_problems += report.problems
    if every_value:
        checked, failed = decrypt_all(engine, ring)
        if failed:
            where = ", ".join(f"{k} ({n})" for k, n in sorted(failed.items())[:6])
            out.ring_problems.append(f"{sum(failed.values())} of {checked} encrypted values could not be decrypted "
                                     f"with {ring.path} (in {where})")
        else:
            out.lines.append(f"every encrypted value decrypts: {checked} values")
    found = read_facts(engine)
    if chain:
        with Session(engine) as session:
            result = verify(session)
        if result.ok:
            out.lines.append(f"audit chain intact: {result.checked} entries verified")
        else:
            out.problems.append(f"audit chain BROKEN at entry seq={result.first_bad_seq}: {result.reason}")
    want_head, head = manifest.get("audit_head"), found["audit_head"]
    if want_head != head:
        out.problems.append(f"the audit head is {head and head['seq']} but the manifest says "
                            f"{want_head and want_head['seq']} (entries missing or added)")
    elif head:
        out.lines.append(f"audit head equals the manifest's (seq {head['seq']})")
    want_counts = manifest.get("row_counts", {})
    differ = [f"{t} ({found['row_counts'].get(t, 'missing')} rows, manifest {want_counts.get(t, 'none')})"
              for t in sorted(set(want_counts) | set(found["row_counts"]))
              if found["row_counts"].get(t) != want_counts.get(t)]
    if differ:
        out.problems.append("row counts differ from the manifest: " + ", ".join(differ[:8])
                            + (" …" if len(differ) > 8 else ""))
    else:
        out.lines.append(f"row counts match the manifest: {sum(want_counts.values())} rows in {len(want_counts)} "
                         f"tables")
    if found["schema_revision"] != manifest.get("schema_revision"):
        out.problems.append(f"schema revision is {found['schema_revision']}, the manifest says "
                            f"{manifest.get('schema_revision')}")
    return out

