"""Agencies (tenants) and their members: administrators manage both; every change is audited."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.choices import Role
from harbour.core.errors import NotFound, ValidationFailed
from harbour.core.i18n import N_
from harbour.core.models import User
from harbour.core.security import ensure_role
from harbour.sharing.models import Agency, AgencyMembership
from harbour.sharing.schemas import AgencyCreate

ADMINS = {Role.admin}


def list_agencies(db: Session, *, active_only: bool = False) -> list[Agency]:
    """Agency names and contacts are not secret: every member may see the directory of agencies."""
    query = select(Agency).order_by(Agency.name)
    if active_only:
        query = query.where(Agency.active.is_(True))
    return list(db.execute(query).scalars())


def get_agency(db: Session, code: str) -> Agency:
    agency = db.execute(select(Agency).where(Agency.code == code)).scalar_one_or_none()
    if agency is None:
        raise NotFound(N_("No such agency."))
    return agency


def create_agency(db: Session, *, actor: Actor, data: AgencyCreate) -> Agency:
    ensure_role(actor, ADMINS)
    if db.execute(select(Agency.id).where(Agency.code == data.code)).first():
        raise ValidationFailed(N_("An agency with this code exists already."), fields={"code": N_("Already in use.")})
    agency = Agency(**data.model_dump(mode="json"))
    db.add(agency)
    db.flush()
    audit(db, actor, "create", "sharing_agency", agency.id, detail={"code": agency.code, "kind": agency.kind})
    return agency


def update_agency(db: Session, *, actor: Actor, code: str, data: AgencyCreate) -> Agency:
    ensure_role(actor, ADMINS)
    agency = get_agency(db, code)
    if data.code != code:
        raise ValidationFailed(N_("An agency's code cannot change."), fields={"code": N_("Cannot change.")})
    changed = []
    for field, value in data.model_dump(mode="json").items():
        if getattr(agency, field) != value:
            setattr(agency, field, value)
            changed.append(field)
    audit(db, actor, "update", "sharing_agency", agency.id, detail={"fields": changed})
    return agency


def set_agency_active(db: Session, *, actor: Actor, code: str, active: bool) -> Agency:
    ensure_role(actor, ADMINS)
    agency = get_agency(db, code)
    agency.active = active
    audit(db, actor, "update", "sharing_agency", agency.id, detail={"active": active})
    return agency


def members(db: Session, *, agency_id: int) -> list[User]:
    return list(db.execute(select(User).join(AgencyMembership, AgencyMembership.user_id == User.id)
                           .where(AgencyMembership.agency_id == agency_id).order_by(User.username)).scalars())


def member_counts(db: Session) -> dict[int, int]:
    rows = db.execute(select(AgencyMembership.agency_id, func.count()).group_by(AgencyMembership.agency_id)).all()
    return {agency_id: count for agency_id, count in rows}


def add_member(db: Session, *, actor: Actor, code: str, username: str) -> AgencyMembership:
    """Make a user a member of an agency (moving them if they belonged to another one)."""
    ensure_role(actor, ADMINS)
    agency = get_agency(db, code)
    user = db.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        raise NotFound(N_("No such user."))
    membership = db.execute(select(AgencyMembership).where(AgencyMembership.user_id == user.id)).scalar_one_or_none()
    previous = None
    if membership is None:
        membership = AgencyMembership(user_id=user.id, agency_id=agency.id, created_by_id=actor.id)
        db.add(membership)
    else:
        previous = membership.agency_id
        membership.agency_id = agency.id
        membership.created_by_id = actor.id
    db.flush()
    audit(db, actor, "update", "sharing_membership", user.id,
          detail={"agency": agency.id, "previous_agency": previous})
    return membership


def remove_member(db: Session, *, actor: Actor, code: str, username: str) -> None:
    ensure_role(actor, ADMINS)
    agency = get_agency(db, code)
    user = db.execute(select(User).where(User.username == username)).scalar_one_or_none()
    membership = None if user is None else db.execute(
        select(AgencyMembership).where(AgencyMembership.user_id == user.id,
                                       AgencyMembership.agency_id == agency.id)).scalar_one_or_none()
    if membership is None:
        raise NotFound(N_("This user is not a member of that agency."))
    db.delete(membership)
    audit(db, actor, "delete", "sharing_membership", user.id, detail={"agency": agency.id})
