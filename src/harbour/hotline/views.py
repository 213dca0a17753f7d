"""Operator console (server-rendered, htmx): thin routes that parse, call the service, render."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy.orm import Session

from harbour.core import flash, formats, timezones
from harbour.core.choices import Province
from harbour.core.errors import HarbourError
from harbour.core.i18n import N_, gettext
from harbour.core.security import DbSession, Principal, WebUser, verify_csrf
from harbour.core.types import IdPath
from harbour.core.web import is_htmx, parse_form, redirect, render, request_zone
from harbour.directory import referrals
from harbour.directory.views_referrals import hotline_referral_context
from harbour.hotline import consent, service
from harbour.hotline.choices import (
    LANGUAGE_NAMES,
    AccessPurpose,
    AgeBand,
    CallerType,
    CaseOutcome,
    CaseStatus,
    Channel,
    Citizenship,
    Classification,
    ConsentMethod,
    ConsentPurpose,
    ControlMeans,
    Exploitation,
    Gender,
    Indicator,
    Need,
    Recruitment,
    RiskLevel,
    TaskKind,
    YesNoUnknown,
)
from harbour.hotline.models import Case
from harbour.hotline.present import describe_event, victims_summary
from harbour.hotline.schemas import (
    CaseCreate,
    CaseUpdate,
    ConsentCreate,
    ConsentRevoke,
    ContactCreate,
    ContactUpdate,
    EscalationCreate,
    OverrideDecision,
    OverrideRequest,
    SafetyPlanUpdate,
    TaskCreate,
    TaskUpdate,
)

router = APIRouter(prefix="/console", dependencies=[Depends(verify_csrf)], include_in_schema=False)
DB = DbSession
Who = WebUser
PAGE = 50

CASE_LISTS = ("exploitation_types", "indicators", "recruitment", "control_means", "needs")

# What the next page confirms after each action (core.flash): plain words, never what was typed.
CONTACT_SAVED = flash.message("hotline.contact_saved", N_("Contact saved."))
CONTACT_UPDATED = flash.message("hotline.contact_updated", N_("Contact updated."))
CONTACT_ATTACHED = flash.message("hotline.contact_attached", N_("Contact added to the case."))
CASE_OPENED = flash.message("hotline.case_opened", N_("Case opened."))
CASE_SAVED = flash.message("hotline.case_saved", N_("Case saved."))
CONSENT_RECORDED = flash.message("hotline.consent_recorded", N_("Consent recorded."))
CONSENT_REVOKED = flash.message("hotline.consent_revoked", N_("Consent revoked."))
OVERRIDE_REQUESTED = flash.message("hotline.override_requested",
                                   N_("Override requested: a supervisor must sign it off."))
OVERRIDE_APPROVED = flash.message("hotline.override_approved", N_("Override signed off."))
OVERRIDE_REFUSED = flash.message("hotline.override_refused", N_("Override refused."))
TASK_ADDED = flash.message("hotline.task_added", N_("Task added."))
TASK_DONE = flash.message("hotline.task_done", N_("Task marked as done."))
SAFETY_PLAN_SAVED = flash.message("hotline.safety_plan_saved", N_("Safety plan saved."))
ESCALATION_RECORDED = flash.message("hotline.escalation_recorded", N_("Transfer to 9-1-1 recorded."))


def _vocab() -> dict:
    return {
        "channels": Channel.options(), "classifications": Classification.options(),
        "caller_types": CallerType.options(), "provinces": Province.options(),
        "languages": sorted(((c, gettext(n)) for c, n in LANGUAGE_NAMES.items()), key=lambda t: t[1]),
        "risk_levels": RiskLevel.options(), "age_bands": AgeBand.options(), "genders": Gender.options(),
        "citizenships": Citizenship.options(), "exploitations": Exploitation.options(),
        "indicator_options": Indicator.options(), "recruitments": Recruitment.options(),
        "control_options": ControlMeans.options(), "need_options": Need.options(),
        "statuses": CaseStatus.options(), "outcomes": CaseOutcome.options(),
        "consent_purposes": ConsentPurpose.options(), "consent_methods": ConsentMethod.options(),
        "task_kinds": TaskKind.options(), "yes_no": YesNoUnknown.options(), "purposes": AccessPurpose.options(),
        "labels": {
            "channel": dict(Channel.options()), "classification": dict(Classification.options()),
            "caller_type": dict(CallerType.options()), "province": dict(Province.options()),
            "risk": dict(RiskLevel.options()), "status": dict(CaseStatus.options()),
            "outcome": dict(CaseOutcome.options()), "age_band": dict(AgeBand.options()),
            "gender": dict(Gender.options()), "citizenship": dict(Citizenship.options()),
            "exploitation": dict(Exploitation.options()), "indicator": dict(Indicator.options()),
            "recruitment": dict(Recruitment.options()), "control": dict(ControlMeans.options()),
            "need": dict(Need.options()), "purpose": dict(ConsentPurpose.options()),
            "method": dict(ConsentMethod.options()), "task_kind": dict(TaskKind.options()),
            "yes_no": dict(YesNoUnknown.options()),
        },
    }


def _page(request: Request, name: str, status_code: int = 200, **ctx):
    return render(request, name, {**_vocab(), **ctx}, status_code=status_code)


# -- contacts ---------------------------------------------------------------
@router.get("/contacts/new")
def new_contact(request: Request, who: Who, db: DB, case_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None):
    service.require_staff(who.actor)
    form = {"channel": "phone", "case_id": case_id}
    if case_id is not None:  # a contact added to a case starts from the case's place and classification
        case = service.get_case(db, actor=who.actor, case_id=case_id)
        form.update(service.contact_defaults_for(case))
    return _page(request, "hotline/contact_form.html", active="new_contact", form=form,
                 staff=service.hotline_staff(db))


@router.post("/contacts")
async def create_contact(request: Request, who: Who, db: DB):
    form = await request.form()
    data, errors = parse_form(ContactCreate, form, datetimes=("received_at",), checkboxes=("anonymous",),
                              tz=request_zone(request))
    if data is not None:
        try:
            contact, matches = service.create_contact(db, actor=who.actor, data=data)
        except HarbourError as exc:
            errors = {"form": exc.text(), **{k: gettext(v) for k, v in exc.fields.items()}}
    if errors:
        return _page(request, "hotline/contact_form.html", status_code=422, active="new_contact", form=dict(form),
                     errors=errors, form_error=errors.get("form") or gettext(N_("Please correct the highlighted fields.")))
    if form.get("then") == "case" and contact.case_id is None:
        return redirect(f"/console/cases/new?contact_id={contact.id}", request, flash=CONTACT_SAVED)
    return redirect(f"/console/contacts/{contact.id}" + ("?repeat=1" if matches else ""), request, flash=CONTACT_SAVED)


@router.post("/contacts/repeat-check")
async def repeat_check(request: Request, who: Who, db: DB):
    """htmx: as the advocate types a number, offer earlier contacts from it (blind index)."""
    form = await request.form()
    phone = str(form.get("caller_phone") or "")[:40]
    matches = service.find_repeat_caller(db, actor=who.actor, phone=phone) if len(phone) >= 7 else []
    return render(request, "hotline/_repeat.html", {"matches": matches})


@router.get("/contacts")
def contacts(request: Request, who: Who, db: DB, classification: Classification | None = None,
             channel: Channel | None = None, unattached: bool = False,
             offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0):
    rows, total = service.list_contacts(db, actor=who.actor, classification=classification, channel=channel,
                                        unattached=unattached, limit=PAGE, offset=offset)
    query = urlencode({k: v for k, v in {"classification": classification, "channel": channel,
                                         "unattached": "true" if unattached else None}.items() if v})
    template = "hotline/_contact_rows.html" if is_htmx(request) and request.headers.get("hx-target") == "rows" \
        else "hotline/contact_list.html"
    return _page(request, template, active="contacts", rows=rows, total=total, offset=offset, limit=PAGE,
                 base_query=query + "&" if query else "",
                 filters={"classification": classification, "channel": channel, "unattached": unattached})


@router.get("/contacts/{contact_id}")
def contact_detail(request: Request, who: Who, db: DB, contact_id: IdPath, purpose: AccessPurpose | None = None,
                   repeat: bool = False):
    contact = service.get_contact(db, actor=who.actor, contact_id=contact_id, purpose=purpose)
    matches = service.contact_repeat_matches(db, actor=who.actor, contact=contact) if repeat else []
    return _page(request, "hotline/contact_detail.html", active="contacts", c=contact, matches=matches)


@router.get("/contacts/{contact_id}/edit")
def edit_contact(request: Request, who: Who, db: DB, contact_id: IdPath):
    contact = service.get_contact(db, actor=who.actor, contact_id=contact_id)
    form = {k: getattr(contact, k) for k in ContactUpdate.model_fields}
    form["received_at"] = timezones.for_input(contact.received_at, request_zone(request))
    form["duration_seconds"] = contact.duration_seconds
    return _page(request, "hotline/contact_form.html", active="contacts", form=form, contact=contact)


@router.post("/contacts/{contact_id}")
async def update_contact(request: Request, who: Who, db: DB, contact_id: IdPath):
    form = await request.form()
    data, errors = parse_form(ContactUpdate, form, datetimes=("received_at",), checkboxes=("anonymous",),
                              tz=request_zone(request))
    if data is not None:
        try:
            service.update_contact(db, actor=who.actor, contact_id=contact_id, data=data)
            return redirect(f"/console/contacts/{contact_id}", request, flash=CONTACT_UPDATED)
        except HarbourError as exc:
            if exc.status_code == 404:
                raise
            errors = {"form": exc.text()}
    contact = service.get_contact(db, actor=who.actor, contact_id=contact_id)
    return _page(request, "hotline/contact_form.html", status_code=422, active="contacts", form=dict(form),
                 contact=contact, errors=errors, form_error=errors.get("form") or gettext(N_("Please correct the highlighted fields.")))


@router.post("/contacts/{contact_id}/attach")
async def attach_contact(request: Request, who: Who, db: DB, contact_id: IdPath):
    form = await request.form()
    case = service.case_by_reference(db, actor=who.actor, reference=str(form.get("case_reference") or ""))
    if case is None:
        contact = service.get_contact(db, actor=who.actor, contact_id=contact_id)
        return _page(request, "hotline/contact_detail.html", status_code=422, active="contacts", c=contact,
                     matches=[], form_error=gettext(N_("No case has that reference.")))
    service.attach_contact(db, actor=who.actor, contact_id=contact_id, case_id=case.id)
    return redirect(f"/console/cases/{case.id}", request, flash=CONTACT_ATTACHED)


# -- cases --------------------------------------------------------------------
@router.get("/cases")
def cases(request: Request, who: Who, db: DB, status: CaseStatus | None = None, risk_level: RiskLevel | None = None,
          province: Province | None = None, assigned: str | None = None,
          reference: Annotated[str | None, Query(max_length=20)] = None,
          offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0):
    filters = service.CaseFilters(status=status, risk_level=risk_level, province=province,
                                  assigned_to_id=who.user.id if assigned == "me" else None,
                                  unassigned=assigned == "none", reference=reference or None)
    rows, total = service.list_cases(db, actor=who.actor, filters=filters, limit=PAGE, offset=offset)
    query = urlencode({k: v for k, v in {"status": status, "risk_level": risk_level, "province": province,
                                         "assigned": assigned, "reference": reference}.items() if v})
    return _page(request, "hotline/case_list.html", active="cases", rows=rows, total=total, offset=offset,
                 limit=PAGE, base_query=query + "&" if query else "",
                 filters={"status": status, "risk_level": risk_level, "province": province, "assigned": assigned,
                          "reference": reference or ""})


@router.get("/cases/new")
def new_case(request: Request, who: Who, db: DB, contact_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None):
    contact = service.get_contact(db, actor=who.actor, contact_id=contact_id, purpose="case_management") \
        if contact_id else None
    form = {"province": contact.province if contact else None, "city": contact.city if contact else None,
            "contact_ids": [contact.id] if contact else []}
    if contact and contact.classification == Classification.crisis:
        form["risk_level"] = RiskLevel.high.value
    return _page(request, "hotline/case_form.html", active="cases", form=form, contact=contact,
                 staff=service.hotline_staff(db))


@router.post("/cases")
async def create_case(request: Request, who: Who, db: DB):
    form = await request.form()
    data, errors = parse_form(CaseCreate, form, lists=CASE_LISTS + ("contact_ids",))
    if data is not None:
        try:
            case = service.open_case(db, actor=who.actor, data=data)
            return redirect(f"/console/cases/{case.id}", request, flash=CASE_OPENED)
        except HarbourError as exc:
            errors = {"form": exc.text(), **{k: gettext(v) for k, v in exc.fields.items()}}
    return _page(request, "hotline/case_form.html", status_code=422, active="cases", form=_formdict(form),
                 staff=service.hotline_staff(db), errors=errors,
                 form_error=errors.get("form") or gettext(N_("Please correct the highlighted fields.")))


def _formdict(form) -> dict:
    out = dict(form)
    for name in CASE_LISTS + ("contact_ids",):
        out[name] = form.getlist(name)
    return out


def _case_page(request: Request, who: Principal, db: Session, case: Case, status_code: int = 200, **extra):
    now = service.utcnow()
    viewers = service.case_viewers(db, actor=who.actor, case_id=case.id)[:50] \
        if service.may_see_viewers(who.actor) else None
    overrides = [(o, consent.may_decide(who.actor, o)) for o in consent.pending_overrides(db) if o.case_id == case.id]
    tz = request_zone(request)
    titles = {t.id: t.title for t in case.tasks}  # the case's own tasks: read (and audited) with the case
    events = [(ev, describe_event(ev, tz, titles)) for ev in case.events]
    return _page(request, "hotline/case_detail.html", status_code=status_code, active="cases", case=case, now=now,
                 victims=victims_summary(case),
                 consent_rows=consent.consent_summary(db, case=case), overrides=overrides, events=events,
                 viewers=viewers, staff=service.hotline_staff(db), tomorrow=timezones.for_input(now + timedelta(days=1), tz),
                 **hotline_referral_context(db, who, case.id), **extra)


@router.get("/cases/{case_id}")
def case_detail(request: Request, who: Who, db: DB, case_id: IdPath, purpose: AccessPurpose | None = None):
    case = service.get_case(db, actor=who.actor, case_id=case_id, purpose=purpose)
    return _case_page(request, who, db, case)


@router.get("/cases/{case_id}/edit")
def edit_case(request: Request, who: Who, db: DB, case_id: IdPath):
    case = service.get_case(db, actor=who.actor, case_id=case_id)
    form = {k: getattr(case, k) for k in CaseUpdate.model_fields if hasattr(case, k)}
    return _page(request, "hotline/case_form.html", active="cases", form=form, case=case, staff=service.hotline_staff(db))


@router.post("/cases/{case_id}")
async def update_case(request: Request, who: Who, db: DB, case_id: IdPath):
    form = await request.form()
    data, errors = parse_form(CaseUpdate, form, lists=CASE_LISTS)
    if data is not None:
        try:
            service.update_case(db, actor=who.actor, case_id=case_id, data=data)
            return redirect(f"/console/cases/{case_id}", request, flash=CASE_SAVED)
        except HarbourError as exc:
            if exc.status_code == 404:
                raise
            errors = {"form": exc.text(), **{k: gettext(v) for k, v in exc.fields.items()}}
    case = service.get_case(db, actor=who.actor, case_id=case_id)
    return _page(request, "hotline/case_form.html", status_code=422, active="cases", form=_formdict(form), case=case,
                 staff=service.hotline_staff(db), errors=errors,
                 form_error=errors.get("form") or gettext(N_("Please correct the highlighted fields.")))


async def _case_action(request: Request, who: Principal, db: Session, case_id: int, model, action, *,
                       done: flash.Message, datetimes=(), anchor: str = ""):
    """Run one case-page form: parse into `model`, call `action(data)`, redirect back saying `done`, or re-render
    with the error."""
    form = await request.form()
    data, errors = parse_form(model, form, datetimes=datetimes, tz=request_zone(request))
    status_code = 422
    if data is not None:
        try:
            action(data)
            return redirect(f"/console/cases/{case_id}{anchor}", request, flash=done)
        except HarbourError as exc:
            if exc.status_code in (403, 404):
                raise
            message, status_code = exc.text(), exc.status_code
    else:
        message = gettext(N_("Please correct the highlighted fields.")) + " " + (formats.punct(";") + " ").join(
            formats.labelled(k, v) for k, v in errors.items())
    case = service.get_case(db, actor=who.actor, case_id=case_id)
    return _case_page(request, who, db, case, status_code=status_code, form_error=message)


@router.post("/cases/{case_id}/consents")
async def record_consent(request: Request, who: Who, db: DB, case_id: IdPath):
    return await _case_action(request, who, db, case_id, ConsentCreate,
                              lambda d: consent.record_consent(db, actor=who.actor, case_id=case_id, data=d),
                              done=CONSENT_RECORDED, datetimes=("given_at", "expires_at"), anchor="#consent")


@router.post("/consents/{consent_id}/revoke")
async def revoke_consent(request: Request, who: Who, db: DB, consent_id: IdPath):
    form = await request.form()
    data, _errors = parse_form(ConsentRevoke, form)
    c = consent.revoke_consent(db, actor=who.actor, consent_id=consent_id,
                               data=data or ConsentRevoke(reason=gettext(N_("Revoked by the survivor"))))
    return redirect(f"/console/cases/{c.case_id}#consent", request, flash=CONSENT_REVOKED)


@router.post("/cases/{case_id}/overrides")
async def request_override(request: Request, who: Who, db: DB, case_id: IdPath):
    return await _case_action(request, who, db, case_id, OverrideRequest,
                              lambda d: consent.request_override(db, actor=who.actor, case_id=case_id, data=d),
                              done=OVERRIDE_REQUESTED, anchor="#consent")


@router.post("/overrides/{override_id}/decision")
async def decide_override(request: Request, who: Who, db: DB, override_id: IdPath):
    form = await request.form()
    data = OverrideDecision(approve=form.get("approve") == "yes", hours=24)
    ov = consent.decide_override(db, actor=who.actor, override_id=override_id, data=data)
    return redirect(f"/console/cases/{ov.case_id}#consent", request,
                    flash=OVERRIDE_APPROVED if data.approve else OVERRIDE_REFUSED)


@router.post("/cases/{case_id}/tasks")
async def add_task(request: Request, who: Who, db: DB, case_id: IdPath):
    return await _case_action(request, who, db, case_id, TaskCreate,
                              lambda d: service.add_task(db, actor=who.actor, case_id=case_id, data=d),
                              done=TASK_ADDED, datetimes=("due_at",), anchor="#tasks")


@router.post("/tasks/{task_id}/done")
def task_done(request: Request, who: Who, db: DB, task_id: IdPath):
    task = service.update_task(db, actor=who.actor, task_id=task_id, data=TaskUpdate(done=True))
    if is_htmx(request):
        return render(request, "hotline/_task_row.html", {"t": task, "now": service.utcnow()})
    return redirect(f"/console/cases/{task.case_id}#tasks", request, flash=TASK_DONE)


@router.post("/cases/{case_id}/safety-plan")
async def safety_plan(request: Request, who: Who, db: DB, case_id: IdPath):
    return await _case_action(request, who, db, case_id, SafetyPlanUpdate,
                              lambda d: service.update_safety_plan(db, actor=who.actor, case_id=case_id, data=d),
                              done=SAFETY_PLAN_SAVED, anchor="#safety")


@router.post("/cases/{case_id}/escalations")
async def escalate(request: Request, who: Who, db: DB, case_id: IdPath):
    return await _case_action(request, who, db, case_id, EscalationCreate,
                              lambda d: service.escalate_911(db, actor=who.actor, case_id=case_id, data=d),
                              done=ESCALATION_RECORDED, anchor="#safety")


# -- work queues ----------------------------------------------------------------
@router.get("/tasks")
def my_tasks(request: Request, who: Who, db: DB, everyone: bool = False):
    tasks = service.list_tasks(db, actor=who.actor, mine=not everyone)
    return _page(request, "hotline/task_list.html", active="tasks", tasks=tasks, now=service.utcnow(),
                 everyone=everyone)


@router.get("/dashboard")
def dashboard(request: Request, who: Who, db: DB):
    board = service.supervisor_dashboard(db, actor=who.actor)
    overdue_referrals = referrals.overdue(db)
    return _page(request, "hotline/dashboard.html", active="dashboard", board=board, now=service.utcnow(),
                 overdue_referrals=overdue_referrals,
                 referral_cases=referrals.case_references(db, (r.case_id for r in overdue_referrals)))


