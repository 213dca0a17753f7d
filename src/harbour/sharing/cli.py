"""`harbour sharing ...`: agencies, memberships, ingest, agreements, linkage models and relinking."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import typer

from harbour.core.audit import Actor

app = typer.Typer(help="Information sharing between agencies: agencies, records, agreements, linkage.",
                  no_args_is_help=True)
agencies_app = typer.Typer(help="Agencies (tenants) and their members.", no_args_is_help=True)
agreements_app = typer.Typer(help="Data-sharing agreements.", no_args_is_help=True)
app.add_typer(agencies_app, name="agencies")
app.add_typer(agreements_app, name="agreements")

CLI_ADMIN = Actor(None, "system:cli", "admin")
CLI = Actor.system("cli")


def _factory():
    from harbour.cli import _sessionmaker

    return _sessionmaker()


def _run(action):
    """Run ``action(db)`` in one transaction; domain errors become a message and exit code 2."""
    from harbour.core.errors import HarbourError

    with _factory()() as db:
        try:
            result = action(db)
            db.commit()
            return result
        except HarbourError as exc:
            db.rollback()
            typer.echo(f"error: {exc.text()}", err=True)
            for field, message in exc.fields.items():
                typer.echo(f"  {field}: {message}", err=True)
            raise typer.Exit(2) from None


# -- agencies ---------------------------------------------------------------------------------------------
@agencies_app.command("list")
def agencies_list() -> None:
    """List agencies with their kind, province and member count."""
    from harbour.sharing import agencies

    def show(db):
        counts = agencies.member_counts(db)
        for a in agencies.list_agencies(db):
            state = "" if a.active else "inactive"
            typer.echo(f"{a.code:14} {a.kind:18} {a.province or '--':3} {counts.get(a.id, 0):4} members  {a.name} {state}")

    _run(show)


@agencies_app.command("add")
def agencies_add(code: str, name: str = typer.Option(...), kind: str = typer.Option(..., help="e.g. municipal_police, "
                 "provincial_police, national_police, cbsa, ircc, fintrac, labour_inspection, crown, ngo, hotline"),
                 province: str = typer.Option(None), name_fr: str = typer.Option(None),
                 contact_name: str = typer.Option(None), contact_email: str = typer.Option(None),
                 contact_phone: str = typer.Option(None)) -> None:
    """Add an agency."""
    from pydantic import ValidationError

    from harbour.sharing import agencies
    from harbour.sharing.schemas import AgencyCreate

    try:
        data = AgencyCreate(code=code, name=name, kind=kind, province=province, name_fr=name_fr,
                            contact_name=contact_name, contact_email=contact_email, contact_phone=contact_phone)
    except ValidationError as exc:
        _invalid(exc)
    _run(lambda db: agencies.create_agency(db, actor=CLI_ADMIN, data=data))
    typer.echo(f"added agency {code}")


@agencies_app.command("add-member")
def agencies_add_member(code: str, username: str) -> None:
    """Make USERNAME a member of agency CODE (a user belongs to one agency: this moves them)."""
    from harbour.sharing import agencies

    _run(lambda db: agencies.add_member(db, actor=CLI_ADMIN, code=code, username=username))
    typer.echo(f"{username} is a member of {code}")


@agencies_app.command("remove-member")
def agencies_remove_member(code: str, username: str) -> None:
    """Remove USERNAME from agency CODE."""
    from harbour.sharing import agencies

    _run(lambda db: agencies.remove_member(db, actor=CLI_ADMIN, code=code, username=username))
    typer.echo(f"{username} removed from {code}")


def _invalid(exc) -> None:
    typer.echo("error: invalid values", err=True)
    for err in exc.errors():
        typer.echo(f"  {'.'.join(str(p) for p in err['loc'])}: {err['msg']}", err=True)
    raise typer.Exit(2)


# -- ingest ---------------------------------------------------------------------------------------------------
@app.command("ingest")
def ingest_cmd(file: Path = typer.Argument(..., exists=True, dir_okay=False, readable=True),
               agency: str = typer.Option(..., help="the agency whose records these are (its code)"),
               source: str = typer.Option("csv-import", help="the source system the records come from"),
               record_type: str = typer.Option("person", "--type", help="person, phone, handle, vehicle, location "
                                               "or occurrence"),
               user: str = typer.Option(None, help="a member of the agency to record as the uploader"),
               link: bool = typer.Option(True, help="relink across agencies afterwards (person records)"),
               report: Path = typer.Option(None, help="write the refused rows as JSON here")) -> None:
    """Ingest a CSV file of agency records (idempotent; bad rows reported, good rows kept)."""
    from sqlalchemy import select

    from harbour.core.models import User
    from harbour.sharing import ingest, linking

    def run(db):
        actor = CLI
        if user:
            member = db.execute(select(User).where(User.username == user)).scalar_one_or_none()
            if member is None:
                typer.echo("error: no such user", err=True)
                raise typer.Exit(2)
            actor = Actor(member.id, member.username, member.role)
        return ingest.ingest_csv(db, actor=actor, record_type=record_type, data=file.read_bytes(),
                                 source_system=source, filename=file.name, as_agency=None if user else agency)

    batch = _run(run)
    typer.echo(f"batch {batch.id}: {batch.rows_total} rows, {batch.rows_created} new, {batch.rows_updated} updated, "
               f"{batch.rows_unchanged} unchanged, {batch.rows_failed} refused")
    for problem in batch.problems[:20]:
        reasons = "; ".join(f"{e['field']}: {e['message']}" for e in problem["errors"])
        typer.echo(f"  row {problem['row']} ({problem['record_id'] or 'no record id'}): {reasons}")
    if len(batch.problems) > 20:
        typer.echo(f"  ... and {len(batch.problems) - 20} more" + ("" if report else " (use --report FILE)"))
    if report:
        report.write_text(json.dumps(batch.problems, indent=2, ensure_ascii=False))
    if link and record_type == "person" and batch.rows_created + batch.rows_updated:
        result = _run(lambda db: linking.relink(db))
        typer.echo(_relinked(result))
    if batch.rows_failed:
        raise typer.Exit(1)


def _relinked(result: dict) -> str:
    return (f"linked {result['records']} person records with model {result['model_version']}: "
            f"{result['matches']} matches ({result['cross_agency']} across agencies), {result['entities']} entities, "
            f"{result['hits']} new hits")


# -- agreements -------------------------------------------------------------------------------------------
@agreements_app.command("list")
def agreements_list() -> None:
    """List agreements with their effective status."""
    from harbour.sharing import access, agreements

    def show(db):
        for a in agreements.list_agreements(db, actor=CLI_ADMIN):
            parties = ",".join(p.agency.code + ("" if p.provides and p.receives else ("(gives)" if p.provides
                                                                                       else "(receives)"))
                               for p in a.parties)
            typer.echo(f"{a.id:4} {a.reference:16} {access.effective_status(a):11} {a.disclosure_level:8} "
                       f"{a.starts_on}..{a.ends_on or ''}  {parties}  {','.join(a.categories)}  {','.join(a.purposes)}")

    _run(show)


@agreements_app.command("add")
def agreements_add(reference: str, title: str = typer.Option(...), legal_basis: str = typer.Option(...),
                   party: list[str] = typer.Option(..., help="CODE, CODE:provides or CODE:receives (repeat)"),
                   category: list[str] = typer.Option(..., help="person, phone, handle, vehicle, location, occurrence"),
                   purpose: list[str] = typer.Option(..., help="e.g. investigation, victim_protection, prosecution"),
                   level: str = typer.Option(..., help="hit, summary or full"),
                   starts: str = typer.Option(None, help="YYYY-MM-DD (default today)"),
                   ends: str = typer.Option(None, help="YYYY-MM-DD"),
                   activate: bool = typer.Option(False, help="active at once (otherwise a draft)")) -> None:
    """Record a data-sharing agreement."""
    from pydantic import ValidationError

    from harbour.sharing import agreements
    from harbour.sharing.schemas import AgreementCreate

    parties = []
    for item in party:
        code, _, role = item.partition(":")
        parties.append({"agency": code, "provides": role in ("", "provides"), "receives": role in ("", "receives")})
    try:
        data = AgreementCreate(reference=reference, title=title, legal_basis=legal_basis, parties=parties,
                               categories=category, purposes=purpose, disclosure_level=level,
                               starts_on=starts or date.today().isoformat(), ends_on=ends, activate=activate)
    except ValidationError as exc:
        _invalid(exc)
    agreement = _run(lambda db: agreements.create_agreement(db, actor=CLI_ADMIN, data=data))
    typer.echo(f"agreement {agreement.id} ({agreement.reference}) recorded as {agreement.status}")


@agreements_app.command("status")
def agreements_status(agreement_id: int, status: str = typer.Argument(..., help="active, suspended or revoked"),
                      reason: str = typer.Option(None)) -> None:
    """Change an agreement's status (suspending or revoking cuts access at once)."""
    from pydantic import ValidationError

    from harbour.sharing import agreements
    from harbour.sharing.schemas import AgreementStatusBody

    try:
        data = AgreementStatusBody(status=status, reason=reason)
    except ValidationError as exc:
        _invalid(exc)
    agreement = _run(lambda db: agreements.set_status(db, actor=CLI_ADMIN, agreement_id=agreement_id, data=data))
    typer.echo(f"agreement {agreement.id} is {agreement.status}")


