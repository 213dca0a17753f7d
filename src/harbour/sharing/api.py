"""JSON API under /api/v1/sharing: parse, check the token's scope, call the service, serialise.

Every rule (agency membership, roles, agreements, disclosure levels, audit) is in the service.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Body, Path, Query, Request

from harbour.core.choices import ApiScope
from harbour.core.errors import TooLarge, ValidationFailed
from harbour.core.i18n import N_
from harbour.core.security import ApiUser, DbSession, Principal
from harbour.core.types import IdPath as Id
from harbour.sharing import service
from harbour.sharing.choices import AGENCY_CODE_PATTERN, RECORD_ID_PATTERN, Purpose, RecordCategory
from harbour.sharing.linking import relink_quietly
from harbour.sharing.schemas import (
    AgencyCreate,
    AgencyRead,
    AgreementCreate,
    AgreementRead,
    AgreementStatusBody,
    BatchRead,
    DecisionBody,
    DisclosureRequestCreate,
    IngestBody,
    MembershipBody,
)

router = APIRouter(prefix="/api/v1/sharing", tags=["sharing"])
DB = DbSession
Who = ApiUser
Code = Annotated[str, Path(pattern=AGENCY_CODE_PATTERN)]
RecordId = Annotated[str, Path(pattern=RECORD_ID_PATTERN)]
Link = Annotated[bool, Query(description="relink across agencies after the ingest (default true)")]
MAX_CSV = 50_000_000


def _read(who: Principal):
    return who.actor_for(ApiScope.sharing_read)


def _write(who: Principal):
    return who.actor_for(ApiScope.sharing_write)


def _batch(batch) -> dict:
    return BatchRead.model_validate(batch).model_dump(mode="json")


# -- agencies ------------------------------------------------------------------------------------------
@router.get("/agencies", response_model=list[AgencyRead])
def agencies(db: DB, who: Who):
    _read(who)
    return service.list_agencies(db)


@router.get("/me")
def me(db: DB, who: Who) -> dict:
    """The caller's agency (or none)."""
    actor = _read(who)
    agency = service.agency_of(db, actor)
    return {"username": actor.label, "role": actor.role,
            "agency": AgencyRead.model_validate(agency).model_dump() if agency else None}


@router.post("/agencies", response_model=AgencyRead, status_code=201)
def create_agency(body: AgencyCreate, db: DB, who: Who):
    agency = service.create_agency(db, actor=_write(who), data=body)
    db.commit()
    return agency


@router.put("/agencies/{code}", response_model=AgencyRead)
def update_agency(code: Code, body: AgencyCreate, db: DB, who: Who):
    agency = service.update_agency(db, actor=_write(who), code=code, data=body)
    db.commit()
    return agency


@router.get("/agencies/{code}/members")
def agency_members(code: Code, db: DB, who: Who) -> list[dict]:
    actor = _read(who)
    from harbour.core.choices import Role
    from harbour.core.security import ensure_role

    ensure_role(actor, {Role.admin})
    agency = service.get_agency(db, code)
    return [{"username": u.username, "role": u.role, "display_name": u.display_name}
            for u in service.members(db, agency_id=agency.id)]


@router.post("/agencies/{code}/members", status_code=201)
def add_member(code: Code, body: MembershipBody, db: DB, who: Who) -> dict:
    service.add_member(db, actor=_write(who), code=code, username=body.username)
    db.commit()
    return {"agency": code, "username": body.username}


@router.delete("/agencies/{code}/members/{username}", status_code=204)
def remove_member(code: Code, username: Annotated[str, Path(max_length=80)], db: DB, who: Who) -> None:
    service.remove_member(db, actor=_write(who), code=code, username=username)
    db.commit()


# -- ingest -------------------------------------------------------------------------------------------
@router.post("/ingest/{record_type}", status_code=201)
def ingest_json(record_type: RecordCategory, body: IngestBody, db: DB, who: Who, request: Request,
                tasks: BackgroundTasks, link: Link = True) -> dict:
    """Upsert records of one type for the caller's agency; bad records are reported by position (1-based)."""
    batch = service.ingest(db, actor=_write(who), record_type=record_type.value, rows=body.records,
                           source_system=body.source_system, fmt="json")
    db.commit()
    if link and record_type == RecordCategory.person and batch.rows_created + batch.rows_updated:
        tasks.add_task(relink_quietly, request.app.state.sessionmaker)
    return _batch(batch)


