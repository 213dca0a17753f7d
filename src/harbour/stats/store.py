"""The de-identified analytic store: Parquet files written and queried with DuckDB.

Layout under ``Settings.stats_dir`` (default ``var/stats``)::

    manifest.json                      schema, build time, change probe, per-table per-year digests
    <table>/_schema.parquet            no rows: the table's columns even when it is empty
    <table>/year=YYYY/part.parquet     one partition per year (situations: year of the first contact)

:func:`build` extracts the standard's rows (:mod:`harbour.stats.extract`), digests each table's rows per
year and rewrites only the partitions whose digest changed (new, edited or vanished years); when the
database's change probe equals the last build's, nothing is read beyond the probe.  ``full=True`` rewrites
everything.  Files are written to a temporary name and renamed, the manifest last, so readers never see a
half-written partition.  :func:`connect` opens an in-memory DuckDB with one view per table.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb
import pyarrow as pa
from sqlalchemy.orm import Session

from harbour.core.db import utcnow
from harbour.stats import extract, standard

MANIFEST = "manifest.json"
SCHEMA = "harbour-stats/1"
_lock = threading.Lock()


@dataclass
class BuildResult:
    mode: str  # full | incremental | unchanged
    seconds: float
    rows: dict[str, int] = field(default_factory=dict)
    rewritten: list[str] = field(default_factory=list)  # "table/year=YYYY" partitions written or removed
    fingerprint: str = ""

    def as_dict(self) -> dict:
        return {"mode": self.mode, "seconds": round(self.seconds, 3), "rows": self.rows, "rewritten": self.rewritten,
                "fingerprint": self.fingerprint}


def read_manifest(root: Path) -> dict | None:
    path = root / MANIFEST
    if not path.is_file():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return manifest if manifest.get("schema") == SCHEMA else None


def _digest(rows: list[dict], names: list[str]) -> str:
    lines = sorted(json.dumps([r.get(n) for n in names], separators=(",", ":"), default=str) for r in rows)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def private_root(root: Path) -> Path:
    """The store's folder, readable by its owner only (whatever the umask): de-identified is not public."""
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(root, 0o700)
    return root


