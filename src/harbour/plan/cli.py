"""`harbour plan ...` commands: import and export plans, department leads, flags."""

from __future__ import annotations

from pathlib import Path

import typer

from harbour.core.audit import Actor

app = typer.Typer(help="National action plans and strategies: chart, progress, flags.", no_args_is_help=True)
member_app = typer.Typer(help="Who speaks for which department (department leads).", no_args_is_help=True)
app.add_typer(member_app, name="member")

CLI_ADMIN = Actor(None, "system:cli", "admin")  # the command line acts as an administrator
MAX_ERRORS_SHOWN = 100


def _session():
    from harbour.cli import _sessionmaker

    return _sessionmaker()()


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@app.command("import")
def import_cmd(files: list[Path] = typer.Argument(None, help="YAML or JSON plan files (schema: harbour-plan/1)"),
               shipped: bool = typer.Option(False, "--shipped", help="Also import the reference plans shipped with "
                                                                     "Harbour (2013-2014 Annex A, open letter)"),
               dry_run: bool = typer.Option(False, "--dry-run", help="Validate and count, write nothing")) -> None:
    """Import plan files: each file all-or-nothing, safe to repeat (rows are matched by code and number)."""
    from harbour.core.errors import HarbourError
    from harbour.plan.importer import PlanImportError, import_file, shipped_files

    paths = list(files or []) + (shipped_files() if shipped else [])
    if not paths:
        _fail("name at least one FILE, or use --shipped")
    failed = False
    for path in paths:
        with _session() as db:
            try:
                result = import_file(db, actor=CLI_ADMIN, path=path, dry_run=dry_run)
            except PlanImportError as exc:
                failed = True
                typer.echo(f"error: {path}: {exc.text()}", err=True)
                for line in exc.errors[:MAX_ERRORS_SHOWN]:
                    typer.echo(f"  {line}", err=True)
                if len(exc.errors) > MAX_ERRORS_SHOWN:
                    typer.echo(f"  ... and {len(exc.errors) - MAX_ERRORS_SHOWN} more", err=True)
                continue
            except HarbourError as exc:
                failed = True
                typer.echo(f"error: {path}: {exc.text()}", err=True)
                continue
        for line in result.lines():
            typer.echo(("(dry run) " if dry_run else "") + line)
    if failed:
        raise typer.Exit(2)


@app.command("export")
def export_cmd(strategy: str = typer.Option(..., "--strategy", help="Strategy code, e.g. NAP-2012-2016"),
               out: Path = typer.Option(..., "--out", help="CSV file to write"),
               fiscal_year: str = typer.Option(None, "--fiscal-year", help="Status as of this fiscal year, "
                                                                          "e.g. 2013-2014 (default: current)")) -> None:
    """Export the approved chart as CSV (one row per deliverable, English and French columns)."""
    from harbour.core.errors import HarbourError
    from harbour.plan.reporting import chart, write_csv

    with _session() as db:
        try:
            grouped = chart(db, strategy, fiscal_year)
        except HarbourError as exc:
            _fail(exc.text())
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8", newline="") as fh:
        rows = write_csv(grouped, fh)
    typer.echo(f"wrote {rows} deliverables of {strategy} to {out}")


@app.command("list")
def list_cmd() -> None:
    """List the plans with their deliverable counts by status."""
    from harbour.plan.reporting import list_strategies, status_summary

    with _session() as db:
        for s in list_strategies(db, published_only=False):
            summary = status_summary(db, s.code)
            counts = ", ".join(f"{k} {v}" for k, v in summary["by_status"].items() if v)
            typer.echo(f"{s.code:24} {s.kind:16} {summary['total']:4} deliverables  {counts}")


