"""Referrals: from a hotline case to vetted services, answered by the provider, on the case timeline.

Rules (enforced here, never in routes or templates):
- only hotline staff send, list (per case) and revoke referrals;
- a referral needs the survivor's current referral consent or a signed-off imminent-danger
  override; the gate is checked before anything is written, and it refuses, it does not warn;
- only active services of currently vetted providers receive referrals;
- the advocate chooses which fields go with it (``SharedField``); exactly those values are
  stored (encrypted) and nothing else of the case is ever shown to the provider; after a
  revoke the provider no longer sees them either;
- provider staff see and answer only referrals to their own organisation (others: 404);
- sent → accepted | declined | revoked; accepted → completed | revoked; the rest are final (409).
Every step writes an audit entry (purpose "referral", codes and ids only) and a timeline
event on the case, in one transaction.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.choices import HOTLINE_ROLES
from harbour.core.config import get_settings
from harbour.core.db import atomic, commit_or_conflict, utcnow
from harbour.core.errors import Conflict, NotFound, ValidationFailed
from harbour.core.i18n import N_
from harbour.core.security import ensure_role
from harbour.directory import service as directory
from harbour.directory.choices import FEATURE_TAXONOMY, Feature, ReferralStatus, ServiceStatus, SharedField
from harbour.directory.models import Attribute, Organization, Referral, Service
from harbour.directory.schemas import ReferralComplete, ReferralCreate, ReferralDecline, ReferralRead, ReferralRevoke
from harbour.hotline import consent as consent_rules
from harbour.hotline import service as hotline
from harbour.hotline.choices import AccessPurpose, CaseStatus, ConsentPurpose, EventKind
from harbour.hotline.models import Case, CaseEvent
from harbour.hotline.schemas import normalise_phone

PURPOSE = AccessPurpose.referral.value
OPEN_STATUSES = (ReferralStatus.sent.value, ReferralStatus.accepted.value)
FINAL_STATUSES = (ReferralStatus.declined.value, ReferralStatus.completed.value, ReferralStatus.revoked.value)
_REF_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


# -- views ----------------------------------------------------------------------
class ProviderReferral(ReferralRead):
    """The provider's view: ReferralRead plus the service's name and the provider's own note."""

    service_name: str = ""
    note: str | None = None