# -- linkage -------------------------------------------------------------------------------------------------
@app.command("relink")
def relink_cmd(threshold: float = typer.Option(0.95, min=0.5, max=0.9999)) -> None:
    """Link every agency's person records with the active model; deliver hits."""
    from harbour.sharing import linking

    typer.echo(_relinked(_run(lambda db: linking.relink(db, actor=CLI_ADMIN, threshold=threshold))))


@app.command("train-model")
def train_model_cmd(seed: int = typer.Option(42), activate: bool = typer.Option(True)) -> None:
    """Train a new linkage model on every agency's person records (unsupervised EM) and store it."""
    from harbour.sharing import linking

    row = _run(lambda db: linking.train_model(db, actor=CLI_ADMIN, seed=seed, activate=activate))
    typer.echo(f"model {row.version} trained on {row.trained_on} records" + (" (active)" if row.active else ""))


@app.command("models")
def models_cmd() -> None:
    """List stored linkage model versions."""
    from harbour.sharing import linking

    def show(db):
        for m in linking.list_models(db):
            typer.echo(f"{m.version:32} {m.trained_on:9} records  {m.created_at:%Y-%m-%d %H:%M}  "
                       f"{'active' if m.active else ''}")

    _run(show)


@app.command("activate-model")
def activate_model_cmd(version: str) -> None:
    """Make a stored model version the active one (used by the next relink)."""
    from harbour.sharing import linking

    _run(lambda db: linking.activate_model(db, actor=CLI_ADMIN, version=version))
    typer.echo(f"model {version} is active")
