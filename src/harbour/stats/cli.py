"""`harbour stats ...`: build the store, publish releases, the annual report, the privacy-budget ledger."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from harbour.core.errors import HarbourError

app = typer.Typer(help="Statistics: analytic store, open-data releases, annual data report.", no_args_is_help=True)


def _session():
    from harbour.cli import _sessionmaker

    return _sessionmaker()()


def _fail(exc: HarbourError) -> None:
    typer.echo(f"error: {exc.text()}", err=True)
    for name, message in exc.fields.items():
        from harbour.core.i18n import gettext

        typer.echo(f"  {name}: {gettext(message)}", err=True)
    raise typer.Exit(2)


@app.command("build")
def build(full: bool = typer.Option(False, "--full", help="Rewrite every partition, not only changed years")) -> None:
    """Refresh the de-identified analytic store (Parquet under HARBOUR_STATS_DIR) from the database."""
    from harbour.core.config import get_settings
    from harbour.stats import service

    with _session() as db:
        try:
            result = service.build_store(db, get_settings(), actor=service.CLI_ACTOR, full=full)
        except HarbourError as exc:
            _fail(exc)
    typer.echo(json.dumps(result.as_dict()))


@app.command("release")
def release_cmd(out: Path = typer.Option(None, "--out", help="Also copy the release's files into this directory"),
                mode: str = typer.Option("suppress", help="suppress (small-cell suppression) or dp"),
                year: int = typer.Option(None, help="One data year (default: every year)"),
                province: str = typer.Option(None, help="One province or territory (two-letter code), unknown, or "
                                                        "a region ATL, PRA or TER (default: all of Canada)"),
                epsilon: float = typer.Option(None, help="dp mode: epsilon of this release"),
                synth: bool = typer.Option(True, "--synth/--no-synth", help="dp mode: add synthetic microdata")) -> None:
    """Publish open data: CSV + data dictionary + release.json + datapackage.json + a zip of them all (and, in dp
    mode, synthetic microdata), kept for the public /statistics page and copied into --out when given."""
    from harbour.core.config import get_settings
    from harbour.stats import published, service

    settings = get_settings()
    with _session() as db:
        try:
            service.ensure_store(db, settings)
            rel = service.publish_release(db, settings, actor=service.CLI_ACTOR, out_dir=out, mode=mode,
                                          year=year, province=province, epsilon=epsilon, with_synth=synth)
        except HarbourError as exc:
            _fail(exc)
        kept = published.folder(service.root(settings)) / rel.reference
        typer.echo(f"release {rel.reference}: {rel.cells_published} cells published, {rel.cells_withheld} withheld, "
                   f"{len(rel.files)} files kept in {kept}" + (f" and copied to {out}" if out else "")
                   + f"; public at /statistics/releases/{rel.reference}.zip")
        if mode == "dp" and synth and not any("synthetic-situations" in str(f) for f in rel.files):
            typer.echo("note: no synthetic microdata in this release (too few situations, or the synthesiser's "
                       "noisy model came back empty or left a column empty; its share of epsilon is then still "
                       "recorded as spent). See datapackage.json.")


@app.command("report")
def report_cmd(year: int = typer.Option(..., help="Data year"),
               out: Path = typer.Option(..., "--out", help="Directory to write into"),
               lang: str = typer.Option("both", help="en, fr or both")) -> None:
    """Annual data report: HTML and PDF (disclosure-controlled numbers), charts as SVG and PNG."""
    from harbour.core.config import get_settings
    from harbour.stats import report, service

    if lang not in ("en", "fr", "both"):
        typer.echo("error: --lang is en, fr or both", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    with _session() as db:
        try:
            service.ensure_store(db, settings)
            paths = report.write_report(db, settings, year=year, out_dir=out,
                                        langs=("en", "fr") if lang == "both" else (lang,))
        except HarbourError as exc:
            _fail(exc)
    for p in paths:
        typer.echo(str(p))


@app.command("budget")
def budget_cmd() -> None:
    """The privacy-budget ledger: spent and remaining epsilon per data year."""
    from harbour.core.config import get_settings
    from harbour.stats import service

    settings = get_settings()
    with _session() as db:
        try:
            service.ensure_store(db, settings)
            rows = service.budget(db, settings, actor=service.CLI_ACTOR)
        except HarbourError as exc:
            _fail(exc)
    for r in rows:
        typer.echo(f"{r['year']}: spent {r['spent']:g} of {r['budget']:g}, remaining {r['remaining']:g}")


@app.command("standard")
def standard_cmd() -> None:
    """Print the data dictionary (YAML) of the national data standard."""
    from harbour.stats.standard import STANDARD_FILE

    typer.echo(STANDARD_FILE.read_text(encoding="utf-8"))