class CaseReferral(BaseModel):
    """The hotline's view of a referral on one of its cases."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    reference: str
    case_id: int
    service_id: str
    service_name: str
    organization_id: str
    organization_name: str
    status: str
    shared_fields: list[str]
    shared: dict
    message: str | None
    consent_basis: dict
    sent_at: datetime
    respond_by: datetime
    responded_at: datetime | None
    decline_reason: str | None
    completed_at: datetime | None
    outcome: str | None
    outcome_note: str | None
    revoked_at: datetime | None
    overdue: bool


def is_overdue(ref: Referral, now: datetime | None = None) -> bool:
    return ref.status == ReferralStatus.sent and ref.respond_by < (now or utcnow())


def shared_values(ref: Referral) -> dict:
    return json.loads(ref.shared) if ref.shared else {}


def provider_view(ref: Referral, now: datetime | None = None) -> ProviderReferral:
    """What the provider may see: the shared values and message (withdrawn once revoked), no case id."""
    revoked = ref.status == ReferralStatus.revoked
    return ProviderReferral(
        id=ref.id, reference=ref.reference, service_id=ref.service_id, organization_id=ref.organization_id,
        status=ref.status, shared={} if revoked else shared_values(ref), message=None if revoked else ref.message,
        sent_at=ref.sent_at, respond_by=ref.respond_by, responded_at=ref.responded_at,
        decline_reason=ref.decline_reason, completed_at=ref.completed_at, outcome=ref.outcome,
        overdue=is_overdue(ref, now), service_name=ref.service.name if ref.service else "", note=ref.outcome_note)


def case_view(ref: Referral, now: datetime | None = None) -> CaseReferral:
    return CaseReferral(
        id=ref.id, reference=ref.reference, case_id=ref.case_id, service_id=ref.service_id,
        service_name=ref.service.name, organization_id=ref.organization_id,
        organization_name=ref.organization.name, status=ref.status, shared_fields=list(ref.shared_fields or []),
        shared=shared_values(ref), message=ref.message, consent_basis=dict(ref.consent_basis or {}),
        sent_at=ref.sent_at, respond_by=ref.respond_by, responded_at=ref.responded_at,
        decline_reason=ref.decline_reason, completed_at=ref.completed_at, outcome=ref.outcome,
        outcome_note=ref.outcome_note, revoked_at=ref.revoked_at, overdue=is_overdue(ref, now))


# -- helpers --------------------------------------------------------------------
def _hotline(actor: Actor) -> None:
    ensure_role(actor, HOTLINE_ROLES, N_("Only hotline staff send, list or revoke a case's referrals."))


def _reference() -> str:
    return "RF-" + "".join(secrets.choice(_REF_ALPHABET) for _ in range(7))


def _event(db: Session, ref: Referral, actor: Actor, kind: EventKind, **extra) -> None:
    data = {"referral_id": ref.id, "reference": ref.reference, "service_id": ref.service_id,
            "status": ref.status, "summary": ref.organization.name if ref.organization else "", **extra}
    db.add(CaseEvent(case_id=ref.case_id, kind=kind.value, actor_id=actor.id, data=data, at=utcnow()))




def _lock(db: Session, referral_id: int) -> Referral | None:
    """The referral row, locked for the rest of the transaction (PostgreSQL) so two answers cannot race."""
    return db.execute(select(Referral).where(Referral.id == referral_id)
                      .with_for_update(of=Referral.__table__)).unique().scalar_one_or_none()


def referable(svc: Service | None) -> str | None:
    """Why a service cannot receive a referral (a catalogue key), or None when it can."""
    if svc is None:
        return N_("A chosen service does not exist.")
    if svc.status != ServiceStatus.active:
        return N_("A chosen service is not active.")
    if not directory.is_vetted(svc.organization.vetting):
        return N_("A chosen service's provider is not currently vetted.")
    return None


def share_preview(case: Case) -> dict:
    """The value each shareable field would carry for this case (the call-back number is typed on the form)."""
    plan = case.safety_plan
    language = next((c.language for c in case.contacts if c.language), None)
    return {
        SharedField.alias.value: case.survivor_alias,
        SharedField.language.value: language,
        SharedField.needs.value: [str(n) for n in (case.needs or [])],
        SharedField.age_band.value: case.age_band,
        SharedField.gender.value: case.gender,
        SharedField.safe_times.value: plan.safe_times if plan else None,
        SharedField.code_word.value: plan.code_word if plan else None,
    }


def _shared(case: Case, data: ReferralCreate) -> dict:
    chosen = set(data.shared_fields)
    preview = share_preview(case)
    values: dict = {}
    for f in SharedField:  # canonical order
        if f not in chosen:
            continue
        if f == SharedField.callback_phone:
            try:
                phone = normalise_phone(data.callback_phone)
            except ValueError:
                raise ValidationFailed(N_("The call-back number is not a phone number."),
                                       fields={"callback_phone": N_("Not a phone number.")}) from None
            if phone is None:
                raise ValidationFailed(N_("Enter the safe call-back number you chose to share."),
                                       fields={"callback_phone": N_("This field is required.")})
            values[f.value] = phone
        else:
            values[f.value] = preview[f.value]
    return values


def default_response_hours(case: Case, configured: int | None = None) -> int:
    """1 hour when the case needs emergency shelter, else the configured deadline."""
    if "emergency_shelter" in (case.needs or []):
        return 1
    return configured or get_settings().referral_response_hours


# -- sending ----------------------------------------------------------------------
@atomic
def send_referrals(db: Session, *, actor: Actor, data: ReferralCreate, response_hours: int | None = None,
                   now: datetime | None = None) -> list[Referral]:
    """Refer a case to one or more services; refused without current referral consent or override."""
    _hotline(actor)
    case = db.get(Case, data.case_id)
    if case is None:
        raise ValidationFailed(N_("That case does not exist."), fields={"case_id": N_("Unknown case.")})
    basis = consent_rules.require(db, case=case, purpose=ConsentPurpose.referral)  # before anything is written
    if case.status == CaseStatus.closed:
        raise Conflict(N_("This case is closed. Reopen it before referring."))
    services = []
    for sid in data.service_ids:
        svc = db.get(Service, sid)
        problem = referable(svc)
        if problem:
            raise ValidationFailed(problem, fields={"service_ids": problem})
        services.append(svc)
    already = set(db.execute(select(Referral.service_id).where(
        Referral.case_id == case.id, Referral.status.in_(OPEN_STATUSES))).scalars())
    if already & {s.id for s in services}:
        raise Conflict(N_("This case already has an open referral to a chosen service."))
    values = _shared(case, data)
    now = now or utcnow()
    hours = data.respond_within_hours or response_hours or get_settings().referral_response_hours
    fields = [f for f in values]
    payload = json.dumps(values, ensure_ascii=False, sort_keys=True)
    sent = []
    for svc in services:
        ref = Referral(reference=_reference(), case_id=case.id, service_id=svc.id,
                       organization_id=svc.organization_id, status=ReferralStatus.sent.value, shared=payload,
                       shared_fields=fields, message=data.message or None, consent_basis=basis,
                       sent_by_id=actor.id, sent_at=now, respond_by=now + timedelta(hours=hours))
        db.add(ref)
        db.flush()
        ref.organization = svc.organization
        _event(db, ref, actor, EventKind.referral_sent, organization_id=svc.organization_id)
        audit(db, actor, "create", "referral", ref.id, purpose=PURPOSE,
              detail={"case": case.id, "service": svc.id, "organization": svc.organization_id,
                      "fields": fields, "respond_within_hours": hours, "consent_basis": basis})
        sent.append(ref)
    if case.status == CaseStatus.open:
        case.status = CaseStatus.referred.value
        case.updated_at = now
        db.add(CaseEvent(case_id=case.id, kind=EventKind.status_changed.value, actor_id=actor.id, at=utcnow(),
                         data={"old": CaseStatus.open.value, "new": CaseStatus.referred.value, "outcome": None}))
        audit(db, actor, "update", "case", case.id, purpose=PURPOSE,
              detail={"fields": ["status"], "status": CaseStatus.referred.value})
    commit_or_conflict(db)
    return sent


@atomic
def revoke(db: Session, *, actor: Actor, referral_id: int, data: ReferralRevoke) -> Referral:
    """The hotline withdraws a referral that is still waiting or accepted (e.g. consent withdrawn)."""
    _hotline(actor)
    ref = _lock(db, referral_id)
    if ref is None:
        raise NotFound()
    if ref.status not in OPEN_STATUSES:
        raise Conflict(N_("Only a referral that is waiting or accepted can be revoked; this one is %(status)s."),
                       status=ReferralStatus(ref.status).label)
    old = ref.status
    ref.status = ReferralStatus.revoked.value
    ref.revoked_at, ref.revoked_by_id, ref.revoke_reason = utcnow(), actor.id, data.reason
    _event(db, ref, actor, EventKind.referral_updated)
    audit(db, actor, "update", "referral", ref.id, purpose=PURPOSE,
          detail={"case": ref.case_id, "from": old, "status": ref.status})
    commit_or_conflict(db)
    return ref


# -- provider answers ---------------------------------------------------------------
def _provider_referral(db: Session, actor: Actor, referral_id: int, *, lock: bool = False) -> Referral:
    """A referral to the actor's own organisation; any other answers 404 so its existence is not revealed."""
    org_id = directory.require_provider_staff(db, actor)
    ref = _lock(db, referral_id) if lock else db.get(Referral, referral_id)
    if ref is None or ref.organization_id != org_id:
        raise NotFound()
    return ref


