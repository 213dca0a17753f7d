"""`harbour` command line: serve, db, demo, audit, keys, users; domains add their own groups."""

from __future__ import annotations

import os
import sys

import typer
from sqlalchemy import select

from harbour.core.audit import Actor
from harbour.core.cli import db_app, keys_app
from harbour.core.config import get_settings

app = typer.Typer(help="Harbour: survivor-centred hotline, referrals, sharing, statistics and plan tracking.",
                  no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit log.", no_args_is_help=True)
users_app = typer.Typer(help="User accounts, roles, API tokens and TOTP policy.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(keys_app, name="keys")
app.add_typer(users_app, name="users")


_invocation: typer.Context | None = None  # the running command's (root) context


@app.callback()
def _every_command(ctx: typer.Context) -> None:
    from pydantic import ValidationError

    from harbour.core.config import explain

    global _invocation
    _invocation = ctx
    # Every file a command or the server creates (databases, key files, the statistics store, exports) is
    # readable by its owner only; an operator who publishes a file opens it up deliberately.
    os.umask(0o077)
    try:  # a malformed HARBOUR_* setting: one line naming it, for every command, never a traceback
        get_settings()
    except ValidationError as exc:
        typer.echo(explain(exc), err=True)
        raise typer.Exit(2) from None


def _register_domains() -> None:
    from harbour.directory.cli import app as directory_app
    from harbour.ops.cli import app as backup_app
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
    app.add_typer(backup_app, name="backup")


_register_domains()

CLI_ACTOR = Actor.system("cli")


def open_database(*, create_keys_if_empty: bool = False):
    """The engine of HARBOUR_DATABASE_URL with this process's key ring proven to open it; on a wrong or
    missing key file the command stops here, before anything is read or written."""
    from sqlalchemy.exc import SQLAlchemyError

    from harbour.core.db import make_engine
    from harbour.core.keycheck import KeyRingError, open_ring
    from harbour.core.migrate import MigrationError, status

    settings = get_settings()
    engine = make_engine(settings.database_url)
    try:
        state = status(settings.database_url, engine=engine)
        if not state.at_head:  # an empty database, or one an older release left: nothing here would work
            raise MigrationError(
                "the database has no schema yet: run `harbour db upgrade` first" if state.current is None else
                f"the database is at revision {state.current}, behind this release's {state.head}: back it up "
                f"(`harbour backup create`), then run `harbour db upgrade`")
        open_ring(settings.key_file, engine=engine, create_if_empty=create_keys_if_empty)
    except (KeyRingError, MigrationError) as exc:
        engine.dispose()
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except SQLAlchemyError as exc:
        from harbour.core.migrate import first_line, safe_url

        engine.dispose()
        typer.echo(f"error: cannot use the database {safe_url(settings.database_url)}: {first_line(exc)}", err=True)
        raise typer.Exit(2) from None
    return engine


def _sessionmaker(*, create_keys_if_empty: bool = False):
    """Sessions for a command that reads or writes data: the key ring is proven first, and while the command
    runs it reports its keys like a server worker (key rotation waits for it)."""
    import atexit

    from harbour.core.db import make_sessionmaker
    from harbour.core.workers import Presence

    engine = open_database(create_keys_if_empty=create_keys_if_empty)
    presence = Presence(engine, kind="command", interval=get_settings().key_heartbeat_seconds).start()
    if _invocation is not None:
        _invocation.call_on_close(presence.stop)  # when the command ends
    atexit.register(presence.stop)  # and in any case when the process does
    return make_sessionmaker(engine)


@app.command()
def serve(host: str = typer.Option("127.0.0.1", help="Interface to listen on"),
          port: int = typer.Option(8000, help="TCP port"),
          workers: int = typer.Option(1, help="Worker processes (PostgreSQL recommended above 1)")) -> None:
    """Serve the web console, public pages and API.  Logs are JSON lines on stderr (HARBOUR_LOG_LEVEL)."""
    import logging
    import logging.config

    import uvicorn
    from pydantic import ValidationError

    from harbour.core.config import explain
    from harbour.core.proxy import start_warning
    from harbour.ops.metrics import multiprocess_dir
    from harbour.ops.observe import log_config

    try:
        warning = start_warning(get_settings())
    except ValidationError as exc:  # e.g. a malformed HARBOUR_TRUSTED_PROXIES: say which setting, start nothing
        typer.echo(explain(exc), err=True)
        raise typer.Exit(2) from None
    if warning:
        typer.echo(warning, err=True)
    open_database().dispose()  # a missing or wrong key file stops here, with the reason
    level = get_settings().log_level
    logging.config.dictConfig(log_config(level))
    with multiprocess_dir(workers):  # several workers share their metrics through it
        logging.getLogger("harbour").info(
            "Harbour is serving at http://%s:%s (public help page: /help, console: /console)", host, port)
        # Forwarded headers are handled in the application, from HARBOUR_TRUSTED_PROXIES only (core/proxy.py).
        uvicorn.run("harbour.app:create_app", factory=True, host=host, port=port, workers=workers,
                    proxy_headers=False, log_config=log_config(level), log_level=level.lower(), access_log=False)


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