@app.command("flags")
def flags_cmd(strategy: str = typer.Option(..., "--strategy"),
              fiscal_year: str = typer.Option(None, "--fiscal-year", help="default: the current fiscal year"),
              department: str = typer.Option(None, "--department")) -> None:
    """Overdue deliverables and those without an approved update in the fiscal year."""
    from harbour.core.errors import HarbourError
    from harbour.plan.service import flags

    with _session() as db:
        try:
            rows = flags(db, actor=CLI_ADMIN, strategy_code=strategy, fiscal_year=fiscal_year, department=department)
        except HarbourError as exc:
            _fail(exc.text())
    for row in rows:
        d = row["deliverable"]
        typer.echo(f"{row['task']:>6}/{d['ref']:<4} {','.join(d['leads']):14} {d['status'] or '-':12} "
                   f"{' '.join(row['flags'])}")
    typer.echo(f"{len(rows)} flagged")


def _user_id(db, username: str) -> int:
    from sqlalchemy import select

    from harbour.core.models import User

    uid = db.execute(select(User.id).where(User.username == username)).scalar_one_or_none()
    if uid is None:
        _fail("no such user")
    return uid


@member_app.command("add")
def member_add(username: str, department: str) -> None:
    """Let USERNAME write updates for DEPARTMENT (a code such as RCMP, or an alias such as IRCC)."""
    from harbour.core.errors import HarbourError
    from harbour.plan.service import add_member

    with _session() as db:
        try:
            link = add_member(db, actor=CLI_ADMIN, user_id=_user_id(db, username), department_code=department)
        except HarbourError as exc:
            _fail(exc.text())
        typer.echo(f"{username} now writes updates for {link.department_code}")


@member_app.command("remove")
def member_remove(username: str, department: str) -> None:
    """Stop USERNAME writing updates for DEPARTMENT."""
    from harbour.plan.service import remove_member

    with _session() as db:
        removed = remove_member(db, actor=CLI_ADMIN, user_id=_user_id(db, username), department_code=department)
    typer.echo("removed" if removed else "no such link")


@member_app.command("list")
def member_list() -> None:
    """List department leads."""
    from harbour.plan.service import list_members

    with _session() as db:
        for m in list_members(db):
            typer.echo(f"{m.department_code:10} {m.user.username:24} {m.user.role}")


@app.command("report")
def report_cmd(fiscal_year: str = typer.Option(..., "--fiscal-year", help="The fiscal year reported on, e.g. 2013-2014"),
               out: Path = typer.Option(..., "--out", help="Folder to write the files to (created if missing)"),
               strategy: str = typer.Option(None, "--strategy", help="Strategy code (default: every published plan "
                                                                     "whose years include the fiscal year)"),
               lang: str = typer.Option("both", "--lang", help="en, fr or both")) -> None:
    """Write the Annual Report on Progress (HTML and PDF per language, charts as SVG and PNG, chart as CSV)."""
    import time

    from harbour.core.errors import HarbourError
    from harbour.plan.choices import check_fiscal_year
    from harbour.plan.report import write_report
    from harbour.plan.reporting import get_strategy, list_strategies

    try:
        check_fiscal_year(fiscal_year)
    except ValueError as exc:
        _fail(str(exc))
    langs = {"both": ("en", "fr"), "en": ("en",), "fr": ("fr",)}.get(lang)
    if langs is None:
        _fail(f"--lang must be en, fr or both, not {lang!r}")
    with _session() as db:
        if strategy:
            try:
                codes = [get_strategy(db, strategy).code]
            except HarbourError:
                _fail(f"no plan or strategy has the code {strategy!r} (see `harbour plan list`)")
        else:
            codes = [s.code for s in list_strategies(db) if s.start_fiscal_year
                     and s.start_fiscal_year <= fiscal_year <= (s.end_fiscal_year or fiscal_year)]
            if not codes:
                _fail(f"no published plan covers fiscal year {fiscal_year}; name one with --strategy")
        for code in codes:
            started = time.perf_counter()
            try:
                paths = write_report(db, strategy_code=code, fiscal_year=fiscal_year, out_dir=out, langs=langs)
            except HarbourError as exc:
                _fail(exc.text())
            for path in paths:
                typer.echo(f"wrote {path}")
            typer.echo(f"{code} {fiscal_year}: {len(paths)} files in {time.perf_counter() - started:.1f} s")
