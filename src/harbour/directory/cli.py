"""`harbour directory ...` commands: HSDS import and export, vetting reminders."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer

from harbour.core.audit import Actor

app = typer.Typer(help="Service-provider directory (Open Referral HSDS).", no_args_is_help=True)

CLI_ADMIN = Actor(None, "system:cli", "admin")  # the command line acts as an administrator
MAX_ERRORS_SHOWN = 50


def _session():
    from harbour.cli import _sessionmaker

    return _sessionmaker()()


@app.command("import-hsds")
def import_hsds(directory: Path = typer.Argument(..., help="Folder with the HSDS CSV tables (or only hsds.json)")) -> None:
    """Import an HSDS 3.0 data package: all of it, or nothing if any row is invalid (exit 2)."""
    from harbour.core.errors import HarbourError
    from harbour.directory.hsds import PackageInvalid, import_package

    with _session() as db:
        try:
            report = import_package(db, directory, actor=CLI_ADMIN)
        except PackageInvalid as exc:
            typer.echo(f"error: {exc.text()}", err=True)
            for e in exc.errors[:MAX_ERRORS_SHOWN]:
                typer.echo(str(e), err=True)
            if len(exc.errors) > MAX_ERRORS_SHOWN:
                typer.echo(f"... and {len(exc.errors) - MAX_ERRORS_SHOWN} more", err=True)
            raise typer.Exit(2) from None
        except HarbourError as exc:
            typer.echo(f"error: {exc.text()}", err=True)
            raise typer.Exit(2) from None
    for line in report.lines():
        typer.echo(line)


@app.command("export-hsds")
def export_hsds(directory: Path = typer.Argument(..., help="Folder to write the package to (created if needed)"),
                redact: bool = typer.Option(False, "--redact",
                                            help="Withhold confidential shelters' addresses (for sharing outside "
                                                 "the hotline)")) -> None:
    """Export the directory as an HSDS 3.0 data package (CSV tables, datapackage.json, hsds.json)."""
    from harbour.directory.hsds import export_package

    with _session() as db:
        report = export_package(db, directory, redact=redact, actor=CLI_ADMIN)
    for line in report.lines():
        typer.echo(line)


@app.command("vetting-due")
def vetting_due(days: int = typer.Option(30, min=0, max=3650, help="Remind about vetting expiring within DAYS")) -> None:
    """List vetted providers whose vetting expires within DAYS days or has already expired."""
    from harbour.core.db import utcnow
    from harbour.directory.service import vetting_due as due

    today = utcnow().date()
    with _session() as db:
        rows = due(db, within_days=days, today=today)
        if not rows:
            typer.echo(f"no vetting expires within {days} days")
            return
        for v in rows:
            left = (date.fromisoformat(v.expires_on) - today).days
            when = f"expired {-left} days ago" if left < 0 else ("expires today" if left == 0
                                                                 else f"expires in {left} days")
            typer.echo(f"{v.expires_on}  {when:24}  {v.organization_id}  {v.organization.name}")
        typer.echo(f"{len(rows)} provider(s) to re-vet")
