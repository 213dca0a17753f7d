"""Plan pages: the public transparency chart (/plan) and the console for the coordinator and departments.

Thin routes: parse, call :mod:`harbour.plan.service`, render.  Public pages show approved
information only (the service's ``chart`` never includes anything else unless asked).
"""

from __future__ import annotations

import io
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from harbour.core import flash
from harbour.core.errors import HarbourError, NotFound, friendly_message
from harbour.core.i18n import N_, current_language, gettext
from harbour.core.security import (
    DbSession,
    Principal,
    WebUser,
    optional_web_principal,
    verify_csrf,
)
from harbour.core.types import IdPath
from harbour.core.web import redirect, render
from harbour.plan import report as plan_report
from harbour.plan import reporting, service, wording
from harbour.plan.choices import (
    BADGE_CLASS,
    CODE_PATTERN,
    DEPARTMENT_PATTERN,
    FISCAL_YEAR_PATTERN,
    DeliverableStatus,
    Flag,
    ReviewDecision,
    ReviewState,
    StrategyKind,
)
from harbour.plan.schemas import ProgressCreate, ProgressUpdate, ReviewBody

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
DB = DbSession
Who = WebUser
FiscalYear = Annotated[str | None, Query(pattern=FISCAL_YEAR_PATTERN)]
StrategyCode = Annotated[str | None, Query(pattern=CODE_PATTERN)]
PillarCode = Annotated[str | None, Query(pattern=CODE_PATTERN)]
Dept = Annotated[str | None, Query(pattern=DEPARTMENT_PATTERN)]

UPDATE_SAVED = flash.message("plan.update_saved", N_("Update saved as a draft."))
UPDATE_SUBMITTED = flash.message("plan.update_submitted", N_("Update submitted for review."))
UPDATE_REVIEWED = {ReviewDecision.approve.value: flash.message("plan.update_approved",
                                                               N_("Update approved and published.")),
                   ReviewDecision.reject.value: flash.message("plan.update_returned",
                                                              N_("Update returned to the department."))}


def loc(obj, field: str) -> str:
    """The French text of ``field`` when the page is in French and it exists, else the English."""
    get = obj.get if isinstance(obj, dict) else (lambda k: getattr(obj, k, None))
    if current_language() == "fr" and get(field + "_fr"):
        return get(field + "_fr")
    return get(field + "_en") or ""


def _vocab(db: Session) -> dict:
    return {
        "loc": loc,
        "badge": BADGE_CLASS,
        "status_label": dict(DeliverableStatus.options()) | {None: gettext(N_("Not reported")),
                                                             reporting.NOT_REPORTED: gettext(N_("Not reported"))},
        "statuses": DeliverableStatus.options(),
        "state_label": dict(ReviewState.options()),
        "kind_label": dict(StrategyKind.options()),
        "flag_label": dict(Flag.options()),
        "decisions": ReviewDecision.options(),
        "departments": {d.code: d for d in service.list_departments(db)},
        "writing_options": lambda codes: [(c, c) for c in codes],
        "timeline_lines": wording.timeline_lines, "published_status": wording.published_status,
    }


def _page(request: Request, db: Session, name: str, status_code: int = 200, **ctx):
    return render(request, name, {**_vocab(db), **ctx}, status_code=status_code)


def _fiscal_years(strategy) -> list[str]:
    """The fiscal years a plan reports on, newest first: from its first year to the year it ended (or to the
    current year while it runs, or if it has no end), never a year after it ended nor one still to come."""
    first = int((strategy.start_fiscal_year or reporting.current_fiscal_year())[:4])
    last = int(reporting.current_fiscal_year()[:4])
    if strategy.end_fiscal_year:
        last = min(last, int(strategy.end_fiscal_year[:4]))
    return [f"{y}-{y + 1}" for y in range(last, first - 1, -1)]


