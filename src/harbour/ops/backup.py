"""``harbour backup create | verify | restore``: a database snapshot with its statistics store and, on request,
its key ring sealed with a passphrase; verified by restoring it; restored only where nothing can be lost.

The rules this module enforces:

* **create** takes a consistent snapshot while Harbour runs (``sqlitefile``: SQLite's online backup API;
  ``pgdump``: ``pg_dump`` in a snapshot exported by a transaction that reads the manifest's facts — schema
  revision, audit head, row counts, grants — in that same snapshot), only after the key ring is proven to open
  the database, and proves that the ring it names (and seals, with ``--with-keys``) opens the snapshot.
* **verify** trusts nothing: every checksum (``manifest``), then a restore into a scratch database, then the
  checks of ``checks.prove``: the ring opens it, every encrypted value decrypts, the audit chain is intact and
  its head is the manifest's, the row counts are the manifest's.
* **restore** changes nothing until the checksums match, the schema revision is one this Harbour knows, the
  target holds no data (or ``--force``), and the key ring — the current key file, or with ``--with-keys`` the
  backup's own — is proven to open the backup.  (Issue 12, finding 6: a backup restored under a later key ring
  passed ``audit verify`` while every encrypted field was unreadable.)  Only then are the database (one
  transaction), the key file and the statistics store put in place, and the result is checked again.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

import harbour
from harbour.core import crypto
from harbour.core.config import Settings
from harbour.core.crypto import KeyFileError, KeyRing
from harbour.ops import checks, dumpcheck, keyseal, pgdump, sqlitefile, statsfiles
from harbour.ops.manifest import (
    FORMAT,
    FORMAT_VERSION,
    BackupError,
    check_files,
    read_manifest,
    refuse_unless_empty,
    staging,
)

SQLITE_FILE, PG_FILE, STATS_FILE, KEYS_FILE = "database.sqlite", "database.pgdump", "stats.tar", "keyring.enc"


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _kind(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgresql"


def _stats_root(settings: Settings) -> Path:
    from harbour.stats.service import root

    return root(settings)


def _size(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 100_000 else f"{n / 1e3:.1f} kB"


def read_only_sqlite(path: Path) -> Engine:
    """An engine on a SQLite file in a backup: read-only and immutable, so reading adds no file beside it."""
    return create_engine(f"sqlite:///file:{path}?mode=ro&immutable=1&uri=true")


# -- the key ring as this process's ring -------------------------------------------------------------------
@contextlib.contextmanager
def process_ring(ring: KeyRing) -> Iterator[None]:
    """Make ``ring`` this process's ring (``audit.verify`` checks the chain with it).  ``crypto.configure`` reads
    a file: a ring that is not in its file yet (the backup's own) goes to a private temporary one meanwhile."""
    if ring.path.is_file():
        with contextlib.suppress(KeyFileError):
            if keyseal.same_ring(crypto.load_keyring(ring.path), ring):
                crypto.configure(ring.path)
                yield
                return
    shm = Path("/dev/shm")
    folder = Path(tempfile.mkdtemp(prefix="harbour-ring-", dir=shm if shm.is_dir() and os.access(shm, os.W_OK)
                                   else None))
    try:
        KeyRing(folder / "keys.json", ring.encryption_keys, ring.index_key, ring.audit_key).save()
        crypto.configure(folder / "keys.json")
        yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# -- create ---------------------------------------------------------------------------------------------------
def create_backup(target: Path, settings: Settings, *, with_keys: bool = False,
                  passphrase_file: Path | None = None) -> Report:
    from harbour.core.db import make_engine
    from harbour.core.keycheck import KeyRingError, inspect_database, open_ring

    if with_keys != (passphrase_file is not None):
        raise BackupError("--with-keys and --passphrase-file FILE go together: the key ring is only ever stored "
                          "sealed with a passphrase")
    passphrase = keyseal.read_passphrase(passphrase_file) if with_keys else None
    refuse_unless_empty(Path(target).absolute())  # before anything is read
    engine = make_engine(settings.database_url)
    report = Report()
    try:
        try:
            open_ring(settings.key_file, engine=engine)
        except KeyRingError as exc:
            raise BackupError(str(exc)) from None
        with staging(target) as stage:
            backup_id = str(uuid.uuid4())
            database: dict = {"kind": _kind(settings)}
            if settings.is_sqlite:
                snapshot = stage.file(SQLITE_FILE)
                sqlitefile.copy(sqlitefile.database_file(settings.database_url), snapshot)
                snap = read_only_sqlite(snapshot)
                try:
                    facts = checks.read_facts(snap)
                    ring = crypto.load_keyring(settings.key_file)  # as it is now, after the snapshot
                    ring_problems = inspect_database(snap, ring).problems
                finally:
                    snap.dispose()
                database |= {"file": SQLITE_FILE, "sqlite_version": sqlite3.sqlite_version}
                stage.add(SQLITE_FILE)
            else:
                facts, ring, ring_problems = _dump_postgresql(stage, settings, engine, database)
            if ring_problems:
                raise BackupError("the key ring changed while the backup was taken (a key rotation?) and no longer "
                                  "opens the snapshot: " + "; ".join(ring_problems) + ". Run the backup again")
            files = statsfiles.archive(_stats_root(settings), stage.file(STATS_FILE))
            stage.add(STATS_FILE)
            key_ring = None
            if with_keys:
                params, sealed = keyseal.seal(ring, passphrase, backup_id=backup_id)
                stage.file(KEYS_FILE).write_bytes(sealed)
                stage.add(KEYS_FILE)
                key_ring = {"file": KEYS_FILE, **params}
            manifest = {"format": FORMAT, "format_version": FORMAT_VERSION, "backup_id": backup_id,
                        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
                        "harbour_version": harbour.__version__, "database": database, **facts,
                        "key_ids": ring.key_ids, "key_ring": key_ring,
                        "stats": {"file": STATS_FILE, "files": files, "source": str(_stats_root(settings))}}
            total = sum(f["size"] for f in stage.files.values())
            stage.commit(manifest)
    finally:
        engine.dispose()
    counts = facts["row_counts"]
    head = facts["audit_head"] or {"seq": 0}
    report.lines += [
        f"backup written to {Path(target).absolute()} ({_size(total)})",
        f"database: {database['kind']}, schema revision {facts['schema_revision']}, {sum(counts.values())} rows in "
        f"{len(counts)} tables, audit head {head['seq']}",
        f"statistics store: {files} files",
        (f"key ring: included, sealed with the passphrase (scrypt, AES-256-GCM); keys {', '.join(ring.key_ids)}"
         if with_keys else f"key ring: NOT included (keys {', '.join(ring.key_ids)}); keep a copy of "
                           f"{settings.key_file} safe separately, or use --with-keys --passphrase-file FILE")]
    return report


def _dump_postgresql(stage, settings: Settings, engine: Engine, database: dict) -> tuple[dict, KeyRing, list[str]]:
    dump = stage.file(PG_FILE)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn, conn.begin():
        checks.across_agencies(conn)
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
        facts = checks.facts(conn)
        grants = pgdump.capture_grants(conn)
        server = conn.execute(text("SHOW server_version")).scalar_one()
        pgdump.dump(settings.database_url, dump, snapshot=snapshot)  # sees exactly what this transaction sees
    stage.add(PG_FILE)
    ring = crypto.load_keyring(settings.key_file)
    ring_problems, scanned = dumpcheck.ring_opens_dump(dump, facts, ring)
    short = [f"{t} ({scanned.counts.get(t, 0)} of {n} rows)" for t, n in facts["row_counts"].items()
             if scanned.counts.get(t, 0) != n]
    if short:
        raise BackupError("the dump does not hold every row (row-level security hiding rows?): " + ", ".join(short)
                          + ". Nothing was written")
    database |= {"file": PG_FILE, "format": "pg_dump custom", "server_version": server,
                 "pg_dump": pgdump.tool_version("pg_dump"), "grants": grants}
    return facts, ring, ring_problems


# -- verify ---------------------------------------------------------------------------------------------------
def _backup_ring(folder: Path, manifest: dict, passphrase_file: Path, path: Path) -> KeyRing:
    sealed = manifest.get("key_ring")
    if not sealed:
        raise BackupError(f"this backup holds no key ring (it was made without --with-keys): use the key file "
                          f"(HARBOUR_KEY_FILE) that holds keys {', '.join(manifest.get('key_ids', []))}")
    passphrase = keyseal.read_passphrase(passphrase_file)
    return keyseal.unseal((folder / sealed["file"]).read_bytes(), sealed, passphrase,
                          backup_id=manifest["backup_id"], path=path)


def _key_file_ring(settings: Settings, manifest: dict, *, verb: str) -> KeyRing:
    path = settings.key_file
    if not path.exists():
        own = (f"{verb} with the backup's own key ring (--passphrase-file FILE{' --with-keys' if verb == 'restore' else ''})"
               if manifest.get("key_ring") else "this backup holds no key ring of its own")
        raise BackupError(f"the key file {path} does not exist, and it is needed to prove the backup can be read: "
                          f"{own}, or set HARBOUR_KEY_FILE to the key ring that holds keys "
                          f"{', '.join(manifest.get('key_ids', []))}. Nothing was changed")
    try:
        crypto.check_private(path)
        return crypto.load_keyring(path)
    except KeyFileError as exc:
        raise BackupError(f"{exc}. Nothing was changed") from None


def ring_refusal(ring: KeyRing, manifest: dict, problems: list[str], *, folder: Path, own_ring: bool) -> str:
    need = manifest.get("key_ids", [])
    lacking = [k for k in need if k not in ring.key_ids]
    msg = (f"the key ring {ring.path} does not open this backup: " + "; ".join(problems)
           + f". The backup was written under the key ring holding {', '.join(need)}")
    if lacking:
        msg += (f"; {ring.path} (keys {', '.join(ring.key_ids)}) lacks {', '.join(lacking)} — retired by a key "
                f"rotation after the backup was made, or another deployment's ring")
    if not own_ring:
        msg += (f". Use the backup's own key ring: `harbour backup restore {folder} --with-keys --passphrase-file FILE`"
                if manifest.get("key_ring") else
                ". This backup holds no key ring of its own: set HARBOUR_KEY_FILE to a copy of the ring that holds "
                "those keys")
    return msg + ". Nothing was changed"


def _opened(folder: Path) -> tuple[dict, list[str]]:
    manifest = read_manifest(folder)
    problems, _ = check_files(folder, manifest)
    return manifest, problems


def verify_backup(folder: Path, settings: Settings, *, passphrase_file: Path | None = None) -> Report:
    folder = Path(folder)
    report = Report()
    manifest, problems = _opened(folder)
    if problems:
        report.problems += problems
        return report
    head = manifest.get("audit_head") or {"seq": 0}
    report.lines += [f"backup {folder}: made {manifest['created_at']} by Harbour {manifest['harbour_version']}, "
                     f"{manifest['database']['kind']}, schema revision {manifest['schema_revision']}, audit head "
                     f"{head['seq']}",
                     f"files: {len(manifest['files'])} checked (SHA-256 and size), nothing missing or extra"]
    try:
        files = statsfiles.check(folder / manifest["stats"]["file"])
        if files != manifest["stats"]["files"]:
            report.problems.append(f"the statistics archive holds {files} files, the manifest says "
                                   f"{manifest['stats']['files']}")
        else:
            report.lines.append(f"statistics archive readable: {files} files")
        ring = (_backup_ring(folder, manifest, passphrase_file, settings.key_file) if passphrase_file
                else _key_file_ring(settings, manifest, verb="verify"))
    except BackupError as exc:
        report.problems.append(str(exc))
        return report
    report.lines.append("key ring: the backup's own (the passphrase opens it)" if passphrase_file
                        else f"key ring: {ring.path}")
    with process_ring(ring), _scratch(folder, manifest, settings) as engine:
        outcome = checks.prove(engine, ring, manifest)
        if manifest["database"]["kind"] == "sqlite":
            result = sqlitefile.quick_check(Path(engine.url.database))
            (report.lines if result == "ok" else report.problems).append(f"SQLite quick_check: {result}")
    report.lines += outcome.lines
    report.problems += outcome.ring_problems + outcome.problems
    return report


@contextlib.contextmanager
def _scratch(folder: Path, manifest: dict, settings: Settings) -> Iterator[Engine]:
    """The backup restored into a scratch database (SQLite: a temporary file; PostgreSQL: a temporary database on
    the server of HARBOUR_DATABASE_URL), dropped afterwards."""
    from harbour.core.db import make_engine

    kind = manifest["database"]["kind"]
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="harbour-verify-") as tmp:
            path = Path(tmp) / "scratch.db"
            sqlitefile.copy(folder / manifest["database"]["file"], path)
            engine = make_engine(f"sqlite:///{path}")
            try:
                yield engine
            finally:
                engine.dispose()
        return
    if settings.is_sqlite:
        raise BackupError("this backup is a PostgreSQL dump: verify restores it into a temporary database, so set "
                          "HARBOUR_DATABASE_URL to a PostgreSQL server (a role that may create databases)")
    with pgdump.scratch_database(settings.database_url) as url:
        pgdump.restore(url, folder / manifest["database"]["file"])
        engine = make_engine(url)
        try:
            yield engine
        finally:
            engine.dispose()


