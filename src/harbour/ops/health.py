"""Readiness: may this worker take traffic?

The rule this module enforces: **a worker is ready only if its database answers, the schema is the one its
code expects, and its key ring opens that database** (``keycheck.quick_check``, and no refused reload of the key
file: ``crypto.reload_problem``).  The answer names each check's result and never a secret, a file path or a
connection URL (the log has the details).  It costs a handful of queries, signs nobody in and writes nothing.
"""

from __future__ import annotations

import logging
from functools import cache

from sqlalchemy import text
from sqlalchemy.engine import Engine

log = logging.getLogger("harbour.health")
OK = "ok"
NOT_CHECKED = "not checked"
TIMEOUT_SECONDS = 5.0


@cache
def expected_head() -> str:
    """The migration scripts' head revision (read once per process)."""
    from alembic.script import ScriptDirectory

    from harbour.core.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


@cache
def _known_revisions() -> frozenset[str]:
    from alembic.script import ScriptDirectory

    from harbour.core.migrate import alembic_config

    return frozenset(r.revision for r in ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions())


def _schema(revisions: list[str]) -> str:
    head = expected_head()
    if revisions == [head]:
        return OK
    if not revisions:
        return f"empty: no migration applied, code expects {head} (run `harbour db upgrade`)"
    at = ", ".join(sorted(revisions))
    if all(r in _known_revisions() for r in revisions):
        return f"behind: database at {at}, code expects {head} (run `harbour db upgrade`)"
    return f"unknown revision: database at {at}, code expects {head} (a newer Harbour migrated it?)"


def _reload_problem() -> str | None:
    """The key file's last refused reload, said without its path."""
    from harbour.core import crypto

    crypto.refresh(force=True)
    problem = crypto.reload_problem
    if problem is None:
        return None
    if "disappeared" in problem:
        return "the key file has disappeared; this worker keeps the keys it loaded (put the file back)"
    if "does not belong" in problem:
        return ("the key file was replaced by a key ring that does not belong to this database; this worker "
                "keeps the keys it loaded (put the right file back)")
    return "the key file changed but cannot be read; this worker keeps the keys it loaded (see the log)"


def check(engine: Engine) -> dict[str, str]:
    """Each check's result, ``"ok"`` or what is wrong: database, schema, keys."""
    from harbour.core import crypto, keycheck

    checks = {"database": NOT_CHECKED, "schema": NOT_CHECKED, "keys": NOT_CHECKED}
    try:
        with engine.connect() as conn:
            tables = _tables(conn)
            checks["database"] = OK
            revisions = list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()) \
                if "alembic_version" in tables else []
    except Exception as exc:  # noqa: BLE001 - any failure to reach the database is the answer
        if checks["database"] != OK:
            log.warning("readiness: the database does not answer", exc_info=exc)
            checks["database"] = f"unreachable ({type(exc).__name__}; details in the log)"
        else:
            log.warning("readiness: could not read the schema revision", exc_info=exc)
            checks["schema"] = f"unreadable ({type(exc).__name__}; details in the log)"
        return checks
    checks["schema"] = _schema(revisions)
    problem = _reload_problem()
    if problem is None and checks["schema"] == OK:
        try:
            problem = keycheck.quick_check(engine, crypto.keyring_loaded())
        except Exception as exc:  # noqa: BLE001
            log.warning("readiness: the key check could not run", exc_info=exc)
            problem = f"could not be checked ({type(exc).__name__}; details in the log)"
    elif problem is None:
        problem = "not checked: the schema is not at the code's revision"
    checks["keys"] = problem or OK
    return checks


def _tables(conn) -> set[str]:
    if conn.dialect.name == "postgresql":
        return set(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")).scalars())
    return set(conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars())


def is_ready(checks: dict[str, str]) -> bool:
    return all(v == OK for v in checks.values())
