"""Read-only lists for the people who keep the directory trustworthy (supervisors, administrators).

- ``vetting_overview``: providers whose vetting expires soon or has expired, and providers
  never vetted or suspended, so nobody silently drops out of search.
- ``unmet_needs_summary``: how often searches found nothing, by need and province (counts only;
  the rows themselves carry no personal data).
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.choices import Role
from harbour.core.db import utcnow
from harbour.core.i18n import N_
from harbour.core.security import ensure_role
from harbour.directory import service as directory
from harbour.directory.choices import VettingStatus
from harbour.directory.models import Organization, UnmetNeed, Vetting

UNMET_READERS = {Role.hotline_supervisor, Role.admin}


class VettingRow(BaseModel):
    organization_id: str
    organization_name: str
    status: str
    vetted_by: str | None
    vetted_on: str | None
    expires_on: str | None
    days_left: int | None
    expired: bool


class VettingOverview(BaseModel):
    within_days: int
    today: date
    due: list[VettingRow]
    not_vetted: list[VettingRow]


def _row(org: Organization, v: Vetting | None, today: date) -> VettingRow:
    expires = v.expires_on if v else None
    days_left = (date.fromisoformat(expires) - today).days if expires else None
    return VettingRow(organization_id=org.id, organization_name=org.name,
                      status=v.status if v else VettingStatus.pending.value, vetted_by=v.vetted_by if v else None,
                      vetted_on=v.vetted_on if v else None, expires_on=expires, days_left=days_left,
                      expired=days_left is not None and days_left < 0)


def vetting_overview(db: Session, *, actor: Actor, within_days: int = 30, today: date | None = None,
                     limit: int = 500) -> VettingOverview:
    """Vetted providers due for renewal (or already expired), then those pending or suspended."""
    ensure_role(actor, directory.CURATORS, N_("Only supervisors and administrators manage vetting."))
    today = today or utcnow().date()
    due = [_row(v.organization, v, today) for v in directory.vetting_due(db, within_days=within_days, today=today)]
    others = db.execute(select(Organization, Vetting).outerjoin(Vetting, Vetting.organization_id == Organization.id)
                        .where((Vetting.status.is_(None)) | (Vetting.status != VettingStatus.vetted.value))
                        .order_by(Organization.name).limit(limit)).all()
    return VettingOverview(within_days=within_days, today=today, due=due[:limit],
                           not_vetted=[_row(org, v, today) for org, v in others])


class UnmetCount(BaseModel):
    need: str
    province: str | None
    count: int


class UnmetSummary(BaseModel):
    since: datetime
    total: int
    by_need: list[UnmetCount]
    by_need_and_province: list[UnmetCount]


def unmet_needs_summary(db: Session, *, actor: Actor, since_days: int = 90, now: datetime | None = None) -> UnmetSummary:
    """Counts of fruitless searches per need (and per need and province) since N days ago."""
    ensure_role(actor, UNMET_READERS, N_("Only supervisors and administrators see unmet needs."))
    since = (now or utcnow()) - timedelta(days=since_days)
    rows = db.execute(select(UnmetNeed.needs, UnmetNeed.province).where(UnmetNeed.at >= since)).all()
    by_need: Counter[str] = Counter()
    by_pair: Counter[tuple[str, str | None]] = Counter()
    for needs, province in rows:
        for need in needs or []:
            by_need[need] += 1
            by_pair[(need, province)] += 1
    return UnmetSummary(
        since=since, total=len(rows),
        by_need=[UnmetCount(need=n, province=None, count=c) for n, c in sorted(by_need.items(),
                                                                               key=lambda t: (-t[1], t[0]))],
        by_need_and_province=[UnmetCount(need=n, province=p, count=c) for (n, p), c in
                              sorted(by_pair.items(), key=lambda t: (-t[1], t[0][0], t[0][1] or ""))])
