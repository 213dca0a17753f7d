"""Data-sharing agreements: recorded and changed by administrators, read by their parties' members.

Status changes take effect at once: the access gate (:mod:`harbour.sharing.access`) reads the agreement
on every cross-agency access, so suspending or revoking one (or its end date passing) cuts access in
the same moment, including hits already delivered and disclosures already approved.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.choices import Role
from harbour.core.db import utcnow
from harbour.core.errors import Forbidden, NotFound, ValidationFailed
from harbour.core.i18n import N_
from harbour.core.security import ensure_role
from harbour.sharing import access
from harbour.sharing.agencies import get_agency
from harbour.sharing.models import Agreement, AgreementParty
from harbour.sharing.schemas import AgreementCreate, AgreementRead, AgreementStatusBody

# Which stored status may follow which (expired is computed from the dates, never stored).
TRANSITIONS = {
    "draft": {"active", "revoked"},
    "active": {"suspended", "revoked"},
    "suspended": {"active", "revoked"},
    "revoked": set(),
}


def create_agreement(db: Session, *, actor: Actor, data: AgreementCreate) -> Agreement:
    ensure_role(actor, {Role.admin})
    if db.execute(select(Agreement.id).where(Agreement.reference == data.reference)).first():
        raise ValidationFailed(N_("An agreement with this reference exists already."),
                               fields={"reference": N_("Already in use.")})
    agreement = Agreement(
        reference=data.reference, title=data.title, legal_basis=data.legal_basis,
        categories=[c.value for c in data.categories], purposes=[p.value for p in data.purposes],
        disclosure_level=data.disclosure_level.value, starts_on=data.starts_on, ends_on=data.ends_on,
        status="active" if data.activate else "draft", created_by_id=actor.id,
        status_changed_at=utcnow() if data.activate else None,
    )
    for party in data.parties:
        agency = get_agency(db, party.agency)
        agreement.parties.append(AgreementParty(agency_id=agency.id, provides=party.provides, receives=party.receives))
    db.add(agreement)
    db.flush()
    audit(db, actor, "create", "sharing_agreement", agreement.id,
          detail={"reference": agreement.reference, "status": agreement.status, "level": agreement.disclosure_level,
                  "parties": [p.agency_id for p in agreement.parties]})
    if agreement.status == "active":
        _deliver_waiting_hits(db)
    return agreement


def set_status(db: Session, *, actor: Actor, agreement_id: int, data: AgreementStatusBody) -> Agreement:
    ensure_role(actor, {Role.admin})
    agreement = db.get(Agreement, agreement_id)
    if agreement is None:
        raise NotFound(N_("No such agreement."))
    if data.status == agreement.status:
        return agreement
    if data.status not in TRANSITIONS[agreement.status]:
        raise ValidationFailed(N_("An agreement cannot go from %(old)s to %(new)s."), old=agreement.status,
                               new=data.status)
    if data.status in ("suspended", "revoked") and not data.reason:
        raise ValidationFailed(N_("Give a reason for suspending or revoking an agreement."),
                               fields={"reason": N_("This field is required.")})
    old = agreement.status
    agreement.status = data.status
    agreement.status_reason = data.reason
    agreement.status_changed_at = agreement.updated_at = utcnow()
    audit(db, actor, "update", "sharing_agreement", agreement.id, detail={"status": data.status, "previous": old})
    if agreement.status == "active":
        _deliver_waiting_hits(db)
    return agreement


def _deliver_waiting_hits(db: Session) -> None:
    """Matches found before this agreement was in force become hits now."""
    from harbour.sharing.linking import refresh_hits

    refresh_hits(db)


def _visible(db: Session, actor: Actor) -> set[int] | None:
    """None: every agreement (administrators); else the ids of agreements the actor's agency is party to."""
    if actor.role == Role.admin:
        return None
    agency = access.agency_of(db, actor)
    if agency is None:
        raise Forbidden(N_("You are not a member of an active agency."))
    return set(db.execute(select(AgreementParty.agreement_id).where(AgreementParty.agency_id == agency.id)).scalars())


def list_agreements(db: Session, *, actor: Actor) -> list[Agreement]:
    visible = _visible(db, actor)
    query = select(Agreement).order_by(Agreement.starts_on.desc(), Agreement.id.desc())
    if visible is not None:
        query = query.where(Agreement.id.in_(visible or {0}))
    return list(db.execute(query).scalars())


def get_agreement(db: Session, *, actor: Actor, agreement_id: int) -> Agreement:
    visible = _visible(db, actor)
    agreement = db.get(Agreement, agreement_id)
    if agreement is None or (visible is not None and agreement.id not in visible):
        raise NotFound(N_("No such agreement."))
    return agreement


def as_read(agreement: Agreement) -> AgreementRead:
    return AgreementRead(
        id=agreement.id, reference=agreement.reference, title=agreement.title, legal_basis=agreement.legal_basis,
        parties=[{"agency": p.agency.code, "name": p.agency.name, "provides": p.provides, "receives": p.receives}
                 for p in agreement.parties],
        categories=agreement.categories, purposes=agreement.purposes, disclosure_level=agreement.disclosure_level,
        starts_on=agreement.starts_on, ends_on=agreement.ends_on, status=agreement.status,
        effective_status=access.effective_status(agreement), status_reason=agreement.status_reason,
    )
