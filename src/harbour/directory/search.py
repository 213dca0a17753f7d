"""Directory search: the right vetted provider for a need, a place and a person, in milliseconds.

``search(db, actor=..., query=SearchQuery(...))`` filters the in-memory index
(``search_index``) and ranks what is left by need match, distance, capacity and its
freshness, and language, giving each result the reasons it was suggested, in the
reader's language.  Only active services of organisations whose vetting is current are
ever suggested.  Virtual, national and province-wide services have no distance and are
included wherever they serve, which is what remote and northern places rely on.

A search that finds nothing suitable is recorded as an unmet need (needs, place, radius,
filters and time only: no personal data, not even who searched), in the same transaction.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Annotated

from pydantic import BaseModel, Field, field_validator, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from harbour.core import formats
from harbour.core.audit import Actor
from harbour.core.choices import Province
from harbour.core.db import atomic, utcnow
from harbour.core.i18n import N_, gettext, ngettext
from harbour.core.schemas import Strict
from harbour.core.security import ensure_role
from harbour.directory import places, search_index
from harbour.directory import service as directory
from harbour.directory.choices import EligibleGender, EligibleStatus, ServiceType, SurvivorType
from harbour.directory.models import UnmetNeed
from harbour.directory.schemas import LangCode
from harbour.directory.search_index import DAY_CODES, Entry

UNMET_DEDUP_MINUTES = 10  # the same fruitless search again within this time is one unmet need, not several
KEEP_CAPITALS = {ServiceType.indigenous_healing, ServiceType.lgbtq, ServiceType.victim_quick_response}
DAY_LABELS = {"MO": N_("Mon"), "TU": N_("Tue"), "WE": N_("Wed"), "TH": N_("Thu"), "FR": N_("Fri"),
              "SA": N_("Sat"), "SU": N_("Sun")}


# Usual opening hours, local time: weekdays from 08:00 to 18:00.  The index calls a service "after hours" when it
# is open past 18:00 or at weekends (search_index.compile_hours); outside these hours that is what is needed.
USUAL_DAYS = range(0, 5)  # Monday to Friday
USUAL_HOURS = (8 * 60, 18 * 60)  # minutes after midnight: from, until


def outside_usual_hours(now: datetime, tz: tzinfo) -> bool:
    """Whether ``now`` (aware, or naive UTC) falls outside usual opening hours in the time zone ``tz``."""
    local = (now if now.tzinfo else now.replace(tzinfo=UTC)).astimezone(tz)
    minute = local.hour * 60 + local.minute
    return local.weekday() not in USUAL_DAYS or not (USUAL_HOURS[0] <= minute < USUAL_HOURS[1])


class SearchQuery(Strict):
    """What an advocate is looking for.  Give a place, or coordinates, or a province."""

    needs: list[ServiceType] = Field(min_length=1, max_length=20)
    place: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    latitude: Annotated[float, Field(ge=41.0, le=84.0)] | None = None
    longitude: Annotated[float, Field(ge=-142.0, le=-52.0)] | None = None
    province: Province | None = None
    radius_km: Annotated[float, Field(ge=1, le=5000)] = 100
    language: LangCode | None = None
    open_now: bool = False
    after_hours: bool = False
    age: Annotated[int, Field(ge=0, le=120)] | None = None
    gender: EligibleGender | None = None
    status: EligibleStatus | None = None
    survivor_type: SurvivorType | None = None
    indigenous_led: bool = False
    include_virtual: bool = True
    limit: Annotated[int, Field(ge=1, le=50)] = 20

    @field_validator("needs")
    @classmethod
    def _unique(cls, value):
        return list(dict.fromkeys(value))

    @field_validator("language", mode="before")
    @classmethod
    def _lower(cls, value):
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _where(self):
        if (self.latitude is None) != (self.longitude is None):
            raise ValueError("give both latitude and longitude")
        if self.place and self.latitude is not None:
            raise ValueError("give a place or coordinates, not both")
        if not self.place and self.latitude is None and self.province is None:
            raise ValueError("give a place, coordinates or a province")
        return self


class Alternative(BaseModel):
    name: str
    province: str
    label: str


class ResolvedPlace(BaseModel):
    name: str
    label: str
    province: str | None
    latitude: float
    longitude: float
    province_wide: bool = False
    northern: bool = False
    alternatives: list[Alternative] = Field(default_factory=list)


class CapacityRead(BaseModel):
    available: float
    maximum: float | None
    unit: str
    updated: datetime
    age_hours: float


class SearchHit(BaseModel):
    service_id: str
    service_name: str
    organization_id: str
    organization_name: str
    types: list[str]
    matched_needs: list[str]
    distance_km: float | None
    city: str | None
    province: str | None
    virtual: bool
    national: bool
    province_wide: bool
    confidential: bool
    languages: list[str]
    serves_language: bool | None
    open_now: bool
    open_24_7: bool
    after_hours: bool
    hours: list[str]
    capacity: CapacityRead | None
    indigenous_led: bool
    phone: str | None
    score: float
    reasons: list[str]


class SearchResult(BaseModel):
    place: ResolvedPlace
    radius_km: float
    total: int
    results: list[SearchHit]
    unmet_need_recorded: bool = False
    notes: list[str] = Field(default_factory=list)


# -- where ------------------------------------------------------------------------
def resolve_place(query: SearchQuery) -> places.Place:
    province = str(query.province) if query.province else None
    if query.place:
        return places.resolve(query.place, province)
    if query.latitude is not None:
        town = places.nearest_town(query.latitude, query.longitude)
        near = town if town and places.haversine_km(query.latitude, query.longitude, town.latitude,
                                                    town.longitude) <= 150 else None
        return places.Place(name=near.name if near else f"{query.latitude:.2f}, {query.longitude:.2f}",
                            province=province or (near.province if near else ""), latitude=query.latitude,
                            longitude=query.longitude, population=near.population if near else 0)
    return places.province_place(province)


def _resolved(place: places.Place) -> ResolvedPlace:
    label = place.label() if place.province else place.name
    return ResolvedPlace(
        name=place.name, label=label, province=place.province or None, latitude=place.latitude,
        longitude=place.longitude, province_wide=place.province_wide, northern=place.northern,
        alternatives=[Alternative(name=t.name, province=t.province, label=f"{t.name}, {Province(t.province).label}")
                      for t in place.alternatives])


# -- wording -----------------------------------------------------------------------
def need_phrase(code: str) -> str:
    label = ServiceType(code).label
    if code in KEEP_CAPITALS or len(label) < 2 or label[1].isupper():
        return label
    return label[0].lower() + label[1:]


def language_name(code: str) -> str:
    """A language's name inside a sentence ("Serves in Mohawk", « Offert en mohawk »)."""
    return formats.language_name(code, in_sentence=True)


