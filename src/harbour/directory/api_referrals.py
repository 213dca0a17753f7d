"""JSON API under /api/v1/directory/referrals: parse, check the token's scope, call the service, serialise.

Hotline staff send, list (per case) and revoke; provider staff list, read and answer the referrals
to their own organisation and see only what the advocate chose to share (``ReferralRead``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from harbour.core.choices import ApiScope
from harbour.core.security import ApiUser, DbSession, Principal
from harbour.core.types import MAX_DB_ID
from harbour.core.types import IdPath as Id
from harbour.directory import referrals
from harbour.directory.choices import ReferralStatus
from harbour.directory.models import Referral
from harbour.directory.referrals import CaseReferral
from harbour.directory.schemas import ReferralComplete, ReferralCreate, ReferralDecline, ReferralRead, ReferralRevoke

router = APIRouter(prefix="/api/v1/directory/referrals", tags=["referrals"])

DB = DbSession
Who = ApiUser


def _read(who: Principal):
    return who.actor_for(ApiScope.referrals_read)


def _write(who: Principal):
    return who.actor_for(ApiScope.referrals_write)


def _out(item) -> dict:
    """Hotline staff get the case view; provider staff only the provider view (no case id)."""
    if isinstance(item, Referral):
        return referrals.case_view(item).model_dump(mode="json")
    return ReferralRead.model_validate(item.model_dump()).model_dump(mode="json")


@router.post("", status_code=201, response_model=list[CaseReferral])
@router.post("/", status_code=201, response_model=list[CaseReferral], include_in_schema=False)
def send(body: ReferralCreate, request: Request, db: DB, who: Who):
    """Refer a case to one or more vetted services (hotline staff; needs current referral consent)."""
    rows = referrals.send_referrals(db, actor=_write(who), data=body,
                                    response_hours=request.app.state.settings.referral_response_hours)
    return [referrals.case_view(r) for r in rows]


@router.get("")
@router.get("/", include_in_schema=False)
def list_referrals(db: DB, who: Who, case_id: Annotated[int | None, Query(ge=1, le=MAX_DB_ID)] = None,
                   status: ReferralStatus | None = None) -> dict:
    """Hotline staff: one case's referrals (`case_id` required).  Provider staff: their organisation's."""
    rows = referrals.list_referrals(db, actor=_read(who), case_id=case_id, status=status)
    return {"total": len(rows), "items": [_out(r) for r in rows]}


@router.get("/{referral_id}")
def get_referral(referral_id: Id, db: DB, who: Who) -> dict:
    return _out(referrals.get_referral(db, actor=_read(who), referral_id=referral_id))


@router.post("/{referral_id}/accept", response_model=ReferralRead)
def accept(referral_id: Id, db: DB, who: Who):
    ref = referrals.accept(db, actor=_write(who), referral_id=referral_id)
    return _out(referrals.provider_view(ref))


@router.post("/{referral_id}/decline", response_model=ReferralRead)
def decline(referral_id: Id, body: ReferralDecline, db: DB, who: Who):
    ref = referrals.decline(db, actor=_write(who), referral_id=referral_id, data=body)
    return _out(referrals.provider_view(ref))


@router.post("/{referral_id}/complete", response_model=ReferralRead)
def complete(referral_id: Id, body: ReferralComplete, db: DB, who: Who):
    ref = referrals.complete(db, actor=_write(who), referral_id=referral_id, data=body)
    return _out(referrals.provider_view(ref))


@router.post("/{referral_id}/revoke", response_model=CaseReferral)
def revoke(referral_id: Id, body: ReferralRevoke, db: DB, who: Who):
    return referrals.case_view(referrals.revoke(db, actor=_write(who), referral_id=referral_id, data=body))
