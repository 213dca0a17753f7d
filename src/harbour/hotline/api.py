"""JSON API under /api/v1/hotline: parse, check the token's scope, call the service, serialise."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from harbour.core.choices import ApiScope, Province
from harbour.core.security import ApiUser, DbSession, Principal
from harbour.core.types import MAX_DB_ID
from harbour.core.types import IdPath as Id
from harbour.hotline import consent, service
from harbour.hotline.choices import AccessPurpose, CaseStatus, Channel, Classification, RiskLevel
from harbour.hotline.models import Case
from harbour.hotline.schemas import (
    AttachContact,
    CaseCreate,
    CaseListItem,
    CaseRead,
    CaseUpdate,
    ConsentCreate,
    ConsentRead,
    ConsentRevoke,
    ContactCreate,
    ContactListItem,
    ContactRead,
    ContactSaved,
    ContactUpdate,
    EscalationCreate,
    EventRead,
    OverrideDecision,
    OverrideRead,
    OverrideRequest,
    PhoneLookup,
    RepeatMatch,
    SafetyPlanRead,
    SafetyPlanUpdate,
    TaskCreate,
    TaskRead,
    TaskUpdate,
)

router = APIRouter(prefix="/api/v1/hotline", tags=["hotline"])

DB = DbSession
Who = ApiUser
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]
Purpose = Annotated[AccessPurpose | None, Query(description="why you open this record (audited)")]


def _read(who: Principal):
    return who.actor_for(ApiScope.hotline_read)


def _write(who: Principal):
    return who.actor_for(ApiScope.hotline_write)


def case_out(case: Case) -> CaseRead:
    out = CaseRead.model_validate(case)
    out.contact_ids = [c.id for c in case.contacts]
    return out


# -- contacts ---------------------------------------------------------------
@router.post("/contacts", status_code=201, response_model=ContactSaved)
def create_contact(body: ContactCreate, db: DB, who: Who):
    contact, matches = service.create_contact(db, actor=_write(who), data=body,
                                              source=service.ContactSource.api)
    return ContactSaved(**ContactRead.model_validate(contact).model_dump(), repeat_matches=matches)


@router.get("/contacts")
def list_contacts(db: DB, who: Who, classification: Classification | None = None, channel: Channel | None = None,
                  unattached: bool = False, limit: Limit = 50, offset: Offset = 0) -> dict:
    rows, total = service.list_contacts(db, actor=_read(who), classification=classification, channel=channel,
                                        unattached=unattached, limit=limit, offset=offset)
    return {"total": total, "items": [ContactListItem.model_validate(r) for r in rows]}


@router.get("/contacts/{contact_id}", response_model=ContactRead)
def get_contact(contact_id: Id, db: DB, who: Who, purpose: Purpose = None):
    return service.get_contact(db, actor=_read(who), contact_id=contact_id, purpose=purpose)


@router.patch("/contacts/{contact_id}", response_model=ContactRead)
def update_contact(contact_id: Id, body: ContactUpdate, db: DB, who: Who):
    return service.update_contact(db, actor=_write(who), contact_id=contact_id, data=body)


@router.post("/contacts/{contact_id}/attach", response_model=ContactRead)
def attach_contact(contact_id: Id, body: AttachContact, db: DB, who: Who):
    return service.attach_contact(db, actor=_write(who), contact_id=contact_id, case_id=body.case_id)


@router.post("/repeat-callers/lookup", response_model=list[RepeatMatch])
def repeat_callers(body: PhoneLookup, db: DB, who: Who):
    """Earlier contacts from the same number (blind index; the number is never stored in clear)."""
    return service.find_repeat_caller(db, actor=_read(who), phone=body.phone)


# -- cases --------------------------------------------------------------------
@router.post("/cases", status_code=201, response_model=CaseRead)
def open_case(body: CaseCreate, db: DB, who: Who):
    return case_out(service.open_case(db, actor=_write(who), data=body))


@router.get("/cases")
def list_cases(db: DB, who: Who, status: CaseStatus | None = None, risk_level: RiskLevel | None = None,
               province: Province | None = None,
               assigned_to_id: Annotated[int | None, Query(ge=1, le=MAX_DB_ID)] = None,
               unassigned: bool = False, limit: Limit = 50, offset: Offset = 0) -> dict:
    filters = service.CaseFilters(status=status, risk_level=risk_level, province=province,
                                  assigned_to_id=assigned_to_id, unassigned=unassigned)
    rows, total = service.list_cases(db, actor=_read(who), filters=filters, limit=limit, offset=offset)
    return {"total": total, "items": [CaseListItem.model_validate(r) for r in rows]}


@router.get("/cases/{case_id}", response_model=CaseRead)
def get_case(case_id: Id, db: DB, who: Who, purpose: Purpose = None):
    return case_out(service.get_case(db, actor=_read(who), case_id=case_id, purpose=purpose))


@router.patch("/cases/{case_id}", response_model=CaseRead)
def update_case(case_id: Id, body: CaseUpdate, db: DB, who: Who):
    return case_out(service.update_case(db, actor=_write(who), case_id=case_id, data=body))


@router.get("/cases/{case_id}/timeline", response_model=list[EventRead])
def case_timeline(case_id: Id, db: DB, who: Who):
    return service.timeline(db, actor=_read(who), case_id=case_id)


@router.get("/cases/{case_id}/viewers")
def case_viewers(case_id: Id, db: DB, who: Who) -> list[dict]:
    rows = service.case_viewers(db, actor=_read(who), case_id=case_id)
    return [{"actor": e.actor, "actor_id": e.actor_id, "at": e.at, "purpose": e.purpose} for e in rows]


# -- consent --------------------------------------------------------------
@router.get("/cases/{case_id}/consents", response_model=list[ConsentRead])
def list_consents(case_id: Id, db: DB, who: Who, purpose: Purpose = None):
    case = service.get_case(db, actor=_read(who), case_id=case_id, purpose=purpose)
    now = service.utcnow()
    return [ConsentRead.model_validate(c).model_copy(update={"active": c.is_active(now)}) for c in case.consents]


@router.post("/cases/{case_id}/consents", status_code=201, response_model=ConsentRead)
def record_consent(case_id: Id, body: ConsentCreate, db: DB, who: Who):
    c = consent.record_consent(db, actor=_write(who), case_id=case_id, data=body)
    return ConsentRead.model_validate(c).model_copy(update={"active": c.is_active(service.utcnow())})


@router.post("/consents/{consent_id}/revoke", response_model=ConsentRead)
def revoke_consent(consent_id: Id, body: ConsentRevoke, db: DB, who: Who):
    return consent.revoke_consent(db, actor=_write(who), consent_id=consent_id, data=body)


@router.post("/cases/{case_id}/overrides", status_code=201, response_model=OverrideRead)
def request_override(case_id: Id, body: OverrideRequest, db: DB, who: Who):
    return consent.request_override(db, actor=_write(who), case_id=case_id, data=body)


@router.post("/overrides/{override_id}/decision", response_model=OverrideRead)
def decide_override(override_id: Id, body: OverrideDecision, db: DB, who: Who):
    return consent.decide_override(db, actor=_write(who), override_id=override_id, data=body)


# -- tasks, safety, escalation ---------------------------------------------
@router.get("/tasks", response_model=list[TaskRead])
def list_tasks(db: DB, who: Who, mine: bool = False, overdue: bool = False):
    return service.list_tasks(db, actor=_read(who), mine=mine, overdue=overdue)


@router.get("/cases/{case_id}/tasks", response_model=list[TaskRead])
def case_tasks(case_id: Id, db: DB, who: Who, purpose: Purpose = None):
    return service.get_case(db, actor=_read(who), case_id=case_id, purpose=purpose).tasks


@router.post("/cases/{case_id}/tasks", status_code=201, response_model=TaskRead)
def add_task(case_id: Id, body: TaskCreate, db: DB, who: Who):
    return service.add_task(db, actor=_write(who), case_id=case_id, data=body)


@router.patch("/tasks/{task_id}", response_model=TaskRead)
def update_task(task_id: Id, body: TaskUpdate, db: DB, who: Who):
    return service.update_task(db, actor=_write(who), task_id=task_id, data=body)


@router.get("/cases/{case_id}/safety-plan", response_model=SafetyPlanRead | None)
def get_safety_plan(case_id: Id, db: DB, who: Who, purpose: Purpose = None):
    return service.get_case(db, actor=_read(who), case_id=case_id, purpose=purpose).safety_plan


@router.put("/cases/{case_id}/safety-plan", response_model=SafetyPlanRead)
def put_safety_plan(case_id: Id, body: SafetyPlanUpdate, db: DB, who: Who):
    return service.update_safety_plan(db, actor=_write(who), case_id=case_id, data=body)


@router.post("/cases/{case_id}/escalations", status_code=201)
def escalate(case_id: Id, body: EscalationCreate, db: DB, who: Who) -> dict:
    esc = service.escalate_911(db, actor=_write(who), case_id=case_id, data=body)
    return {"id": esc.id, "case_id": esc.case_id, "kind": esc.kind, "at": esc.at}
