"""Referral pages: refer from a case (console) and the provider portal.  Thin: parse, call the service, render."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import MultiDict

from harbour.core import flash, formats
from harbour.core.choices import HOTLINE_ROLES
from harbour.core.db import utcnow
from harbour.core.errors import HarbourError, ValidationFailed, friendly_message
from harbour.core.i18n import N_, gettext
from harbour.core.security import DbSession, Principal, WebUser, verify_csrf
from harbour.core.types import IdPath
from harbour.core.web import is_htmx, parse_form, redirect, render
from harbour.directory import referrals
from harbour.directory import service as directory
from harbour.directory.choices import DeclineReason, ReferralOutcome, ReferralStatus, ServiceStatus, SharedField
from harbour.directory.schemas import (
    DAYS,
    CapacityUpdate,
    ReferralComplete,
    ReferralCreate,
    ReferralDecline,
    ReferralRevoke,
    ServiceDetailsUpdate,
    WeeklyHours,
)
from harbour.hotline.choices import AgeBand, Gender, Need

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
DB = DbSession
Who = WebUser
ServiceIdPath = Annotated[str, Path(min_length=1, max_length=36)]
HOUR_ROWS = 3
DAY_LABELS = {"MO": N_("Mon"), "TU": N_("Tue"), "WE": N_("Wed"), "TH": N_("Thu"), "FR": N_("Fri"),
              "SA": N_("Sat"), "SU": N_("Sun")}
DEFAULT_SHARED = (SharedField.language.value, SharedField.needs.value)

REFERRAL_SENT = flash.message("referrals.sent", N_("Referral sent."))
REFERRALS_SENT = flash.message("referrals.sent_several", N_("Referrals sent."))
REFERRAL_REVOKED = flash.message("referrals.revoked", N_("Referral revoked."))
ANSWERED = {
    ReferralStatus.accepted.value: flash.message("referrals.accepted", N_("Referral accepted.")),
    ReferralStatus.declined.value: flash.message("referrals.declined", N_("Referral declined.")),
    ReferralStatus.completed.value: flash.message("referrals.completed", N_("Referral marked as completed.")),
}
CAPACITY_SAVED = flash.message("portal.capacity_saved", N_("Capacity saved."))
DETAILS_SAVED = flash.message("portal.details_saved", N_("Hours and contact details saved."))


# -- presentation helpers -------------------------------------------------------------
def _label(choice_cls, code) -> str:
    try:
        return choice_cls(code).label
    except ValueError:
        return str(code)


def shared_text(field: str, value) -> str:
    """One shared value as the reader sees it (codes become translated labels)."""
    if value in (None, "", []):
        return "—"
    if field == SharedField.language:
        return formats.language_name(value)
    if field == SharedField.needs:
        return ", ".join(_label(Need, v) for v in value)
    if field == SharedField.age_band:
        return _label(AgeBand, value)
    if field == SharedField.gender:
        return _label(Gender, value)
    return str(value)


def shared_rows(values: dict) -> list[tuple[str, str, str]]:
    return [(f.value, f.label, shared_text(f.value, values[f.value])) for f in SharedField if f.value in values]


def _labels() -> dict:
    return {"status": dict(ReferralStatus.options()), "decline": dict(DeclineReason.options()),
            "outcome": dict(ReferralOutcome.options())}


def _age(then: datetime | None, now: datetime) -> str:
    if then is None:
        return gettext(N_("never"))
    minutes = int((now - then).total_seconds() // 60)
    if minutes < 1:
        return gettext(N_("just now"))
    if minutes < 60:
        return gettext(N_("%(n)s min ago"), n=max(minutes, 0))
    if minutes < 48 * 60:
        return gettext(N_("%(n)s h ago"), n=minutes // 60)
    return gettext(N_("%(n)s days ago"), n=minutes // 1440)


# -- console: refer from a case ---------------------------------------------------------
def _form_page(request: Request, db: Session, who: Principal, case_id: int, service_ids: list[str], *,
               form: dict | None = None, errors: dict | None = None, form_error: str | None = None,
               status_code: int = 200):
    prepared = referrals.prepare_form(db, actor=who.actor, case_id=case_id, service_ids=service_ids,
                                      response_hours=request.app.state.settings.referral_response_hours)
    preview = [(f.value, f.label, shared_text(f.value, prepared.preview.get(f.value)))
               for f in SharedField if f != SharedField.callback_phone]
    if form is None:
        form = {"service_ids": [sid for sid, _svc, problem in prepared.services if problem is None],
                "shared_fields": list(DEFAULT_SHARED), "respond_within_hours": prepared.respond_within_hours}
    return render(request, "directory/refer_form.html", {
        "active": "cases", "case": prepared.case, "choices": prepared.services, "basis": prepared.basis,
        "preview": preview, "form": form, "errors": errors or {}, "form_error": form_error,
        "callback_label": SharedField.callback_phone.label}, status_code=status_code)


@router.get("/console/cases/{case_id}/referrals/new")
def refer_form(request: Request, who: Who, db: DB, case_id: IdPath):
    return _form_page(request, db, who, case_id, request.query_params.getlist("service_ids"))


@router.post("/console/cases/{case_id}/referrals/new")
async def refer_send(request: Request, who: Who, db: DB, case_id: IdPath):
    form = await request.form()
    optional = ("callback_phone", "message", "respond_within_hours")
    items = [(k, v) for k, v in form.multi_items()
             if k in ("service_ids", "shared_fields", *optional) and not (k in optional and not str(v).strip())]
    data, errors = parse_form(ReferralCreate, MultiDict([*items, ("case_id", str(case_id))]),
                              lists=("service_ids", "shared_fields"))
    status_code, message = 422, None
    if data is not None:
        try:
            sent = referrals.send_referrals(db, actor=who.actor, data=data,
                                            response_hours=request.app.state.settings.referral_response_hours)
            return redirect(f"/console/cases/{case_id}#referrals", request,
                            flash=REFERRALS_SENT if len(sent) > 1 else REFERRAL_SENT)
        except HarbourError as exc:
            if exc.status_code in (403, 404):
                raise
            status_code, message = exc.status_code, exc.text()
            errors = {k: gettext(v) for k, v in exc.fields.items()}
    kept = {"service_ids": form.getlist("service_ids"), "shared_fields": form.getlist("shared_fields"),
            "callback_phone": form.get("callback_phone") or "", "message": form.get("message") or "",
            "respond_within_hours": form.get("respond_within_hours") or ""}
    return _form_page(request, db, who, case_id, form.getlist("service_ids"), form=kept, errors=errors,
                      form_error=message or gettext(N_("Please correct the highlighted fields.")),
                      status_code=status_code)


@router.post("/console/referrals/{referral_id}/revoke")
async def revoke(request: Request, who: Who, db: DB, referral_id: IdPath):
    from harbour.hotline import service as hotline
    from harbour.hotline.views import _case_page

    form = await request.form()
    data, _errors = parse_form(ReferralRevoke, form)
    ref = referrals.get_for_hotline(db, actor=who.actor, referral_id=referral_id)
    case_id = ref.case_id
    try:
        if data is None:
            raise HarbourError(N_("Give a reason for revoking the referral."))
        referrals.revoke(db, actor=who.actor, referral_id=referral_id, data=data)
    except HarbourError as exc:
        if exc.status_code in (403, 404):
            raise
        case = hotline.get_case(db, actor=who.actor, case_id=case_id)
        return _case_page(request, who, db, case, status_code=exc.status_code if exc.status_code != 400 else 422,
                          form_error=exc.text())
    return redirect(f"/console/cases/{case_id}#referrals", request, flash=REFERRAL_REVOKED)


# -- provider portal: referrals ----------------------------------------------------------
@router.get("/portal")
def portal(request: Request, who: Who, db: DB, status: Annotated[str, Query(max_length=20)] = "",
           overdue: bool = False):
    org = referrals.my_organization(db, actor=who.actor)
    if status and status not in ReferralStatus.codes():  # "" is the filter form's "All"
        raise ValidationFailed(N_("Choose one of the listed options."), fields={"status": N_("Unknown status.")})
    rows = referrals.for_provider(db, actor=who.actor, status=status or None, overdue_only=overdue)
    return render(request, "directory/portal.html", {
        "active": "portal", "org": org, "rows": rows, "status": status, "overdue": overdue,
        "statuses": ReferralStatus.options(), "labels": _labels()})


def _referral_page(request: Request, db: Session, who: Principal, referral_id: int, *, status_code: int = 200,
                   form_error: str | None = None):
    ref = referrals.get_for_provider(db, actor=who.actor, referral_id=referral_id)
    return render(request, "directory/portal_referral.html", {
        "active": "portal", "r": ref, "shared": shared_rows(ref.shared), "labels": _labels(),
        "decline_reasons": DeclineReason.options(), "outcomes": ReferralOutcome.options(),
        "form_error": form_error}, status_code=status_code)


@router.get("/portal/referrals/{referral_id}")
def portal_referral(request: Request, who: Who, db: DB, referral_id: IdPath):
    return _referral_page(request, db, who, referral_id)


async def _answer(request: Request, who: Principal, db: Session, referral_id: int, model, action):
    form = await request.form()
    data, errors = (None, None)
    if model is not None:
        data, errors = parse_form(model, MultiDict([(k, v) for k, v in form.multi_items()
                                                    if k in model.model_fields and str(v).strip()]))
    if errors:
        return _referral_page(request, db, who, referral_id, status_code=422,
                              form_error=gettext(N_("Please correct the highlighted fields.")) + " " +
                              "; ".join(errors.values()))
    try:
        ref = action(data)
    except HarbourError as exc:
        if exc.status_code in (403, 404):
            raise
        return _referral_page(request, db, who, referral_id, status_code=exc.status_code, form_error=exc.text())
    done = ANSWERED.get(ref.status)
    if is_htmx(request):  # htmx swaps the referral panel in place (hx-select), and the status region (hx-select-oob)
        if done is not None:
            flash.now(request, done)
        return _referral_page(request, db, who, referral_id)
    return redirect(f"/portal/referrals/{referral_id}", request, flash=done)


@router.post("/portal/referrals/{referral_id}/accept")
async def portal_accept(request: Request, who: Who, db: DB, referral_id: IdPath):
    return await _answer(request, who, db, referral_id, None,
                         lambda _d: referrals.accept(db, actor=who.actor, referral_id=referral_id))


@router.post("/portal/referrals/{referral_id}/decline")
async def portal_decline(request: Request, who: Who, db: DB, referral_id: IdPath):
    return await _answer(request, who, db, referral_id, ReferralDecline,
                         lambda d: referrals.decline(db, actor=who.actor, referral_id=referral_id, data=d))


@router.post("/portal/referrals/{referral_id}/complete")
async def portal_complete(request: Request, who: Who, db: DB, referral_id: IdPath):
    return await _answer(request, who, db, referral_id, ReferralComplete,
                         lambda d: referrals.complete(db, actor=who.actor, referral_id=referral_id, data=d))


# -- provider portal: our services -------------------------------------------------------
def _capacity(svc, now: datetime) -> dict | None:
    cap = svc.capacities[0] if svc.capacities else None
    if cap is None:
        return None
    hours = (now - cap.updated).total_seconds() / 3600
    return {"available": int(cap.available), "maximum": int(cap.maximum) if cap.maximum is not None else None,
            "unit": cap.unit.name if cap.unit else "", "updated": cap.updated, "age": _age(cap.updated, now),
            "stale": hours > 48}


@router.get("/portal/services")
def portal_services(request: Request, who: Who, db: DB):
    org = referrals.my_organization(db, actor=who.actor)
    now = utcnow()
    rows = [{"svc": s, "capacity": _capacity(s, now), "open_24_7": referrals.is_open_24_7(db, s),
             "hours": referrals.weekly_hours(s), "updated_age": _age(s.updated_at, now)} for s in org.services]
    return render(request, "directory/portal_services.html", {
        "active": "portal_services", "org": org, "rows": rows, "day_labels": DAY_LABELS,
        "service_status": dict(ServiceStatus.options())})


def _service_page(request: Request, db: Session, who: Principal, service_id: str, *, status_code: int = 200,
                  form: dict | None = None, errors: dict | None = None, form_error: str | None = None):
    svc = referrals.my_service(db, actor=who.actor, service_id=service_id)
    now = utcnow()
    if form is None:
        hours = referrals.weekly_hours(svc)
        form = {"open_24_7": referrals.is_open_24_7(db, svc), "phone": svc.phones[0].number if svc.phones else "",
                "email": svc.email or "", "url": svc.url or "", "alert": svc.alert or "",
                "hours": [] if referrals.is_open_24_7(db, svc) else hours}
    rows = list(form.get("hours") or [])
    rows += [{"days": [], "opens_at": "", "closes_at": ""}] * max(HOUR_ROWS - len(rows), 1)
    return render(request, "directory/portal_service.html", {
        "active": "portal_services", "svc": svc, "capacity": _capacity(svc, now), "form": form, "hour_rows": rows,
        "days": [(d, gettext(DAY_LABELS[d])) for d in DAYS], "errors": errors or {}, "form_error": form_error},
        status_code=status_code)


@router.get("/portal/services/{service_id}")
def portal_service(request: Request, who: Who, db: DB, service_id: ServiceIdPath):
    return _service_page(request, db, who, service_id)


@router.post("/portal/services/{service_id}/capacity")
async def portal_capacity(request: Request, who: Who, db: DB, service_id: ServiceIdPath):
    referrals.my_service(db, actor=who.actor, service_id=service_id)  # 404 for another organisation's service
    form = await request.form()
    data, errors = parse_form(CapacityUpdate, MultiDict([(k, v) for k, v in form.multi_items()
                                                         if k in ("available", "maximum") and str(v).strip()]))
    message = None
    if data is not None:
        try:
            directory.update_capacity(db, actor=who.actor, service_id=service_id, data=data)
            return redirect(f"/portal/services/{service_id}", request, flash=CAPACITY_SAVED)
        except HarbourError as exc:
            if exc.status_code in (403, 404):
                raise
            message, errors = exc.text(), {k: gettext(v) for k, v in exc.fields.items()}
    return _service_page(request, db, who, service_id, status_code=422, errors={f"capacity_{k}": v for k, v in
                                                                               (errors or {}).items()},
                         form_error=message or gettext(N_("Please correct the highlighted fields.")))


def _hours_from(form) -> tuple[list[dict], list[WeeklyHours], str | None]:
    typed, parsed = [], []
    for i in range(HOUR_ROWS + 8):
        days = [d for d in form.getlist(f"h{i}_days") if d in DAYS]
        opens, closes = str(form.get(f"h{i}_opens") or "").strip(), str(form.get(f"h{i}_closes") or "").strip()
        if not days and not opens and not closes:
            continue
        typed.append({"days": days, "opens_at": opens, "closes_at": closes})
        try:
            parsed.append(WeeklyHours(days=days, opens_at=opens, closes_at=closes))
        except ValueError:
            return typed, parsed, gettext(N_("Each row of hours needs at least one day and times as HH:MM."))
    return typed, parsed, None


@router.post("/portal/services/{service_id}")
async def portal_service_update(request: Request, who: Who, db: DB, service_id: ServiceIdPath):
    referrals.my_service(db, actor=who.actor, service_id=service_id)  # 404 for another organisation's service
    form = await request.form()
    typed, hours, hours_error = _hours_from(form)
    open_24_7 = form.get("open_24_7") == "on"
    kept = {"open_24_7": open_24_7, "hours": typed,
            **{k: str(form.get(k) or "") for k in ("phone", "email", "url", "alert")}}
    errors: dict = {"hours": hours_error} if hours_error else {}
    message = None
    if not errors:
        values = {k: (v.strip() or None) for k, v in kept.items() if k in ("phone", "email", "url", "alert")}
        try:
            data = ServiceDetailsUpdate(open_24_7=open_24_7, hours=[] if open_24_7 else hours, **values)
        except ValidationError as exc:
            for err in exc.errors():
                errors.setdefault(str((err.get("loc") or ("form",))[0]), friendly_message(err))
            data = None
        if data is not None:
            try:
                directory.update_service_details(db, actor=who.actor, service_id=service_id, data=data)
                return redirect(f"/portal/services/{service_id}", request, flash=DETAILS_SAVED)
            except HarbourError as exc:
                if exc.status_code in (403, 404):
                    raise
                message = exc.text()
    return _service_page(request, db, who, service_id, status_code=422, form=kept, errors=errors,
                         form_error=message or gettext(N_("Please correct the highlighted fields.")))


def hotline_referral_context(db: Session, who: Principal, case_id: int) -> dict:
    """What the case page's Referrals section needs (called from hotline.views._case_page)."""
    if who.role not in HOTLINE_ROLES:
        return {}
    rows = referrals.for_case(db, actor=who.actor, case_id=case_id, audit_read=False)
    return {"referrals": rows, "referral_labels": _labels(), "referral_now": utcnow()}
