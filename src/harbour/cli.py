"""`harbour` command line: serve, db, demo, audit, keys, users; domains add their own groups."""

from __future__ import annotations

import sys

import typer
from sqlalchemy import select

from harbour.core.audit import Actor
from harbour.core.config import get_settings

app = typer.Typer(help="Harbour: survivor-centred hotline, referrals, sharing, statistics and plan tracking.",
                  no_args_is_help=True)
db_app = typer.Typer(help="Database schema (Alembic migrations).", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
keys_app = typer.Typer(help="Field-encryption keys.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts, roles, API tokens and TOTP policy.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")


def _register_domains() -> None:
    from harbour.directory.cli import app as directory_app
    from harbour.plan.cli import app as plan_app
    from harbour.sharing.cli import app as sharing_app
    from harbour.sharing.linkcli import link_app, pprl_app
    from harbour.stats.cli import app as stats_app

    app.add_typer(directory_app, name="directory")
    app.add_typer(plan_app, name="plan")
    app.add_typer(sharing_app, name="sharing")
    app.add_typer(link_app, name="link")
    app.add_typer(pprl_app, name="pprl")
    app.add_typer(stats_app, name="stats")


_register_domains()

CLI_ACTOR = Actor.system("cli")


def open_database(*, create_keys_if_empty: bool = False):
    """The engine of HARBOUR_DATABASE_URL with this process's key ring proven to open it; on a wrong or
    missing key file the command stops here, before anything is read or written."""
    from harbour.core.db import make_engine
    from harbour.core.keycheck import KeyRingError, open_ring

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        open_ring(settings.key_file, engine=engine, create_if_empty=create_keys_if_empty)
    except KeyRingError as exc:
        engine.dispose()
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    return engine


def _sessionmaker(*, create_keys_if_empty: bool = False):
    from harbour.core.db import make_sessionmaker

    return make_sessionmaker(open_database(create_keys_if_empty=create_keys_if_empty))


@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
          port: int = typer.Option(8000, help="TCP port"),
          workers: int = typer.Option(1, help="Worker processes (PostgreSQL recommended above 1)")) -> None:
    """Serve the web console, public pages and API.  Logs are JSON lines on stderr (HARBOUR_LOG_LEVEL)."""
    import logging
    import logging.config

    import uvicorn

    from harbour.ops.metrics import multiprocess_dir
    from harbour.ops.observe import log_config

    open_database().dispose()  # a missing or wrong key file stops here, with the reason
    level = get_settings().log_level
    logging.config.dictConfig(log_config(level))
    with multiprocess_dir(workers):  # several workers share their metrics through it
        logging.getLogger("harbour").info(
            "Harbour is serving at http://%s:%s (public help page: /help, console: /console)", host, port)
        uvicorn.run("harbour.app:create_app", factory=True, host=host, port=port, workers=workers,
                    proxy_headers=True, log_config=log_config(level), log_level=level.lower(), access_log=False)


@db_app.command("upgrade")
def db_upgrade(revision: str = typer.Argument("head")) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from harbour.core.db import make_engine
    from harbour.core.keycheck import KeyRingError, is_empty, open_ring
    from harbour.core.migrate import upgrade

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        if settings.key_file.exists() or not is_empty(engine):
            open_ring(settings.key_file, engine=engine)  # a missing or wrong ring stops before any migration
        created = not settings.key_file.exists()
        upgrade(settings.database_url, revision)
        open_ring(settings.key_file, engine=engine, create_if_empty=True)
    except KeyRingError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    typer.echo(f"database at revision {revision}")
    if created:
        typer.echo(f"created a new key ring at {settings.key_file}: keep a copy somewhere safe (see "
                   f"`harbour backup create --with-keys`); without it the data cannot be read")


@db_app.command("downgrade")
def db_downgrade(revision: str) -> None:
    """Revert migrations down to REVISION."""
    from harbour.core.migrate import downgrade

    downgrade(get_settings().database_url, revision)
    typer.echo(f"database at revision {revision}")


@db_app.command("create-app-role")
def db_create_app_role(name: str = typer.Argument(..., help="e.g. harbour_app"),
                       password: str = typer.Option(None, help="login password (omit with trust or peer auth)")) -> None:
    """PostgreSQL: create the application's role — not superuser, no BYPASSRLS, owns no table — with DML on
    every table; run as the administrator that owns the tables, then point HARBOUR_DATABASE_URL at NAME."""
    from harbour.sharing.rls import create_app_role

    try:
        for line in create_app_role(get_settings().database_url, name, password):
            typer.echo(line)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None


