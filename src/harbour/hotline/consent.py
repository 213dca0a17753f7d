"""Consent rules: purpose-specific, time-limited, revocable; imminent-danger overrides.

``require()`` is the one gate every consent-dependent action calls (referrals,
sharing with law enforcement, follow-up contact, statistics).  It refuses; it
never merely warns.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbour.core import timezones
from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.choices import HOTLINE_ROLES, Role
from harbour.core.db import atomic, utcnow
from harbour.core.errors import Conflict, ConsentRequired, NotFound, ValidationFailed
from harbour.core.i18n import N_
from harbour.core.security import ensure_role
from harbour.hotline.choices import ConsentPurpose, EventKind
from harbour.hotline.models import Case, CaseEvent, Consent, ConsentOverride
from harbour.hotline.schemas import ConsentCreate, ConsentRevoke, OverrideDecision, OverrideRequest


def _staff(actor: Actor) -> None:
    ensure_role(actor, HOTLINE_ROLES, N_("Only hotline staff can work with hotline records."))


def _event(db: Session, case_id: int, actor: Actor, kind: EventKind, **data) -> None:
    db.add(CaseEvent(case_id=case_id, kind=kind.value, actor_id=actor.id, data=data, at=utcnow()))


def _case(db: Session, case_id: int) -> Case:
    case = db.get(Case, case_id)
    if case is None:
        raise NotFound()
    return case


@atomic
def basis(db: Session, *, case: Case, purpose: ConsentPurpose | str, at: datetime | None = None) -> dict | None:
    """The active consent or signed-off override for this purpose, or None."""
    at = at or utcnow()
    purpose = str(purpose)
    for c in db.execute(select(Consent).where(Consent.case_id == case.id, Consent.purpose == purpose)
                        .order_by(Consent.given_at.desc())).scalars():
        if c.is_active(at):
            return {"type": "consent", "id": c.id}
    for o in db.execute(select(ConsentOverride).where(ConsentOverride.case_id == case.id,
                                                      ConsentOverride.purpose == purpose)).scalars():
        if o.is_active(at):
            return {"type": "override", "id": o.id}
    return None


@atomic
def require(db: Session, *, case: Case, purpose: ConsentPurpose | str) -> dict:
    """Refuse unless the survivor's consent (or a signed-off override) covers this purpose now."""
    found = basis(db, case=case, purpose=purpose)
    if found is None:
        raise ConsentRequired(
            N_("Refused: there is no current consent for %(purpose)s on this case."),
            purpose=ConsentPurpose(str(purpose)).label,
        )
    return found


@atomic
def record_consent(db: Session, *, actor: Actor, case_id: int, data: ConsentCreate) -> Consent:
    _staff(actor)
    case = _case(db, case_id)
    given = data.given_at or utcnow()
    if data.expires_at is not None and data.expires_at <= given:
        raise ValidationFailed(N_("Consent must expire after it was given."),
                               fields={"expires_at": N_("Must be later than the time consent was given.")})
    consent = Consent(case_id=case.id, purpose=data.purpose.value, method=data.method.value, given_at=given,
                      expires_at=data.expires_at, note=data.note, recorded_by_id=actor.id)
    db.add(consent)
    db.flush()
    _event(db, case.id, actor, EventKind.consent_recorded, consent_id=consent.id, purpose=consent.purpose,
           expires=timezones.utc_iso(consent.expires_at) if consent.expires_at else None)
    audit(db, actor, "create", "consent", consent.id, purpose="case_management",
          detail={"case": case.id, "purpose": consent.purpose, "method": consent.method})
    db.commit()
    return consent


@atomic
def revoke_consent(db: Session, *, actor: Actor, consent_id: int, data: ConsentRevoke) -> Consent:
    _staff(actor)
    consent = db.get(Consent, consent_id)
    if consent is None:
        raise NotFound()
    if consent.revoked_at is not None:
        raise Conflict(N_("This consent was already revoked."))
    consent.revoked_at, consent.revoked_by_id, consent.revoke_reason = utcnow(), actor.id, data.reason
    _event(db, consent.case_id, actor, EventKind.consent_revoked, consent_id=consent.id, purpose=consent.purpose)
    audit(db, actor, "update", "consent", consent.id, purpose="case_management",
          detail={"fields": ["revoked_at"], "purpose": consent.purpose})
    db.commit()
    return consent


@atomic
def consent_summary(db: Session, *, case: Case) -> list[dict]:
    """One row per purpose: what currently covers it, for the case page."""
    now = utcnow()
    rows = []
    for purpose in ConsentPurpose:
        rows.append({"purpose": purpose, "basis": basis(db, case=case, purpose=purpose, at=now)})
    return rows


# -- imminent-danger override ----------------------------------------------
@atomic
def request_override(db: Session, *, actor: Actor, case_id: int, data: OverrideRequest) -> ConsentOverride:
    _staff(actor)
    case = _case(db, case_id)
    ov = ConsentOverride(case_id=case.id, purpose=data.purpose.value, reason=data.reason, requested_by_id=actor.id,
                         requested_at=utcnow())
    db.add(ov)
    db.flush()
    _event(db, case.id, actor, EventKind.override_requested, override_id=ov.id, purpose=ov.purpose)
    audit(db, actor, "create", "consent_override", ov.id, purpose="emergency",
          detail={"case": case.id, "purpose": ov.purpose})
    db.commit()
    return ov


def may_decide(actor: Actor, override: ConsentOverride) -> bool:
    """Whether ``actor`` may sign off (or refuse) ``override``: a supervisor other than the requester (the rule
    :func:`decide_override` enforces; pages ask this instead of comparing roles)."""
    return actor.role == Role.hotline_supervisor and override.requested_by_id != actor.id


@atomic
def decide_override(db: Session, *, actor: Actor, override_id: int, data: OverrideDecision) -> ConsentOverride:
    """A supervisor other than the requester signs off (or refuses); approval lasts at most 72 hours."""
    ensure_role(actor, {Role.hotline_supervisor}, N_("Only a supervisor can sign off an override."))
    ov = db.get(ConsentOverride, override_id)
    if ov is None:
        raise NotFound()
    if ov.decided_at is not None:
        raise Conflict(N_("This override was already decided."))
    if ov.requested_by_id == actor.id:
        raise ValidationFailed(N_("Another supervisor must sign off an override you requested."))
    now = utcnow()
    ov.decided_by_id, ov.decided_at, ov.approved = actor.id, now, data.approve
    ov.expires_at = now + timedelta(hours=data.hours) if data.approve else None
    kind = EventKind.override_approved if data.approve else EventKind.override_refused
    _event(db, ov.case_id, actor, kind, override_id=ov.id, purpose=ov.purpose,
           expires=timezones.utc_iso(ov.expires_at) if ov.expires_at else None)
    audit(db, actor, "update", "consent_override", ov.id, purpose="emergency",
          detail={"approved": data.approve, "hours": data.hours if data.approve else 0})
    db.commit()
    return ov


@atomic
def pending_overrides(db: Session) -> list[ConsentOverride]:
    return list(db.execute(select(ConsentOverride).where(ConsentOverride.decided_at.is_(None))
                           .order_by(ConsentOverride.requested_at)).scalars())
