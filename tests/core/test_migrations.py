"""Alembic migrations: the whole history goes up, down and up again on both backends, and matches the models."""

from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, create_engine, inspect, text
from sqlalchemy.engine import make_url

from harbour.core.audit import GENESIS
from harbour.core.migrate import alembic_config, downgrade, upgrade
from harbour.models_registry import metadata
from tests.conftest import PG_ADMIN_URL, _pg_available


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    """An empty database of its own (not the suite's migrated template)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    if os.environ.get("HARBOUR_TEST_SKIP_PG"):
        pytest.skip("PostgreSQL half skipped: HARBOUR_TEST_SKIP_PG is set")
    reason = _pg_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"harbour_migr_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def _scalar(url: str, sql: str):
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text(sql)).all()
    finally:
        engine.dispose()


def _audit_triggers(url: str) -> set[str]:
    if url.startswith("sqlite"):
        rows = _scalar(url, "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'")
    else:
        rows = _scalar(url, "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass "
                            "AND NOT tgisinternal")
    return {r[0] for r in rows}


def _revisions() -> list[str]:
    """Base to head, in order (one linear history)."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert len(script.get_heads()) == 1, "the migration history must stay linear"
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def test_upgrade_downgrade_upgrade_and_no_drift(fresh_url):
    model_tables = set(metadata.tables)
    upgrade(fresh_url)
    assert _tables(fresh_url) == model_tables | {"alembic_version"}
    assert _scalar(fresh_url, "SELECT id, seq, hash FROM audit_head") == [(1, 0, GENESIS)]
    assert _audit_triggers(fresh_url)

    downgrade(fresh_url, "base")
    assert _tables(fresh_url) <= {"alembic_version"}
    if fresh_url.startswith("postgresql"):
        assert _scalar(fresh_url, "SELECT count(*) FROM pg_proc WHERE proname = 'harbour_audit_append_only'") == [(0,)]

    upgrade(fresh_url)
    assert _tables(fresh_url) == model_tables | {"alembic_version"}
    assert _scalar(fresh_url, "SELECT id, seq, hash FROM audit_head") == [(1, 0, GENESIS)]
    assert _audit_triggers(fresh_url)
    assert _scalar(fresh_url, "SELECT version_num FROM alembic_version") == [(_revisions()[-1],)]
    _assert_no_drift(fresh_url)


def _assert_no_drift(url: str) -> None:
    """Drift check: autogenerate would produce nothing."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
            diff = compare_metadata(context, metadata)
            # the check itself can see drift: a model column with no migration is reported
            changed = MetaData(naming_convention=metadata.naming_convention)
            for table in metadata.sorted_tables:
                table.to_metadata(changed)
            changed.tables["hotline_case"].append_column(Column("fictional_extra", Integer))
            drift = compare_metadata(context, changed)
    finally:
        engine.dispose()
    assert diff == [], "models and migrations differ; write a migration:\n" + "\n".join(map(str, diff))
    assert [(d[0], d[2], d[3].name) for d in drift] == [("add_column", "hotline_case", "fictional_extra")]


def test_each_revision_steps_down_and_up(fresh_url):
    revisions = _revisions()
    for rev in revisions:
        upgrade(fresh_url, rev)
        assert _scalar(fresh_url, "SELECT version_num FROM alembic_version") == [(rev,)]
    for rev in reversed(revisions[:-1]):
        downgrade(fresh_url, "-1")
        assert _scalar(fresh_url, "SELECT version_num FROM alembic_version") == [(rev,)]
        upgrade(fresh_url, "+1")  # and back up over the step just undone
        downgrade(fresh_url, "-1")
    downgrade(fresh_url, "base")
    assert _tables(fresh_url) <= {"alembic_version"}
