"""Database engine, sessions and shared column types (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import JSON, DateTime, MetaData, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on both backends (SQLite stores naive UTC)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; Harbour stores aware UTC datetimes only")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONList(TypeDecorator):
    """A JSON list of short codes (vocabulary values)."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return list(value or [])

    def process_result_value(self, value, dialect):
        return list(value or [])


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory ones)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1].split("?", 1)[0]
    return Path(path) if path and path != ":memory:" else None


def ensure_sqlite_dir(url: str) -> None:
    """SQLite creates the file but not its folder (./var/ on a fresh clone).  Both are created readable by
    their owner only (the WAL and shared-memory files SQLite adds take the database file's mode)."""
    path = sqlite_path(url)
    if path is None:
        return
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)
    os.chmod(path, 0o600)  # whatever the umask


def _track_transactions(engine: Engine) -> Engine:
    """Tell the key ring which primary key each open transaction started under (key rotation waits for
    them: ``crypto.writes_with``)."""
    from harbour.core import crypto

    event.listen(engine, "begin", lambda conn: crypto.transaction_began(conn.info))
    event.listen(engine, "commit", lambda conn: crypto.transaction_ended(conn.info))
    event.listen(engine, "rollback", lambda conn: crypto.transaction_ended(conn.info))
    return engine


def make_engine(url: str) -> Engine:
    """The engine for ``url``.  ``hide_parameters``: error messages (and so logged tracebacks) never show the
    bound values of a failed statement, which may be personal data."""
    if url.startswith("sqlite"):
        ensure_sqlite_dir(url)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # pragma: no cover - trivial
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: a commit no longer waits for the disk to sync the log (live chat commits every
            # message). The database cannot be corrupted; a power cut may lose the last commits. Production
            # runs PostgreSQL.
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return _track_transactions(engine)
    return _track_transactions(create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10,
                                             hide_parameters=True))


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=True)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def atomic(func):
    """Service actions are one transaction: any error rolls back everything the action changed."""
    import functools

    @functools.wraps(func)
    def wrapper(db: Session, *args, **kwargs):
        try:
            return func(db, *args, **kwargs)
        except BaseException:
            db.rollback()
            raise

    return wrapper


def commit_or_conflict(db: Session) -> None:
    """Commit; a concurrent change to a versioned row (optimistic locking) becomes a 409 for the caller."""
    from sqlalchemy.orm.exc import StaleDataError

    from harbour.core.errors import Conflict
    from harbour.core.i18n import N_

    try:
        db.commit()
    except StaleDataError as exc:
        db.rollback()
        raise Conflict(N_("Someone else changed this record at the same time. Reload and try again.")) from exc
