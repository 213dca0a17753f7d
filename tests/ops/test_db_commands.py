"""`harbour db current | history | check | upgrade | downgrade`, on SQLite and PostgreSQL, each on a database of
its own (a downgrade must never touch the suite's shared one).

Issue 12, finding 4: `harbour db downgrade` dropped tables holding data without asking.  It now refuses (exit 2,
names and counts only, nothing changed) unless --yes.  The read-only commands never need the key file."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Column, Integer, MetaData, create_engine, inspect, text
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from harbour.core import migrate
from harbour.core.config import Settings
from harbour.core.migrate import downgrade, plan_downgrade, upgrade
from tests.conftest import PG_ADMIN_URL
from tests.core.test_migrations import _revisions, as_role, pg_database
from tests.core.test_migrations import _rows as _sql
from tests.servers import free_port, harbour, server_env


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path):
    """An empty database of its own."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'harbour.db'}"
        return
    with pg_database("harbour_dbcmd") as url:
        yield url


@pytest.fixture
def url(empty_url):
    """A database of its own, migrated to head."""
    upgrade(empty_url)
    return empty_url


@pytest.fixture
def settings_for(tmp_path):
    """Settings naming ``url`` and a key file that does not exist (these commands must not need one)."""
    return lambda url: Settings(database_url=url, key_file=tmp_path / "no-keys" / "harbour-keys.json",
                                stats_dir=tmp_path / "stats")


@pytest.fixture
def cli(monkeypatch, settings_for):
    import harbour.cli as root
    import harbour.core.cli as commands

    runner = CliRunner()

    def _run(url: str, *args: str):
        settings = settings_for(url)
        monkeypatch.setattr(root, "get_settings", lambda: settings)
        monkeypatch.setattr(commands, "get_settings", lambda: settings)
        result = runner.invoke(root.app, list(args))
        assert result.exception is None or isinstance(result.exception, SystemExit), result.output
        assert not settings.key_file.exists()
        return result

    return _run


def _revision(url: str) -> str | None:
    rows = _sql(url, "SELECT version_num FROM alembic_version")
    return rows[0][0] if rows else None


def _add_chats(url: str, count: int) -> None:
    for n in range(count):
        _sql(url, "INSERT INTO chat_session (reference, token_hash, language, status, queued_at, last_visitor_at, "
                  "last_seen_at) VALUES (:r, :t, 'en', 'closed', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, "
                  "CURRENT_TIMESTAMP)", r=f"FAKE-{n}", t=f"{n:064d}")


def _add_user(url: str, time_zone: str | None) -> None:
    _sql(url, "INSERT INTO user_account (username, display_name, role, password_hash, is_active, preferred_language, "
              "failed_logins, totp_enabled, created_at, time_zone) VALUES (:u, 'Fictional Tester', 'advocate', 'x', "
              ":t, 'en', 0, :f, CURRENT_TIMESTAMP, :z)", u=f"fake-{time_zone}", t=True, f=False, z=time_zone)


# -- current, history, check --------------------------------------------------------------------------------------
def test_current_and_history_at_head_and_behind(url, cli):
    revisions = _revisions()
    head = revisions[-1]
    r = cli(url, "db", "current")
    assert r.exit_code == 0 and f"revision {head} (head): up to date" in r.output
    r = cli(url, "db", "history")
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert [line.split()[1] if line.startswith("*") else line.split()[0] for line in lines] == revisions[::-1]
    assert lines[0].startswith(f"* {head} ") and lines[0].endswith("(head, current)")
    assert sum(line.startswith("*") for line in lines) == 1

    downgrade(url, revisions[-3])
    r = cli(url, "db", "current")
    assert r.exit_code == 0, r.output
    out = r.output.splitlines()
    assert out[0] == f"database: revision {revisions[-3]}; behind head {head} by 2 revisions:"
    assert [line.split()[0] for line in out[1:3]] == revisions[-2:]  # oldest first, each with its title
    assert "db upgrade" in out[3]
    lines = cli(url, "db", "history").output.splitlines()
    assert [line for line in lines if line.startswith("*")] == [
        line for line in lines if line.startswith(f"* {revisions[-3]} ")]
    assert lines[0].endswith("(head)")


def test_current_on_an_empty_database(empty_url, cli, tmp_path):
    if empty_url.startswith("sqlite"):  # no file: said, and none created
        r = cli(empty_url, "db", "current")
        assert r.exit_code == 2 and "no database at" in r.output
        assert not (tmp_path / "harbour.db").exists()
        return
    r = cli(empty_url, "db", "current")
    assert r.exit_code == 0 and "no revision (an empty database)" in r.output
    assert f"by {len(_revisions())} revisions" in r.output


