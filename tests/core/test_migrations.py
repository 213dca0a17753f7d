"""Alembic migrations: the whole history goes up, down and up again on both backends, and matches the models."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Column, Integer, MetaData, create_engine, inspect, text
from sqlalchemy.engine import make_url

from harbour.core.audit import GENESIS
from harbour.core.config import REPO_ROOT
from harbour.core.migrate import alembic_config, downgrade, upgrade
from harbour.models_registry import metadata
from harbour.sharing import rls
from tests.conftest import PG_ADMIN_URL, _pg_available


@contextlib.contextmanager
def pg_database(prefix: str = "harbour_migr") -> Iterator[str]:
    """An empty PostgreSQL database of its own (skipped, saying why, without a server); yields its admin URL."""
    if os.environ.get("HARBOUR_TEST_SKIP_PG"):
        pytest.skip("PostgreSQL half skipped: HARBOUR_TEST_SKIP_PG is set")
    reason = _pg_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request, tmp_path):
    """An empty database of its own (not the suite's migrated template)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.db'}"
        return
    with pg_database() as url:
        yield url


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


# -- the application role keeps its privileges across upgrades (issue 12, finding 3) ------------------------------
DML = {"SELECT", "INSERT", "UPDATE", "DELETE"}
FUTURE_REVISION = '''"""test only: a table that a later release adds

Revision ID: 0999
Revises: {down}
"""
from alembic import op
import sqlalchemy as sa

revision = "0999"
down_revision = "{down}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("future_note", sa.Column("id", sa.Integer(), primary_key=True),
                    sa.Column("note", sa.String(40), nullable=False))


def downgrade() -> None:
    op.drop_table("future_note")
'''


@pytest.fixture
def pg_url():
    with pg_database("harbour_role") as url:
        yield url


@pytest.fixture
def roles(pg_url):
    """Makes unique role names for this test; drops those roles (and what they own or were granted) at the end."""
    made: list[str] = []

    def _name(kind: str) -> str:
        made.append(f"harbour_{kind}_{uuid.uuid4().hex[:8]}")
        return made[-1]

    yield _name
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in made:
            if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first():
                conn.execute(text(f'DROP OWNED BY "{name}"'))
                conn.execute(text(f'DROP ROLE "{name}"'))
    admin.dispose()


def as_role(url: str, role: str) -> str:
    """The same database, connected as ``role`` (trust authentication)."""
    return make_url(url).set(username=role, password=None).render_as_string(hide_password=False)


def _rows(url: str, sql: str, **params) -> list:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(sql), params)
            return result.all() if result.returns_rows else []
    finally:
        engine.dispose()


def _future_config(url: str, tmp_path):
    """Harbour's migrations plus a test-only revision 0999 (after head) that creates ``future_note``."""
    scripts = tmp_path / "migrations"
    if not scripts.exists():
        shutil.copytree(REPO_ROOT / "migrations", scripts, ignore=shutil.ignore_patterns("__pycache__"))
        (scripts / "versions" / "0999_future_note.py").write_text(FUTURE_REVISION.format(down=_revisions()[-1]))
    cfg = alembic_config(url)
    cfg.set_main_option("script_location", str(scripts))
    return cfg


