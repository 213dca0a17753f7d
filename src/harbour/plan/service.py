"""Plan business actions: department updates, the coordinator's review, flags, indicators, memberships.

Rules (all here, none in routes or templates):

* A *department lead* is any active user linked to a department in ``plan_department_member``
  (links are granted by an administrator, audited).  A lead may write progress updates only on
  deliverables where one of their departments is a lead or partner department; anything else is
  refused with 403 (the deliverable itself is public, so its existence is no secret).  Drafts and
  updates waiting for review are visible only to the writing department and to the coordinator;
  to anyone else they do not exist (404).
* The *plan coordinator* is a ``plan_coordinator`` account linked to no department (the central
  secretariat).  Only the coordinator reviews submitted updates: approve, or return with a note.
  Department leads (often ``plan_coordinator`` accounts too, for API write access) never review, so
  no department approves its own work; nobody reviews their own update either.
* Only approval changes what the public sees: the update becomes public and, if it proposes a
  status, that becomes the deliverable's status for the update's fiscal year.
* Flags: *overdue* (end fiscal year passed, not complete) and *no_update* (not complete, and no
  published status or approved update in the fiscal year).
* Every change writes an audit entry in the same transaction.

The read-only views used by pages, the API and the annual report (``chart``, ``status_summary``,
``changes_since``) live in :mod:`harbour.plan.reporting` and are re-exported here.
"""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.choices import Role
from harbour.core.db import atomic, commit_or_conflict, utcnow
from harbour.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from harbour.core.i18n import N_
from harbour.core.models import User
from harbour.core.security import ensure_role
from harbour.plan.choices import DeliverableStatus, Flag, ReviewDecision, ReviewState, StatusSource
from harbour.plan.models import (
    PlanDeliverable,
    PlanDeliverableStatusRecord,
    PlanDepartment,
    PlanDepartmentMember,
    PlanIndicator,
    PlanIndicatorValue,
    PlanProgressEntry,
    PlanStrategy,
    PlanTask,
)
from harbour.plan.reporting import (  # noqa: F401  (re-exported: the service's public face)
    changes_since,
    chart,
    current_fiscal_year,
    fiscal_year_or_422,
    get_strategy,
    iter_deliverables,
    list_strategies,
    status_summary,
)
from harbour.plan.schemas import IndicatorValueBody, ProgressCreate, ProgressUpdate, ReviewBody

REVIEWERS = frozenset({Role.plan_coordinator})
OVERSEERS = frozenset({Role.plan_coordinator, Role.admin})


def is_coordinator(db: Session, actor: Actor) -> bool:
    """The central plan coordinator: the role, and no department of one's own."""
    return actor.role in REVIEWERS and not departments_of(db, actor.id)


def is_overseer(db: Session, actor: Actor) -> bool:
    """Sees every department's submitted updates and flags: the coordinator, or an administrator."""
    return actor.role == Role.admin or is_coordinator(db, actor)


# -- departments and who speaks for them ----------------------------------------
def departments_of(db: Session, user_id: int | None) -> set[str]:
    if user_id is None:
        return set()
    return set(db.execute(select(PlanDepartmentMember.department_code)
                          .where(PlanDepartmentMember.user_id == user_id)).scalars())


def list_departments(db: Session) -> list[PlanDepartment]:
    return list(db.execute(select(PlanDepartment).order_by(PlanDepartment.code)).scalars())


def resolve_department(db: Session, code: str) -> PlanDepartment | None:
    """A department by code or by a former/alternate code (IRCC → CIC, WAGE → SWC, ...)."""
    dept = db.get(PlanDepartment, code)
    if dept is not None:
        return dept
    for d in list_departments(db):
        if code.upper() in {a.upper() for a in d.aliases} or code.upper() == d.code.upper():
            return d
    return None