@router.post("/ingest/{record_type}/csv", status_code=201)
async def ingest_csv(record_type: RecordCategory, db: DB, who: Who, request: Request, tasks: BackgroundTasks,
                     source_system: Annotated[str, Query(min_length=1, max_length=120)],
                     link: Link = True) -> dict:
    """The canonical CSV file as the request body (Content-Type: text/csv)."""
    actor = _write(who)
    if not request.headers.get("content-type", "").startswith("text/csv"):
        raise ValidationFailed(N_("Send the file with Content-Type: text/csv."))
    data = await request.body()
    if len(data) > MAX_CSV:
        raise TooLarge(N_("The request is too large."))
    batch = service.ingest_csv(db, actor=actor, record_type=record_type.value, data=data,
                               source_system=source_system)
    db.commit()
    if link and record_type == RecordCategory.person and batch.rows_created + batch.rows_updated:
        tasks.add_task(relink_quietly, request.app.state.sessionmaker)
    return _batch(batch)


@router.get("/batches")
def batches(db: DB, who: Who) -> list[dict]:
    return [_batch(b) for b in service.batches(db, actor=_read(who))]


@router.get("/batches/{batch_id}")
def batch(batch_id: Id, db: DB, who: Who) -> dict:
    return _batch(service.get_batch(db, actor=_read(who), batch_id=batch_id))


# -- records --------------------------------------------------------------------------------------------
@router.get("/records/{category}")
def records(category: RecordCategory, db: DB, who: Who, offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
            limit: Annotated[int, Query(ge=1, le=500)] = 50) -> dict:
    from harbour.sharing.records import serialise

    rows, total = service.list_own(db, actor=_read(who), category=category.value, offset=offset, limit=limit)
    db.commit()
    return {"total": total, "items": [serialise(r, category.value) for r in rows]}


@router.get("/records/{category}/{record_id}")
def own_record(category: RecordCategory, record_id: RecordId, db: DB, who: Who,
               purpose: Purpose = Purpose.investigation) -> dict:
    out = service.own_record(db, actor=_read(who), category=category.value, record_id=record_id,
                             purpose=purpose.value)
    db.commit()
    return out


@router.get("/agencies/{code}/records/{category}/{record_id}")
def other_record(code: Code, category: RecordCategory, record_id: RecordId, db: DB, who: Who,
                 purpose: Annotated[Purpose, Query(description="why you need it (recorded in the audit log)")]) -> dict:
    """Another agency's record at the level its agreement allows for the purpose (403 without one)."""
    out = service.other_record(db, actor=_read(who), agency_code=code, category=category.value,
                               record_id=record_id, purpose=purpose.value)
    db.commit()
    return out


# -- agreements ---------------------------------------------------------------------------------------
@router.get("/agreements", response_model=list[AgreementRead])
def agreements(db: DB, who: Who):
    return [service.as_read(a) for a in service.list_agreements(db, actor=_read(who))]


@router.post("/agreements", response_model=AgreementRead, status_code=201)
def create_agreement(body: AgreementCreate, db: DB, who: Who):
    agreement = service.create_agreement(db, actor=_write(who), data=body)
    db.commit()
    return service.as_read(agreement)


@router.get("/agreements/{agreement_id}", response_model=AgreementRead)
def agreement(agreement_id: Id, db: DB, who: Who):
    return service.as_read(service.get_agreement(db, actor=_read(who), agreement_id=agreement_id))


@router.post("/agreements/{agreement_id}/status", response_model=AgreementRead)
def agreement_status(agreement_id: Id, body: AgreementStatusBody, db: DB, who: Who):
    agreement = service.set_status(db, actor=_write(who), agreement_id=agreement_id, data=body)
    db.commit()
    return service.as_read(agreement)


