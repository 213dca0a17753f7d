"""Plan fixtures: a small fictional plan, department leads, the coordinator (every person is fictional)."""

from __future__ import annotations

import copy
from dataclasses import dataclass

import pytest

from harbour.core.audit import Actor
from harbour.plan import importer, service

ADMIN = Actor(None, "system:tests", "admin")
CODE = "TEST-PLAN"

# Fictional plan for workflow tests: RCMP leads 1.11/1 (JUS partners), CBSA leads 1.11/2,
# 2.11/1 ended in 2014-2015 and is still ongoing (overdue), 2.11/2 is complete.
PLAN = {
    "schema": "harbour-plan/1",
    "strategy": {"code": CODE, "kind": "strategy", "title": {"en": "Fictional test strategy", "fr": "Stratégie fictive"},
                 "start_fiscal_year": "2013-2014", "end_fiscal_year": "2017-2018"},
    "status_fiscal_year": "2013-2014",
    "pillars": [
        {"code": "prevention", "name": {"en": "Prevention", "fr": "Prévention"}, "objectives": [
            {"number": "1.1", "text": {"en": "Prevent it.", "fr": "La prévenir."}, "tasks": [
                {"number": "1.11", "text": {"en": "Raise awareness.", "fr": "Sensibiliser."}, "deliverables": [
                    {"text": {"en": "Fictional RCMP toolkit", "fr": "Trousse fictive de la GRC"}, "status": "ongoing",
                     "leads": ["RCMP"], "partners": ["JUS"]},
                    {"text": {"en": "Fictional CBSA poster", "fr": "Affiche fictive de l'ASFC"}, "status": "in_progress",
                     "leads": ["CBSA"]},
                ]},
            ]},
        ]},
        {"code": "protection", "name": {"en": "Protection", "fr": "Protection"}, "objectives": [
            {"number": "2.1", "text": {"en": "Protect victims.", "fr": "Protéger les victimes."}, "tasks": [
                {"number": "2.11", "text": {"en": "Fund services.", "fr": "Financer des services."}, "deliverables": [
                    {"text": {"en": "Fictional overdue fund", "fr": "Fonds fictif en retard"}, "status": "ongoing",
                     "start": "2013-2014", "end": "2014-2015", "leads": ["PS"]},
                    {"text": {"en": "Fictional finished guide", "fr": "Guide fictif terminé"}, "status": "complete",
                     "leads": ["PS"]},
                ]},
            ]},
        ]},
    ],
}


def plan_doc() -> dict:
    return copy.deepcopy(PLAN)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch):
    """Argon2 with minimal cost: users are created in every test."""
    from argon2 import PasswordHasher

    from harbour.core import security

    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def deliverable_id(db, task: str, ref: str = "1", code: str = CODE) -> int:
    from sqlalchemy import select

    from harbour.plan.models import PlanDeliverable, PlanStrategy, PlanTask

    return db.execute(select(PlanDeliverable.id).join(PlanTask, PlanTask.id == PlanDeliverable.task_id)
                      .join(PlanStrategy, PlanStrategy.id == PlanDeliverable.strategy_id)
                      .where(PlanStrategy.code == code, PlanTask.number == task, PlanDeliverable.ref == ref)
                      ).scalar_one()


@dataclass
class World:
    coordinator: object
    rcmp: object
    cbsa: object
    jus: object
    outsider: object
    d_rcmp: int
    d_cbsa: int
    d_overdue: int
    d_done: int


@pytest.fixture
def world(db, make_user) -> World:
    importer.import_document(db, actor=ADMIN, doc=plan_doc())
    users = {}
    for name, dept in (("rcmp", "RCMP"), ("cbsa", "CBSA"), ("jus", "JUS")):
        user = make_user("plan_coordinator", display_name=f"Fictional {dept} lead")
        service.add_member(db, actor=ADMIN, user_id=user.id, department_code=dept)
        users[name] = user
    return World(
        coordinator=make_user("plan_coordinator", display_name="Fictional plan coordinator"),
        outsider=make_user("researcher"), **users,
        d_rcmp=deliverable_id(db, "1.11", "1"), d_cbsa=deliverable_id(db, "1.11", "2"),
        d_overdue=deliverable_id(db, "2.11", "1"), d_done=deliverable_id(db, "2.11", "2"),
    )