@atomic
def add_member(db: Session, *, actor: Actor, user_id: int, department_code: str) -> PlanDepartmentMember:
    """Let a user speak for a department (administrators only: coordinators review, so they may not grant)."""
    ensure_role(actor, {Role.admin}, N_("Only an administrator can link people to departments."))
    user = db.get(User, user_id)
    if user is None or not user.is_active:
        raise NotFound(N_("No such active user."))
    dept = resolve_department(db, department_code)
    if dept is None:
        raise ValidationFailed(N_("Unknown department."), fields={"department": N_("Not a listed department.")})
    existing = db.execute(select(PlanDepartmentMember).where(PlanDepartmentMember.user_id == user_id,
                                                         PlanDepartmentMember.department_code == dept.code)).scalar_one_or_none()
    if existing is not None:
        return existing
    link = PlanDepartmentMember(user_id=user_id, department_code=dept.code, added_by_id=actor.id)
    db.add(link)
    db.flush()
    audit(db, actor, "grant", "plan_department_member", link.id, detail={"user": user_id, "department": dept.code})
    db.commit()
    return link


@atomic
def remove_member(db: Session, *, actor: Actor, user_id: int, department_code: str) -> bool:
    ensure_role(actor, {Role.admin}, N_("Only an administrator can link people to departments."))
    link = db.execute(select(PlanDepartmentMember).where(PlanDepartmentMember.user_id == user_id,
                                                     PlanDepartmentMember.department_code == department_code)).scalar_one_or_none()
    if link is None:
        return False
    audit(db, actor, "revoke", "plan_department_member", link.id, detail={"user": user_id, "department": department_code})
    db.delete(link)
    db.commit()
    return True


def list_members(db: Session) -> list[PlanDepartmentMember]:
    return list(db.execute(select(PlanDepartmentMember).order_by(PlanDepartmentMember.department_code,
                                                             PlanDepartmentMember.user_id)).scalars())


# -- deliverables --------------------------------------------------------------
def get_deliverable(db: Session, deliverable_id: int) -> PlanDeliverable:
    d = db.get(PlanDeliverable, deliverable_id)
    if d is None:
        raise NotFound()
    return d


def deliverable_context(db: Session, d: PlanDeliverable) -> dict:
    """Where a deliverable sits: strategy, pillar, objective and task (for pages and the API)."""
    task = d.task
    objective = task.objective
    pillar = objective.pillar
    strategy = db.get(PlanStrategy, d.strategy_id)
    return {"strategy": strategy, "pillar": pillar, "objective": objective, "task": task}


def my_deliverables(db: Session, *, actor: Actor, strategy_code: str | None = None) -> list[PlanDeliverable]:
    """Deliverables one of the actor's departments leads or partners on."""
    mine = departments_of(db, actor.id)
    if not mine:
        return []
    query = select(PlanDeliverable).join(PlanTask, PlanTask.id == PlanDeliverable.task_id).order_by(
        PlanDeliverable.strategy_id, PlanTask.position, PlanDeliverable.position)
    if strategy_code:
        query = query.where(PlanDeliverable.strategy_id == get_strategy(db, strategy_code).id)
    return [d for d in db.execute(query).scalars() if d.departments & mine]


# -- progress updates -------------------------------------------------------------
def _can_see_entry(db: Session, actor: Actor, entry: PlanProgressEntry) -> bool:
    if entry.state == ReviewState.approved:
        return True
    if entry.department_code in departments_of(db, actor.id):
        return True
    return entry.state != ReviewState.draft and is_overseer(db, actor)


def get_progress(db: Session, *, actor: Actor, entry_id: int) -> PlanProgressEntry:
    entry = db.get(PlanProgressEntry, entry_id)
    if entry is None or not _can_see_entry(db, actor, entry):
        raise NotFound()
    return entry


def list_progress(db: Session, *, actor: Actor, state: str | None = None, deliverable_id: int | None = None,
                  limit: int = 100, offset: int = 0) -> tuple[list[PlanProgressEntry], int]:
    """Updates the actor may see, newest first."""
    mine = departments_of(db, actor.id)
    visible = [PlanProgressEntry.state == ReviewState.approved.value]
    if mine:
        visible.append(PlanProgressEntry.department_code.in_(sorted(mine)))
    if is_overseer(db, actor):
        visible.append(PlanProgressEntry.state != ReviewState.draft.value)
    query = select(PlanProgressEntry).where(or_(*visible))
    if state:
        query = query.where(PlanProgressEntry.state == state)
    if deliverable_id:
        query = query.where(PlanProgressEntry.deliverable_id == deliverable_id)
    rows = list(db.execute(query.order_by(PlanProgressEntry.updated_at.desc(), PlanProgressEntry.id.desc())).scalars())
    return rows[offset:offset + limit], len(rows)