# -- restore --------------------------------------------------------------------------------------------------
def _known_revision(revision: str | None) -> str:
    """This Harbour's head revision; refuses a backup whose revision it does not know (made by a newer Harbour)."""
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    from harbour.core.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    try:
        if revision is None or script.get_revision(revision) is None:
            raise CommandError(str(revision))
    except CommandError:
        raise BackupError(f"this backup is at schema revision {revision}, which this Harbour ({harbour.__version__}) "
                          f"does not know: restore it with the Harbour version that made it. Nothing was changed") \
            from None
    return script.get_current_head()


def _target_contents(settings: Settings) -> list[str]:
    found = []
    path = sqlitefile.database_file(settings.database_url) if settings.is_sqlite else None
    if path is None or path.exists():
        engine = create_engine(settings.database_url)
        try:
            found += checks.occupied(engine)
        except OperationalError as exc:
            raise BackupError(f"cannot open the target database ({type(exc.orig).__name__}): create it first, "
                              f"empty, owned by the role in HARBOUR_DATABASE_URL. Nothing was changed") from None
        finally:
            engine.dispose()
    stats = statsfiles.count(_stats_root(settings))
    if stats:
        found.append(f"statistics store {_stats_root(settings)} ({stats} files)")
    return found


def restore_backup(folder: Path, settings: Settings, *, force: bool = False, with_keys: bool = False,
                   passphrase_file: Path | None = None, keys_only: bool = False) -> Report:
    from harbour.ops.restore import restore, restore_keys

    if with_keys != (passphrase_file is not None):
        raise BackupError("--with-keys and --passphrase-file FILE go together (the backup's key ring is sealed with "
                          "the passphrase)")
    if keys_only and not with_keys:
        raise BackupError("--keys-only goes with --with-keys --passphrase-file FILE")
    folder = Path(folder)
    try:
        manifest, problems = _opened(folder)
    except BackupError as exc:
        raise BackupError(f"{exc}. Nothing was changed") from None
    if problems:
        raise BackupError("this backup is damaged or incomplete: " + "; ".join(problems) + ". Nothing was changed")
    if manifest["database"]["kind"] != _kind(settings):
        raise BackupError(f"this backup is a {manifest['database']['kind']} database and HARBOUR_DATABASE_URL names a "
                          f"{_kind(settings)} one: restore it into the same kind of database. Nothing was changed")
    head = None if keys_only else _known_revision(manifest["schema_revision"])
    if with_keys:
        ring = _backup_ring(folder, manifest, passphrase_file, settings.key_file)
    else:
        ring = _key_file_ring(settings, manifest, verb="restore")
    keys_action = _key_file_action(settings, ring) if with_keys else None
    if keys_action == "differs" and not force:
        raise BackupError(f"the key file {settings.key_file} exists and holds another key ring; restore --with-keys "
                          f"will not overwrite it: move it away, set HARBOUR_KEY_FILE to a new path, or add --force "
                          f"(the old file is then kept beside it as {settings.key_file.name}.replaced-…). "
                          f"Nothing was changed")
    if keys_only:
        return restore_keys(folder, manifest, settings, ring, keys_action=keys_action)
    found = _target_contents(settings)
    if found and not force:
        raise BackupError(f"the target is not empty ({len(found)} tables or stores hold data: "
                          + ", ".join(found[:20]) + (", …" if len(found) > 20 else "")
                          + "). A restore replaces everything in it: if that is what you want, first take a backup "
                            "of it (`harbour backup create DIR`), then run the restore again with --force"
                          + (". To put back only the key ring of this backup for the database as it is (a lost key "
                             "file), add --keys-only" if with_keys else "") + ". Nothing was changed")
    report = restore(folder, manifest, settings, ring, own_ring=with_keys, keys_action=keys_action,
                     stats_root=_stats_root(settings))
    if manifest["schema_revision"] != head:
        report.lines.append(f"the backup is at schema revision {manifest['schema_revision']} and this Harbour's is "
                            f"{head}: run `harbour db upgrade` before `harbour serve`")
    return report


def _key_file_action(settings: Settings, ring: KeyRing) -> str:
    path = settings.key_file
    if not path.exists():
        return "new"
    try:
        current = crypto.load_keyring(path)
    except KeyFileError:
        return "differs"
    return "same" if keyseal.same_ring(current, ring) else "differs"


def keep_aside(path: Path) -> Path:
    aside = path.with_name(f"{path.name}.replaced-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}")
    os.rename(path, aside)
    return aside
