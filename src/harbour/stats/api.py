"""JSON API under /api/v1/stats (scope stats:read): dashboard numbers, the data standard, releases and the
privacy-budget ledger.  Public numbers for every token; exact numbers, releases and the ledger only for the
roles the service allows."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from harbour.core.choices import ApiScope
from harbour.core.i18n import gettext
from harbour.core.security import ApiUser, DbSession
from harbour.core.types import IdPath
from harbour.stats import service, standard
from harbour.stats.schemas import BudgetRow, DashboardOut, ReleaseRead, TableOut
from harbour.stats.tables import BY_KEY

router = APIRouter(prefix="/api/v1/stats", tags=["stats"])
Year = Annotated[str | None, Query(max_length=4, description="data year, e.g. 2025 (default: every year)")]
Geo = Annotated[str | None, Query(max_length=7, description="province or territory code, ATL, PRA, TER or unknown")]
AudienceQ = Annotated[str, Query(max_length=10, description="public (disclosure-controlled) or internal (exact)")]


@router.get("/dashboard", response_model=DashboardOut)
def dashboard(request: Request, db: DbSession, who: ApiUser, year: Year = None, province: Geo = None,
              audience: AudienceQ = "public"):
    """Every dashboard table for a year and a geography; withheld cells are null (public audience)."""
    actor = who.actor_for(ApiScope.stats_read)
    service.ensure_store(db, request.app.state.settings)
    data = service.dashboard(request.app.state.settings, actor=actor, year=year, geo=province, audience=audience)
    tables = []
    for key, t in data["tables"].items():
        spec = BY_KEY[key]
        labels = spec.labels()
        tables.append(TableOut(
            key=key, source=t["source"], kind=t["kind"], title=gettext(spec.title), total=t["total"],
            rows=[{"code": c, "label": labels.get(c, c), "count": n} for c, n in t["rows"]],
            by_year=[{"year": y, "count": n} for y, n in t["by_year"]],
            by_geo=[{"geography": g, "count": n} for g, n in t["by_geo"]]))
    return DashboardOut(year=data["year"], province=data["geo"], audience=data["audience"], years=data["years"],
                        tables=tables)


@router.get("/standard")
def data_standard(who: ApiUser) -> dict:
    """The national data standard (data dictionary)."""
    who.actor_for(ApiScope.stats_read)
    return standard.dictionary()


@router.get("/releases", response_model=list[ReleaseRead])
def releases(db: DbSession, who: ApiUser):
    return service.list_releases(db, actor=who.actor_for(ApiScope.stats_read))


@router.get("/releases/{release_id}", response_model=ReleaseRead)
def release(release_id: IdPath, db: DbSession, who: ApiUser):
    return service.get_release(db, actor=who.actor_for(ApiScope.stats_read), release_id=release_id)


@router.get("/budget", response_model=list[BudgetRow])
def budget(request: Request, db: DbSession, who: ApiUser):
    """The privacy-budget ledger: epsilon spent and remaining per data year."""
    actor = who.actor_for(ApiScope.stats_read)
    service.ensure_store(db, request.app.state.settings)
    return service.budget(db, request.app.state.settings, actor=actor)
