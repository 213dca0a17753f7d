"""The one access gate for cross-agency reads, and who a viewer is.

Every service function that shows one agency's records to a member of another agency calls
:func:`require` first.  It finds the agreements in force *today* between the two agencies that cover
the record category and the stated purpose, returns the highest disclosure level among them, tells
row-level security (PostgreSQL) that this transaction may read the owner's records, and writes an
audit entry with the purpose.  No agreement, a draft, suspended, revoked or expired one, a purpose or
category it does not list, or a party that does not provide/receive: refused (403), nothing read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.db import utcnow
from harbour.core.errors import Forbidden, ValidationFailed
from harbour.core.i18n import N_
from harbour.sharing import rls
from harbour.sharing.choices import LEVEL_RANK, RECORD_ROLES, DisclosureLevel, Purpose, RecordCategory
from harbour.sharing.models import Agency, AgencyMembership, Agreement, AgreementParty


def today() -> date:
    return utcnow().date()


def effective_status(agreement: Agreement, on: date | None = None) -> str:
    """draft / active / suspended / revoked as stored, except that an active agreement whose end date has
    passed is ``expired`` and one whose start date has not come is ``not_started``."""
    on = on or today()
    if agreement.status == "active":
        if agreement.ends_on is not None and agreement.ends_on < on:
            return "expired"
        if agreement.starts_on > on:
            return "not_started"
    return agreement.status


# -- who is asking ----------------------------------------------------------------------------------
def agency_of(db: Session, user) -> Agency | None:
    """The agency a user (a User, an Actor or a user id) belongs to, or None."""
    user_id = user if isinstance(user, int) else getattr(user, "id", None)
    if user_id is None:
        return None
    membership = db.execute(select(AgencyMembership).where(AgencyMembership.user_id == user_id)).scalar_one_or_none()
    return membership.agency if membership is not None else None


@dataclass(frozen=True)
class Viewer:
    actor: Actor
    agency_id: int
    agency_code: str

    @property
    def role(self) -> str | None:
        return self.actor.role


def viewer(db: Session, actor: Actor, *, roles=RECORD_ROLES) -> Viewer:
    """The acting member of an agency; binds the session to that agency (row-level security).
    Refuses users without an agency or whose role does not work with agency records."""
    if actor.role not in roles:
        raise Forbidden(N_("Your role does not allow this."))
    agency = agency_of(db, actor)
    if agency is None or not agency.active:
        raise Forbidden(N_("You are not a member of an active agency."))
    rls.act_as(db, agency.id)
    return Viewer(actor, agency.id, agency.code)


def system_viewer(db: Session, actor: Actor, agency_code: str) -> Viewer:
    """A server-side actor (the command line, an import job: ``actor.id is None``) acting for one agency."""
    if actor.id is not None:
        raise Forbidden(N_("Your role does not allow this."))
    agency = db.execute(select(Agency).where(Agency.code == agency_code)).scalar_one_or_none()
    if agency is None or not agency.active:
        raise Forbidden(N_("You are not a member of an active agency."))
    rls.act_as(db, agency.id)
    return Viewer(actor, agency.id, agency.code)


# -- agreements in force --------------------------------------------------------------------------------
def check_purpose(purpose: str) -> str:
    if purpose not in Purpose.codes():
        raise ValidationFailed(N_("State a purpose from the list."), fields={"purpose": N_("Choose one of the listed options.")})
    return purpose


def _check_vocab(category: str, purpose: str) -> None:
    if category not in RecordCategory.codes():
        raise ValidationFailed(N_("Unknown record category."), fields={"category": N_("Choose one of the listed options.")})
    check_purpose(purpose)


def purposes_in_force(db: Session, agency_id: int) -> list[str]:
    """Purposes listed by the agreements in force in which the agency receives: what its members may state."""
    receives = select(AgreementParty.agreement_id).where(AgreementParty.agency_id == agency_id,
                                                         AgreementParty.receives.is_(True))
    found: set[str] = set()
    for agreement in db.execute(select(Agreement).where(Agreement.id.in_(receives))).scalars():
        if effective_status(agreement) == "active":
            found |= set(agreement.purposes)
    return [p for p in Purpose.codes() if p in found]


def agreements_between(db: Session, viewer_agency_id: int, owner_agency_id: int) -> list[Agreement]:
    """Every agreement (any status) in which the viewer receives and the owner provides."""
    viewer_party = select(AgreementParty.agreement_id).where(AgreementParty.agency_id == viewer_agency_id,
                                                             AgreementParty.receives.is_(True))
    owner_party = select(AgreementParty.agreement_id).where(AgreementParty.agency_id == owner_agency_id,
                                                            AgreementParty.provides.is_(True))
    return list(db.execute(select(Agreement).where(Agreement.id.in_(viewer_party), Agreement.id.in_(owner_party))
                           .order_by(Agreement.id)).scalars())


def best_agreement(db: Session, viewer_agency_id: int, owner_agency_id: int, category: str, purpose: str,
                   *, on: date | None = None) -> Agreement | None:
    """The in-force agreement with the highest disclosure level covering ``category`` for ``purpose``."""
    best = None
    for agreement in agreements_between(db, viewer_agency_id, owner_agency_id):
        if effective_status(agreement, on) != "active":
            continue
        if category not in agreement.categories or purpose not in agreement.purposes:
            continue
        if best is None or LEVEL_RANK[agreement.disclosure_level] > LEVEL_RANK[best.disclosure_level]:
            best = agreement
    return best


def level(db: Session, viewer_agency_id: int, owner_agency_id: int, category: str, purpose: str,
          *, on: date | None = None) -> DisclosureLevel | None:
    """The disclosure level in force, or None (no access).  Reads nothing of the owner's; audits nothing."""
    _check_vocab(category, purpose)
    if viewer_agency_id == owner_agency_id:
        return DisclosureLevel.full
    agreement = best_agreement(db, viewer_agency_id, owner_agency_id, category, purpose, on=on)
    return DisclosureLevel(agreement.disclosure_level) if agreement else None