def _writing_department(db: Session, actor: Actor, d: PlanDeliverable, wanted: str | None) -> str:
    mine = departments_of(db, actor.id)
    allowed = mine & d.departments
    if not allowed:
        raise Forbidden(N_("Your department does not lead or partner on this deliverable."))
    if wanted is not None:
        if wanted not in allowed:
            raise Forbidden(N_("You do not speak for that department on this deliverable."))
        return wanted
    leads = [c for c in d.lead_departments if c in allowed]
    return leads[0] if leads else sorted(allowed)[0]


def _check_year(db: Session, d: PlanDeliverable, fiscal_year: str) -> None:
    strategy = db.get(PlanStrategy, d.strategy_id)
    if fiscal_year > current_fiscal_year():
        raise ValidationFailed(N_("Updates cannot be written for a fiscal year that has not started."),
                               fields={"fiscal_year": N_("Choose this fiscal year or an earlier one.")})
    if strategy.start_fiscal_year and fiscal_year < strategy.start_fiscal_year:
        raise ValidationFailed(N_("That fiscal year is before the plan started."),
                               fields={"fiscal_year": N_("Choose a fiscal year the plan covers.")})


@atomic
def create_progress(db: Session, *, actor: Actor, deliverable_id: int, data: ProgressCreate) -> PlanProgressEntry:
    """A department lead's update: saved as a draft, or sent for review when ``data.submit``."""
    d = get_deliverable(db, deliverable_id)
    department = _writing_department(db, actor, d, data.department)
    _check_year(db, d, data.fiscal_year)
    now = utcnow()
    entry = PlanProgressEntry(
        deliverable_id=d.id, department_code=department, fiscal_year=data.fiscal_year,
        entry_date=data.entry_date or now.date(), narrative_en=data.narrative_en, narrative_fr=data.narrative_fr,
        evidence_links=data.evidence_links, proposed_status=data.proposed_status.value if data.proposed_status else None,
        state=ReviewState.submitted.value if data.submit else ReviewState.draft.value, author_id=actor.id,
        submitted_at=now if data.submit else None, created_at=now, updated_at=now,
    )
    db.add(entry)
    db.flush()
    audit(db, actor, "create", "plan_progress", entry.id,
          detail={"deliverable": d.id, "department": department, "fiscal_year": entry.fiscal_year,
                  "state": entry.state, "proposed_status": entry.proposed_status})
    db.commit()
    return entry


def console_departments(db: Session, *, actor: Actor) -> set[str]:
    """The departments the actor speaks for; refuses people who are neither coordinator nor department lead."""
    mine = departments_of(db, actor.id)
    if not mine and not is_overseer(db, actor):
        raise Forbidden(N_("The plan console is for the plan coordinator and department leads."))
    return mine


def may_review(db: Session, actor: Actor, entry: PlanProgressEntry) -> bool:
    """What review_progress allows: the coordinator, on someone else's update waiting for review."""
    return entry.state == ReviewState.submitted and is_coordinator(db, actor) and entry.author_id != actor.id


def may_edit(db: Session, actor: Actor, entry: PlanProgressEntry) -> bool:
    """What _editable allows: the writing department, while the update is a draft."""
    return entry.state == ReviewState.draft and entry.department_code in departments_of(db, actor.id)


def _editable(db: Session, actor: Actor, entry_id: int) -> PlanProgressEntry:
    entry = get_progress(db, actor=actor, entry_id=entry_id)
    if entry.department_code not in departments_of(db, actor.id):
        raise Forbidden(N_("Only the department that wrote this update can change it."))
    if entry.state != ReviewState.draft:
        raise Conflict(N_("Only a draft can be changed; this update has already been sent for review."))
    return entry