# -- hits and disclosure -------------------------------------------------------------------------------
@router.get("/hits")
def hits(db: DB, who: Who, status: Annotated[str | None, Query(pattern="^(new|seen|closed)$")] = None) -> list[dict]:
    return [service.hit_view(h) for h in service.inbox(db, actor=_read(who), status=status)]


@router.get("/hits/{hit_id}")
def hit(hit_id: Id, db: DB, who: Who) -> dict:
    return service.hit_view(service.get_hit(db, actor=_read(who), hit_id=hit_id))


@router.post("/hits/{hit_id}/status")
def hit_status(hit_id: Id, db: DB, who: Who,
               status: Annotated[str, Body(embed=True, pattern="^(new|seen|closed)$")]) -> dict:
    hit = service.mark(db, actor=_write(who), hit_id=hit_id, status=status)
    db.commit()
    return service.hit_view(hit)


def _request(req) -> dict:
    return {"id": req.id, "hit": req.hit_id, "requester_agency": req.requester_agency.code,
            "owner_agency": req.owner_agency.code, "purpose": req.purpose, "level_requested": req.level_requested,
            "status": req.status, "level_granted": req.level_granted, "created_at": req.created_at.isoformat(),
            "decided_at": req.decided_at.isoformat() if req.decided_at else None}


@router.post("/hits/{hit_id}/disclosure-requests", status_code=201)
def request_disclosure(hit_id: Id, body: DisclosureRequestCreate, db: DB, who: Who) -> dict:
    req = service.request_disclosure(db, actor=_write(who), hit_id=hit_id, purpose=body.purpose.value,
                                     level=body.level, justification=body.justification)
    db.commit()
    return _request(req)


@router.get("/disclosure-requests")
def disclosure_requests(db: DB, who: Who, direction: Annotated[str, Query(pattern="^(incoming|outgoing)$")] = "incoming",
                        status: Annotated[str | None, Query(pattern="^(pending|approved|denied|withdrawn)$")] = None
                        ) -> list[dict]:
    return [_request(r) for r in service.requests_for(db, actor=_read(who), direction=direction, status=status)]


@router.get("/disclosure-requests/{request_id}")
def disclosure_request(request_id: Id, db: DB, who: Who) -> dict:
    return _request(service.get_request(db, actor=_read(who), request_id=request_id))


@router.post("/disclosure-requests/{request_id}/decision")
def decide(request_id: Id, body: DecisionBody, db: DB, who: Who) -> dict:
    req = service.decide(db, actor=_write(who), request_id=request_id, decision=body.decision, level=body.level,
                         note=body.note)
    db.commit()
    return _request(req)


@router.post("/disclosure-requests/{request_id}/withdraw")
def withdraw(request_id: Id, db: DB, who: Who) -> dict:
    req = service.withdraw(db, actor=_write(who), request_id=request_id)
    db.commit()
    return _request(req)


@router.get("/disclosure-requests/{request_id}/disclosure")
def disclosure(request_id: Id, db: DB, who: Who) -> dict:
    """The disclosed fields (approved requests; re-checked against the agreement and audited on every read)."""
    out = service.disclosure(db, actor=_read(who), request_id=request_id)
    db.commit()
    return out


# -- linkage and PPRL ------------------------------------------------------------------------------------
@router.post("/pprl/submissions", status_code=201)
def pprl_submit(db: DB, who: Who, document: Annotated[dict, Body(description="output of `harbour pprl encode`")]) -> dict:
    out = service.submit_pprl(db, actor=_write(who), document=document)
    db.commit()
    return out


@router.get("/pprl/submissions")
def pprl_list(db: DB, who: Who) -> list[dict]:
    return [{"id": s.id, "records": s.record_count, "created_at": s.created_at.isoformat(), "active": s.active}
            for s in service.pprl_submissions(db, actor=_read(who))]


@router.post("/relink")
def relink(db: DB, who: Who) -> dict:
    """Administrators: link every agency's person records again with the active model."""
    out = service.relink(db, actor=_write(who))
    db.commit()
    return out


@router.get("/models")
def models(db: DB, who: Who) -> list[dict]:
    _read(who)
    return [{"version": m.version, "trained_on": m.trained_on, "active": m.active,
             "created_at": m.created_at.isoformat()} for m in service.list_models(db)]