def any_level(db: Session, viewer_agency_id: int, owner_agency_id: int, category: str,
              *, on: date | None = None) -> DisclosureLevel | None:
    """The highest level in force for ``category`` whatever the purpose (used to decide whether a hit exists)."""
    if viewer_agency_id == owner_agency_id:
        return DisclosureLevel.full
    best = None
    for agreement in agreements_between(db, viewer_agency_id, owner_agency_id):
        if effective_status(agreement, on) == "active" and category in agreement.categories:
            if best is None or LEVEL_RANK[agreement.disclosure_level] > LEVEL_RANK[best]:
                best = agreement.disclosure_level
    return DisclosureLevel(best) if best else None


def require(db: Session, viewer_agency_id: int, owner_agency_id: int, category: str, purpose: str, *,
            actor: Actor | None = None, record_type: str | None = None, record_id: object | None = None,
            minimum: str = "hit", on: date | None = None) -> DisclosureLevel:
    """THE gate.  Returns the effective disclosure level for ``viewer`` reading ``owner``'s ``category``
    records for ``purpose``; raises Forbidden when no agreement in force allows it (or allows less than
    ``minimum``).  On success the owner's records become readable in this transaction (PostgreSQL RLS)
    and, when ``actor`` is given, the access is audited with its purpose."""
    _check_vocab(category, purpose)
    if viewer_agency_id == owner_agency_id:
        found, agreement = DisclosureLevel.full, None
    else:
        agreement = best_agreement(db, viewer_agency_id, owner_agency_id, category, purpose, on=on)
        if agreement is None:
            raise Forbidden(N_("No data-sharing agreement in force allows this access for that purpose."))
        found = DisclosureLevel(agreement.disclosure_level)
        if LEVEL_RANK[found] < LEVEL_RANK[minimum]:
            raise Forbidden(N_("The data-sharing agreement does not allow this much disclosure."))
        rls.grant_read(db, owner_agency_id)
    if actor is not None:
        audit(db, actor, "read", record_type or f"sharing_{category}", record_id, purpose=purpose,
              detail={"owner_agency": owner_agency_id, "viewer_agency": viewer_agency_id, "level": found.value,
                      "category": category, "agreement": agreement.id if agreement else None})
    return found
