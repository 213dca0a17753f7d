"""Sharing console pages (/console/sharing): hits inbox, disclosure requests, records, ingest with its row
report, agreements, agencies and PPRL uploads.  Thin: parse, call :mod:`harbour.sharing.service`, render."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from fastapi import Path as PathParam
from sqlalchemy.orm import Session

from harbour.core import flash
from harbour.core.choices import Province, Role
from harbour.core.errors import Forbidden, HarbourError, ValidationFailed
from harbour.core.i18n import N_, gettext
from harbour.core.security import DbSession, Principal, WebUser, verify_csrf
from harbour.core.types import IdPath
from harbour.core.web import parse_form, redirect, render
from harbour.sharing import hits as hits_service
from harbour.sharing import service
from harbour.sharing.choices import (
    AGENCY_CODE_PATTERN,
    LEVEL_RANK,
    OFFENCES,
    RECORD_ID_PATTERN,
    AgencyKind,
    AgreementStatus,
    DisclosureLevel,
    HitStatus,
    Purpose,
    RecordCategory,
    RequestStatus,
)
from harbour.sharing.linking import relink_quietly
from harbour.sharing.records import serialise
from harbour.sharing.schemas import (
    AgencyCreate,
    AgreementCreate,
    AgreementStatusBody,
    DecisionBody,
    DisclosureRequestCreate,
)

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
DB = DbSession
Who = WebUser
Code = Annotated[str, PathParam(pattern=AGENCY_CODE_PATTERN)]
RecordId = Annotated[str, PathParam(pattern=RECORD_ID_PATTERN)]
BASE = "/console/sharing"

HIT_CLOSED = flash.message("sharing.hit_closed", N_("Hit closed."))
HIT_UPDATED = flash.message("sharing.hit_updated", N_("Hit updated."))
REQUEST_SENT = flash.message("sharing.request_sent", N_("Disclosure request sent."))
DECIDED = {"approved": flash.message("sharing.request_approved", N_("Decision recorded: approved.")),
           "denied": flash.message("sharing.request_denied", N_("Decision recorded: denied."))}
REQUEST_WITHDRAWN = flash.message("sharing.request_withdrawn", N_("Request withdrawn."))
UPLOAD_DONE = flash.message("sharing.upload_done", N_("Upload finished: the row report is below."))
AGREEMENT_SAVED = flash.message("sharing.agreement_saved", N_("Agreement saved."))
AGREEMENT_STATUS = flash.message("sharing.agreement_status", N_("Agreement status changed."))
AGENCY_ADDED = flash.message("sharing.agency_added", N_("Agency added."))
MEMBER_ADDED = flash.message("sharing.member_added", N_("Member added."))
MEMBER_REMOVED = flash.message("sharing.member_removed", N_("Member removed."))
FIELD_LABELS = {
    "record_id": N_("Record id"), "source_system": N_("Source system"), "updated_at": N_("Last updated (UTC)"),
    "sex": N_("Sex"), "year_of_birth": N_("Year of birth"), "province": N_("Province or territory"),
    "cities": N_("Cities"), "given_name": N_("Given name"), "middle_name": N_("Middle name"), "surname": N_("Surname"),
    "aliases": N_("Aliases"), "date_of_birth": N_("Date of birth"), "phones": N_("Phones"), "emails": N_("E-mails"),
    "addresses": N_("Addresses"), "identity_documents": N_("Identity documents"), "number": N_("Phone number"),
    "first_seen": N_("First seen"), "last_seen": N_("Last seen"), "platform": N_("Platform"), "handle": N_("Handle"),
    "ad_url": N_("Ad link"), "plate": N_("Plate"), "plate_province": N_("Plate province"), "make": N_("Make"),
    "model": N_("Model"), "colour": N_("Colour"), "year": N_("Year"), "kind": N_("Kind"),
    "street_address": N_("Street address"), "city": N_("City"), "postal_code": N_("Postal code"),
    "latitude": N_("Latitude"), "longitude": N_("Longitude"), "occurred_on": N_("Date"),
    "jurisdiction": N_("Jurisdiction"), "offence_codes": N_("Offences"), "status": N_("Status"),
    "summary": N_("Summary"), "ingested_at": N_("First ingested (UTC)"),
}


def _vocab(db: Session, who: Principal) -> dict:
    return {
        "category_label": dict(RecordCategory.options()), "purpose_label": dict(Purpose.options()),
        "level_label": dict(DisclosureLevel.options()), "kind_label": dict(AgencyKind.options()),
        "agreement_status_label": dict(AgreementStatus.options()), "request_status_label": dict(RequestStatus.options()),
        "hit_status_label": dict(HitStatus.options()), "offence_label": {k: gettext(v) for k, v in OFFENCES.items()},
        "my_agency": service.agency_of(db, who.user), "is_admin": who.role == Role.admin,
        "is_steward": who.role == Role.agency_data_steward,
        "field_labels": {k: gettext(v) for k, v in FIELD_LABELS.items()},
    }


def _page(request: Request, db: Session, who: Principal, name: str, status_code: int = 200, **ctx):
    return render(request, f"sharing/{name}", {**_vocab(db, who), "active": "sharing", **ctx}, status_code=status_code)


# -- home ---------------------------------------------------------------------------------------------------
@router.get(BASE)
def home(request: Request, db: DB, who: Who):
    actor = who.actor
    if who.role == Role.admin:
        agencies = service.list_agencies(db)
        return _page(request, db, who, "admin_home.html", agencies=agencies,
                     agreements=service.list_agreements(db, actor=actor), models=service.list_models(db))
    counts = service.counts(db, actor=actor)
    hits = service.inbox(db, actor=actor, status="new", limit=10)
    db.commit()
    return _page(request, db, who, "home.html", counts=counts, hits=hits)


# -- hits ---------------------------------------------------------------------------------------------------
@router.get(BASE + "/hits")
def hits_page(request: Request, db: DB, who: Who,
              status: Annotated[str | None, Query(pattern="^(new|seen|closed)?$")] = None):
    hits = service.inbox(db, actor=who.actor, status=status or None)
    return _page(request, db, who, "hits.html", hits=hits, status=status or "")


def _hit_page(request: Request, db: Session, who: Principal, hit_id: int, *, status_code: int = 200,
              form: dict | None = None, errors: dict | None = None, form_error: str | None = None):
    """The hit, and the disclosure request form offering only what the agreements in force allow (the sharing
    service says which purposes, and the most each may ask for)."""
    hit = service.get_hit(db, actor=who.actor, hit_id=hit_id)
    if hit.status == "new":
        service.mark(db, actor=who.actor, hit_id=hit.id, status="seen")
        db.commit()
    requests = [r for r in service.requests_for(db, actor=who.actor, direction="outgoing") if r.hit_id == hit.id]
    choices = service.request_choices(db, actor=who.actor, hit_id=hit.id)
    level_label = dict(DisclosureLevel.options())
    purposes = [(code, gettext(N_("%(purpose)s (up to: %(level)s)"), purpose=label, level=level_label[choices[code]]))
                for code, label in Purpose.options() if code in choices]
    most = max(choices.values(), key=lambda lv: LEVEL_RANK[lv], default=None)
    levels = [(code, label) for code, label in DisclosureLevel.options()
              if most and LEVEL_RANK["summary"] <= LEVEL_RANK[code] <= LEVEL_RANK[most]]
    return _page(request, db, who, "hit.html", status_code=status_code, hit=service.hit_view(hit), requests=requests,
                 purposes=purposes, levels=levels, form=form or {}, errors=errors or {}, form_error=form_error)


@router.get(BASE + "/hits/{hit_id}")
def hit_page(request: Request, db: DB, who: Who, hit_id: IdPath):
    return _hit_page(request, db, who, hit_id)


@router.post(BASE + "/hits/{hit_id}/status")
async def hit_status(request: Request, db: DB, who: Who, hit_id: IdPath):
    form = await request.form()
    status = str(form.get("status", ""))
    service.mark(db, actor=who.actor, hit_id=hit_id, status=status)
    db.commit()
    return redirect(f"{BASE}/hits/{hit_id}", request, flash=HIT_CLOSED if status == "closed" else HIT_UPDATED)


@router.post(BASE + "/hits/{hit_id}/request")
async def hit_request(request: Request, db: DB, who: Who, hit_id: IdPath):
    form = await request.form()
    typed = {k: str(form.get(k) or "")[:4000] for k in ("purpose", "level", "justification")}
    service.get_hit(db, actor=who.actor, hit_id=hit_id)  # someone who may not see the hit gets 403/404 here
    data, errors = parse_form(DisclosureRequestCreate, form)
    if errors:
        db.rollback()
        return _hit_page(request, db, who, hit_id, status_code=422, form=typed, errors=errors,
                         form_error=gettext(N_("Please correct the highlighted fields.")))
    try:
        req = service.request_disclosure(db, actor=who.actor, hit_id=hit_id, purpose=data.purpose.value,
                                         level=data.level, justification=data.justification)
    except HarbourError as exc:  # the agreement refuses it, or a request already waits: say why, keep the form
        db.rollback()
        if exc.status_code == 404:
            raise
        return _hit_page(request, db, who, hit_id, status_code=exc.status_code, form=typed,
                         errors={k: gettext(v) for k, v in exc.fields.items()}, form_error=exc.text())
    db.commit()
    return redirect(f"{BASE}/requests/{req.id}", request, flash=REQUEST_SENT)


# -- disclosure requests -------------------------------------------------------------------------------
@router.get(BASE + "/requests")
def requests_page(request: Request, db: DB, who: Who):
    incoming = service.requests_for(db, actor=who.actor, direction="incoming")
    outgoing = service.requests_for(db, actor=who.actor, direction="outgoing")
    return _page(request, db, who, "requests.html", incoming=incoming, outgoing=outgoing)


def _request_page(request: Request, db: Session, who: Principal, request_id: int, *, status_code: int = 200,
                  form: dict | None = None, errors: dict | None = None, form_error: str | None = None):
    actor = who.actor
    req = service.get_request(db, actor=actor, request_id=request_id)
    agency = service.agency_of(db, actor)
    mine_to_decide = agency.id == req.owner_agency_id
    disclosed = error = None
    if req.status == "approved":
        try:
            disclosed = service.disclosure(db, actor=actor, request_id=req.id)
            db.commit()
        except HarbourError as exc:
            db.rollback()
            error = exc.text()
    owner_record = hits_service.owner_record_id(db, req) if mine_to_decide else None
    levels = []
    if mine_to_decide and req.status == "pending":  # the steward approves up to what was asked and is allowed
        most = service.decision_level(db, actor=actor, request_id=req.id)
        levels = [(code, label) for code, label in DisclosureLevel.options()
                  if most and LEVEL_RANK["summary"] <= LEVEL_RANK[code] <= LEVEL_RANK[most]]
    return _page(request, db, who, "request.html", status_code=status_code, req=req, mine_to_decide=mine_to_decide,
                 disclosed=disclosed, disclosure_error=error, owner_record=owner_record, levels=levels,
                 form=form or {"level": req.level_requested}, errors=errors or {}, form_error=form_error)


@router.get(BASE + "/requests/{request_id}")
def request_page(request: Request, db: DB, who: Who, request_id: IdPath):
    return _request_page(request, db, who, request_id)


@router.post(BASE + "/requests/{request_id}/decision")
async def request_decision(request: Request, db: DB, who: Who, request_id: IdPath):
    form = await request.form()
    typed = {k: str(form.get(k) or "")[:4000] for k in ("decision", "level", "note")}
    service.get_request(db, actor=who.actor, request_id=request_id)  # 403/404 before anything else
    data, errors = parse_form(DecisionBody, form)
    if errors:
        db.rollback()
        return _request_page(request, db, who, request_id, status_code=422, form=typed, errors=errors,
                             form_error=gettext(N_("Please correct the highlighted fields.")))
    try:
        req = service.decide(db, actor=who.actor, request_id=request_id, decision=data.decision, level=data.level,
                             note=data.note)
    except HarbourError as exc:  # more than asked or allowed, or decided already: say why, keep the form
        db.rollback()
        if exc.status_code == 404:
            raise
        return _request_page(request, db, who, request_id, status_code=exc.status_code, form=typed,
                             errors={k: gettext(v) for k, v in exc.fields.items()}, form_error=exc.text())
    db.commit()
    return redirect(f"{BASE}/requests/{request_id}", request, flash=DECIDED.get(req.status))


@router.post(BASE + "/requests/{request_id}/withdraw")
def request_withdraw(request: Request, db: DB, who: Who, request_id: IdPath):
    service.withdraw(db, actor=who.actor, request_id=request_id)
    db.commit()
    return redirect(f"{BASE}/requests/{request_id}", request, flash=REQUEST_WITHDRAWN)


# -- records ---------------------------------------------------------------------------------------------
@router.get(BASE + "/records")
def records_page(request: Request, db: DB, who: Who, category: RecordCategory = RecordCategory.person,
                 page: Annotated[int, Query(ge=1, le=100_000)] = 1):
    rows, total = service.list_own(db, actor=who.actor, category=category.value, offset=(page - 1) * 50)
    db.commit()
    items = [serialise(r, category.value) for r in rows]
    return _page(request, db, who, "records.html", items=items, total=total, page=page, category=category.value,
                 categories=RecordCategory.options(), pages=max(1, (total + 49) // 50))


@router.get(BASE + "/records/{category}/{record_id}")
def record_page(request: Request, db: DB, who: Who, category: RecordCategory, record_id: RecordId,
                purpose: Purpose = Purpose.investigation):
    record = service.own_record(db, actor=who.actor, category=category.value, record_id=record_id,
                                purpose=purpose.value)
    db.commit()
    return _page(request, db, who, "record.html", record=record, record_id=record_id, purposes=Purpose.options(),
                 purpose=purpose.value)


# -- ingest ----------------------------------------------------------------------------------------------
@router.get(BASE + "/ingest")
def ingest_page(request: Request, db: DB, who: Who):
    batches = service.batches(db, actor=who.actor, limit=20)
    return _page(request, db, who, "ingest.html", batches=batches, categories=RecordCategory.options(), batch=None,
                 error=None)


@router.post(BASE + "/ingest")
async def ingest_upload(request: Request, db: DB, who: Who, tasks: BackgroundTasks):
    form = await request.form()
    upload = form.get("file")
    record_type = str(form.get("record_type") or "person")
    source = str(form.get("source_system") or "")
    try:
        if upload is None or isinstance(upload, str):
            raise ValidationFailed(N_("Choose a CSV file to upload."))
        data = await upload.read()
        batch = service.ingest_csv(db, actor=who.actor, record_type=record_type, data=data, source_system=source,
                                   filename=upload.filename)
        db.commit()
    except (ValidationFailed, Forbidden) as exc:
        db.rollback()
        if isinstance(exc, Forbidden):
            raise
        return _page(request, db, who, "ingest.html", status_code=422, batches=service.batches(db, actor=who.actor),
                     categories=RecordCategory.options(), batch=None, error=exc.text())
    if record_type == "person" and batch.rows_created + batch.rows_updated:
        tasks.add_task(relink_quietly, request.app.state.sessionmaker)
    return redirect(f"{BASE}/batches/{batch.id}", request, flash=UPLOAD_DONE)


@router.get(BASE + "/batches/{batch_id}")
def batch_page(request: Request, db: DB, who: Who, batch_id: IdPath):
    batch = service.get_batch(db, actor=who.actor, batch_id=batch_id)
    return _page(request, db, who, "batch.html", batch=batch)


# -- agreements -------------------------------------------------------------------------------------------
@router.get(BASE + "/agreements")
def agreements_page(request: Request, db: DB, who: Who):
    items = [service.as_read(a) for a in service.list_agreements(db, actor=who.actor)]
    return _page(request, db, who, "agreements.html", items=items)


def _agreement_form(request, db, who, *, errors=None, values=None, status_code=200):
    return _page(request, db, who, "agreement_form.html", status_code=status_code, errors=errors or {},
                 values=values or {}, agencies=service.list_agencies(db, active_only=True),
                 categories=RecordCategory.options(), purposes=Purpose.options(), levels=DisclosureLevel.options())


@router.get(BASE + "/agreements/new")
def agreement_new(request: Request, db: DB, who: Who):
    if who.role != Role.admin:
        raise Forbidden()
    return _agreement_form(request, db, who)


@router.post(BASE + "/agreements/new")
async def agreement_create(request: Request, db: DB, who: Who):
    form = await request.form()
    provides, receives = set(form.getlist("provides")), set(form.getlist("receives"))
    parties = [{"agency": code, "provides": code in provides, "receives": code in receives}
               for code in sorted(provides | receives)]
    values = {k: form.get(k) for k in ("reference", "title", "legal_basis", "disclosure_level", "starts_on", "ends_on")}
    values |= {"categories": form.getlist("categories"), "purposes": form.getlist("purposes"),
               "activate": form.get("activate") == "on", "parties": parties}
    try:
        data = AgreementCreate.model_validate({k: v for k, v in values.items() if v not in ("", None)})
    except Exception as exc:  # noqa: BLE001 - pydantic errors become field messages
        from pydantic import ValidationError

        from harbour.core.errors import friendly_message

        if not isinstance(exc, ValidationError):
            raise
        errors = {(".".join(str(p) for p in e["loc"][:1]) or "form"): friendly_message(e) for e in exc.errors()}
        return _agreement_form(request, db, who, errors=errors, values=values, status_code=422)
    agreement = service.create_agreement(db, actor=who.actor, data=data)
    db.commit()
    return redirect(f"{BASE}/agreements/{agreement.id}", request, flash=AGREEMENT_SAVED)


@router.get(BASE + "/agreements/{agreement_id}")
def agreement_page(request: Request, db: DB, who: Who, agreement_id: IdPath):
    agreement = service.as_read(service.get_agreement(db, actor=who.actor, agreement_id=agreement_id))
    return _page(request, db, who, "agreement.html", a=agreement)


@router.post(BASE + "/agreements/{agreement_id}/status")
async def agreement_status(request: Request, db: DB, who: Who, agreement_id: IdPath):
    form = await request.form()
    data, errors = parse_form(AgreementStatusBody, form)
    if errors:
        raise ValidationFailed(N_("Choose one of the listed options."))
    service.set_status(db, actor=who.actor, agreement_id=agreement_id, data=data)
    db.commit()
    return redirect(f"{BASE}/agreements/{agreement_id}", request, flash=AGREEMENT_STATUS)


# -- agencies (administrators) ---------------------------------------------------------------------------
@router.get(BASE + "/agencies")
def agencies_page(request: Request, db: DB, who: Who):
    if who.role != Role.admin:
        raise Forbidden()
    from harbour.sharing.agencies import member_counts

    return _page(request, db, who, "agencies.html", agencies=service.list_agencies(db), counts=member_counts(db),
                 kinds=AgencyKind.options(), provinces=Province.options(), errors={}, values={})


@router.post(BASE + "/agencies")
async def agency_create(request: Request, db: DB, who: Who):
    form = await request.form()
    data, errors = parse_form(AgencyCreate, form)
    if errors:
        from harbour.sharing.agencies import member_counts

        return _page(request, db, who, "agencies.html", status_code=422, agencies=service.list_agencies(db),
                     counts=member_counts(db), kinds=AgencyKind.options(), provinces=Province.options(),
                     errors=errors, values=dict(form))
    service.create_agency(db, actor=who.actor, data=data)
    db.commit()
    return redirect(f"{BASE}/agencies/{data.code}", request, flash=AGENCY_ADDED)


@router.get(BASE + "/agencies/{code}")
def agency_page(request: Request, db: DB, who: Who, code: Code):
    if who.role != Role.admin:
        raise Forbidden()
    agency = service.get_agency(db, code)
    return _page(request, db, who, "agency.html", agency=agency, members=service.members(db, agency_id=agency.id))


@router.post(BASE + "/agencies/{code}/members")
async def agency_member(request: Request, db: DB, who: Who, code: Code):
    form = await request.form()
    username = str(form.get("username") or "").strip()[:80]
    removing = form.get("action") == "remove"
    if removing:
        service.remove_member(db, actor=who.actor, code=code, username=username)
    else:
        service.add_member(db, actor=who.actor, code=code, username=username)
    db.commit()
    return redirect(f"{BASE}/agencies/{code}", request, flash=MEMBER_REMOVED if removing else MEMBER_ADDED)


@router.post(BASE + "/relink")
def relink_now(request: Request, db: DB, who: Who):
    result = service.relink(db, actor=who.actor)
    db.commit()
    return _page(request, db, who, "relinked.html", result=result)


# -- PPRL ---------------------------------------------------------------------------------------------------
@router.get(BASE + "/pprl")
def pprl_page(request: Request, db: DB, who: Who):
    return _page(request, db, who, "pprl.html", submissions=service.pprl_submissions(db, actor=who.actor),
                 result=None, error=None)


@router.post(BASE + "/pprl")
async def pprl_upload(request: Request, db: DB, who: Who):
    form = await request.form()
    upload = form.get("file")
    try:
        if upload is None or isinstance(upload, str):
            raise ValidationFailed(N_("Choose the encoded JSON file to upload."))
        try:
            document = json.loads(await upload.read())
        except ValueError as exc:
            raise ValidationFailed(N_("The body is not valid JSON.")) from exc
        if not isinstance(document, dict):
            raise ValidationFailed(N_("The body must be a JSON object."))
        result = service.submit_pprl(db, actor=who.actor, document=document)
        db.commit()
    except ValidationFailed as exc:
        db.rollback()
        return _page(request, db, who, "pprl.html", status_code=422,
                     submissions=service.pprl_submissions(db, actor=who.actor), result=None, error=exc.text())
    return _page(request, db, who, "pprl.html", submissions=service.pprl_submissions(db, actor=who.actor),
                 result=result, error=None)