@app.command()
def demo(seed: int = typer.Option(2026, help="Random seed for the synthetic data"),
         contacts: int = typer.Option(400, help="How many synthetic hotline contacts"),
         providers: int = typer.Option(1200, help="How many synthetic service providers")) -> None:
    """Load synthetic, obviously fake demo data and one demo user per role (idempotent)."""
    from harbour.demo import load_demo

    factory = _sessionmaker(create_keys_if_empty=True)
    with factory() as db:
        report = load_demo(db, seed=seed, contacts=contacts, providers=providers)
    for line in report.lines():
        typer.echo(line)


@audit_app.command("verify")
def audit_verify(checkpoint: list[str] = typer.Option(
        [], "--checkpoint", help="SEQ:HASH printed by an earlier verify and kept outside the database")) -> None:
    """Check the whole audit chain; exit 1 naming the first bad entry."""
    from harbour.core.audit import check_checkpoint, verify

    with _sessionmaker()() as db:
        result = verify(db)
        problems = []
        for cp in checkpoint:
            seq, _, digest = cp.partition(":")
            if not seq.isdigit() or len(digest) != 64:
                typer.echo("error: a checkpoint looks like 1234:<64 hex characters>", err=True)
                raise typer.Exit(2)
            problem = check_checkpoint(db, int(seq), digest)
            if problem:
                problems.append(problem)
    if result.ok and not problems:
        typer.echo(f"audit chain intact: {result.checked} entries verified")
        if result.checked:
            typer.echo(f"checkpoint (keep it outside the database): {result.checked}:{result.last_hash}")
        return
    if result.ok:
        typer.echo("audit chain BROKEN against a checkpoint: " + "; ".join(problems), err=True)
        raise typer.Exit(1)
    where = f"entry seq={result.first_bad_seq}" + (f" (row id {result.first_bad_id})" if result.first_bad_id else "")
    typer.echo(f"audit chain BROKEN at {where}: {result.reason}; {result.checked} entries verified before it",
               err=True)
    raise typer.Exit(1)


@keys_app.command("init")
def keys_init() -> None:
    """Create the key ring (HARBOUR_KEY_FILE) for an empty database; refuses if the file exists or the
    database already holds data."""
    from harbour.core.db import make_engine
    from harbour.core.keycheck import KeyRingError, is_empty, open_ring

    settings = get_settings()
    if settings.key_file.exists():
        typer.echo(f"error: the key file {settings.key_file} already exists; `harbour keys check` tells whether "
                   f"it opens the database", err=True)
        raise typer.Exit(2)
    engine = make_engine(settings.database_url)
    try:
        if not is_empty(engine):
            open_ring(settings.key_file, engine=engine)  # raises with the explanation
        open_ring(settings.key_file, engine=engine, create_if_empty=True)
    except KeyRingError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    finally:
        engine.dispose()
    typer.echo(f"created a new key ring at {settings.key_file} (mode 0600): keep a copy somewhere safe (see "
               f"`harbour backup create --with-keys`); without it the data cannot be read")


@keys_app.command("check")
def keys_check() -> None:
    """Prove the key file opens the database (decrypt a sample, recompute blind indexes, check the audit
    head) and show the running processes' keys; exit 1 if it does not."""
    from harbour.core import crypto
    from harbour.core.db import make_engine
    from harbour.core.keycheck import inspect_database, is_empty
    from harbour.core.workers import live_workers

    settings = get_settings()
    engine = make_engine(settings.database_url)
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
def keys_rotate() -> None:
    """Add a new key, re-encrypt every encrypted field under it, then retire the old keys."""
    from harbour.core.rotation import rotate_keys

    settings = get_settings()
    result = rotate_keys(settings)
    typer.echo(f"rotated to key {result.new_key_id}: {result.values} values in {result.columns} columns "
               f"re-encrypted; retired {len(result.retired)} old key(s)")


@users_app.command("create")
def users_create(username: str, role: str = typer.Option(..., help="One of: " + ", ".join(
        ["hotline_advocate", "hotline_supervisor", "provider_staff", "agency_analyst", "agency_data_steward",
         "plan_coordinator", "researcher", "admin"])),
        display_name: str = typer.Option(None), organization: str = typer.Option(None),
        password: str = typer.Option(..., prompt=True, hide_input=True, confirmation_prompt=True),
        language: str = typer.Option("en")) -> None:
    """Create a user with a role."""
    from harbour.core.errors import HarbourError
    from harbour.core.security import create_user

    with _sessionmaker()() as db:
        try:
            user = create_user(db, actor=CLI_ACTOR, username=username, display_name=display_name or username,
                               role=role, password=password, organization=organization,
                               preferred_language=language)
            db.commit()
        except HarbourError as exc:
            typer.echo(f"error: {exc.text()}", err=True)
            raise typer.Exit(2) from None
        typer.echo(f"created user {user.username} ({user.role})")