@atomic
def update_progress(db: Session, *, actor: Actor, entry_id: int, data: ProgressUpdate) -> PlanProgressEntry:
    entry = _editable(db, actor, entry_id)
    changes = data.model_dump(exclude_unset=True)
    if "fiscal_year" in changes and changes["fiscal_year"] is not None:
        _check_year(db, entry.deliverable, changes["fiscal_year"])
    elif "fiscal_year" in changes:
        changes.pop("fiscal_year")
    if "proposed_status" in changes and changes["proposed_status"] is not None:
        changes["proposed_status"] = str(changes["proposed_status"])
    if "entry_date" in changes and changes["entry_date"] is None:
        changes.pop("entry_date")
    for field, value in changes.items():
        setattr(entry, field, value)
    if not (entry.narrative_en or entry.narrative_fr):
        raise ValidationFailed(N_("Write the update in English or French."),
                               fields={"narrative_en": N_("This field is required.")})
    entry.updated_at = utcnow()
    audit(db, actor, "update", "plan_progress", entry.id, detail={"fields": sorted(changes)})
    commit_or_conflict(db)
    return entry


@atomic
def submit_progress(db: Session, *, actor: Actor, entry_id: int) -> PlanProgressEntry:
    entry = _editable(db, actor, entry_id)
    now = utcnow()
    entry.state, entry.submitted_at, entry.updated_at = ReviewState.submitted.value, now, now
    audit(db, actor, "submit", "plan_progress", entry.id, detail={"deliverable": entry.deliverable_id})
    commit_or_conflict(db)
    return entry


def _record_status(db: Session, d: PlanDeliverable, *, fiscal_year: str, status: str, status_text: str | None,
                   source: StatusSource, entry_id: int | None = None) -> str | None:
    """Set the deliverable's status for one fiscal year, then recompute its current status.  Returns the old one."""
    rec = db.execute(select(PlanDeliverableStatusRecord).where(PlanDeliverableStatusRecord.deliverable_id == d.id,
                                                           PlanDeliverableStatusRecord.fiscal_year == fiscal_year)
                     ).scalar_one_or_none()
    if rec is None:
        rec = PlanDeliverableStatusRecord(deliverable_id=d.id, fiscal_year=fiscal_year)
        db.add(rec)
    rec.status, rec.status_text, rec.source, rec.progress_entry_id = status, status_text, source.value, entry_id
    rec.recorded_at = utcnow()
    db.flush()
    latest = db.execute(select(PlanDeliverableStatusRecord).where(PlanDeliverableStatusRecord.deliverable_id == d.id)
                        .order_by(PlanDeliverableStatusRecord.fiscal_year.desc()).limit(1)).scalar_one()
    old = d.status
    d.status, d.status_text, d.status_fiscal_year = latest.status, latest.status_text, latest.fiscal_year
    d.updated_at = utcnow()
    return old


def _status_in_year(db: Session, d: PlanDeliverable, fiscal_year: str) -> tuple[str | None, bool]:
    """(status as of that year, whether that year already has its own record)."""
    rows = db.execute(select(PlanDeliverableStatusRecord).where(PlanDeliverableStatusRecord.deliverable_id == d.id,
                                                            PlanDeliverableStatusRecord.fiscal_year <= fiscal_year)
                      .order_by(PlanDeliverableStatusRecord.fiscal_year.desc()).limit(1)).scalars().all()
    if not rows:
        return (d.status if d.status_fiscal_year is None else None), False
    return rows[0].status, rows[0].fiscal_year == fiscal_year


@atomic
def review_progress(db: Session, *, actor: Actor, entry_id: int, data: ReviewBody) -> PlanProgressEntry:
    """The coordinator approves (publishes) or returns a submitted update."""
    ensure_role(actor, REVIEWERS, N_("Only the plan coordinator reviews updates."))
    if not is_coordinator(db, actor):
        raise Forbidden(N_("Department leads do not review updates; the plan coordinator does."))
    entry = get_progress(db, actor=actor, entry_id=entry_id)
    if entry.state != ReviewState.submitted:
        raise Conflict(N_("Only an update waiting for review can be approved or returned."))
    d = entry.deliverable
    if entry.author_id == actor.id:
        raise Forbidden(N_("Nobody reviews their own update."))
    now = utcnow()
    entry.reviewer_id, entry.reviewed_at, entry.reviewer_note, entry.updated_at = actor.id, now, data.note, now
    if data.decision == ReviewDecision.reject:
        if not data.note:
            raise ValidationFailed(N_("Say why the update is returned, so the department can fix it."),
                                   fields={"note": N_("This field is required.")})
        entry.state = ReviewState.rejected.value
        audit(db, actor, "reject", "plan_progress", entry.id, detail={"deliverable": d.id})
        commit_or_conflict(db)
        return entry
    entry.state = ReviewState.approved.value
    audit(db, actor, "approve", "plan_progress", entry.id,
          detail={"deliverable": d.id, "proposed_status": entry.proposed_status, "fiscal_year": entry.fiscal_year})
    year_status, has_own = _status_in_year(db, d, entry.fiscal_year)
    new_status = entry.proposed_status or (None if has_own else year_status)
    if new_status is not None:
        old = _record_status(db, d, fiscal_year=entry.fiscal_year, status=new_status, status_text=None,
                             source=StatusSource.progress, entry_id=entry.id)
        if old != d.status:
            audit(db, actor, "status", "plan_deliverable", d.id,
                  detail={"from": old, "to": d.status, "fiscal_year": entry.fiscal_year, "progress": entry.id})
    commit_or_conflict(db)
    return entry


