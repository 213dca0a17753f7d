"""Putting a checked backup in place (``harbour backup restore``; the checks before it are in ``backup``).

The rule this module enforces: **the target is not touched until the key ring is proven to open every encrypted
value of the backup**, and then it is replaced in one step.

* SQLite: the backup file is read in place (read-only, immutable): ``keycheck.inspect_database`` and every
  encrypted value decrypted; then SQLite's backup API replaces the target in one transaction.
* PostgreSQL: the dump's rows are streamed once (``pg_restore --data-only``): every encrypted value is decrypted
  and a sample is loaded into an in-memory database for ``keycheck.inspect_database`` (canary, blind indexes,
  audit head MAC); then the dump is replayed as one transaction, and the privileges other roles held — recorded
  in the manifest and read from the target before — are granted again.
* Then the key file (``--with-keys``; an existing different one is kept aside, never deleted) and the statistics
  store are put in place, and the restored database is checked: audit chain, head, row counts, revision.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sqlalchemy import create_engine

from harbour.core.config import Settings
from harbour.core.crypto import KeyRing
from harbour.ops import checks, dumpcheck, pgdump, sqlitefile, statsfiles
from harbour.ops.backup import Report, keep_aside, process_ring, read_only_sqlite, ring_refusal
from harbour.ops.manifest import BackupError


def restore(folder: Path, manifest: dict, settings: Settings, ring: KeyRing, *, own_ring: bool,
            keys_action: str | None, stats_root: Path) -> Report:
    from harbour.core.db import make_engine

    report = Report()
    archive = folder / manifest["stats"]["file"]
    if statsfiles.check(archive) != manifest["stats"]["files"]:  # read whole before anything changes
        raise BackupError("the statistics archive does not hold the files the manifest lists. Nothing was changed")
    prepared = statsfiles.unpack(archive, stats_root)  # before the database changes: a failure here changes nothing
    try:
        with process_ring(ring):
            if settings.is_sqlite:
                _sqlite(folder, manifest, settings, ring, own_ring=own_ring, report=report)
            else:
                _postgresql(folder, manifest, settings, ring, own_ring=own_ring, report=report)
            # -- the database is in place; now the key file and the statistics store
            if keys_action == "differs":
                aside = keep_aside(settings.key_file)
                report.lines.append(f"the key file that was at {settings.key_file} is kept as {aside}")
            if keys_action in ("new", "differs"):
                KeyRing(settings.key_file, ring.encryption_keys, ring.index_key, ring.audit_key).save()
                report.lines.append(f"key ring written to {settings.key_file} (mode 0600): keys "
                                    f"{', '.join(ring.key_ids)}")
            try:
                statsfiles.install(prepared, stats_root)
                prepared = None
            except OSError as exc:
                raise BackupError(f"the database was restored, but the statistics store could not be put in place "
                                  f"({exc}); rebuild it with `harbour stats build --full`") from None
            report.lines.append(f"statistics store restored to {stats_root} ({manifest['stats']['files']} files)")
            engine = make_engine(settings.database_url)
            try:
                after = checks.prove(engine, ring, manifest, every_value=False)
            finally:
                engine.dispose()
        report.lines += after.lines
        report.problems += after.ring_problems + after.problems
    finally:
        if prepared is not None:
            shutil.rmtree(prepared, ignore_errors=True)
    return report


def _sqlite(folder: Path, manifest: dict, settings: Settings, ring: KeyRing, *, own_ring: bool,
            report: Report) -> None:
    from harbour.core.keycheck import inspect_database

    snapshot = folder / manifest["database"]["file"]
    engine = read_only_sqlite(snapshot)
    try:
        problems = inspect_database(engine, ring).problems
        checked, failed = checks.decrypt_all(engine, ring)
    finally:
        engine.dispose()
    problems += _failures(checked, failed, ring)
    if problems:
        raise BackupError(ring_refusal(ring, manifest, problems, folder=folder, own_ring=own_ring))
    report.lines.append(f"key ring {ring.path} opens the backup: all {checked} encrypted values decrypt")
    sqlitefile.install(snapshot, settings.database_url)
    report.lines.append(f"database restored into {sqlitefile.database_file(settings.database_url)}")


def _failures(checked: int, failed: dict[str, int], ring: KeyRing) -> list[str]:
    if not failed:
        return []
    where = ", ".join(f"{k} ({n})" for k, n in sorted(failed.items())[:6])
    return [f"{sum(failed.values())} of {checked} encrypted values could not be decrypted with {ring.path} "
            f"(in {where})"]


def _postgresql(folder: Path, manifest: dict, settings: Settings, ring: KeyRing, *, own_ring: bool,
                report: Report) -> None:
    from harbour.core.keycheck import inspect_database

    dump = folder / manifest["database"]["file"]
    spec = dumpcheck.probe_spec(manifest)
    secret = {t: cols for t, cols in spec["sample"].items() if t != "audit_head"}
    scanned = pgdump.scan(dump, tables=sorted(spec["keep"]), decrypt=secret, ring=ring, **spec)
    probe = dumpcheck.probe_engine(scanned, spec["keep"])
    try:
        problems = inspect_database(probe, ring).problems
    finally:
        probe.dispose()
    problems += _failures(scanned.decrypted, scanned.failed, ring)
    if problems:
        raise BackupError(ring_refusal(ring, manifest, problems, folder=folder, own_ring=own_ring))
    report.lines.append(f"key ring {ring.path} opens the backup: all {scanned.decrypted} encrypted values decrypt")

    engine = create_engine(settings.database_url)
    try:
        with engine.connect() as conn, conn.begin():
            before = pgdump.capture_grants(conn)
            extra = sorted(set(pgdump.public_tables(conn)) - set(manifest["row_counts"]))
    finally:
        engine.dispose()
    prelude = "".join(f"DROP TABLE IF EXISTS public.{pgdump.quote(t)} CASCADE;\n" for t in extra)
    pgdump.restore(settings.database_url, dump, prelude=prelude)
    report.lines.append("database restored (one transaction)"
                        + (f"; tables the backup does not have were dropped: {', '.join(extra)}" if extra else ""))
    recorded = manifest["database"].get("grants") or {}
    owners = {o for o in (recorded.get("owner"), before.get("owner")) if o}
    done, todo = pgdump.reapply_grants(settings.database_url, pgdump.merge_grants(recorded, before),
                                       previous_owners=owners)
    report.lines += done
    report.lines += [f"ACTION NEEDED: {line}" for line in todo]


def restore_keys(folder: Path, manifest: dict, settings: Settings, ring: KeyRing, *, keys_action: str) -> Report:
    """``restore --with-keys --keys-only``: put the backup's key ring back at HARBOUR_KEY_FILE for the current
    database (a lost or overwritten key file), only once it is proven to open that database; the database itself
    is not touched."""
    from harbour.core.keycheck import inspect_database

    report = Report()
    engine = create_engine(settings.database_url)
    try:
        problems = inspect_database(engine, ring).problems
    finally:
        engine.dispose()
    if problems:
        raise BackupError("the key ring in this backup does not open the current database: " + "; ".join(problems)
                          + f". It holds keys {', '.join(ring.key_ids)}; the database may have been written under "
                            f"a later ring (a key rotation after this backup): use a newer backup. Nothing was "
                            f"changed")
    if keys_action == "same":
        report.lines.append(f"the key file {settings.key_file} already holds this key ring; nothing to do")
        return report
    if keys_action == "differs":
        report.lines.append(f"the key file that was at {settings.key_file} is kept as {keep_aside(settings.key_file)}")
    KeyRing(settings.key_file, ring.encryption_keys, ring.index_key, ring.audit_key).save()
    report.lines.append(f"key ring written to {settings.key_file} (mode 0600): keys {', '.join(ring.key_ids)}; it "
                        f"opens the current database (the database was not changed)")
    return report