@users_app.command("list")
def users_list() -> None:
    """List users, roles and lock state."""
    from harbour.core.db import utcnow
    from harbour.core.models import User

    with _sessionmaker()() as db:
        for u in db.execute(select(User).order_by(User.username)).scalars():
            locked = "locked" if u.locked_until and u.locked_until > utcnow() else ""
            mfa = "totp" if u.totp_enabled else ""
            typer.echo(f"{u.username:24} {u.role:22} {'active' if u.is_active else 'disabled':9} {mfa:5} {locked}")


def _user(db, username: str):
    from harbour.core.models import User

    user = db.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        typer.echo("error: no such user", err=True)
        raise typer.Exit(2)
    return user


@users_app.command("set-password")
def users_set_password(username: str, password: str = typer.Option(..., prompt=True, hide_input=True,
                                                                    confirmation_prompt=True)) -> None:
    """Set a user's password (also unlocks the account)."""
    from harbour.core.errors import HarbourError
    from harbour.core.security import set_password

    with _sessionmaker()() as db:
        try:
            set_password(db, actor=CLI_ACTOR, user=_user(db, username), password=password)
            db.commit()
        except HarbourError as exc:
            typer.echo(f"error: {exc.text()}", err=True)
            raise typer.Exit(2) from None
    typer.echo("password set")


@users_app.command("unlock")
def users_unlock(username: str) -> None:
    """Clear a lockout after repeated failed sign-ins."""
    from harbour.core.audit import record

    with _sessionmaker()() as db:
        user = _user(db, username)
        user.locked_until, user.failed_logins = None, 0
        record(db, CLI_ACTOR, "update", "user", user.id, detail={"field": "locked_until"})
        db.commit()
    typer.echo("unlocked")


@users_app.command("disable")
def users_disable(username: str) -> None:
    """Disable an account: its sessions and API tokens stop working at once."""
    from harbour.core.audit import record

    with _sessionmaker()() as db:
        user = _user(db, username)
        user.is_active = False
        record(db, CLI_ACTOR, "update", "user", user.id, detail={"field": "is_active"})
        db.commit()
    typer.echo("disabled")


@users_app.command("token")
def users_token(username: str, name: str = typer.Option("cli token"),
                scope: list[str] = typer.Option(..., "--scope", help="e.g. hotline:read, hotline:write"),
                days: int = typer.Option(90, help="Days until it expires (0: never)")) -> None:
    """Issue an API token with scopes; the token is shown once."""
    from harbour.core.errors import HarbourError
    from harbour.core.security import issue_token

    with _sessionmaker()() as db:
        user = _user(db, username)
        try:
            raw, _tok = issue_token(db, actor=Actor(user.id, user.username, user.role), user=user, name=name,
                                    scopes=scope, days=days or None)
            db.commit()
        except HarbourError as exc:
            typer.echo(f"error: {exc.text()}", err=True)
            raise typer.Exit(2) from None
    typer.echo(raw)


@users_app.command("require-totp")
def users_require_totp(role: str, off: bool = typer.Option(False, "--off", help="Stop requiring it")) -> None:
    """Require (or stop requiring) a TOTP second factor for every user with ROLE."""
    from harbour.core.errors import HarbourError
    from harbour.core.security import set_role_policy

    with _sessionmaker()() as db:
        try:
            set_role_policy(db, actor=Actor(None, "system:cli", "admin"), role=role, require_totp=not off)
            db.commit()
        except HarbourError as exc:
            typer.echo(f"error: {exc.text()}", err=True)
            raise typer.Exit(2) from None
    typer.echo(f"TOTP {'not ' if off else ''}required for {role}")


@app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def bench(ctx: typer.Context, area: str = typer.Argument(..., help="What to measure, e.g. directory")) -> None:
    """Run bench/AREA.py and print one JSON line of figures (see BENCHMARKS.md)."""
    import importlib.util

    from harbour.core.config import REPO_ROOT

    path = REPO_ROOT / "bench" / f"{area}.py"
    if not path.is_file():
        known = sorted(p.stem for p in (REPO_ROOT / "bench").glob("*.py") if not p.stem.startswith("_"))
        typer.echo(f"error: no benchmark named {area!r}; known: {', '.join(known) or 'none'}", err=True)
        raise typer.Exit(2)
    spec = importlib.util.spec_from_file_location(f"harbour_bench_{area}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    raise typer.Exit(module.main(list(ctx.args)) or 0)


def main() -> None:  # pragma: no cover
    sys.exit(app())
