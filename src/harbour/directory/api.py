"""JSON API under /api/v1/directory: search, services, organisations, capacity, vetting, unmet needs.

Thin routes: check the token's scope, parse, call the service, serialise.  Roles and
provider isolation are decided in the services (other organisations' records answer 404).
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from harbour.core.audit import Actor
from harbour.core.choices import ApiScope
from harbour.core.errors import ValidationFailed
from harbour.core.i18n import N_
from harbour.core.security import ApiUser, DbSession, Principal
from harbour.directory import curation, detail, hsds, search
from harbour.directory import service as directory
from harbour.directory.schemas import CapacityUpdate, ServiceDetailsUpdate, VettingUpdate

router = APIRouter(prefix="/api/v1/directory", tags=["directory"])

DB = DbSession
Who = ApiUser
HsdsId = Annotated[str, Path(min_length=1, max_length=36, pattern=r"^[A-Za-z0-9._:-]+$",
                             description="HSDS id (usually a UUID)")]


class SearchParams(search.SearchQuery):
    """Search query parameters (repeat ``needs=`` for several needs)."""

    lang: Literal["en", "fr"] | None = None  # the interface language, read by the middleware


def _read(who: Principal) -> Actor:
    return who.actor_for(ApiScope.directory_read)


def _write(who: Principal) -> Actor:
    actor = who.actor_for(ApiScope.directory_write)
    directory.ensure_reader(actor)  # roles outside the directory get 403 before any lookup
    return actor


@router.get("/search", response_model=search.SearchResult)
def search_directory(params: Annotated[SearchParams, Query()], db: DB, who: Who):
    """Vetted services for one or more needs near a place, ranked, each with the reasons it was suggested.

    A search that finds nothing suitable is recorded as an unmet need (no personal data)."""
    query = search.SearchQuery.model_validate(params.model_dump(exclude={"lang"}, exclude_unset=True))
    return search.search(db, actor=_read(who), query=query)


@router.get("/services/{service_id}", response_model=detail.ServiceDetail)
def get_service(service_id: HsdsId, db: DB, who: Who):
    return detail.service_detail(db, actor=_read(who), service_id=service_id)


@router.get("/organizations/{organization_id}", response_model=detail.OrganizationRead)
def get_organization(organization_id: HsdsId, db: DB, who: Who):
    """A provider; a confidential location's address is null unless you are the hotline or its own staff."""
    return detail.organization_detail(db, actor=_read(who), organization_id=organization_id)


@router.put("/services/{service_id}/capacity", response_model=detail.CapacityOut)
def update_capacity(service_id: HsdsId, body: CapacityUpdate, db: DB, who: Who):
    cap = directory.update_capacity(db, actor=_write(who), service_id=service_id, data=body)
    return detail.CapacityOut(available=cap.available, maximum=cap.maximum, unit=cap.unit.name, updated=cap.updated)


@router.patch("/services/{service_id}", response_model=detail.ServiceDetail)
def update_service(service_id: HsdsId, body: ServiceDetailsUpdate, db: DB, who: Who):
    actor = _write(who)
    directory.update_service_details(db, actor=actor, service_id=service_id, data=body)
    return detail.service_detail(db, actor=actor, service_id=service_id)


@router.put("/organizations/{organization_id}/vetting", response_model=detail.VettingRead)
def set_vetting(organization_id: HsdsId, body: VettingUpdate, db: DB, who: Who):
    actor = _write(who)
    directory.set_vetting(db, actor=actor, organization_id=organization_id, data=body)
    org = directory.get_organization(db, actor=actor, organization_id=organization_id)
    return detail.vetting_read(org)


@router.get("/vetting/due", response_model=curation.VettingOverview)
def vetting_due(db: DB, who: Who, within_days: Annotated[int, Query(ge=0, le=366)] = 30):
    """Providers whose vetting expires within N days or has expired, and those not vetted."""
    return curation.vetting_overview(db, actor=_read(who), within_days=within_days)


@router.get("/unmet-needs", response_model=curation.UnmetSummary)
def unmet_needs(db: DB, who: Who, since_days: Annotated[int, Query(ge=1, le=3660)] = 90):
    """How often searches found nothing, by need and province (hotline supervisors and administrators)."""
    return curation.unmet_needs_summary(db, actor=_read(who), since_days=since_days)


# -- HSDS packages ----------------------------------------------------------------------------
@router.get("/hsds", response_class=Response, responses={200: {"content": {"application/zip": {}}}})
def export_hsds(db: DB, who: Who, redact: bool = False) -> Response:
    """The whole directory as an HSDS tabular data package (zip); supervisors and administrators."""
    data = hsds.export_zip(db, actor=_read(who), redact=redact)
    return Response(data, media_type="application/zip",
                    headers={"Content-Disposition": 'attachment; filename="harbour-hsds.zip"'})


@router.post("/hsds", response_model=dict)
async def import_hsds(request: Request, db: DB, who: Who) -> dict:
    """Upload an HSDS package as a zip (body: the archive, Content-Type application/zip, at most
    HARBOUR_MAX_UPLOAD_BYTES).  Invalid packages answer 422 with row-level errors; nothing is imported."""
    actor = _write(who)
    if request.headers.get("content-type", "").split(";")[0].strip() not in ("application/zip",
                                                                            "application/octet-stream"):
        raise ValidationFailed(N_("Send the package as a zip archive (Content-Type: application/zip)."))
    report = hsds.import_zip(db, await request.body(), actor=actor)
    return {"source": report.source, "created": sum(report.created.values()),
            "updated": sum(report.updated.values()), "unchanged": sum(report.unchanged.values()),
            "warnings": report.warnings}