def age_phrase(delta: timedelta) -> str:
    minutes = max(0, int(delta.total_seconds() // 60))
    if minutes < 1:
        return gettext(N_("just now"))
    if minutes < 60:
        return ngettext("%(num)s minute ago", "%(num)s minutes ago", minutes)
    hours = minutes // 60
    if hours < 48:
        return ngettext("%(num)s hour ago", "%(num)s hours ago", hours)
    return ngettext("%(num)s day ago", "%(num)s days ago", hours // 24)


def capacity_phrase(available: float, unit: str) -> str:
    n = int(available)
    if unit == "bed":
        if n == 0:
            return gettext(N_("No beds available"))
        return ngettext("%(num)s bed available", "%(num)s beds available", n)
    if n == 0:
        return gettext(N_("Full (%(unit)s)"), unit=unit)
    return gettext(N_("%(num)s available (%(unit)s)"), num=n, unit=unit)


def capacity_line(available: float, maximum: float | None, unit: str) -> str:
    """"3 beds available of 10" for result cards and detail pages."""
    text = capacity_phrase(available, unit)
    if maximum is not None:
        text += " " + gettext(N_("(of %(maximum)s)"), maximum=int(maximum))
    return text


def hours_summary(entry: Entry) -> list[str]:
    if entry.open_24_7:
        return [gettext(N_("Open 24/7"))]
    lines = []
    for row in entry.hours:
        lines.append(f"{days_phrase(row.days)} {row.opens}–{row.closes}")
    return lines


def days_phrase(days: tuple[str, ...]) -> str:
    idx = sorted({DAY_CODES.index(d) for d in days})
    runs: list[list[int]] = []
    for i in idx:
        if runs and i == runs[-1][-1] + 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    parts = []
    for run in runs:
        first, last = gettext(DAY_LABELS[DAY_CODES[run[0]]]), gettext(DAY_LABELS[DAY_CODES[run[-1]]])
        parts.append(first if len(run) == 1 else f"{first}–{last}" if len(run) > 2 else f"{first}, {last}")
    return ", ".join(parts)


# -- search ------------------------------------------------------------------------
def _freshness(age: timedelta) -> float:
    hours = age.total_seconds() / 3600
    if hours <= 24:
        return 1.0
    if hours <= 24 * 7:
        return 0.5
    return 0.2


def _bbox(lat: float, radius: float) -> tuple[float, float]:
    dlat = radius / 110.574
    coslat = math.cos(math.radians(min(89.0, abs(lat) + dlat)))
    dlon = 180.0 if coslat < 1e-6 else min(180.0, radius / (111.320 * coslat))
    return dlat, dlon


def ensure_searcher(actor: Actor) -> None:
    """Hotline staff and administrators search the directory; provider staff use their portal."""
    directory.ensure_reader(actor)
    ensure_role(actor, directory.READERS, N_("Provider staff cannot search the directory."))


@atomic
def search(db: Session, *, actor: Actor, query: SearchQuery, now: datetime | None = None,
           record_unmet: bool = True) -> SearchResult:
    """Ranked, explained suggestions of vetted services; records an unmet need when nothing fits."""
    ensure_searcher(actor)
    now = utcnow() if now is None else now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    place = resolve_place(query)
    index = search_index.get_index(db)
    needs = {str(n) for n in query.needs}
    today = now.date().isoformat()
    radius = float(query.radius_km)
    dlat, dlon = _bbox(place.latitude, radius)
    lat0, lon0 = place.latitude, place.longitude
    qprov = place.province or None

    # where first (the cheapest cut): near the place, based in its province, serving it, or everywhere
    found: dict[str, tuple[Entry, float | None, str]] = {}
    for code in needs:
        if place.province_wide:
            for entry in index.by_province.get((code, qprov), ()):
                found[entry.service_id] = (entry, None, "local")
        else:
            for entry, p in index.near(code, lat0, lon0, dlat, dlon):
                d = places.haversine_km(lat0, lon0, p.latitude, p.longitude)
                if d <= radius:
                    seen = found.get(entry.service_id)
                    if seen is None or seen[1] is None or d < seen[1]:
                        found[entry.service_id] = (entry, d, "local")
        for entry in index.remote.get(code, ()):
            if entry.service_id in found:
                continue
            if qprov and qprov in entry.area_provinces and (query.include_virtual or not entry.virtual):
                found[entry.service_id] = (entry, None, "area")
            elif entry.national and query.include_virtual:
                found[entry.service_id] = (entry, None, "national")

    hits: list[tuple[float, float | None, str, Entry, bool]] = []  # score, distance, how, entry, open now
    for entry, distance, how in found.values():
        if entry.vetting_expires < today:
            continue
        if query.age is not None and ((entry.min_age is not None and query.age < entry.min_age)
                                      or (entry.max_age is not None and query.age > entry.max_age)):
            continue
        if query.gender and entry.genders and str(query.gender) not in entry.genders:
            continue
        if query.status and entry.statuses and str(query.status) not in entry.statuses:
            continue
        if query.survivor_type and entry.survivor_types and str(query.survivor_type) not in entry.survivor_types:
            continue
        if query.indigenous_led and not entry.indigenous_led:
            continue
        if query.after_hours and not entry.after_hours:
            continue
        open_now = entry.open_at(now)
        if query.open_now and not open_now:
            continue
        score = _score(entry, needs, how, distance, radius, query.language, open_now, now)
        hits.append((score, distance, how, entry, open_now))

    hits.sort(key=lambda h: (-h[0], h[1] if h[1] is not None else math.inf, h[3].name, h[3].service_id))
    results = [_hit(entry, needs, how, distance, score, open_now, query, qprov, now)
               for score, distance, how, entry, open_now in hits[:query.limit]]
    out = SearchResult(place=_resolved(place), radius_km=radius, total=len(hits), results=results)

    local = sum(1 for h in hits if h[2] == "local")
    if hits and not local and not place.province_wide:
        out.notes.append(gettext(N_("No service of this kind is based within the radius; showing services that "
                                    "serve this province or the whole country.")))
    language_unmet = bool(query.language and hits and not any(r.serves_language for r in results))
    if language_unmet:
        out.notes.append(gettext(N_("None of these services lists %(language)s; an interpreter may be needed."),
                                 language=language_name(query.language)))
    if record_unmet and (not hits or language_unmet):
        out.unmet_need_recorded = _record_unmet(db, query, place, now, "no_language" if hits else "no_results")
        out.notes.append(gettext(N_("Nothing suitable was found. This gap has been recorded as an unmet need "
                                    "(no personal information is kept).")))
    return out


def _score(entry: Entry, needs: set[str], how: str, distance: float | None, radius: float, language: str | None,
           open_now: bool, now: datetime) -> float:
    score = 40.0 * len(entry.types & needs) / len(needs)
    if how == "local":
        score += 25.0 * (1.0 - distance / radius) if distance is not None else 15.0
    elif how == "area":
        score += 10.0
    else:
        score += 6.0
    cap = entry.capacity
    if cap is not None:
        fresh = _freshness(now - cap.updated)
        score += 15.0 * fresh if cap.available > 0 else -15.0 * fresh
    if language:
        if language in entry.languages:
            score += 15.0
        elif entry.interpretation or "interpretation" in entry.types:
            score += 5.0
    if open_now:
        score += 5.0
    return round(score, 2)


def _hit(entry: Entry, needs: set[str], how: str, distance: float | None, score: float, open_now: bool,
         query: SearchQuery, qprov: str | None, now: datetime) -> SearchHit:
    matched = [code for code in ServiceType.codes() if code in needs and code in entry.types]
    reasons = [gettext(N_("Offers %(service)s"), service=need_phrase(code)) for code in matched]
    if distance is not None:
        reasons.append(gettext(N_("Less than 1 km away")) if distance < 1
                       else gettext(N_("%(km)s km away"), km=int(round(distance))))
    elif how == "local":
        reasons.append(gettext(N_("Based in %(province)s"), province=Province(qprov).label))
    elif how == "area":
        reasons.append(gettext(N_("Serves all of %(province)s (virtual)") if entry.virtual
                               else N_("Serves all of %(province)s"), province=Province(qprov).label))
    else:
        reasons.append(gettext(N_("Available nationally (virtual)") if entry.virtual
                               else N_("Available nationally")))
    capacity = None
    if entry.capacity is not None:
        cap = entry.capacity
        age = now - cap.updated
        capacity = CapacityRead(available=cap.available, maximum=cap.maximum, unit=cap.unit, updated=cap.updated,
                                age_hours=round(age.total_seconds() / 3600, 1))
        reasons.append(gettext(N_("%(capacity)s, updated %(age)s"), capacity=capacity_phrase(cap.available, cap.unit),
                               age=age_phrase(age)))
    serves = None
    if query.language:
        serves = query.language in entry.languages
        if serves:
            reasons.append(gettext(N_("Serves in %(language)s"), language=language_name(query.language)))
        elif entry.interpretation or "interpretation" in entry.types:
            reasons.append(gettext(N_("Offers interpretation (does not list %(language)s)"),
                                   language=language_name(query.language)))
        else:
            reasons.append(gettext(N_("Does not list %(language)s"), language=language_name(query.language)))
    if entry.open_24_7:
        reasons.append(gettext(N_("Open 24/7")))
    elif open_now:
        reasons.append(gettext(N_("Open now")))
    elif query.after_hours and entry.after_hours:
        reasons.append(gettext(N_("Open evenings or weekends")))
    if entry.indigenous_led:
        reasons.append(gettext(N_("Indigenous-led")))
    return SearchHit(
        service_id=entry.service_id, service_name=entry.name, organization_id=entry.organization_id,
        organization_name=entry.organization_name, types=sorted(entry.types), matched_needs=matched,
        distance_km=round(distance, 1) if distance is not None else None, city=entry.city, province=entry.province,
        virtual=entry.virtual, national=entry.national, province_wide=how == "area", confidential=entry.confidential,
        languages=sorted(entry.languages), serves_language=serves, open_now=open_now, open_24_7=entry.open_24_7,
        after_hours=entry.after_hours, hours=hours_summary(entry), capacity=capacity,
        indigenous_led=entry.indigenous_led, phone=entry.phone, score=score, reasons=reasons)


# -- unmet needs -------------------------------------------------------------------
def _age_band(age: int | None) -> str | None:
    if age is None:
        return None
    for upper, band in ((11, "0-11"), (17, "12-17"), (24, "18-24"), (34, "25-34"), (49, "35-49")):
        if age <= upper:
            return band
    return "50+"


def _record_unmet(db: Session, query: SearchQuery, place: places.Place, now: datetime, reason: str) -> bool:
    """One row for a fruitless search: what was needed where, never who asked or for whom."""
    filters = {k: v for k, v in {
        "reason": reason,
        "open_now": query.open_now or None, "after_hours": query.after_hours or None,
        "age_band": _age_band(query.age),
        "gender": str(query.gender) if query.gender else None,
        "status": str(query.status) if query.status else None,
        "survivor_type": str(query.survivor_type) if query.survivor_type else None,
        "indigenous_led": query.indigenous_led or None,
        "include_virtual": None if query.include_virtual else False,
        "province_wide": place.province_wide or None,
    }.items() if v is not None}
    needs = sorted(str(n) for n in query.needs)
    town = place.name[:200] if place.population and not place.province_wide else None  # a known town, never input
    row = dict(needs=needs, province=place.province or None, place=town,
               latitude=round(place.latitude, 1), longitude=round(place.longitude, 1),
               radius_km=None if place.province_wide else float(query.radius_km), language=query.language,
               filters=filters)
    since = now - timedelta(minutes=UNMET_DEDUP_MINUTES)
    recent = db.execute(select(UnmetNeed).where(UnmetNeed.at >= since, UnmetNeed.at <= now + timedelta(minutes=1),
                                                UnmetNeed.province == row["province"])).scalars()
    for old in recent:
        if all(getattr(old, k) == v for k, v in row.items()):
            return True  # already counted: the same search refined or repeated
    db.add(UnmetNeed(at=now, **row))
    db.commit()
    return True
