"""Proving a key ring opens a PostgreSQL dump without restoring it anywhere.

The rule this module enforces: **the same check ``keycheck.inspect_database`` makes on a live database is made
on the dump itself** — the key-check canary, the oldest and newest values of every encrypted column, a real
repeat-caller blind index and the audit head's MAC are read from the dump's rows (``pgdump.scan``) into an
in-memory SQLite database with just those columns, and ``inspect_database`` runs on it.  ``backup create`` uses
it to prove the ring it records opens the snapshot; ``backup restore`` uses it (and decrypts every encrypted
value on the way) before the target is touched.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Integer, create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool

from harbour.core import crypto
from harbour.core.crypto import KeyRing
from harbour.ops import pgdump


def probe_spec(facts: dict) -> dict:
    """What to read from a dump so that ``keycheck.inspect_database`` can run on a sample of it."""
    from harbour.models_registry import metadata

    present = set(facts["row_counts"])
    sample: dict[str, list[str]] = {}
    for table_name, col_name in crypto.encrypted_columns(metadata):
        if table_name in present:
            sample.setdefault(table_name, []).append(col_name)
    keep = {t: [c.name for c in metadata.tables[t].primary_key.columns] + cols for t, cols in sample.items()}
    keep.setdefault("hotline_contact", []).append("phone_index")
    keep["key_check"] = ["id", "canary", "index_canary", "audit_canary"]
    keep["audit_head"], keep["audit_log"] = ["id", "seq", "hash"], ["id", "seq", "hash"]
    sample["audit_head"] = ["hash"]
    head = facts.get("audit_head") or {"seq": 0}
    return {"sample": sample, "keep": {t: c for t, c in keep.items() if t in present},
            "find": {"audit_log": ("seq", str(head["seq"]))}}


def probe_engine(scan: pgdump.Scan, keep: dict[str, list[str]]) -> Engine:
    """An in-memory SQLite database holding the sampled rows, in the columns ``inspect_database`` reads."""
    from harbour.models_registry import metadata

    engine = create_engine("sqlite://", poolclass=StaticPool)
    with engine.begin() as conn:
        for name, cols in keep.items():
            types = [("INTEGER" if isinstance(metadata.tables[name].c[c].type, Integer) else "TEXT")
                     if name in metadata.tables and c in metadata.tables[name].c else "TEXT" for c in cols]
            conn.exec_driver_sql(f'CREATE TABLE "{name}" ('
                                 + ", ".join(f'"{c}" {t}' for c, t in zip(cols, types, strict=True)) + ")")
            rows = scan.rows.get(name, [])
            if rows:
                conn.execute(text(f'INSERT INTO "{name}" (' + ", ".join(f'"{c}"' for c in cols) + ") VALUES ("
                                  + ", ".join(f":c{i}" for i in range(len(cols))) + ")"),
                             [{f"c{i}": r.get(c) for i, c in enumerate(cols)} for r in rows])
    return engine


def ring_opens_dump(dump: Path, facts: dict, ring: KeyRing) -> tuple[list[str], pgdump.Scan]:
    """Whether ``ring`` opens a sample of the dump (and every table's row count in it)."""
    from harbour.core.keycheck import inspect_database

    spec = probe_spec(facts)
    scanned = pgdump.scan(dump, **spec)
    probe = probe_engine(scanned, spec["keep"])
    try:
        return inspect_database(probe, ring).problems, scanned
    finally:
        probe.dispose()