def _answer(db: Session, actor: Actor, referral_id: int, new: ReferralStatus, allowed: tuple[str, ...],
            message: str, **fields) -> Referral:
    ref = _provider_referral(db, actor, referral_id, lock=True)
    if ref.status not in allowed:
        raise Conflict(message, status=ReferralStatus(ref.status).label)
    old, now = ref.status, utcnow()
    ref.status = new.value
    if new == ReferralStatus.completed:
        ref.completed_at = now
    else:
        ref.responded_at, ref.responded_by_id = now, actor.id
    codes = {}
    for name, value in fields.items():
        setattr(ref, name, value)
        if name in ("decline_reason", "outcome"):
            codes[name] = value
    _event(db, ref, actor, EventKind.referral_updated, **codes)
    audit(db, actor, "update", "referral", ref.id, purpose=PURPOSE,
          detail={"case": ref.case_id, "from": old, "status": ref.status, **codes})
    commit_or_conflict(db)
    return ref


_NOT_WAITING = N_("This referral is no longer waiting for an answer: it is %(status)s.")


@atomic
def accept(db: Session, *, actor: Actor, referral_id: int) -> Referral:
    return _answer(db, actor, referral_id, ReferralStatus.accepted, (ReferralStatus.sent.value,), _NOT_WAITING)