# -- public transparency pages ----------------------------------------------------------
@router.get("/plan")
def public_index(request: Request, db: DB):
    items = [(s, service.status_summary(db, s.code)) for s in service.list_strategies(db)]
    return _page(request, db, "plan/public_index.html", active="plan", items=items)


@router.get("/plan/{code}")
def public_chart(request: Request, db: DB, code: str, fiscal_year: FiscalYear = None, pillar: PillarCode = None,
                 department: Dept = None, status: DeliverableStatus | None = None):
    strategy = service.get_strategy(db, code)
    if not strategy.published:
        raise NotFound()
    grouped = service.chart(db, code, fiscal_year, pillar=pillar, department=department,
                            status=status.value if status else None)
    summary = service.status_summary(db, code, fiscal_year)
    query = urlencode({k: v for k, v in {"fiscal_year": fiscal_year, "pillar": pillar, "department": department,
                                         "status": status.value if status else None}.items() if v})
    all_pillars = service.chart(db, code, fiscal_year)["pillars"]
    return _page(request, db, "plan/public_chart.html", active="plan", strategy=strategy, chart=grouped,
                 summary=summary, fiscal_years=_fiscal_years(strategy), pillars=all_pillars,
                 filters={"fiscal_year": fiscal_year, "pillar": pillar, "department": department,
                          "status": status.value if status else None}, query=query)


