"""Demo referrals: cases with referral consent referred to suitable vetted demo services, and the
`demo-provider` organisation answering some of them in its portal.  Synthetic and obviously fake.

Everything goes through the referral service (consent gate, vetting, audit, timeline); only the two
"overdue" referrals get their deadline moved into the past afterwards, as if sent a day ago.
"""

from __future__ import annotations

import math
import random
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.db import utcnow
from harbour.core.models import User
from harbour.directory import referrals
from harbour.directory import service as directory
from harbour.directory.choices import NEED_TO_SERVICE, SERVICE_TAXONOMY, VettingStatus
from harbour.directory.models import (
    Address,
    Attribute,
    Referral,
    Service,
    ServiceArea,
    ServiceAtLocation,
    TaxonomyTerm,
    Vetting,
)
from harbour.directory.schemas import ReferralComplete, ReferralCreate, ReferralDecline, ReferralRevoke
from harbour.hotline import consent as consent_rules
from harbour.hotline.choices import CaseStatus, ConsentPurpose
from harbour.hotline.models import Case

DEMO_PROVIDER = "demo-provider"
# what happens to the referrals sent to the demo provider's organisation, in turn
DEMO_ORG_PLAN = ["overdue", "accepted", "completed", "declined", "sent", "overdue", "completed", "accepted",
                 "declined", "sent", "completed", "accepted", "completed", "declined"]
MESSAGES = [
    "Demo referral: looking for a safe bed tonight; please call the hotline back first.",
    "Demo referral: survivor would like counselling in their own language.",
    "Demo referral: needs help replacing identity documents that were taken.",
    "Demo referral: please use the code word before talking about anything else.",
    None,
]
NOTES = {
    "declined": ["No bed free tonight (demo).", "Outside our service area (demo).", None],
    "completed": ["Stayed five nights, then moved to transition housing (demo).",
                  "Attended three sessions (demo).", None],
}


def _vetted_services(db: Session) -> dict[str, dict]:
    """Active services of currently vetted providers: their types and where they serve."""
    today = utcnow().date().isoformat()
    rows = db.execute(select(Service.id, Service.organization_id)
                      .join(Vetting, Vetting.organization_id == Service.organization_id)
                      .where(Vetting.status == VettingStatus.vetted.value, Vetting.expires_on >= today,
                             Service.status == "active")).all()
    out = {sid: {"id": sid, "org": org, "types": set(), "provinces": set(), "everywhere": False}
           for sid, org in rows}
    for sid, code in db.execute(select(Attribute.link_id, TaxonomyTerm.code)
                                .join(TaxonomyTerm, TaxonomyTerm.id == Attribute.taxonomy_term_id)
                                .where(TaxonomyTerm.taxonomy == SERVICE_TAXONOMY)).all():
        if sid in out:
            out[sid]["types"].add(code)
    for sid, province in db.execute(select(ServiceAtLocation.service_id, Address.state_province)
                                    .join(Address, Address.location_id == ServiceAtLocation.location_id)).all():
        if sid in out:
            out[sid]["provinces"].add(province)
    for sid, name in db.execute(select(ServiceArea.service_id, ServiceArea.name)).all():
        if sid in out and name in ("national", "virtual"):
            out[sid]["everywhere"] = True
        elif sid in out and name:
            out[sid]["provinces"].add(name)
    return out


def _wanted(case: Case) -> set[str]:
    types = set()
    for need in case.needs or ["counselling"]:
        types.update(NEED_TO_SERVICE.get(need, []))
    return types or {"counselling"}


def _actor(db: Session, case: Case) -> Actor | None:
    user = db.get(User, case.assigned_to_id or case.created_by_id) if (case.assigned_to_id or case.created_by_id) \
        else None
    if user is None or user.role not in ("hotline_advocate", "hotline_supervisor"):
        return None
    return Actor(user.id, user.username, user.role)