def assert_app_role_works(admin_url: str, role: str, *, extra_tables: tuple[str, ...] = ()) -> None:
    """``role`` may SELECT/INSERT/UPDATE/DELETE on every table of the models (and ``extra_tables``) and use every
    sequence, only read ``alembic_version``, is not privileged, and row-level security still applies to it."""
    held: dict[str, set[str]] = {}
    for table, privilege in _rows(admin_url, """
            SELECT c.relname, p FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            CROSS JOIN unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE']) AS p
            WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND has_table_privilege(:r, c.oid, p)""", r=role):
        held.setdefault(table, set()).add(privilege)
    missing = {t: sorted(DML - held.get(t, set())) for t in [*metadata.tables, *extra_tables]
               if DML - held.get(t, set())}
    assert missing == {}, f"the application role lacks privileges: {missing}"
    assert held.get("alembic_version") == {"SELECT"}
    assert _rows(admin_url, """SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                               WHERE n.nspname = 'public' AND c.relkind = 'S'
                               AND CASE WHEN c.relkind = 'S' THEN NOT has_sequence_privilege(:r, c.oid, 'USAGE') END""", r=role) == []
    admin = create_engine(admin_url)
    try:
        with admin.connect() as conn:
            assert rls.role_facts(conn, role) == {"superuser": False, "bypassrls": False, "owns_tables": 0}
    finally:
        admin.dispose()

    code = f"T{uuid.uuid4().hex[:8]}"
    agency = _rows(admin_url, """
        WITH a AS (INSERT INTO sharing_agency (code, name, kind, active, created_at)
                   VALUES (:c, 'Fictional Test Agency', 'ngo', true, now()) RETURNING id)
        INSERT INTO sharing_person (agency_id, record_id, source_system, ingested_at, updated_at, content_hash,
                                    needs_linkage)
        SELECT id, 'FAKE-1', 'test', now(), now(), 'x', false FROM a RETURNING agency_id""", c=code)[0][0]
    app = create_engine(as_role(admin_url, role))
    try:
        with app.begin() as conn:  # the tables a later migration created: read and written
            assert conn.execute(text("SELECT current_user")).scalar_one() == role
            sid = conn.execute(text("""
                INSERT INTO chat_session (reference, token_hash, language, status, queued_at, last_visitor_at,
                                          last_seen_at)
                VALUES (:ref, :tok, 'en', 'queued', now(), now(), now()) RETURNING id"""),
                {"ref": code, "tok": uuid.uuid4().hex}).scalar_one()
            assert conn.execute(text("UPDATE chat_session SET status = 'closed' WHERE id = :i"), {"i": sid}).rowcount == 1
            assert conn.execute(text("SELECT status FROM chat_session WHERE id = :i"), {"i": sid}).scalar_one() == "closed"
            assert conn.execute(text("DELETE FROM chat_session WHERE id = :i"), {"i": sid}).rowcount == 1
            for table in extra_tables:
                conn.execute(text(f"INSERT INTO {table} (note) VALUES ('fictional')"))
                assert conn.execute(text(f"DELETE FROM {table}")).rowcount >= 1
        with app.begin() as conn:  # row-level security: no acting agency, no agency's rows
            assert conn.execute(text("SELECT count(*) FROM sharing_person WHERE agency_id = :a"),
                                {"a": agency}).scalar_one() == 0
            conn.execute(text("SELECT set_config('harbour.agency_id', :a, true)"), {"a": str(agency)})
            assert conn.execute(text("SELECT record_id FROM sharing_person")).scalars().all() == ["FAKE-1"]
    finally:
        app.dispose()


def test_app_role_keeps_access_after_downgrade_and_upgrade(pg_url, roles):
    upgrade(pg_url)
    app = roles("app")
    rls.create_app_role(pg_url, app, None)
    assert_app_role_works(pg_url, app)
    downgrade(pg_url, "0030")  # drops the chat tables (and later ones); the upgrade creates them anew
    upgrade(pg_url)
    assert_app_role_works(pg_url, app)


def test_app_role_made_before_the_first_upgrade(pg_url, roles):
    app = roles("app")
    rls.create_app_role(pg_url, app, None)  # an empty database: every table comes later
    upgrade(pg_url)
    assert_app_role_works(pg_url, app)


def test_tables_of_a_later_migration_by_any_administrator(pg_url, roles, tmp_path):
    upgrade(pg_url)
    app = roles("app")
    rls.create_app_role(pg_url, app, None)
    cfg = _future_config(pg_url, tmp_path)
    command.upgrade(cfg, "head")  # the next release's migration, run by the same administrator
    assert_app_role_works(pg_url, app, extra_tables=("future_note",))

    # a table the administrator creates by hand: covered by the default privileges alone
    _rows(pg_url, "CREATE TABLE ops_scratch_note (id serial PRIMARY KEY, note text NOT NULL)")
    assert_app_role_works(pg_url, app, extra_tables=("future_note", "ops_scratch_note"))

    # another administrator runs it: the first one's default privileges do not cover the tables it creates;
    # the migration environment grants them to every role holding Harbour's default privileges
    command.downgrade(cfg, "-1")
    other = roles("admin")
    _rows(pg_url, f'CREATE ROLE "{other}" LOGIN NOSUPERUSER')
    _rows(pg_url, f'GRANT USAGE, CREATE ON SCHEMA public TO "{other}"')
    _rows(pg_url, f'GRANT SELECT, INSERT, UPDATE, DELETE ON alembic_version TO "{other}"')
    command.upgrade(_future_config(as_role(pg_url, other), tmp_path), "head")
    assert _rows(pg_url, "SELECT tableowner FROM pg_tables WHERE tablename = 'future_note'") == [(other,)]
    assert_app_role_works(pg_url, app, extra_tables=("future_note", "ops_scratch_note"))
