"""Hotline business actions.

Every action takes keyword-only arguments, checks the actor's role, does its
work, writes its audit entry and timeline event in the same transaction and
commits once.  Nothing here trusts a route or a template to have checked anything.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from harbour.core import timezones
from harbour.core.audit import Actor, viewers
from harbour.core.audit import record as audit
from harbour.core.choices import HOTLINE_ROLES, Role
from harbour.core.crypto import keyring
from harbour.core.db import atomic, commit_or_conflict, utcnow
from harbour.core.errors import Conflict, NotFound, ValidationFailed
from harbour.core.i18n import N_
from harbour.core.models import User
from harbour.core.security import ensure_role
from harbour.hotline import consent as consent_rules
from harbour.hotline.choices import (
    AccessPurpose,
    CaseStatus,
    Channel,
    Classification,
    ConsentPurpose,
    ContactSource,
    EventKind,
    RiskLevel,
    TaskKind,
)
from harbour.hotline.models import Case, CaseEvent, Contact, Escalation, SafetyPlan, Task
from harbour.hotline.schemas import (
    CaseCreate,
    CaseUpdate,
    ContactCreate,
    ContactUpdate,
    EscalationCreate,
    RepeatMatch,
    SafetyPlanUpdate,
    TaskCreate,
    TaskUpdate,
)

_REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
SUPERVISOR = {Role.hotline_supervisor}


def _ref(prefix: str) -> str:
    return prefix + "-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(7))


def require_staff(actor: Actor) -> None:
    ensure_role(actor, HOTLINE_ROLES, N_("Only hotline staff can work with hotline records."))


_staff = require_staff


def _purpose(purpose: str | None) -> str:
    if purpose is None:
        return AccessPurpose.case_management.value
    if purpose not in AccessPurpose.codes():
        raise ValidationFailed(N_("Unknown access purpose."), fields={"purpose": N_("Choose a listed purpose.")})
    return purpose


def _event(db: Session, case: Case, actor: Actor, kind: EventKind, **data) -> CaseEvent:
    ev = CaseEvent(case_id=case.id, kind=kind.value, actor_id=actor.id, data=data, at=utcnow())
    db.add(ev)
    return ev




def _check_user(db: Session, user_id: int | None, field: str) -> None:
    if user_id is None:
        return
    user = db.get(User, user_id)
    if user is None or not user.is_active or user.role not in HOTLINE_ROLES:
        raise ValidationFailed(N_("Tasks and cases can only be assigned to active hotline staff."),
                               fields={field: N_("Not a hotline staff member.")})


def phone_index(phone: str | None) -> str | None:
    return keyring().blind_index(phone, domain="phone") if phone else None


# -- contacts ---------------------------------------------------------------
def _repeat_matches(db: Session, index: str | None, *, exclude_id: int | None = None) -> list[RepeatMatch]:
    if not index:
        return []
    rows = db.execute(
        select(Contact).where(Contact.phone_index == index, Contact.id != (exclude_id or 0))
        .order_by(Contact.received_at.desc()).limit(20)
    ).scalars()
    return [
        RepeatMatch(contact_id=c.id, contact_reference=c.reference, received_at=c.received_at,
                    case_id=c.case_id, case_reference=c.case.reference if c.case else None)
        for c in rows
    ]


@atomic
def contact_repeat_matches(db: Session, *, actor: Actor, contact: Contact) -> list[RepeatMatch]:
    """Other contacts from the same number as this one."""
    _staff(actor)
    return _repeat_matches(db, contact.phone_index, exclude_id=contact.id)


@atomic
def find_repeat_caller(db: Session, *, actor: Actor, phone: str) -> list[RepeatMatch]:
    """Earlier contacts from the same (normalised) number, found by blind index only."""
    _staff(actor)
    from harbour.hotline.schemas import normalise_phone

    try:
        normalised = normalise_phone(phone)
    except ValueError:
        return []
    matches = _repeat_matches(db, phone_index(normalised))
    if matches:
        audit(db, actor, "lookup", "contact", None, purpose=AccessPurpose.case_management.value,
              detail={"by": "phone_index", "matches": len(matches)})
        db.commit()
    return matches


def _attach(db: Session, actor: Actor, contact: Contact, case: Case) -> None:
    contact.case_id = case.id
    contact.case = case
    _event(db, case, actor, EventKind.contact_attached, contact_id=contact.id, reference=contact.reference,
           channel=contact.channel, classification=contact.classification)


@atomic
def create_contact(
    db: Session, *, actor: Actor, data: ContactCreate, source: ContactSource = ContactSource.console,
) -> tuple[Contact, list[RepeatMatch]]:
    """Save a contact (channel and time are all that is required) and offer repeat-caller matches."""
    _staff(actor)
    case = None
    if data.case_id is not None:
        case = db.get(Case, data.case_id)
        if case is None:
            raise ValidationFailed(N_("That case does not exist."), fields={"case_id": N_("Unknown case.")})
    now = utcnow()
    values = data.model_dump(exclude={"case_id"})
    values["received_at"] = data.received_at or now
    contact = Contact(reference=_ref("CT"), source=source.value, created_by_id=actor.id,
                      phone_index=phone_index(data.caller_phone), created_at=now, updated_at=now, **values)
    db.add(contact)
    db.flush()
    matches = _repeat_matches(db, contact.phone_index, exclude_id=contact.id)
    if case is not None:
        _attach(db, actor, contact, case)
    audit(db, actor, "create", "contact", contact.id, purpose=AccessPurpose.case_management.value,
          detail={"channel": contact.channel, "classification": contact.classification,
                  "repeat_matches": len(matches), "case": data.case_id})
    db.commit()
    return contact, matches


@atomic
def submit_public_tip(db: Session, *, channel: Channel = Channel.web_form, summary: str, province: str | None,
                      city: str | None, language: str) -> Contact:
    """The anonymous report-a-tip form: a signal, never a case, no identity asked or kept."""
    data = ContactCreate(channel=channel, summary=summary, province=province, city=city, language=language,
                         classification=Classification.tip, anonymous=True)
    actor = Actor.system("public-tip-form")
    now = utcnow()
    contact = Contact(reference=_ref("CT"), source=ContactSource.public_tip_form.value, created_at=now,
                      updated_at=now, **{**data.model_dump(exclude={"case_id", "received_at"}), "received_at": now})
    db.add(contact)
    db.flush()
    audit(db, actor, "create", "contact", contact.id, purpose="public_tip", detail={"channel": channel.value})
    db.commit()
    return contact


@atomic
def get_contact(db: Session, *, actor: Actor, contact_id: int, purpose: str | None = None) -> Contact:
    _staff(actor)
    purpose = _purpose(purpose)
    contact = db.get(Contact, contact_id)
    if contact is None:
        raise NotFound()
    audit(db, actor, "read", "contact", contact.id, purpose=purpose)
    db.commit()
    return contact


@atomic
def list_contacts(
    db: Session, *, actor: Actor, classification: str | None = None, channel: str | None = None,
    unattached: bool = False, limit: int = 50, offset: int = 0,
) -> tuple[list[Contact], int]:
    _staff(actor)
    q = select(Contact)
    if classification:
        q = q.where(Contact.classification == classification)
    if channel:
        q = q.where(Contact.channel == channel)
    if unattached:
        q = q.where(Contact.case_id.is_(None))
    total = db.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    rows = list(db.execute(q.order_by(Contact.received_at.desc()).limit(limit).offset(offset)).scalars())
    audit(db, actor, "list", "contact", None, purpose=AccessPurpose.case_management.value,
          detail={"count": len(rows), "ids": [c.id for c in rows]})
    db.commit()
    return rows, total


@atomic
def update_contact(db: Session, *, actor: Actor, contact_id: int, data: ContactUpdate) -> Contact:
    _staff(actor)
    contact = db.get(Contact, contact_id)
    if contact is None:
        raise NotFound()
    changes = data.model_dump(exclude_unset=True)
    for field, value in changes.items():
        setattr(contact, field, value)
    if "caller_phone" in changes:
        contact.phone_index = phone_index(contact.caller_phone)
    contact.updated_at = utcnow()
    audit(db, actor, "update", "contact", contact.id, purpose=AccessPurpose.case_management.value,
          detail={"fields": sorted(changes)})
    db.commit()
    return contact


@atomic
def attach_contact(db: Session, *, actor: Actor, contact_id: int, case_id: int) -> Contact:
    _staff(actor)
    contact, case = db.get(Contact, contact_id), db.get(Case, case_id)
    if contact is None or case is None:
        raise NotFound()
    if contact.case_id == case.id:
        return contact
    if contact.case_id is not None:
        raise Conflict(N_("This contact already belongs to another case."))
    _attach(db, actor, contact, case)
    audit(db, actor, "update", "contact", contact.id, purpose=AccessPurpose.case_management.value,
          detail={"fields": ["case_id"], "case": case.id})
    commit_or_conflict(db)
    return contact


def contact_defaults_for(case: Case) -> dict:
    """What a new contact on ``case`` starts from: the case's place and the classification its latest
    classified contact was given (the advocate may change them before saving)."""
    classified = [c for c in case.contacts if c.classification]
    latest = max(classified, key=lambda c: c.received_at) if classified else None
    return {"province": case.province, "city": case.city,
            "classification": latest.classification if latest else None}


def case_by_reference(db: Session, *, actor: Actor, reference: str) -> Case | None:
    """The case with this reference (as typed by an advocate), or None."""
    require_staff(actor)
    reference = (reference or "").strip().upper()[:20]
    if not reference:
        return None
    return db.execute(select(Case).where(Case.reference == reference)).scalar_one_or_none()


# -- cases --------------------------------------------------------------------
@atomic
def open_case(db: Session, *, actor: Actor, data: CaseCreate) -> Case:
    _staff(actor)
    _check_user(db, data.assigned_to_id, "assigned_to_id")
    contacts = []
    for cid in dict.fromkeys(data.contact_ids):
        contact = db.get(Contact, cid)
        if contact is None:
            raise ValidationFailed(N_("A listed contact does not exist."), fields={"contact_ids": N_("Unknown contact.")})
        if contact.case_id is not None:
            raise Conflict(N_("This contact already belongs to another case."))
        contacts.append(contact)
    now = utcnow()
    values = data.model_dump(exclude={"contact_ids"})
    for key in ("exploitation_types", "indicators", "recruitment", "control_means", "needs"):
        values[key] = [str(v) for v in (values[key] or [])]
    if not values.get("province") and contacts:
        values["province"], values["city"] = contacts[0].province, values.get("city") or contacts[0].city
    case = Case(reference=_ref("HC"), status=CaseStatus.open.value, created_by_id=actor.id, created_at=now,
                updated_at=now, **values)
    db.add(case)
    db.flush()
    _event(db, case, actor, EventKind.case_opened, risk_level=case.risk_level)
    for contact in contacts:
        _attach(db, actor, contact, case)
    if case.assigned_to_id:
        _event(db, case, actor, EventKind.assigned, user_id=case.assigned_to_id)
    audit(db, actor, "create", "case", case.id, purpose=AccessPurpose.case_management.value,
          detail={"contacts": [c.id for c in contacts], "risk_level": case.risk_level})
    db.commit()
    return case


def _load_case(db: Session, case_id: int) -> Case:
    case = db.get(Case, case_id)
    if case is None:
        raise NotFound()
    return case


@atomic
def get_case(db: Session, *, actor: Actor, case_id: int, purpose: str | None = None) -> Case:
    _staff(actor)
    purpose = _purpose(purpose)
    case = _load_case(db, case_id)
    audit(db, actor, "read", "case", case.id, purpose=purpose)
    db.commit()
    return case


@dataclass
class CaseFilters:
    status: str | None = None
    risk_level: str | None = None
    province: str | None = None
    assigned_to_id: int | None = None
    unassigned: bool = False
    reference: str | None = None


@atomic
def list_cases(db: Session, *, actor: Actor, filters: CaseFilters | None = None, limit: int = 50,
               offset: int = 0) -> tuple[list[Case], int]:
    _staff(actor)
    f = filters or CaseFilters()
    q = select(Case)
    if f.status:
        q = q.where(Case.status == f.status)
    if f.risk_level:
        q = q.where(Case.risk_level == f.risk_level)
    if f.province:
        q = q.where(Case.province == f.province)
    if f.assigned_to_id:
        q = q.where(Case.assigned_to_id == f.assigned_to_id)
    if f.unassigned:
        q = q.where(Case.assigned_to_id.is_(None))
    if f.reference:
        q = q.where(Case.reference == f.reference.strip().upper())
    total = db.execute(select(func.count()).select_from(q.subquery())).scalar_one()
    rows = list(db.execute(q.order_by(Case.updated_at.desc()).limit(limit).offset(offset)).scalars())
    audit(db, actor, "list", "case", None, purpose=AccessPurpose.case_management.value,
          detail={"count": len(rows), "ids": [c.id for c in rows]})
    db.commit()
    return rows, total


@atomic
def update_case(db: Session, *, actor: Actor, case_id: int, data: CaseUpdate) -> Case:
    _staff(actor)
    case = _load_case(db, case_id)
    if data.version is not None and data.version != case.version:
        raise Conflict(N_("Someone else changed this record at the same time. Reload and try again."))
    changes = data.model_dump(exclude_unset=True, exclude={"version"})
    status, outcome = changes.pop("status", None), changes.pop("outcome", None)
    if status == CaseStatus.closed and not outcome and case.status != CaseStatus.closed:
        raise ValidationFailed(N_("Closing a case needs an outcome."), fields={"outcome": N_("Required to close.")})
    if "assigned_to_id" in changes:
        _check_user(db, changes["assigned_to_id"], "assigned_to_id")
    now = utcnow()
    changed = []
    for field, value in changes.items():
        if isinstance(value, list):
            value = [str(v) for v in value]
        if getattr(case, field) != value:
            setattr(case, field, value)
            changed.append(field)
    if "assigned_to_id" in changed:
        _event(db, case, actor, EventKind.assigned, user_id=case.assigned_to_id)
    if status is not None and status != case.status:
        old = case.status
        case.status = status.value if hasattr(status, "value") else status
        case.outcome = (outcome.value if hasattr(outcome, "value") else outcome) if status == CaseStatus.closed else None
        case.closed_at = now if status == CaseStatus.closed else None
        _event(db, case, actor, EventKind.status_changed, old=old, new=case.status, outcome=case.outcome)
        changed += ["status", "outcome"]
    elif outcome is not None and case.status == CaseStatus.closed and outcome != case.outcome:
        case.outcome = str(outcome)
        changed.append("outcome")
    other = [c for c in changed if c not in ("status", "outcome", "assigned_to_id")]
    if other:
        _event(db, case, actor, EventKind.case_updated, fields=sorted(other))
    if changed:
        case.updated_at = now
        audit(db, actor, "update", "case", case.id, purpose=AccessPurpose.case_management.value,
              detail={"fields": sorted(set(changed))})
    commit_or_conflict(db)
    return case


@atomic
def timeline(db: Session, *, actor: Actor, case_id: int) -> list[CaseEvent]:
    _staff(actor)
    case = _load_case(db, case_id)
    return list(case.events)


@atomic
def may_see_viewers(actor: Actor) -> bool:
    """Whether ``actor`` may see who viewed a case (the rule :func:`case_viewers` enforces)."""
    return actor.role in {str(r) for r in SUPERVISOR}


def case_viewers(db: Session, *, actor: Actor, case_id: int):
    """Who opened this case, when and why: supervisors only."""
    ensure_role(actor, SUPERVISOR, N_("Only supervisors can see who viewed a case."))
    _load_case(db, case_id)
    return viewers(db, "case", case_id)


# -- tasks ------------------------------------------------------------------
@atomic
def add_task(db: Session, *, actor: Actor, case_id: int, data: TaskCreate) -> Task:
    _staff(actor)
    case = _load_case(db, case_id)
    _check_user(db, data.assigned_to_id, "assigned_to_id")
    basis = None
    if data.kind == TaskKind.follow_up_contact:
        basis = consent_rules.require(db, case=case, purpose=ConsentPurpose.follow_up)
    task = Task(case_id=case.id, title=data.title, kind=data.kind.value, due_at=data.due_at,
                assigned_to_id=data.assigned_to_id or case.assigned_to_id or actor.id, created_by_id=actor.id)
    db.add(task)
    db.flush()
    _event(db, case, actor, EventKind.task_added, task_id=task.id, task_kind=task.kind,
           due=timezones.utc_iso(task.due_at))
    audit(db, actor, "create", "task", task.id, purpose=AccessPurpose.case_management.value,
          detail={"case": case.id, "kind": task.kind, "consent_basis": basis})
    db.commit()
    return task


@atomic
def update_task(db: Session, *, actor: Actor, task_id: int, data: TaskUpdate) -> Task:
    _staff(actor)
    task = db.get(Task, task_id)
    if task is None:
        raise NotFound()
    changes = data.model_dump(exclude_unset=True)
    if "assigned_to_id" in changes:
        _check_user(db, changes["assigned_to_id"], "assigned_to_id")
    done = changes.pop("done", None)
    for field, value in changes.items():
        setattr(task, field, value)
    if done is True and task.done_at is None:
        task.done_at = utcnow()
        _event(db, task.case, actor, EventKind.task_done, task_id=task.id)
    elif done is False:
        task.done_at = None
    audit(db, actor, "update", "task", task.id, purpose=AccessPurpose.case_management.value,
          detail={"fields": sorted(changes) + (["done"] if done is not None else [])})
    db.commit()
    return task


@atomic
def list_tasks(db: Session, *, actor: Actor, mine: bool = False, overdue: bool = False,
               open_only: bool = True, limit: int = 100) -> list[Task]:
    _staff(actor)
    q = select(Task)
    if mine:
        q = q.where(Task.assigned_to_id == actor.id)
    if open_only:
        q = q.where(Task.done_at.is_(None))
    if overdue:
        q = q.where(Task.due_at < utcnow(), Task.done_at.is_(None))
    return list(db.execute(q.order_by(Task.due_at).limit(limit)).scalars())


# -- safety -------------------------------------------------------------------
@atomic
def update_safety_plan(db: Session, *, actor: Actor, case_id: int, data: SafetyPlanUpdate) -> SafetyPlan:
    _staff(actor)
    case = _load_case(db, case_id)
    plan = case.safety_plan or SafetyPlan(case_id=case.id)
    for field, value in data.model_dump().items():
        setattr(plan, field, value.value if hasattr(value, "value") else value)
    plan.updated_by_id, plan.updated_at = actor.id, utcnow()
    db.add(plan)
    _event(db, case, actor, EventKind.safety_plan_updated)
    audit(db, actor, "update", "safety_plan", case.id, purpose=AccessPurpose.case_management.value)
    db.commit()
    return plan


@atomic
def escalate_911(db: Session, *, actor: Actor, case_id: int, data: EscalationCreate) -> Escalation:
    """Record a transfer to 9-1-1 and raise the case to imminent danger."""
    _staff(actor)
    case = _load_case(db, case_id)
    if data.contact_id is not None:
        contact = db.get(Contact, data.contact_id)
        if contact is None or contact.case_id != case.id:
            raise ValidationFailed(N_("The contact must belong to this case."), fields={"contact_id": N_("Not on this case.")})
    esc = Escalation(case_id=case.id, contact_id=data.contact_id, reason=data.reason, by_id=actor.id, at=utcnow())
    db.add(esc)
    if case.risk_level != RiskLevel.imminent:
        case.risk_level = RiskLevel.imminent.value
        case.updated_at = utcnow()
    db.flush()
    _event(db, case, actor, EventKind.escalated_911, escalation_id=esc.id)
    audit(db, actor, "create", "escalation", esc.id, purpose=AccessPurpose.emergency.value, detail={"case": case.id})
    commit_or_conflict(db)
    return esc


# -- dashboard ----------------------------------------------------------------
@dataclass
class Dashboard:
    open_cases: int
    unassigned_cases: list[Case]
    overdue_tasks: list[Task]
    high_risk_cases: list[Case]
    pending_overrides: list
    contacts_today: dict[str, int]
    unattached_contacts: int


@atomic
def supervisor_dashboard(db: Session, *, actor: Actor, now: datetime | None = None) -> Dashboard:
    ensure_role(actor, SUPERVISOR, N_("Only supervisors can see the dashboard."))
    now = now or utcnow()
    open_q = Case.status != CaseStatus.closed.value
    open_cases = db.execute(select(func.count()).where(open_q)).scalar_one()
    unassigned = list(db.execute(select(Case).where(open_q, Case.assigned_to_id.is_(None))
                                 .order_by(Case.created_at).limit(50)).scalars())
    overdue = list(db.execute(select(Task).where(Task.done_at.is_(None), Task.due_at < now)
                              .order_by(Task.due_at).limit(50)).scalars())
    high = list(db.execute(select(Case).where(open_q, or_(Case.risk_level == RiskLevel.high.value,
                                                             Case.risk_level == RiskLevel.imminent.value))
                           .order_by(Case.updated_at.desc()).limit(50)).scalars())
    since = now - timedelta(hours=24)
    by_class = {(k or "unclassified"): n for k, n in db.execute(
        select(Contact.classification, func.count()).where(Contact.received_at >= since)
        .group_by(Contact.classification)).all()}
    unattached = db.execute(select(func.count()).where(
        Contact.case_id.is_(None), Contact.classification.in_(
            [Classification.potential_case.value, Classification.crisis.value]))).scalar_one()
    return Dashboard(open_cases, unassigned, overdue, high, consent_rules.pending_overrides(db), by_class, unattached)


@atomic
def hotline_staff(db: Session) -> list[User]:
    return list(db.execute(select(User).where(User.role.in_([r.value for r in HOTLINE_ROLES]),
                                              User.is_active.is_(True)).order_by(User.display_name)).scalars())