def test_a_database_migrated_by_a_newer_release(url, cli):
    _sql(url, "UPDATE alembic_version SET version_num = '9999'")
    for command in (("current",), ("history",), ("check",), ("upgrade",), ("downgrade", "0030"),
                    ("downgrade", "0030", "--yes")):
        r = cli(url, "db", *command)
        assert r.exit_code == 2 and "revision 9999, which this release of Harbour does not know" in r.stderr, r.output
    assert _revision(url) == "9999" and "chat_session" in inspect(create_engine(url)).get_table_names()


def test_db_check_passes_on_the_migrated_database(url, settings_for):
    """What CI runs: the real command on each database, green."""
    r = harbour(server_env(settings_for(url)), "db", "check", timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no differences" in r.stdout


def test_db_check_reports_drift(url, cli, monkeypatch):
    from harbour.models_registry import metadata

    changed = MetaData(naming_convention=metadata.naming_convention)
    for table in metadata.sorted_tables:
        table.to_metadata(changed)
    changed.tables["hotline_case"].append_column(Column("fictional_extra", Integer))
    monkeypatch.setattr(migrate, "_models", lambda: changed)  # a model column with no migration
    r = cli(url, "db", "check")
    assert r.exit_code == 1
    assert "column hotline_case.fictional_extra (INTEGER): in the models, not in the migrations" in r.output

    monkeypatch.undo()
    _sql(url, "ALTER TABLE plan_pillar ADD COLUMN fictional_db_only INTEGER")  # and one the models lack
    r = cli(url, "db", "check")
    assert r.exit_code == 1 and "plan_pillar.fictional_db_only" in r.output and "not in the models" in r.output


def test_db_check_needs_the_database_at_head(url, cli):
    downgrade(url, "-1")
    r = cli(url, "db", "check")
    assert r.exit_code == 2 and "not at head" in r.output and "db upgrade" in r.output


# -- downgrade over data (finding 4) ----------------------------------------------------------------------------
def test_downgrade_refuses_to_drop_data_and_changes_nothing(url, cli):
    head = _revisions()[-1]
    _add_chats(url, 3)
    _add_user(url, "America/Winnipeg")
    _add_user(url, None)
    r = cli(url, "db", "downgrade", "0030")
    assert r.exit_code == 2, r.output
    assert "table chat_session: 3 rows" in r.output
    assert "column user_account.time_zone: 1 value" in r.output
    assert "chat_message" not in r.stderr  # empty tables are listed in the plan, not in the refusal
    assert "table chat_message: 0 rows" in r.stdout
    assert "FAKE-" not in r.output and "Winnipeg" not in r.output  # names and counts, never data
    assert "--yes" in r.output and "Nothing was changed" in r.output
    assert _revision(url) == head
    assert _sql(url, "SELECT count(*) FROM chat_session") == [(3,)]
    assert _sql(url, "SELECT time_zone FROM user_account WHERE time_zone IS NOT NULL") == [("America/Winnipeg",)]

    r = cli(url, "db", "downgrade", "0030", "--yes")
    assert r.exit_code == 0, r.output
    assert _revision(url) == "0030"
    assert "chat_session" not in set(inspect(create_engine(url)).get_table_names())
    assert _sql(url, "SELECT count(*) FROM user_account") == [(2,)]  # what the target keeps is kept


def test_downgrade_without_data_needs_no_yes(url, cli, tmp_path):
    from harbour.core.keycheck import open_ring

    open_ring(tmp_path / "ring" / "keys.json", url, create_if_empty=True)  # seals key_check: Harbour rebuilds it
    assert _sql(url, "SELECT count(*) FROM key_check") == [(1,)]
    r = cli(url, "db", "downgrade", "0030")
    assert r.exit_code == 0, r.output
    assert "table key_check: 1 row (not kept: sealed again" in r.output
    assert _revision(url) == "0030"
    r = cli(url, "db", "downgrade", "base")  # the audit chain's genesis head is the migrations' own row
    assert r.exit_code == 0, r.output
    assert _revision(url) is None


def test_downgrade_revisions_relative_and_refused(url, cli):
    revisions = _revisions()
    r = cli(url, "db", "downgrade", "-1")
    assert r.exit_code == 0, r.output
    assert _revision(url) == revisions[-2]
    for bad, says in (("nonsense", "unknown revision 'nonsense'"), (revisions[-1], "is not below"),
                      ("-99", "only")):
        r = cli(url, "db", "downgrade", bad)
        assert r.exit_code == 2 and says in r.output and r.output.count("\n") == 1, r.output
    assert _revision(url) == revisions[-2]
    r = cli(url, "db", "downgrade", revisions[-2])
    assert r.exit_code == 0 and "nothing to downgrade" in r.output


def test_downgrade_counts_rows_hidden_by_row_level_security():
    """In production the tables' owner is no superuser, and row-level security applies to it: the count must
    still see every agency's rows."""
    owner = f"harbour_owner_{uuid.uuid4().hex[:8]}"
    try:
        with pg_database("harbour_owner") as admin_url:
            _sql(admin_url, f'CREATE ROLE "{owner}" LOGIN NOSUPERUSER')
            _sql(admin_url, f'ALTER DATABASE "{make_url(admin_url).database}" OWNER TO "{owner}"')
            url = as_role(admin_url, owner)
            upgrade(url)
            engine = create_engine(url)
            with engine.begin() as conn:
                conn.execute(text("SELECT set_config('harbour.all_agencies', 'on', true)"))
                conn.execute(text("INSERT INTO sharing_agency (id, code, name, kind, active, created_at) "
                                  "VALUES (1, 'FAKE', 'Fictional Agency', 'ngo', true, now())"))
                conn.execute(text("INSERT INTO sharing_person (agency_id, record_id, source_system, ingested_at, "
                                  "updated_at, content_hash, needs_linkage) VALUES (1, 'FAKE-1', 't', now(), now(), "
                                  "'x', false)"))
            with engine.connect() as conn:  # what the owner sees without saying "all agencies"
                assert conn.execute(text("SELECT count(*) FROM sharing_person")).scalar_one() == 0
            engine.dispose()
            plan = plan_downgrade(url, "0010")
            assert ("sharing_person", 1) in [(loss.name, loss.count) for loss in plan.blocking]
            assert _revision(url) == _revisions()[-1]
    finally:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{owner}"'))
        admin.dispose()


# -- errors: one line, exit 2, never a traceback -------------------------------------------------------------------
def test_upgrade_as_the_application_role_says_whose_job_it_is(cli):
    from harbour.sharing.rls import create_app_role

    app = f"harbour_app_{uuid.uuid4().hex[:8]}"
    try:
        with pg_database("harbour_approle") as admin_url:
            upgrade(admin_url, _revisions()[-2])
            create_app_role(admin_url, app, None)
            r = cli(as_role(admin_url, app), "db", "upgrade")
            assert r.exit_code == 2, r.output
            assert r.stderr.startswith("error: the upgrade stopped: InsufficientPrivilege: ")
            assert "administrator's URL" in r.stderr and r.stderr.count("\n") == 1
            assert _revision(admin_url) == _revisions()[-2]
            _sql(admin_url, f'DROP OWNED BY "{app}"')
    finally:
        admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP ROLE IF EXISTS "{app}"'))
        admin.dispose()


def test_unknown_revision_changes_nothing(empty_url, cli, tmp_path):
    r = cli(empty_url, "db", "upgrade", "nonsense")
    assert r.exit_code == 2 and "unknown revision 'nonsense'" in r.output and "db history" in r.output
    assert r.output.count("\n") == 1
    if empty_url.startswith("sqlite"):
        assert not (tmp_path / "harbour.db").exists()
    else:
        assert "alembic_version" not in inspect(create_engine(empty_url)).get_table_names()
    r = cli(empty_url, "db", "upgrade", "+99")
    assert r.exit_code == 2 and r.output.startswith("error: the upgrade: Relative revision +99")


def _unreachable(kind: str, tmp_path) -> str:
    if kind == "sqlite":
        (tmp_path / "a-file").write_text("")
        return f"sqlite:///{tmp_path / 'a-file' / 'harbour.db'}"  # a folder that cannot exist
    return f"postgresql+psycopg://harbour:fake-secret@127.0.0.1:{free_port()}/harbour"


def _one_line_error(out: str) -> None:
    assert "Traceback" not in out and len(out.strip().splitlines()) == 1 and out.startswith("error: "), out
    assert ("cannot reach the database" in out or "no database at" in out
            or "cannot create the SQLite database" in out), out
    assert "fake-secret" not in out


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
@pytest.mark.parametrize("command", [("upgrade",), ("downgrade", "0030")])
def test_unreachable_database_upgrade_and_downgrade(kind, command, tmp_path):
    """The real command: one line on stderr, exit 2, no key file made."""
    url = _unreachable(kind, tmp_path)
    r = harbour(server_env(Settings(database_url=url, key_file=tmp_path / "k.json")), "db", *command, timeout=120)
    assert r.returncode == 2, r.stdout + r.stderr
    _one_line_error(r.stderr)
    assert not (tmp_path / "k.json").exists()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_unreachable_database_read_commands(kind, cli, tmp_path):
    url = _unreachable(kind, tmp_path)
    for command in ("current", "history", "check"):
        r = cli(url, "db", command)
        assert r.exit_code == 2, r.output
        _one_line_error(r.stderr)