def load_referral_demo(db: Session, *, seed: int, cases: int = 36) -> dict[str, int]:
    """Refer a few dozen consenting demo cases; idempotent (does nothing once any referral exists)."""
    if db.execute(select(Referral.id).limit(1)).first() is not None:
        return {}
    rng = random.Random(seed * 7919 + 3)
    services = _vetted_services(db)
    if not services:
        return {}
    demo_user = db.execute(select(User).where(User.username == DEMO_PROVIDER)).scalar_one_or_none()
    demo_org = directory.staff_organization(db, demo_user.id) if demo_user else None
    demo_services = [s for s in services.values() if s["org"] == demo_org]
    demo_actor = Actor(demo_user.id, demo_user.username, demo_user.role) if demo_user and demo_services else None

    candidates = []
    for case in db.execute(select(Case).where(Case.status != CaseStatus.closed.value)
                           .order_by(Case.created_at.desc(), Case.id.desc())).scalars():
        found = consent_rules.basis(db, case=case, purpose=ConsentPurpose.referral)
        if found and found["type"] == "consent" and _actor(db, case) is not None:
            candidates.append(case)
        if len(candidates) >= cases:
            break
    candidates.reverse()  # oldest first: the older half is answered by the demo provider
    n_demo = math.ceil(len(candidates) / 2) if demo_actor else 0
    n_demo = min(n_demo, len(DEMO_ORG_PLAN))

    counts = {"referrals": 0, "referrals accepted": 0, "referrals declined": 0, "referrals completed": 0,
              "referrals revoked": 0, "referrals overdue": 0}
    overdue_ids: list[int] = []
    for i, case in enumerate(candidates):
        actor = _actor(db, case)
        wanted = _wanted(case)
        plan = DEMO_ORG_PLAN[i] if i < n_demo else None
        if plan is not None:
            pool = [s for s in demo_services if s["types"] & wanted] or demo_services
            targets = [rng.choice(pool)]
            hours = referrals.default_response_hours(case, 24)
        else:
            pool = [s for s in services.values() if s["org"] != demo_org and s["types"] & wanted
                    and (s["everywhere"] or case.province in s["provinces"])]
            if not pool:
                continue
            by_org: dict[str, dict] = {}
            for s in rng.sample(pool, len(pool)):
                by_org.setdefault(s["org"], s)
            targets = list(by_org.values())[:1 if rng.random() < 0.7 else 2]
            hours = rng.choice([24, 48, 72])
        fields = ["language", "needs"]
        fields += [f for f, p in (("alias", 0.5), ("age_band", 0.4), ("gender", 0.3), ("callback_phone", 0.3),
                                  ("safe_times", 0.2), ("code_word", 0.2)) if rng.random() < p]
        data = ReferralCreate(case_id=case.id, service_ids=[t["id"] for t in targets], shared_fields=fields,
                              callback_phone=f"613-555-01{rng.randint(0, 99):02d}", message=rng.choice(MESSAGES),
                              respond_within_hours=hours)
        sent = referrals.send_referrals(db, actor=actor, data=data)
        counts["referrals"] += len(sent)
        ref = sent[0]
        if plan in ("accepted", "completed", "declined"):
            if plan == "declined":
                referrals.decline(db, actor=demo_actor, referral_id=ref.id, data=ReferralDecline(
                    reason=rng.choice(["no_capacity", "not_eligible", "cannot_reach"]),
                    note=rng.choice(NOTES["declined"])))
            else:
                referrals.accept(db, actor=demo_actor, referral_id=ref.id)
                if plan == "completed":
                    referrals.complete(db, actor=demo_actor, referral_id=ref.id, data=ReferralComplete(
                        outcome=rng.choice(["service_provided", "ongoing_support", "transferred"]),
                        note=rng.choice(NOTES["completed"])))
            counts[f"referrals {plan}"] += 1
        elif plan == "overdue":
            overdue_ids.append(ref.id)
        elif plan is None and counts["referrals revoked"] == 0:
            referrals.revoke(db, actor=actor, referral_id=ref.id,
                             data=ReferralRevoke(reason="Demo: survivor found a place with family."))
            counts["referrals revoked"] += 1
    now = utcnow()
    for rid in overdue_ids:  # as if sent yesterday and never answered
        ref = db.get(Referral, rid)
        allowed = ref.respond_by - ref.sent_at
        ref.respond_by = now - timedelta(hours=rng.uniform(1, 6))
        ref.sent_at = ref.respond_by - allowed
    db.commit()
    counts["referrals overdue"] = len(referrals.overdue(db))
    return counts