def _write_private(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        os.fchmod(fh.fileno(), 0o600)
        fh.write(text)
    os.replace(tmp, path)


def _write_atomic(con: duckdb.DuckDBPyConnection, table: pa.Table, path: Path) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    con.register("_rows", table)
    try:
        con.execute(f"COPY _rows TO '{tmp.as_posix()}' (FORMAT parquet, COMPRESSION zstd)")
    finally:
        con.unregister("_rows")
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def write_partitions(root: Path, name: str, by_year: dict[int, list[dict]], years: set[int],
                     con: duckdb.DuckDBPyConnection | None = None) -> None:
    """Write the partitions of ``years`` (removing years without rows) for one table."""
    con = con or duckdb.connect()
    schema = standard.arrow_schema(name)
    names = schema.names
    base = root / name
    if not (base / "_schema.parquet").is_file():
        _write_atomic(con, schema.empty_table(), base / "_schema.parquet")
    for year in sorted(years):
        part = base / f"year={year}"
        rows = by_year.get(year) or []
        if not rows:
            shutil.rmtree(part, ignore_errors=True)
            continue
        table = pa.Table.from_pylist([{n: r.get(n) for n in names} for r in rows], schema=schema)
        _write_atomic(con, table, part / "part.parquet")


def build(db: Session, root: Path, *, full: bool = False, now: datetime | None = None) -> BuildResult:
    """Refresh the store from the database; see the module docstring."""
    started = time.perf_counter()
    now = now or utcnow()
    private_root(root)
    with _lock:
        old = None if full else read_manifest(root)
        probe = extract.change_probe(db, now)
        if old is not None and old.get("probe") == probe:
            return BuildResult("unchanged", time.perf_counter() - started,
                               {t: sum(y["rows"] for y in old["tables"].get(t, {}).values()) for t in standard.TABLES},
                               [], old.get("fingerprint", ""))
        if full:
            for name in standard.TABLES:
                shutil.rmtree(root / name, ignore_errors=True)
        con = duckdb.connect()
        tables: dict[str, dict] = {}
        rewritten: list[str] = []
        rows_out: dict[str, int] = {}
        for name in standard.TABLES:
            rows = extract.EXTRACTORS[name](db, now)
            ycol = standard.YEAR_COLUMN[name]
            by_year: dict[int, list[dict]] = {}
            for r in rows:
                by_year.setdefault(int(r[ycol]), []).append(r)
            names = standard.field_names(name)
            digests = {str(y): {"digest": _digest(rs, names), "rows": len(rs)} for y, rs in by_year.items()}
            before = (old or {}).get("tables", {}).get(name, {})
            changed = {int(y) for y in set(digests) | set(before)
                       if digests.get(y, {}).get("digest") != before.get(y, {}).get("digest")}
            if full:
                changed = set(by_year)
            write_partitions(root, name, by_year, changed, con)
            rewritten += [f"{name}/year={y}" for y in sorted(changed)]
            tables[name] = digests
            rows_out[name] = len(rows)
        fingerprint = hashlib.sha256(json.dumps(tables, sort_keys=True).encode()).hexdigest()
        manifest = {"schema": SCHEMA, "standard_version": standard.dictionary()["version"],
                    "built_at": now.isoformat(), "probe": probe, "tables": tables, "fingerprint": fingerprint}
        _write_private(root / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
    mode = "full" if full or old is None else "incremental"
    return BuildResult(mode, time.perf_counter() - started, rows_out, rewritten, fingerprint)


def connect(root: Path, *, threads: int | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB with a view per table over the store's Parquet files."""
    con = duckdb.connect()
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    for name in standard.TABLES:
        base = (root / name).as_posix()
        if (root / name / "_schema.parquet").is_file():
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet('{base}/**/*.parquet', "
                        "hive_partitioning = false, union_by_name = true)")
        else:
            cols = ", ".join(f'CAST(NULL AS {_duck(t)}) AS "{n}"' for n, t in
                             ((f["name"], f["type"]) for f in standard.fields(name)))
            con.execute(f"CREATE VIEW {name} AS SELECT {cols} WHERE false")
    return con


def _duck(kind: str) -> str:
    return {"string": "VARCHAR", "integer": "INTEGER", "boolean": "BOOLEAN"}[kind]


def fingerprint(root: Path) -> str | None:
    manifest = read_manifest(root)
    return manifest["fingerprint"] if manifest else None


def years(root: Path) -> list[int]:
    manifest = read_manifest(root) or {"tables": {}}
    found = {int(y) for t in manifest["tables"].values() for y in t}
    return sorted(found)


def import_arrow(root: Path, tables: dict[str, pa.Table]) -> BuildResult:
    """Bulk path: write whole Arrow tables (already in the standard's columns) as the store, partitioned by year
    with DuckDB's ``COPY ... PARTITION_BY``.  Used by the benchmark and to load data produced elsewhere."""
    started = time.perf_counter()
    private_root(root)
    con = duckdb.connect()
    manifest_tables: dict[str, dict] = {}
    rows: dict[str, int] = {}
    with _lock:
        for name in standard.TABLES:
            shutil.rmtree(root / name, ignore_errors=True)
            schema = standard.arrow_schema(name)
            table = tables.get(name, schema.empty_table()).select(schema.names).cast(schema)
            _write_atomic(con, schema.empty_table(), root / name / "_schema.parquet")
            ycol = standard.YEAR_COLUMN[name]
            con.register("_bulk", table)
            try:
                if table.num_rows:
                    con.execute(f"COPY (SELECT *, \"{ycol}\" AS year_part FROM _bulk) TO '{(root / name).as_posix()}' "
                                "(FORMAT parquet, COMPRESSION zstd, PARTITION_BY (year_part), OVERWRITE_OR_IGNORE, "
                                "FILENAME_PATTERN 'part_{i}')")
                counts = con.execute(f'SELECT "{ycol}", count(*) FROM _bulk GROUP BY 1').fetchall()
            finally:
                con.unregister("_bulk")
            manifest_tables[name] = {str(y): {"digest": f"bulk-{n}", "rows": n} for y, n in counts}
            rows[name] = table.num_rows
        fingerprint = hashlib.sha256(json.dumps([manifest_tables, time.time()], sort_keys=True).encode()).hexdigest()
        manifest = {"schema": SCHEMA, "standard_version": standard.dictionary()["version"],
                    "built_at": utcnow().isoformat(), "probe": None, "tables": manifest_tables,
                    "fingerprint": fingerprint}
        _write_private(root / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True))
    return BuildResult("bulk", time.perf_counter() - started, rows, [], fingerprint)
