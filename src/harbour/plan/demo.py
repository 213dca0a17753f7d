"""Plan demo (called by `harbour demo`): the shipped reference plans, department leads, and a review queue.

* imports the plans shipped in ``plan/data`` (2013-2014 Annex A of the 2012-2016 National Action Plan,
  the open letter's recommendations; departments come with them), each only if it is not loaded yet;
* ``demo-coordinator`` (plan coordinator, no department) reviews; two demo department leads,
  ``demo-lead-ps`` and ``demo-lead-rcmp`` (plan_coordinator accounts linked to PS and RCMP), write;
* synthetic, obviously fake progress updates for 2014-2015 go through the service layer (so the audit
  trail is the real one): some waiting for review, one approved (it changes a status, so "what changed
  since last year" has content), one returned with a note, one draft.

Idempotent: plans already loaded are not re-imported, links are not duplicated, and the updates are
written only when neither demo lead has written any.
"""

from __future__ import annotations

import random
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.choices import Role
from harbour.core.models import User
from harbour.core.security import create_user
from harbour.plan import importer, service
from harbour.plan.models import PlanDeliverable, PlanDepartmentMember, PlanProgressEntry, PlanStrategy
from harbour.plan.schemas import ProgressCreate, ReviewBody

SYSTEM = Actor(None, "system:demo", Role.admin.value)  # grants department links (an administrator's act)
NAP = "NAP-2012-2016"
FISCAL_YEAR = "2014-2015"
COORDINATOR = "demo-coordinator"
# username, display name, department
LEADS = [("demo-lead-ps", "Demo PS Lead (fictional)", "PS"), ("demo-lead-rcmp", "Demo RCMP Lead (fictional)", "RCMP")]
EVIDENCE = "https://example.org/demo/plan/"

# (department, state, proposed status, entry date, English, French); all fictional
UPDATES = [
    ("PS", "approved", "complete", date(2015, 2, 12),
     "Demo update (fictional): the work was finished in 2014-2015 and the final product was shared with partners.",
     "Mise à jour de démonstration (fictive) : le travail a été terminé en 2014-2015 et le produit final a été "
     "transmis aux partenaires."),
    ("PS", "submitted", "on_track", date(2015, 1, 20),
     "Demo update (fictional): two of three planned regional sessions were held; the third is scheduled.",
     "Mise à jour de démonstration (fictive) : deux des trois séances régionales prévues ont eu lieu; la troisième "
     "est prévue."),
    ("PS", "rejected", "complete", date(2014, 11, 3),
     "Demo update (fictional): the activity is complete.",
     None),
    ("RCMP", "submitted", "ongoing", date(2015, 3, 2),
     "Demo update (fictional): the toolkit was distributed at further community events during the year.",
     "Mise à jour de démonstration (fictive) : la trousse a été distribuée lors d'autres événements "
     "communautaires pendant l'année."),
    ("RCMP", "submitted", None, date(2015, 3, 10),
     None,
     "Mise à jour de démonstration (fictive) : formation offerte à de nouveaux agents; aucun changement d'état "
     "proposé."),
    ("RCMP", "draft", "in_progress", date(2015, 3, 20),
     "Demo draft (fictional): not yet sent for review.",
     None),
]
RETURN_NOTE = "Demo (fictional): please say what was delivered and add a link to the evidence."


def plan_demo_logins() -> list[tuple[str, str, str]]:
    """(username, password, role) of the demo department leads, for the printed login table."""
    from harbour.hotline.demo import demo_password

    return [(username, demo_password(username), Role.plan_coordinator.value) for username, _n, _d in LEADS]


def _actor(user: User) -> Actor:
    return Actor(user.id, user.username, user.role, user.organization)


def _user(db: Session, username: str, display_name: str) -> tuple[User, bool]:
    from harbour.hotline.demo import demo_password

    user = db.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is not None:
        return user, False
    user = create_user(db, actor=Actor.system("demo"), username=username, display_name=display_name,
                       role=Role.plan_coordinator.value, password=demo_password(username), preferred_language="en")
    db.commit()
    return user, True


def _import_shipped(db: Session) -> tuple[int, int]:
    """Import each shipped plan not loaded yet; returns (plans imported, deliverables imported)."""
    plans = deliverables = 0
    loaded = set(db.execute(select(PlanStrategy.code)).scalars())
    for path in importer.shipped_files():
        doc, _digest = importer.load_document(path)
        if doc.get("strategy", {}).get("code") in loaded:
            continue
        result = importer.import_file(db, actor=SYSTEM, path=path)
        plans += 1
        deliverables += result.deliverables
    return plans, deliverables


def _candidates(db: Session, department: str, rng: random.Random, n: int) -> list[PlanDeliverable]:
    """``n`` deliverables of the 2012-2016 plan that ``department`` leads and that are not complete."""
    strategy = service.get_strategy(db, NAP)
    rows = [d for d in db.execute(select(PlanDeliverable).where(PlanDeliverable.strategy_id == strategy.id)
                                  .order_by(PlanDeliverable.id)).scalars()
            if department in d.lead_departments and d.status != "complete"]
    return rng.sample(rows, min(n, len(rows)))


def load_plan_demo(db: Session, *, seed: int) -> dict[str, int]:
    """Load the plan demo (idempotent); returns counts for the demo report."""
    rng = random.Random(f"plan-{seed}")
    counts = {"plans": 0, "plan deliverables": 0, "plan leads": 0, "plan updates": 0}
    counts["plans"], counts["plan deliverables"] = _import_shipped(db)
    coordinator, _new = _user(db, COORDINATOR, "Demo Plan Coordinator (fictional)")
    leads: dict[str, User] = {}
    for username, display, dept in LEADS:
        user, new = _user(db, username, display)
        counts["plan leads"] += new
        linked = db.execute(select(PlanDepartmentMember.id).where(PlanDepartmentMember.user_id == user.id,
                                                              PlanDepartmentMember.department_code == dept)
                            ).scalar_one_or_none()
        if linked is None:
            service.add_member(db, actor=SYSTEM, user_id=user.id, department_code=dept)
        leads[dept] = user
    written = db.execute(select(func.count(PlanProgressEntry.id))
                         .where(PlanProgressEntry.author_id.in_([u.id for u in leads.values()]))).scalar_one()
    if written or NAP not in set(db.execute(select(PlanStrategy.code)).scalars()):
        return counts
    targets = {dept: _candidates(db, dept, rng, sum(u[0] == dept for u in UPDATES)) for dept in leads}
    for dept, state, status, day, text_en, text_fr in UPDATES:
        if not targets[dept]:
            continue
        d = targets[dept].pop()
        body = ProgressCreate(fiscal_year=FISCAL_YEAR, department=dept, entry_date=day, narrative_en=text_en,
                              narrative_fr=text_fr, proposed_status=status, submit=state != "draft",
                              evidence_links=[f"{EVIDENCE}{dept.lower()}-{d.id}"] if state == "approved" else [])
        entry = service.create_progress(db, actor=_actor(leads[dept]), deliverable_id=d.id, data=body)
        if state == "approved":
            service.review_progress(db, actor=_actor(coordinator), entry_id=entry.id,
                                    data=ReviewBody(decision="approve"))
        elif state == "rejected":
            service.review_progress(db, actor=_actor(coordinator), entry_id=entry.id,
                                    data=ReviewBody(decision="reject", note=RETURN_NOTE))
        counts["plan updates"] += 1
    return counts
