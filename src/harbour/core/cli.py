"""`harbour db` and `harbour keys`: the schema (Alembic migrations) and the key ring (core.keycheck, core.rotation).

Every failure an operator can cause (an unknown revision, an unreachable database, a missing or wrong key file, a
rotation a worker does not follow) is one line on stderr and exit code 2 (1 for a failed check), never a traceback.
"""

from __future__ import annotations

from contextlib import contextmanager

import typer

from harbour.core.config import get_settings

db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
keys_app = typer.Typer(help="Field-encryption keys: create the ring, prove it opens the database, rotate it.",
                       no_args_is_help=True)


@contextmanager
def _db_errors(action: str):
    """A migration command's failures as one line on stderr and exit 2, never a traceback."""
    from alembic.util.exc import CommandError
    from sqlalchemy.exc import SQLAlchemyError

    from harbour.core.migrate import MigrationError, first_line

    try:
        yield
    except MigrationError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except CommandError as exc:
        typer.echo(f"error: {action}: {str(exc).splitlines()[0]} (`harbour db history` lists the revisions)",
                   err=True)
        raise typer.Exit(2) from None
    except SQLAlchemyError as exc:
        reason = first_line(exc)
        hint = (" Run it with the administrator's URL (the role that owns the tables), not the application "
                "role's." if "permission denied" in reason or "must be owner" in reason else "")
        typer.echo(f"error: {action} stopped: {reason}. `harbour db current` shows where the database is.{hint}",
                   err=True)
        raise typer.Exit(2) from None


@contextmanager
def _ring_engine(settings):
    """An engine on the database for a command that proves or creates the key ring: a KeyRingError is one line
    on stderr and exit code 2; the engine is always disposed."""
    from harbour.core.db import make_engine
    from harbour.core.keycheck import KeyRingError

    engine = make_engine(settings.database_url)
    try:
        yield engine
    except KeyRingError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from harbour.core.keycheck import is_empty, open_ring
    from harbour.core.migrate import check_upgrade_target, connect, status, upgrade

    settings = get_settings()
    with _db_errors("the upgrade"):  # an unknown revision, an unreachable database, one migrated by a newer
        check_upgrade_target(revision)  # release: each stops here, before anything is touched
        connect(settings.database_url, create=True).dispose()
        status(settings.database_url)
    with _ring_engine(settings) as engine:
        if settings.key_file.exists() or not is_empty(engine):
            open_ring(settings.key_file, engine=engine)  # a missing or wrong ring stops before any migration
        created = not settings.key_file.exists()
        with _db_errors("the upgrade"):
            upgrade(settings.database_url, revision)
        open_ring(settings.key_file, engine=engine, create_if_empty=True)
    with _db_errors("the upgrade"):
        state = status(settings.database_url)
    typer.echo(f"database at revision {state.current}" + (" (head)" if state.at_head else
                                                          f" ({len(state.pending)} behind head {state.head})"))
    if created:
        typer.echo(f"created a new key ring at {settings.key_file}: keep a copy somewhere safe (see "
                   f"`harbour backup create --with-keys`); without it the data cannot be read")


@db_app.command("downgrade", context_settings={"ignore_unknown_options": True})  # so that -1 is a revision
def db_downgrade(revision: str = typer.Argument(..., help="target revision: an id (e.g. 0060), -N, or base"),
                 yes: bool = typer.Option(False, "--yes", help="drop tables and columns even if they hold data")) \
        -> None:
    """Revert migrations down to REVISION; refuses to drop tables or columns holding data without --yes."""
    from harbour.core.migrate import downgrade, plan_downgrade

    url = get_settings().database_url
    with _db_errors("the downgrade"):
        plan = plan_downgrade(url, revision)
        for line in plan.lines():
            typer.echo(line)
        if not plan.steps:
            return
        if plan.blocking and not yes:
            typer.echo(f"error: the downgrade to {plan.target_name} would drop data ("
                       + "; ".join(loss.line().strip() for loss in plan.blocking)
                       + "). Nothing was changed. Back up first (`harbour backup create`), then run it again with "
                         "--yes to drop them", err=True)
            raise typer.Exit(2)
        downgrade(url, plan.target_name)
    typer.echo(f"database at revision {plan.target_name}")


@db_app.command("current")
def db_current() -> None:
    """Show the database's revision, and whether it is at head or behind (and by which revisions)."""
    from harbour.core.migrate import status

    with _db_errors("reading the revision"):
        for line in status(get_settings().database_url).lines():
            typer.echo(line)


@db_app.command("history")
def db_history() -> None:
    """List the migrations, newest first, marking the database's current revision."""
    from harbour.core.migrate import history_lines

    with _db_errors("reading the history"):
        for line in history_lines(get_settings().database_url):
            typer.echo(line)