@atomic
def decline(db: Session, *, actor: Actor, referral_id: int, data: ReferralDecline) -> Referral:
    """Decline with a reason; the optional note is kept (encrypted) as the provider's note."""
    return _answer(db, actor, referral_id, ReferralStatus.declined, (ReferralStatus.sent.value,), _NOT_WAITING,
                   decline_reason=data.reason.value, outcome_note=data.note or None)


@atomic
def complete(db: Session, *, actor: Actor, referral_id: int, data: ReferralComplete) -> Referral:
    return _answer(db, actor, referral_id, ReferralStatus.completed, (ReferralStatus.accepted.value,),
                   N_("Only an accepted referral can be marked completed; this one is %(status)s."),
                   outcome=data.outcome.value, outcome_note=data.note or None)


# -- queries ------------------------------------------------------------------------
@atomic
def for_case(db: Session, *, actor: Actor, case_id: int, audit_read: bool = True) -> list[Referral]:
    """A case's referrals, oldest first (hotline staff).  The case page passes audit_read=False:
    opening the case is already audited."""
    _hotline(actor)
    if db.get(Case, case_id) is None:
        raise NotFound()
    rows = list(db.execute(select(Referral).where(Referral.case_id == case_id)
                           .order_by(Referral.sent_at, Referral.id)).scalars())
    if audit_read:
        audit(db, actor, "list", "referral", None, purpose=PURPOSE,
              detail={"case": case_id, "count": len(rows), "ids": [r.id for r in rows]})
        db.commit()
    return rows


@atomic
def get_for_hotline(db: Session, *, actor: Actor, referral_id: int) -> Referral:
    _hotline(actor)
    ref = db.get(Referral, referral_id)
    if ref is None:
        raise NotFound()
    audit(db, actor, "read", "referral", ref.id, purpose=PURPOSE, detail={"case": ref.case_id})
    db.commit()
    return ref


@atomic
def for_provider(db: Session, *, actor: Actor, status: ReferralStatus | str | None = None,
                 overdue_only: bool = False, limit: int = 200) -> list[ProviderReferral]:
    """Referrals to the actor's own organisation, newest first, as the provider may see them."""
    org_id = directory.require_provider_staff(db, actor)
    now = utcnow()
    q = select(Referral).where(Referral.organization_id == org_id)
    if status:
        q = q.where(Referral.status == str(status))
    if overdue_only:
        q = q.where(Referral.status == ReferralStatus.sent.value, Referral.respond_by < now)
    rows = list(db.execute(q.order_by(Referral.sent_at.desc(), Referral.id.desc()).limit(limit)).scalars())
    audit(db, actor, "list", "referral", None, purpose=PURPOSE,
          detail={"organization": org_id, "count": len(rows), "ids": [r.id for r in rows]})
    db.commit()
    return [provider_view(r, now) for r in rows]


@atomic
def get_for_provider(db: Session, *, actor: Actor, referral_id: int) -> ProviderReferral:
    ref = _provider_referral(db, actor, referral_id)
    audit(db, actor, "read", "referral", ref.id, purpose=PURPOSE, detail={"organization": ref.organization_id})
    db.commit()
    return provider_view(ref)


@atomic
def list_referrals(db: Session, *, actor: Actor, case_id: int | None = None,
                   status: ReferralStatus | None = None) -> list[ProviderReferral] | list[Referral]:
    """The API's list: provider staff get their organisation's referrals; hotline staff one case's."""
    if actor.role == "provider_staff":
        return for_provider(db, actor=actor, status=status)
    _hotline(actor)
    if case_id is None:
        raise ValidationFailed(N_("Say which case's referrals you want (case_id)."),
                               fields={"case_id": N_("This field is required.")})
    rows = for_case(db, actor=actor, case_id=case_id)
    return [r for r in rows if status is None or r.status == status]