@router.get("/plan/{code}/chart.csv")
def public_csv(db: DB, code: str, fiscal_year: FiscalYear = None):
    strategy = service.get_strategy(db, code)
    if not strategy.published:
        raise NotFound()
    buf = io.StringIO()
    reporting.write_csv(service.chart(db, code, fiscal_year), buf)
    name = f"{strategy.code}-{fiscal_year or 'current'}.csv"
    return Response(buf.getvalue().encode("utf-8-sig"), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


# -- console ---------------------------------------------------------------------------------------
@router.get("/console/plan")
def console_home(request: Request, who: Who, db: DB):
    mine = service.console_departments(db, actor=who.actor)
    strategies = service.list_strategies(db, published_only=False)
    overseer = service.is_overseer(db, who.actor)
    queue = service.review_queue(db, actor=who.actor) if overseer else []
    flag_counts = {s.code: len(service.flags(db, actor=who.actor, strategy_code=s.code)) for s in strategies}
    deliverables = service.my_deliverables(db, actor=who.actor)
    entries, _total = service.list_progress(db, actor=who.actor, limit=50) if mine else ([], 0)
    entries = [e for e in entries if e.department_code in mine]
    return _page(request, db, "plan/console_home.html", active="plan", mine=sorted(mine), strategies=strategies,
                 queue=queue, overseer=overseer, flag_counts=flag_counts, deliverables=deliverables, entries=entries,
                 fiscal_year=reporting.current_fiscal_year())


@router.get("/console/plan/review")
def review_queue(request: Request, who: Who, db: DB):
    queue = service.review_queue(db, actor=who.actor)
    return _page(request, db, "plan/review_queue.html", active="plan", queue=queue, overseer=True)


@router.get("/console/plan/flags")
def flags(request: Request, who: Who, db: DB, strategy: StrategyCode = None, fiscal_year: FiscalYear = None,
          department: Dept = None):
    service.console_departments(db, actor=who.actor)
    strategies = service.list_strategies(db, published_only=False)
    code = strategy or (strategies[0].code if strategies else None)
    rows = service.flags(db, actor=who.actor, strategy_code=code, fiscal_year=fiscal_year, department=department) \
        if code else []
    return _page(request, db, "plan/flags.html", active="plan", rows=rows, strategies=strategies, code=code,
                 overseer=service.is_overseer(db, who.actor),
                 fiscal_year=fiscal_year or reporting.current_fiscal_year(), department=department)


def _deliverable_page(request: Request, db: Session, who: Principal, deliverable_id: int, status_code: int = 200,
                      **extra):
    mine = service.departments_of(db, who.user.id)
    d = service.get_deliverable(db, deliverable_id)
    entries, _total = service.list_progress(db, actor=who.actor, deliverable_id=d.id, limit=200)
    can_write = bool(mine & d.departments)
    writing_for = [c for c in d.lead_departments + d.partner_departments if c in mine]
    form = extra.pop("form", None) or {"fiscal_year": reporting.current_fiscal_year(), "department": (writing_for or [""])[0]}
    return _page(request, db, "plan/deliverable.html", status_code=status_code, active="plan", d=d,
                 overseer=service.is_overseer(db, who.actor),
                 where=service.deliverable_context(db, d), entries=entries, can_write=can_write,
                 writing_for=writing_for, form=form, **extra)


@router.get("/console/plan/deliverables/{deliverable_id}")
def deliverable(request: Request, who: Who, db: DB, deliverable_id: IdPath):
    service.console_departments(db, actor=who.actor)
    return _deliverable_page(request, db, who, deliverable_id)


def _progress_data(form) -> dict:
    data = {k: form.get(k) for k in ("fiscal_year", "entry_date", "narrative_en", "narrative_fr", "proposed_status",
                                     "department") if k in form}
    links = str(form.get("evidence_links") or "")
    data["evidence_links"] = [line.strip() for line in links.splitlines() if line.strip()]
    return data


def _errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in exc.errors():
        if not err.get("loc"):  # the one whole-form rule: some text, in either language
            errors.setdefault("narrative_en", gettext(N_("Write the update in English or French.")))
            continue
        errors.setdefault(str(err["loc"][0]), friendly_message(err))
    return errors


@router.post("/console/plan/deliverables/{deliverable_id}/progress")
async def create_progress(request: Request, who: Who, db: DB, deliverable_id: IdPath):
    service.console_departments(db, actor=who.actor)
    form = await request.form()
    data = _progress_data(form)
    data["submit"] = form.get("action") == "submit"
    try:
        body = ProgressCreate.model_validate(data)
        entry = service.create_progress(db, actor=who.actor, deliverable_id=deliverable_id, data=body)
        return redirect(f"/console/plan/progress/{entry.id}", request,
                        flash=UPDATE_SUBMITTED if data["submit"] else UPDATE_SAVED)
    except ValidationError as exc:
        errors = _errors(exc)
    except HarbourError as exc:
        if exc.status_code in (403, 404):
            raise
        errors = {"form": exc.text(), **{k: gettext(v) for k, v in exc.fields.items()}}
    return _deliverable_page(request, db, who, deliverable_id, status_code=422, form={**data, "evidence_links": str(
        form.get("evidence_links") or "")}, errors=errors,
        form_error=errors.get("form") or gettext(N_("Please correct the highlighted fields.")))


def _progress_page(request: Request, db: Session, who: Principal, entry_id: int, status_code: int = 200, **extra):
    entry = service.get_progress(db, actor=who.actor, entry_id=entry_id)
    d = entry.deliverable
    can_review = service.may_review(db, who.actor, entry)
    can_edit = service.may_edit(db, who.actor, entry)
    form = extra.pop("form", None) or {
        "fiscal_year": entry.fiscal_year, "entry_date": entry.entry_date.isoformat(),
        "narrative_en": entry.narrative_en, "narrative_fr": entry.narrative_fr,
        "evidence_links": "\n".join(entry.evidence_links), "proposed_status": entry.proposed_status}
    return _page(request, db, "plan/progress.html", status_code=status_code, active="plan", e=entry, d=d,
                 overseer=service.is_overseer(db, who.actor),
                 where=service.deliverable_context(db, d), can_review=can_review, can_edit=can_edit, form=form,
                 **extra)


@router.get("/console/plan/progress/{entry_id}")
def progress(request: Request, who: Who, db: DB, entry_id: IdPath):
    return _progress_page(request, db, who, entry_id)


@router.post("/console/plan/progress/{entry_id}")
async def edit_progress(request: Request, who: Who, db: DB, entry_id: IdPath):
    form = await request.form()
    data = _progress_data(form)
    data.pop("department", None)
    try:
        body = ProgressUpdate.model_validate(data)
        service.update_progress(db, actor=who.actor, entry_id=entry_id, data=body)
        submitting = form.get("action") == "submit"
        if submitting:
            service.submit_progress(db, actor=who.actor, entry_id=entry_id)
        return redirect(f"/console/plan/progress/{entry_id}", request,
                        flash=UPDATE_SUBMITTED if submitting else UPDATE_SAVED)
    except ValidationError as exc:
        errors = _errors(exc)
    except HarbourError as exc:
        if exc.status_code in (403, 404):
            raise
        errors = {"form": exc.text(), **{k: gettext(v) for k, v in exc.fields.items()}}
    return _progress_page(request, db, who, entry_id, status_code=422,
                          form={**data, "evidence_links": str(form.get("evidence_links") or "")}, errors=errors,
                          form_error=errors.get("form") or gettext(N_("Please correct the highlighted fields.")))


@router.post("/console/plan/progress/{entry_id}/review")
async def review(request: Request, who: Who, db: DB, entry_id: IdPath):
    form = await request.form()
    try:
        body = ReviewBody.model_validate({"decision": form.get("decision"), "note": form.get("note")})
        service.review_progress(db, actor=who.actor, entry_id=entry_id, data=body)
        return redirect("/console/plan/review", request, flash=UPDATE_REVIEWED[body.decision.value])
    except ValidationError as exc:
        errors = _errors(exc)
    except HarbourError as exc:
        if exc.status_code in (403, 404):
            raise
        errors = {"form": exc.text(), **{k: gettext(v) for k, v in exc.fields.items()}}
    return _progress_page(request, db, who, entry_id, status_code=422, review_errors=errors,
                          review_form={"decision": form.get("decision"), "note": form.get("note")},
                          form_error=errors.get("form") or gettext(N_("Please correct the highlighted fields.")))


# -- the Annual Report on Progress (public for published plans; approved information only) -------------
MaybeWho = Annotated[Principal | None, Depends(optional_web_principal)]
ReportYear = Annotated[str, PathParam(pattern=FISCAL_YEAR_PATTERN)]


def _report_data(db: Session, who: Principal | None, code: str, fiscal_year: str) -> plan_report.ReportData:
    """The report's data; unpublished plans only for the coordinator and administrators, years the plan covers."""
    strategy = service.get_strategy(db, code)
    if not strategy.published and not (who is not None and service.is_overseer(db, who.actor)):
        raise NotFound()
    fiscal_year = reporting.fiscal_year_or_422(fiscal_year)
    if fiscal_year not in _fiscal_years(strategy):
        raise NotFound(N_("There is no report for that fiscal year."))
    return plan_report.collect(db, strategy.code, fiscal_year)


@router.get("/plan/static/report.css")
def report_css():
    return Response(plan_report.render_css(), media_type="text/css; charset=utf-8")


@router.get("/plan/{code}/report/{fiscal_year}.pdf")
def report_pdf(db: DB, who: MaybeWho, code: str, fiscal_year: ReportYear):
    data = _report_data(db, who, code, fiscal_year)
    lang = current_language()
    pdf = plan_report.web_pdf(db, data, lang)
    name = plan_report.file_stem(data.strategy["code"], data.fiscal_year, lang) + ".pdf"
    return Response(pdf, media_type="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/plan/{code}/report/{fiscal_year}")
def report_page(request: Request, db: DB, who: MaybeWho, code: str, fiscal_year: ReportYear):
    data = _report_data(db, who, code, fiscal_year)
    lang = current_language()
    figs = plan_report.web_figures(db, data, lang)
    return render(request, "plan/report_page.html", plan_report.context(data, lang, figs, web=True))
