"""JSON API under /api/v1/plan: parse, check the token's scope, call the service, serialise."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from harbour.core.choices import ApiScope
from harbour.core.security import ApiUser, DbSession, Principal
from harbour.core.types import MAX_DB_ID
from harbour.core.types import IdPath as Id
from harbour.plan import reporting, service
from harbour.plan.choices import CODE_PATTERN, DEPARTMENT_PATTERN, FISCAL_YEAR_PATTERN, DeliverableStatus, ReviewState
from harbour.plan.schemas import (
    DepartmentRead,
    IndicatorRead,
    IndicatorValueBody,
    IndicatorValueRead,
    ProgressCreate,
    ProgressRead,
    ProgressUpdate,
    PublicProgressRead,
    ReviewBody,
    StrategyRead,
)

router = APIRouter(prefix="/api/v1/plan", tags=["plan"])

DB = DbSession
Who = ApiUser
Code = Annotated[str, Path(pattern=CODE_PATTERN, description="strategy code, e.g. NAP-2012-2016")]
FiscalYear = Annotated[str | None, Query(pattern=FISCAL_YEAR_PATTERN, description="e.g. 2013-2014")]
Dept = Annotated[str | None, Query(pattern=DEPARTMENT_PATTERN)]
PillarCode = Annotated[str | None, Query(pattern=CODE_PATTERN)]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


def _read(who: Principal):
    return who.actor_for(ApiScope.plan_read)


def _write(who: Principal):
    return who.actor_for(ApiScope.plan_write)


def progress_out(entry, actor, mine: set[str]) -> ProgressRead | PublicProgressRead:
    """Approved updates are public, without who wrote or reviewed them; the rest only reaches those who may see it
    (the service has already refused anyone else)."""
    full = entry.state != ReviewState.approved or entry.department_code in mine or (not mine and actor.role in
                                                                                  service.OVERSEERS)
    return ProgressRead.model_validate(entry) if full else PublicProgressRead.model_validate(entry)


@router.get("/departments", response_model=list[DepartmentRead])
def departments(db: DB, who: Who):
    _read(who)
    return service.list_departments(db)


@router.get("/strategies", response_model=list[StrategyRead])
def strategies(db: DB, who: Who):
    _read(who)
    return service.list_strategies(db)


@router.get("/strategies/{code}", response_model=StrategyRead)
def strategy(code: Code, db: DB, who: Who):
    _read(who)
    return service.get_strategy(db, code)


@router.get("/strategies/{code}/chart")
def strategy_chart(code: Code, db: DB, who: Who, fiscal_year: FiscalYear = None, pillar: PillarCode = None,
                   department: Dept = None, status: DeliverableStatus | None = None, overdue: bool = False) -> dict:
    """The approved chart grouped by pillar, objective and task; filters narrow the deliverables."""
    _read(who)
    return service.chart(db, code, fiscal_year, pillar=pillar, department=department,
                         status=status.value if status else None, overdue_only=overdue)


@router.get("/strategies/{code}/summary")
def strategy_summary(code: Code, db: DB, who: Who, fiscal_year: FiscalYear = None) -> dict:
    _read(who)
    return service.status_summary(db, code, fiscal_year)


@router.get("/strategies/{code}/changes")
def strategy_changes(code: Code, db: DB, who: Who,
                     fiscal_year: Annotated[str, Query(pattern=FISCAL_YEAR_PATTERN)]) -> dict:
    """What changed in a fiscal year compared with the one before."""
    _read(who)
    return service.changes_since(db, code, fiscal_year)


@router.get("/strategies/{code}/flags")
def strategy_flags(code: Code, db: DB, who: Who, fiscal_year: FiscalYear = None, department: Dept = None) -> list:
    """Overdue deliverables and those without an approved update this fiscal year (coordinator, department leads)."""
    return service.flags(db, actor=_read(who), strategy_code=code, fiscal_year=fiscal_year, department=department)


@router.get("/strategies/{code}/indicators", response_model=list[IndicatorRead])
def strategy_indicators(code: Code, db: DB, who: Who):
    _read(who)
    return reporting.indicators(db, code)


@router.put("/indicators/{indicator_id}/values/{fiscal_year}", response_model=IndicatorValueRead)
def put_indicator_value(indicator_id: Id, fiscal_year: Annotated[str, Path(pattern=FISCAL_YEAR_PATTERN)],
                        body: IndicatorValueBody, db: DB, who: Who):
    return service.set_indicator_value(db, actor=_write(who), indicator_id=indicator_id, fiscal_year=fiscal_year,
                                       data=body)


@router.get("/deliverables/{deliverable_id}")
def deliverable(deliverable_id: Id, db: DB, who: Who) -> dict:
    """One deliverable with where it sits, its status history and the updates the caller may see."""
    actor = _read(who)
    d = service.get_deliverable(db, deliverable_id)
    where = service.deliverable_context(db, d)
    entries, _total = service.list_progress(db, actor=actor, deliverable_id=d.id, limit=200)
    mine = service.departments_of(db, actor.id)
    return {
        "id": d.id, "ref": d.ref, "strategy": where["strategy"].code, "pillar": where["pillar"].code,
        "objective": where["objective"].number, "task": where["task"].number,
        "task_text_en": where["task"].text_en, "task_text_fr": where["task"].text_fr,
        "text_en": d.text_en, "text_fr": d.text_fr, "timeline": d.timeline,
        "start_fiscal_year": d.start_fiscal_year, "end_fiscal_year": d.end_fiscal_year,
        "status": d.status, "status_text": d.status_text, "status_fiscal_year": d.status_fiscal_year,
        "leads": d.lead_departments, "partners": d.partner_departments, "lead_text": d.lead_text,
        "narrative_en": d.narrative_en, "narrative_fr": d.narrative_fr, "note_en": d.note_en, "note_fr": d.note_fr,
        "status_history": [{"fiscal_year": r.fiscal_year, "status": r.status, "status_text": r.status_text,
                            "source": r.source} for r in d.statuses],
        "updates": [progress_out(e, actor, mine).model_dump(mode="json") for e in entries],
    }


@router.post("/deliverables/{deliverable_id}/progress", status_code=201, response_model=ProgressRead)
def create_progress(deliverable_id: Id, body: ProgressCreate, db: DB, who: Who):
    return service.create_progress(db, actor=_write(who), deliverable_id=deliverable_id, data=body)


@router.get("/progress")
def list_progress(db: DB, who: Who, state: ReviewState | None = None,
                  deliverable_id: Annotated[int | None, Query(ge=1, le=MAX_DB_ID)] = None,
                  limit: Limit = 50, offset: Offset = 0) -> dict:
    actor = _read(who)
    rows, total = service.list_progress(db, actor=actor, state=state.value if state else None,
                                        deliverable_id=deliverable_id, limit=limit, offset=offset)
    mine = service.departments_of(db, actor.id)
    return {"total": total, "items": [progress_out(e, actor, mine) for e in rows]}


@router.get("/progress/{entry_id}")
def get_progress(entry_id: Id, db: DB, who: Who) -> dict:
    actor = _read(who)
    entry = service.get_progress(db, actor=actor, entry_id=entry_id)
    return progress_out(entry, actor, service.departments_of(db, actor.id)).model_dump(mode="json")


@router.patch("/progress/{entry_id}", response_model=ProgressRead)
def update_progress(entry_id: Id, body: ProgressUpdate, db: DB, who: Who):
    return service.update_progress(db, actor=_write(who), entry_id=entry_id, data=body)


@router.post("/progress/{entry_id}/submit", response_model=ProgressRead)
def submit_progress(entry_id: Id, db: DB, who: Who):
    return service.submit_progress(db, actor=_write(who), entry_id=entry_id)


@router.post("/progress/{entry_id}/review", response_model=ProgressRead)
def review_progress(entry_id: Id, body: ReviewBody, db: DB, who: Who):
    return service.review_progress(db, actor=_write(who), entry_id=entry_id, data=body)


@router.get("/review-queue", response_model=list[ProgressRead])
def review_queue(db: DB, who: Who):
    return service.review_queue(db, actor=_read(who))