@atomic
def get_referral(db: Session, *, actor: Actor, referral_id: int) -> ProviderReferral | Referral:
    if actor.role == "provider_staff":
        return get_for_provider(db, actor=actor, referral_id=referral_id)
    return get_for_hotline(db, actor=actor, referral_id=referral_id)


def overdue(db: Session, now: datetime | None = None, *, limit: int = 100) -> list[Referral]:
    """Referrals still waiting after their deadline, most overdue first (supervisor dashboard)."""
    now = now or utcnow()
    return list(db.execute(select(Referral).where(Referral.status == ReferralStatus.sent.value,
                                                  Referral.respond_by < now)
                           .order_by(Referral.respond_by).limit(limit)).scalars())


def case_references(db: Session, case_ids) -> dict[int, str]:
    """Case references for hotline pages that list referrals (e.g. the supervisor dashboard)."""
    ids = sorted(set(case_ids))
    if not ids:
        return {}
    return dict(db.execute(select(Case.id, Case.reference).where(Case.id.in_(ids))).all())


# -- the provider portal's own organisation -------------------------------------------
@atomic
def my_organization(db: Session, *, actor: Actor) -> Organization:
    """The provider-staff actor's organisation (403 for anyone else or an unlinked account)."""
    org_id = directory.require_provider_staff(db, actor)
    org = db.get(Organization, org_id)
    if org is None:
        raise NotFound()
    return org


@atomic
def my_service(db: Session, *, actor: Actor, service_id: str) -> Service:
    """One of the actor's own organisation's services; any other answers 404."""
    org_id = directory.require_provider_staff(db, actor)
    svc = db.get(Service, service_id) if len(service_id) <= 36 else None
    if svc is None or svc.organization_id != org_id:
        raise NotFound()
    return svc


# -- console form and portal pages --------------------------------------------------------
@dataclass
class ReferralForm:
    case: Case
    services: list[tuple[str, Service | None, str | None]]  # (requested id, service, why it cannot be chosen)
    preview: dict
    basis: dict | None
    respond_within_hours: int


@atomic
def prepare_form(db: Session, *, actor: Actor, case_id: int, service_ids: list[str],
                 response_hours: int | None = None) -> ReferralForm:
    """What the referral form shows: the case (read audited, purpose referral), the chosen services and
    whether each may receive a referral, the value each shareable field would carry, the consent basis."""
    _hotline(actor)
    case = hotline.get_case(db, actor=actor, case_id=case_id, purpose=PURPOSE)
    already = set(db.execute(select(Referral.service_id).where(
        Referral.case_id == case.id, Referral.status.in_(OPEN_STATUSES))).scalars())
    chosen = []
    for sid in list(dict.fromkeys(s for s in service_ids if s and len(s) <= 36))[:10]:
        svc = db.get(Service, sid)
        problem = referable(svc) or (N_("This case already has an open referral to this service.")
                                     if sid in already else None)
        chosen.append((sid, svc, problem))
    return ReferralForm(case, chosen, share_preview(case),
                        consent_rules.basis(db, case=case, purpose=ConsentPurpose.referral),
                        default_response_hours(case, response_hours))


def is_open_24_7(db: Session, svc: Service) -> bool:
    term = directory.term_id(FEATURE_TAXONOMY, Feature.open_24_7.value)
    return db.execute(select(Attribute.id).where(Attribute.link_id == svc.id,
                                                 Attribute.taxonomy_term_id == term)).first() is not None


def weekly_hours(svc: Service) -> list[dict]:
    """The service's weekly hours as local HH:MM rows (HSDS stores them with a UTC offset)."""
    rows = []
    for s in sorted(svc.schedules, key=lambda s: s.id):
        if (s.freq or "WEEKLY").upper() != "WEEKLY" or not s.byday:
            continue
        rows.append({"days": [d.strip() for d in s.byday.split(",") if d.strip()],
                     "opens_at": (s.opens_at or "")[:5], "closes_at": (s.closes_at or "")[:5]})
    return rows
