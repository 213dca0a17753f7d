"""SQLite backups with SQLite's own online backup API.

The rule this module enforces: **a SQLite snapshot is one consistent state of the database, taken and put back
by SQLite itself** — never a file copy of a live database (a copy taken while Harbour writes can mix two states
and miss the write-ahead log).  ``Connection.backup`` copies every page in one step under a read transaction;
in WAL mode Harbour keeps writing meanwhile.  A snapshot is stored in rollback-journal mode, so reading it never
adds ``-wal``/``-shm`` files beside it (a backup folder holds only the files its manifest lists).  Putting a
snapshot in place is also one backup-API step: the target is replaced in one transaction, or not at all.
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

from harbour.core.db import ensure_sqlite_dir, sqlite_path
from harbour.ops.manifest import BackupError


def database_file(url: str) -> Path:
    path = sqlite_path(url)
    if path is None:
        raise BackupError("HARBOUR_DATABASE_URL names an in-memory SQLite database: there is nothing to back up")
    return path


def copy(source: Path, dest: Path) -> None:
    """Copy the database ``source`` into ``dest`` (a new or empty file) with the online backup API."""
    if not source.is_file():
        raise BackupError(f"no SQLite database at {source}")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30) if not _wal(source) \
        else sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(dest)
    try:
        src.backup(dst)  # all pages in one step: one consistent state
        dst.execute("PRAGMA journal_mode=DELETE")
        dst.commit()
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not copy the database: {exc}") from None
    finally:
        dst.close()
        src.close()


def _wal(path: Path) -> bool:
    """Whether the file is in WAL mode (read-only connections to a WAL database need its -shm file)."""
    with open(path, "rb") as fh:
        header = fh.read(20)
    return len(header) == 20 and header[18] == 2


def quick_check(path: Path) -> str:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return conn.execute("PRAGMA quick_check").fetchone()[0]


def install(snapshot: Path, url: str) -> None:
    """Replace the database of ``url`` with ``snapshot``, in one transaction (created 0600 if missing)."""
    ensure_sqlite_dir(url)
    src = sqlite3.connect(f"file:{snapshot}?mode=ro", uri=True)
    dst = sqlite3.connect(database_file(url), timeout=30)
    try:
        src.backup(dst)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite could not write the restored database (nothing was changed): {exc}") from None
    finally:
        dst.close()
        src.close()
