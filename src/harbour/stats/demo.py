"""Statistics demo data (called by `harbour demo`): a few years of synthetic, obviously fake *closed* hotline
history, so the dashboards, releases and the annual report have enough situations to show once counts from
1 to 9 are withheld.  No person is described: cases carry codes only (no alias, no notes), contacts carry no
name, phone, e-mail or summary.  References start with ``HIST-``.  The same seed gives the same data.

Rows are inserted directly (not through the hotline service, which would add a timeline, tasks and an audit
entry per row for thousands of historical records); one audit entry records the import.  About 60 % of the
cases consent to statistics (the rest stay out of the store), as the hotline demo does.  Idempotent: does
nothing once any ``HIST-`` case exists.  Unmet needs (searches that found no service) are added by province.
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.db import utcnow
from harbour.directory.models import Referral, Service, UnmetNeed
from harbour.hotline.demo import CITIES, OUTCOMES, PROFILES, PROVINCE_WEIGHTS, _pick, _some
from harbour.hotline.models import Case, Consent, Contact

SYSTEM = Actor.system("stats-demo")
PREFIX = "HIST-"
CHANNELS = {"phone": 55, "web_chat": 18, "text": 13, "email": 6, "web_form": 6, "tty": 2}
REFERRAL_STATUS = {"completed": 45, "accepted": 15, "declined": 25, "revoked": 5}
REFERRAL_OUTCOME = {"service_provided": 55, "ongoing_support": 20, "did_not_attend": 10, "withdrew": 8,
                    "transferred": 5, "other": 2}


def load_stats_demo(db: Session, *, seed: int, cases: int = 4500, years: int = 3,
                    now: datetime | None = None) -> dict[str, int]:
    if db.execute(select(Case.id).where(Case.reference.like(f"{PREFIX}%")).limit(1)).first() is not None:
        return {}
    rng = random.Random(seed * 31 + 5)
    now = now or utcnow()
    first_year = now.year - years
    services = list(db.execute(select(Service.id, Service.organization_id).limit(400)))
    counts = {"history cases": 0, "history contacts": 0, "history referrals": 0, "unmet needs": 0}
    growth = [1.0 + 0.35 * i for i in range(years)]  # more calls every year, as awareness grows
    per_year = [round(cases * g / sum(growth)) for g in growth]
    serial = 0
    for i, n_cases in enumerate(per_year):
        year = first_year + i
        start = datetime(year, 1, 1, tzinfo=now.tzinfo)
        for _ in range(n_cases):
            serial += 1
            at = start + timedelta(days=rng.uniform(0, 364.9))
            province = _pick(rng, PROVINCE_WEIGHTS)
            profile = rng.choices(PROFILES, weights=[p[0] for p in PROFILES])[0]
            _, types, genders, ages, cits, _ind, recruitment, control, needs = profile
            age = _pick(rng, ages)
            types = list(types) + (["child"] if age == "12-17" and "sex" in types else [])
            status = _pick(rng, {"closed": 80, "follow_up": 12, "referred": 8})
            case = Case(reference=f"{PREFIX}{year}-{serial:05d}", status=status,
                        outcome=_pick(rng, OUTCOMES) if status == "closed" else None,
                        risk_level=_pick(rng, {"low": 30, "medium": 40, "high": 22, "imminent": 8}),
                        victim_count=rng.randint(2, 9) if "labour" in types and rng.random() < 0.25 else 1,
                        age_band=age, gender=_pick(rng, genders), citizenship=_pick(rng, cits),
                        exploitation_types=types, indicators=[], recruitment=_some(rng, recruitment, 1, 2),
                        control_means=_some(rng, control, 1, 4), needs=_some(rng, needs, 1, 3), province=province,
                        city=rng.choice(CITIES[province]), created_at=at, updated_at=at,
                        closed_at=at + timedelta(days=rng.uniform(5, 120)) if status == "closed" else None)
            db.add(case)
            db.flush()
            counts["history cases"] += 1
            for k in range(rng.choice([1, 1, 1, 2, 2, 3])):
                db.add(Contact(reference=f"HC-{year}-{serial:05d}{k}", channel=_pick(rng, CHANNELS),
                               received_at=at + timedelta(days=k * rng.uniform(1, 20)), province=province,
                               classification="crisis" if k == 0 and case.risk_level == "imminent" else
                               "potential_case", caller_type=_pick(rng, {"victim": 55, "family_friend": 25,
                                                                           "service_provider": 20}),
                               language="fr" if province == "QC" and rng.random() < 0.85 else "en",
                               anonymous=False, source="console", case_id=case.id, created_at=at, updated_at=at))
                counts["history contacts"] += 1
            given = at + timedelta(minutes=rng.randint(3, 40))
            for purpose, p in (("statistics", 0.6), ("referral", 0.7)):
                if rng.random() < p:
                    db.add(Consent(case_id=case.id, purpose=purpose, method="verbal", given_at=given))
            if services and rng.random() < 0.55:
                for _r in range(rng.choice([1, 1, 2])):
                    sid, org = rng.choice(services)
                    sent = given + timedelta(hours=rng.choice([0.5, 2, 6, 20, 48, 120, 240]))
                    r_status = _pick(rng, REFERRAL_STATUS)
                    responded = sent + timedelta(hours=rng.choice([0.5, 2, 8, 30, 80, 200])) \
                        if r_status != "revoked" else None
                    db.add(Referral(reference=f"HR-{year}-{serial:05d}{_r}", case_id=case.id, service_id=sid,
                                    organization_id=org, status=r_status, shared=json.dumps({}), shared_fields=[],
                                    consent_basis={"type": "consent"}, sent_at=sent, respond_by=sent + timedelta(
                                        hours=24), responded_at=responded,
                                    decline_reason="no_capacity" if r_status == "declined" else None,
                                    completed_at=responded + timedelta(days=7) if r_status == "completed" else None,
                                    outcome=_pick(rng, REFERRAL_OUTCOME) if r_status == "completed" else None,
                                    revoked_at=sent + timedelta(hours=3) if r_status == "revoked" else None))
                    counts["history referrals"] += 1
        # contacts that never became a case: information requests and tips, about three per case
        for k in range(n_cases * 3):
            at = start + timedelta(days=rng.uniform(0, 364.9))
            province = _pick(rng, PROVINCE_WEIGHTS)
            db.add(Contact(reference=f"HN-{year}-{k:06d}", channel=_pick(rng, CHANNELS), received_at=at,
                           province=province, classification=_pick(rng, {"information": 65, "tip": 35}),
                           caller_type=_pick(rng, {"community": 50, "service_provider": 20, "family_friend": 15,
                                                   "other": 15}), language="fr" if province == "QC" else "en",
                           anonymous=rng.random() < 0.3, source="console", created_at=at, updated_at=at))
            counts["history contacts"] += 1
        for _k in range(max(10, n_cases // 4)):
            province = _pick(rng, {**PROVINCE_WEIGHTS, "NU": 4, "NT": 4, "YT": 3, "SK": 5, "MB": 6})
            db.add(UnmetNeed(at=start + timedelta(days=rng.uniform(0, 364.9)), province=province,
                             needs=_some(rng, ["emergency_shelter", "transition_housing", "counselling",
                                               "interpretation", "indigenous_healing", "legal", "immigration"], 1, 2),
                             place=rng.choice(CITIES[province]), radius_km=100, filters={}))
            counts["unmet needs"] += 1
        db.flush()
    audit(db, SYSTEM, "import", "stats_demo", None, detail={"seed": seed, **counts})
    db.commit()
    return counts


def refresh_store(db: Session) -> dict[str, int]:
    """Bring the analytic store up to date with the demo data (so the dashboards show it at once)."""
    from harbour.core.config import get_settings
    from harbour.stats import service

    settings = get_settings()
    result = service.build_store(db, settings, actor=service.CLI_ACTOR)
    counts = {"statistics situations": result.rows.get("situations", 0)}
    if result.rows.get("situations") and not service.public_releases(db):
        # one suppress-mode release (no privacy budget spent), so /statistics offers open data at once
        service.publish_release(db, settings, actor=service.CLI_ACTOR, mode="suppress")
        counts["open-data releases"] = 1
    return counts