@db_app.command("check")
def db_check() -> None:
    """Compare the models with the migrated database (at head): exit 1 listing differences, 0 if none."""
    from harbour.core.migrate import drift

    with _db_errors("the check"):
        differences = drift(get_settings().database_url)
    if differences:
        typer.echo(f"models and migrations differ ({len(differences)}); write a migration "
                   f"(`alembic revision --autogenerate -m ...`):")
        for line in differences:
            typer.echo(f"  {line}")
        raise typer.Exit(1)
    typer.echo("no differences: the migrations match the models")


@db_app.command("create-app-role")
def db_create_app_role(name: str = typer.Argument(..., help="e.g. harbour_app"),
                       password: str = typer.Option(None, help="login password (omit with trust or peer auth)")) -> None:
    """PostgreSQL: create the application's role — not superuser, no BYPASSRLS, owns no table — with DML on
    every table; run as the administrator that owns the tables, then point HARBOUR_DATABASE_URL at NAME."""
    from sqlalchemy.exc import SQLAlchemyError

    from harbour.core.migrate import first_line
    from harbour.sharing.rls import create_app_role

    try:
        for line in create_app_role(get_settings().database_url, name, password):
            typer.echo(line)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except SQLAlchemyError as exc:
        reason = first_line(exc)
        hint = (" Run it as the administrator that owns the tables, with CREATEROLE (or as a superuser)."
                if "permission denied" in reason or "must have" in reason else "")
        typer.echo(f"error: the application role was not created: {reason}.{hint}", err=True)
        raise typer.Exit(2) from None


@keys_app.command("init")
def keys_init() -> None:
    """Create the key ring (HARBOUR_KEY_FILE) for an empty database; refuses if the file exists or the
    database already holds data."""
    from harbour.core.keycheck import is_empty, open_ring

    settings = get_settings()
    if settings.key_file.exists():
        typer.echo(f"error: the key file {settings.key_file} already exists; `harbour keys check` tells whether "
                   f"it opens the database", err=True)
        raise typer.Exit(2)
    with _ring_engine(settings) as engine:
        if not is_empty(engine):
            open_ring(settings.key_file, engine=engine)  # raises with the explanation
        open_ring(settings.key_file, engine=engine, create_if_empty=True)
    typer.echo(f"created a new key ring at {settings.key_file} (mode 0600): keep a copy somewhere safe (see "
               f"`harbour backup create --with-keys`); without it the data cannot be read")


@keys_app.command("check")
def keys_check() -> None:
    """Prove the key file opens the database (decrypt a sample, recompute blind indexes, check the audit
    head) and show the running processes' keys; exit 1 if it does not."""
    from sqlalchemy.exc import SQLAlchemyError

    from harbour.core import crypto
    from harbour.core.db import make_engine
    from harbour.core.keycheck import inspect_database, is_empty
    from harbour.core.migrate import first_line, safe_url
    from harbour.core.workers import live_workers

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        engine.connect().close()
    except SQLAlchemyError as exc:
        engine.dispose()
        typer.echo(f"error: cannot use the database {safe_url(settings.database_url)}: {first_line(exc)}", err=True)
        raise typer.Exit(2) from None
    try:
        path = settings.key_file
        if not path.exists():
            from harbour.core.keycheck import _missing_file_message

            typer.echo(f"error: {_missing_file_message(path, is_empty(engine))}", err=True)
            raise typer.Exit(1)
        try:
            crypto.check_private(path)
            ring = crypto.load_keyring(path)
        except crypto.KeyFileError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from None
        report = inspect_database(engine, ring)
        for line in report.lines():
            typer.echo(line)
        typer.echo(f"keys: primary {ring.primary_id}" + (f", also {', '.join(ring.key_ids[1:])}"
                                                         if len(ring.key_ids) > 1 else ""))
        for w in live_workers(engine):
            typer.echo(f"process {w.id} ({w.kind}): primary {w.primary_key_id}, writes with "
                       f"{', '.join(w.writes_with)}")
    finally:
        engine.dispose()
    if not report.ok:
        for problem in report.problems:
            typer.echo(f"error: {problem}", err=True)
        raise typer.Exit(1)
    typer.echo("the key ring opens this database")


@keys_app.command("rotate")
def keys_rotate(wait: float = typer.Option(None, "--wait", help="Seconds to wait for running workers at each step "
                                                                "(default: 60, or six heartbeats if longer)")) -> None:
    """Rotate the encryption key while Harbour runs: add a new key, make it primary once every running process
    has loaded it, re-encrypt every encrypted field in batches, then retire the old keys once nothing uses them.
    Stopped part-way, it resumes when run again."""
    from harbour.core.rotation import RotationStopped, rotate_keys

    settings = get_settings()
    try:
        result = rotate_keys(settings, timeout=wait, say=typer.echo)
    except RotationStopped as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"rotated to key {result.new_key_id}: {result.values} values in {result.columns} columns "
               f"re-encrypted; retired {len(result.retired)} old key(s)")
