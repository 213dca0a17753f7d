"""Console pages for the directory: search (live with htmx), service and provider pages, vetting."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import ValidationError

from harbour.core import flash
from harbour.core.choices import Province
from harbour.core.db import utcnow
from harbour.core.errors import HarbourError, friendly_message
from harbour.core.i18n import N_, gettext
from harbour.core.security import DbSession, WebUser, verify_csrf
from harbour.core.web import is_htmx, redirect, render, request_zone
from harbour.directory import curation, detail, search
from harbour.directory import service as directory
from harbour.directory.choices import (
    NEED_TO_SERVICE,
    EligibleGender,
    EligibleStatus,
    ServiceType,
    SurvivorType,
    VettingStatus,
)
from harbour.directory.schemas import VettingUpdate
from harbour.hotline import service as hotline
from harbour.hotline.choices import LANGUAGE_NAMES, AccessPurpose

router = APIRouter(prefix="/console/directory", dependencies=[Depends(verify_csrf)], include_in_schema=False)
DB = DbSession
Who = WebUser
HsdsId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9._:-]+$")]
CaseId = Annotated[int | None, Query(ge=1, le=2_147_483_647)]

TEXT_FIELDS = ("place", "province", "radius_km", "language", "age", "gender", "status", "survivor_type",
               "latitude", "longitude")
FLAGS = ("open_now", "after_hours", "indigenous_led")
RADII = (10, 25, 50, 100, 250, 500, 1000)
VETTING_SAVED = flash.message("directory.vetting_saved", N_("Vetting saved."))


def _vocab() -> dict:
    today = utcnow().date()
    return {
        "need_options": ServiceType.options(), "provinces": Province.options(),
        "languages": sorted(((c, gettext(n)) for c, n in LANGUAGE_NAMES.items()), key=lambda t: t[1]),
        "genders": EligibleGender.options(), "statuses": EligibleStatus.options(),
        "survivor_types": SurvivorType.options(), "vetting_statuses": VettingStatus.options(), "radii": RADII,
        "need_labels": dict(ServiceType.options()), "province_labels": dict(Province.options()),
        "area_label": detail.area_label, "capacity_line": search.capacity_line, "failed_org": None,
        "today_iso": today.isoformat(), "next_year_iso": (today + timedelta(days=365)).isoformat(),
    }


def _page(request: Request, name: str, status_code: int = 200, **ctx):
    return render(request, name, {**_vocab(), "active": "directory", **ctx}, status_code=status_code)


def _after_hours_now(request: Request) -> bool:
    """A search that starts outside usual opening hours (in the page's time zone) starts with "Open after
    hours" ticked: at 2 a.m. an office open 9 to 5 is no help tonight."""
    return search.outside_usual_hours(utcnow(), request_zone(request))


def _form_from_query(request: Request) -> dict:
    params = request.query_params
    form: dict = {"needs": [v for v in params.getlist("needs") if v]}
    for name in TEXT_FIELDS:
        value = (params.get(name) or "").strip()
        if value:
            form[name] = value[:200]
    for name in FLAGS:
        form[name] = params.get(name) in ("on", "true", "1")
    if not any(k in params for k in ("needs", "place", "province", "latitude", "include_virtual", *FLAGS)):
        form["after_hours"] = _after_hours_now(request)  # a new search; once sent, the form says what was chosen
    virtual = params.getlist("include_virtual")
    form["include_virtual"] = (virtual[-1] in ("on", "true", "1")) if virtual else True
    return form


def _prefill_from_case(case, *, after_hours: bool) -> dict:
    """Needs, place and language of a case, to search for it (after hours when it is after hours now)."""
    needs = list(dict.fromkeys(t for n in case.needs for t in NEED_TO_SERVICE.get(n, [])))
    form: dict = {"needs": needs, "include_virtual": True, **{f: False for f in FLAGS}, "after_hours": after_hours}
    if case.city:
        form["place"] = case.city
    if case.province:
        form["province"] = case.province
    language = next((c.language for c in case.contacts if c.language), None)
    if language:
        form["language"] = language
    return form


def _query_from_form(form: dict) -> tuple[search.SearchQuery | None, dict[str, str]]:
    data = {k: v for k, v in form.items() if v not in (None, "", [])}
    data.setdefault("needs", [])
    try:
        return search.SearchQuery.model_validate(data), {}
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            loc = err.get("loc") or ()
            field = str(loc[0]) if loc else "place"
            message = friendly_message(err)
            if not loc:
                message = gettext(N_("Give a place, or choose a province or territory."))
            errors.setdefault(field, message)
        return None, errors


def _with_province(request: Request, province: str) -> str:
    """This search again, in another province (for an ambiguous place name)."""
    items = [(k, v) for k, v in request.query_params.multi_items() if k != "province"]
    return "/console/directory?" + urlencode([*items, ("province", province)])


@router.get("")
def search_page(request: Request, who: Who, db: DB, case_id: CaseId = None):
    search.ensure_searcher(who.actor)
    form = _form_from_query(request)
    partial = is_htmx(request) and request.headers.get("hx-target") == "results"
    case = None
    if case_id is not None and not partial:  # the case is read (and audited) once, not on every live refresh
        case = hotline.get_case(db, actor=who.actor, case_id=case_id, purpose=AccessPurpose.referral.value)
        if not form["needs"] and not any(k in request.query_params for k in ("place", "province")):
            form = _prefill_from_case(case, after_hours=_after_hours_now(request))
    result, errors, form_error = None, {}, None
    asked = bool(form["needs"]) or any(k in request.query_params for k in ("place", "province"))
    if asked:
        query, errors = _query_from_form(form)
        if query is not None:
            try:
                result = search.search(db, actor=who.actor, query=query)
            except HarbourError as exc:
                if exc.status_code == 403:
                    raise
                errors = {k: gettext(v) for k, v in exc.fields.items()}
                form_error = exc.text()
        if errors and not form_error:
            form_error = gettext(N_("Please correct the highlighted fields."))
    status = 422 if errors or form_error else 200
    ctx = {"form": form, "result": result, "errors": errors, "form_error": form_error, "case": case,
           "case_id": case_id, "asked": asked, "alt_url": lambda province: _with_province(request, province)}
    if partial:
        return _page(request, "directory/_results.html", status_code=status, **ctx)
    return _page(request, "directory/search.html", status_code=status, **ctx)


@router.get("/services/{service_id}")
def service_page(request: Request, who: Who, db: DB, service_id: HsdsId):
    svc = detail.service_detail(db, actor=who.actor, service_id=service_id)
    return _page(request, "directory/service_detail.html", s=svc)


@router.get("/organizations/{organization_id}")
def organization_page(request: Request, who: Who, db: DB, organization_id: HsdsId):
    org = detail.organization_detail(db, actor=who.actor, organization_id=organization_id)
    can_vet = who.role in {str(r) for r in directory.CURATORS}
    return _page(request, "directory/organization.html", o=org, can_vet=can_vet)


@router.get("/vetting")
def vetting_page(request: Request, who: Who, db: DB, within_days: Annotated[int, Query(ge=0, le=366)] = 30):
    overview = curation.vetting_overview(db, actor=who.actor, within_days=within_days)
    return _page(request, "directory/vetting.html", overview=overview)


@router.post("/organizations/{organization_id}/vetting")
async def set_vetting(request: Request, who: Who, db: DB, organization_id: HsdsId):
    form = await request.form()
    data = {k: str(form.get(k)).strip() for k in ("status", "vetted_by", "vetted_on", "expires_on", "notes")
            if str(form.get(k) or "").strip()}
    message = None
    try:
        body = VettingUpdate.model_validate(data)
    except ValidationError as exc:
        body = None
        detail_text = "; ".join(sorted({friendly_message(e) for e in exc.errors()}))
        message = gettext(N_("Please correct the vetting form:")) + " " + detail_text
        if any(not e.get("loc") for e in exc.errors()):
            message = gettext(N_("A vetted provider needs a vetting date and an expiry date after it."))
    if body is not None:
        try:
            directory.set_vetting(db, actor=who.actor, organization_id=organization_id, data=body)
            if form.get("back") == "org":
                return redirect(f"/console/directory/organizations/{organization_id}", request, flash=VETTING_SAVED)
            return redirect("/console/directory/vetting", request, flash=VETTING_SAVED)
        except HarbourError as exc:
            if exc.status_code in (403, 404):
                raise
            message = exc.text()
    overview = curation.vetting_overview(db, actor=who.actor)
    return _page(request, "directory/vetting.html", status_code=422, overview=overview, form_error=message,
                 failed_org=organization_id)