def review_queue(db: Session, *, actor: Actor) -> list[PlanProgressEntry]:
    if not is_overseer(db, actor):
        raise Forbidden(N_("Only the plan coordinator reviews updates."))
    return list(db.execute(select(PlanProgressEntry).where(PlanProgressEntry.state == ReviewState.submitted.value)
                           .order_by(PlanProgressEntry.submitted_at, PlanProgressEntry.id)).scalars())


# -- flags ----------------------------------------------------------------------------
def flags(db: Session, *, actor: Actor, strategy_code: str, fiscal_year: str | None = None,
          department: str | None = None) -> list[dict]:
    """Deliverables needing attention in a fiscal year (default: the current one).

    The coordinator sees every department; a department lead sees their own departments only.
    """
    fiscal_year = fiscal_year_or_422(fiscal_year) or current_fiscal_year()
    mine = departments_of(db, actor.id)
    overseer = is_overseer(db, actor)
    if not overseer and not mine:
        raise Forbidden(N_("Flags are for the plan coordinator and department leads."))
    strategy = get_strategy(db, strategy_code)
    grouped = chart(db, strategy_code, fiscal_year)
    approved_years = set(db.execute(
        select(PlanProgressEntry.deliverable_id).join(PlanDeliverable, PlanDeliverable.id == PlanProgressEntry.deliverable_id)
        .where(PlanDeliverable.strategy_id == strategy.id, PlanProgressEntry.state == ReviewState.approved.value,
               PlanProgressEntry.fiscal_year == fiscal_year)).scalars())
    out = []
    for p, o, t, d in iter_deliverables(grouped):
        depts = set(d["leads"]) | set(d["partners"])
        if department and department not in depts:
            continue
        if not overseer and not depts & mine:
            continue
        reasons = []
        if d["overdue"]:
            reasons.append(Flag.overdue.value)
        if d["status"] != DeliverableStatus.complete and d["status_fiscal_year"] != fiscal_year \
                and d["id"] not in approved_years:
            reasons.append(Flag.no_update.value)
        if reasons:
            out.append({"deliverable": d, "pillar": p["code"], "objective": o["number"], "task": t["number"],
                        "flags": reasons})
    return out


# -- indicators ---------------------------------------------------------------------
@atomic
def set_indicator_value(db: Session, *, actor: Actor, indicator_id: int, fiscal_year: str,
                        data: IndicatorValueBody) -> PlanIndicatorValue:
    if not is_coordinator(db, actor):
        raise Forbidden(N_("Only the plan coordinator records indicator values."))
    fiscal_year = fiscal_year_or_422(fiscal_year)
    indicator = db.get(PlanIndicator, indicator_id)
    if indicator is None:
        raise NotFound()
    value = db.execute(select(PlanIndicatorValue).where(PlanIndicatorValue.indicator_id == indicator.id,
                                                    PlanIndicatorValue.fiscal_year == fiscal_year)).scalar_one_or_none()
    if value is None:
        value = PlanIndicatorValue(indicator_id=indicator.id, fiscal_year=fiscal_year)
        db.add(value)
    changes = data.model_dump(exclude_unset=True)
    for field, v in changes.items():
        setattr(value, field, v)
    value.updated_at = utcnow()
    db.flush()
    audit(db, actor, "update", "plan_indicator", indicator.id,
          detail={"fiscal_year": fiscal_year, "fields": sorted(changes)})
    db.commit()
    return value
