"""In-memory index of the searchable directory, shared by every search in the process.

Loaded from the HSDS tables in a handful of bulk queries (only active services of
organisations whose vetting status is ``vetted``; expiry is checked at query time, so an
index built yesterday never suggests a provider whose vetting ran out today).  Each search
first reads the audit chain's head (one row): every service action writes an audit entry,
so if it has not moved, nothing has.  When it has, one aggregate query (counts, latest
service update, vetted count and expiry checksum) tells whether directory data changed.
If only services were updated or vetting decided, just the services concerned are
reloaded; anything else (rows added or removed) rebuilds it all.  Call :func:`invalidate`
after writing directory rows without an audit entry (e.g. raw SQL).

Schedules are precompiled into weekly windows in UTC minutes since Monday 00:00, from HSDS
``byday`` with ``opens_at``/``closes_at`` carrying a UTC offset (as service._hours_rows
writes them), so "open now" is a couple of integer comparisons.
"""

from __future__ import annotations

import math
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Integer, func, select
from sqlalchemy.orm import Session

from harbour.core.models import AuditHead
from harbour.directory.choices import (
    ELIGIBILITY_TAXONOMY,
    FEATURE_TAXONOMY,
    SERVICE_TAXONOMY,
    EligibleGender,
    EligibleStatus,
    Feature,
    LocationType,
    ServiceStatus,
    SurvivorType,
    VettingStatus,
)
from harbour.directory.models import (
    Address,
    Attribute,
    Language,
    Location,
    Organization,
    Phone,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceCapacity,
    TaxonomyTerm,
    Unit,
    Vetting,
)

WEEK = 7 * 1440
DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
DEFAULT_OFFSET = {  # standard-time offsets in minutes, when a schedule row carries none
    "NL": -210, "NS": -240, "NB": -240, "PE": -240, "QC": -300, "ON": -300, "MB": -360, "SK": -360,
    "AB": -420, "BC": -480, "YT": -420, "NT": -420, "NU": -300,
}
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::\d{2}(?:\.\d+)?)?\s*(Z|[+-]\d{2}:?\d{2})?$")
_GENDERS = frozenset(EligibleGender.codes())
_STATUSES = frozenset(EligibleStatus.codes())
_SURVIVORS = frozenset(SurvivorType.codes())


@dataclass(slots=True)
class Point:
    latitude: float
    longitude: float
    city: str | None
    province: str | None


@dataclass(slots=True)
class HoursRow:
    days: tuple[str, ...]
    opens: str  # local HH:MM
    closes: str


@dataclass(slots=True)
class Capacity:
    available: float
    maximum: float | None
    unit: str
    updated: datetime


@dataclass(slots=True)
class Entry:
    """One searchable service, with everything ranking and display need."""

    service_id: str
    name: str
    organization_id: str
    organization_name: str
    vetting_expires: str
    min_age: float | None = None
    max_age: float | None = None
    types: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    genders: frozenset[str] = frozenset()
    statuses: frozenset[str] = frozenset()
    survivor_types: frozenset[str] = frozenset()
    open_24_7: bool = False
    indigenous_led: bool = False
    interpretation: bool = False
    points: list[Point] = field(default_factory=list)
    confidential: bool = False
    virtual: bool = False
    national: bool = False
    area_provinces: frozenset[str] = frozenset()
    windows: tuple[tuple[int, int], ...] = ()
    hours: tuple[HoursRow, ...] = ()
    after_hours: bool = False
    capacity: Capacity | None = None
    phone: str | None = None

    @property
    def province(self) -> str | None:
        return self.points[0].province if self.points else next(iter(sorted(self.area_provinces)), None)

    @property
    def city(self) -> str | None:
        return self.points[0].city if self.points else None

    def open_at(self, now: datetime) -> bool:
        if self.open_24_7:
            return True
        minute = now.weekday() * 1440 + now.hour * 60 + now.minute
        return any(start <= minute < end for start, end in self.windows)


@dataclass
class Index:
    """Entries by service type: on a 1°×1° grid (by their points), by province, and those serving areas."""

    entries: dict[str, Entry]
    grid: dict[str, dict[tuple[int, int], list[tuple[Entry, Point]]]]
    by_province: dict[tuple[str, str], list[Entry]]
    remote: dict[str, list[Entry]]  # national, virtual or province-wide: included without a distance
    signature: tuple
    service_ids: frozenset[str]  # every service row, searchable or not: detects rows replaced one for one
    audit_mark: str | None = None  # the audit chain's head when the signature was last checked

    @classmethod
    def of(cls, entries: dict[str, Entry], signature: tuple, service_ids: frozenset[str]) -> Index:
        grid: dict[str, dict[tuple[int, int], list[tuple[Entry, Point]]]] = {}
        by_province: dict[tuple[str, str], list[Entry]] = {}
        remote: dict[str, list[Entry]] = {}
        for entry in entries.values():
            for code in entry.types:
                for p in entry.points:
                    cell = (math.floor(p.latitude), math.floor(p.longitude))
                    grid.setdefault(code, {}).setdefault(cell, []).append((entry, p))
                for prov in {p.province for p in entry.points if p.province}:
                    by_province.setdefault((code, prov), []).append(entry)
                if entry.national or entry.area_provinces:
                    remote.setdefault(code, []).append(entry)
        return cls(entries=entries, grid=grid, by_province=by_province, remote=remote, signature=signature,
                   service_ids=service_ids)

    def near(self, code: str, lat: float, lon: float, dlat: float, dlon: float):
        """(entry, point) pairs of one type inside the bounding box."""
        cells = self.grid.get(code)
        if not cells:
            return
        lat_lo, lat_hi = math.floor(lat - dlat), math.floor(lat + dlat)
        lon_lo, lon_hi = math.floor(lon - dlon), math.floor(lon + dlon)
        if (lat_hi - lat_lo + 1) * (lon_hi - lon_lo + 1) > len(cells):
            keys = [k for k in cells if lat_lo <= k[0] <= lat_hi and lon_lo <= k[1] <= lon_hi]
        else:
            keys = [(a, b) for a in range(lat_lo, lat_hi + 1) for b in range(lon_lo, lon_hi + 1) if (a, b) in cells]
        for key in keys:
            for entry, p in cells[key]:
                if abs(p.latitude - lat) <= dlat and abs(p.longitude - lon) <= dlon:
                    yield entry, p


# -- schedules ---------------------------------------------------------------------
def parse_time(value: str | None) -> tuple[int, int | None] | None:
    """"09:00-05:00" -> (540, -300): local minutes and the UTC offset in minutes (None if absent)."""
    if not value:
        return None
    match = _TIME.match(value.strip())
    if not match:
        return None
    hours, minutes, zone = int(match.group(1)), int(match.group(2)), match.group(3)
    if hours > 24 or minutes > 59:
        return None
    offset = None
    if zone:
        if zone == "Z":
            offset = 0
        else:
            digits = zone[1:].replace(":", "")
            offset = (int(digits[:2]) * 60 + int(digits[2:])) * (-1 if zone[0] == "-" else 1)
    return hours * 60 + minutes, offset


def compile_hours(rows, province: str | None) -> tuple[tuple[tuple[int, int], ...], tuple[HoursRow, ...], bool,
                                                        bool]:
    """Weekly UTC windows, local rows for display, "after hours" and "24/7" from HSDS schedule rows."""
    windows: list[tuple[int, int]] = []
    shown: list[HoursRow] = []
    after_hours = False
    covered = {d: 0 for d in range(7)}
    for byday, opens_at, closes_at, timezone, freq in rows:
        opens, closes = parse_time(opens_at), parse_time(closes_at)
        if opens is None or closes is None:
            continue
        days = [d for d in (re.sub(r"[^A-Z]", "", part.upper()) for part in (byday or "").split(","))
                if d in DAY_CODES]
        if not days:
            if freq and freq.upper() not in ("WEEKLY", "DAILY"):
                continue
            days = list(DAY_CODES)
        offset = opens[1] if opens[1] is not None else closes[1]
        if offset is None:
            offset = int(timezone * 60) if timezone is not None else DEFAULT_OFFSET.get(province or "", -300)
        start, end = opens[0], closes[0]
        if end == 23 * 60 + 59:
            end = 1440  # HSDS writes "open all day" as 00:00-23:59
        if end <= start:
            end += 1440  # overnight, closes the next morning
        shown.append(HoursRow(days=tuple(days), opens=f"{start // 60:02d}:{start % 60:02d}",
                              closes=f"{(end % 1440) // 60:02d}:{end % 60:02d}" if end != 1440 else "24:00"))
        for code in days:
            d = DAY_CODES.index(code)
            if end > 18 * 60 or code in ("SA", "SU"):
                after_hours = True
            if start == 0 and end >= 1440:
                covered[d] = 1
            s = (d * 1440 + start - offset) % WEEK
            e = s + (end - start)
            if e <= WEEK:
                windows.append((s, e))
            else:
                windows.extend(((s, WEEK), (0, e - WEEK)))
    all_week = all(covered.values())
    return tuple(sorted(windows)), tuple(shown), after_hours or all_week, all_week


# -- loading ---------------------------------------------------------------------------
def signature(db: Session) -> tuple:
    """One round trip of cheap aggregates that change whenever searchable data changes.

    Service writes bump ``hsds_service.updated_at`` (indexed); vetting decisions change the
    vetted count or the sum of the vetted expiry dates; rows added or removed change a count.
    """
    sub = lambda stmt: stmt.scalar_subquery()  # noqa: E731
    vetted = Vetting.status == VettingStatus.vetted.value
    expiry = func.cast(func.replace(Vetting.expires_on, "-", ""), Integer)
    row = db.execute(select(
        sub(select(func.count()).select_from(Service)),
        sub(select(func.max(Service.updated_at))),
        sub(select(func.count()).select_from(Organization)),
        sub(select(func.count()).select_from(Vetting).where(vetted)),
        sub(select(func.coalesce(func.sum(expiry), 0)).where(vetted)),
        sub(select(func.count()).select_from(Location)),
        sub(select(func.count()).select_from(ServiceCapacity)),
    )).one()
    return tuple(row)


def _chunks(ids: list[str], size: int = 500):
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


def load(db: Session, service_ids: list[str] | None = None) -> dict[str, Entry]:
    """Entries for every searchable service (or only the given ones, for a partial refresh)."""
    if service_ids is not None:
        out: dict[str, Entry] = {}
        for chunk in _chunks(service_ids):
            out.update(_load(db, chunk))
        return out
    return _load(db, None)


def _load(db: Session, ids: list[str] | None) -> dict[str, Entry]:
    def only(stmt, column):
        return stmt.where(column.in_(ids)) if ids is not None else stmt

    entries: dict[str, Entry] = {}
    stmt = (select(Service.id, Service.name, Service.organization_id, Organization.name, Vetting.expires_on,
                   Service.minimum_age, Service.maximum_age, Service.interpretation_services)
            .join(Organization, Organization.id == Service.organization_id)
            .join(Vetting, Vetting.organization_id == Organization.id)
            .where(Service.status == ServiceStatus.active.value, Vetting.status == VettingStatus.vetted.value,
                   Vetting.expires_on.is_not(None)))
    for sid, name, org_id, org_name, expires, min_age, max_age, interp in db.execute(only(stmt, Service.id)):
        entries[sid] = Entry(service_id=sid, name=name, organization_id=org_id, organization_name=org_name,
                             vetting_expires=expires, min_age=min_age, max_age=max_age,
                             interpretation=bool(interp and interp.strip()))
    if not entries:
        return entries
    keys = list(entries) if ids is not None else None
    org_ids = {e.organization_id for e in entries.values()}

    def scoped(stmt, column):
        return stmt.where(column.in_(keys)) if keys is not None else stmt

    # taxonomy: service types, eligibility, features (service and organisation level)
    types: dict[str, set[str]] = {}
    elig: dict[str, set[str]] = {}
    feats: dict[str, set[str]] = {}
    attr_stmt = (select(Attribute.link_id, TaxonomyTerm.taxonomy, TaxonomyTerm.code)
                 .join(TaxonomyTerm, TaxonomyTerm.id == Attribute.taxonomy_term_id))
    if keys is not None:
        attr_stmt = attr_stmt.where(Attribute.link_id.in_(keys + sorted(org_ids)))
    for link_id, taxonomy, code in db.execute(attr_stmt):
        if taxonomy == SERVICE_TAXONOMY:
            types.setdefault(link_id, set()).add(code)
        elif taxonomy == ELIGIBILITY_TAXONOMY:
            elig.setdefault(link_id, set()).add(code)
        elif taxonomy == FEATURE_TAXONOMY:
            feats.setdefault(link_id, set()).add(code)
    langs: dict[str, set[str]] = {}
    for sid, code in db.execute(scoped(select(Language.service_id, Language.code)
                                       .where(Language.service_id.is_not(None)), Language.service_id)):
        if code:
            langs.setdefault(sid, set()).add(code.lower())
    areas: dict[str, list[str]] = {}
    for sid, name, extent in db.execute(scoped(select(ServiceArea.service_id, ServiceArea.name, ServiceArea.extent)
                                               .where(ServiceArea.service_id.is_not(None)),
                                               ServiceArea.service_id)):
        areas.setdefault(sid, []).append((name or extent or "").strip())
    points: dict[str, list[Point]] = {}
    loc_type: dict[str, set[str]] = {}
    loc_stmt = (select(ServiceAtLocation.service_id, Location.location_type, Location.latitude, Location.longitude,
                       Address.city, Address.state_province)
                .join(Location, Location.id == ServiceAtLocation.location_id)
                .outerjoin(Address, Address.location_id == Location.id))
    for sid, ltype, lat, lon, city, prov in db.execute(scoped(loc_stmt, ServiceAtLocation.service_id)):
        loc_type.setdefault(sid, set()).add(ltype or LocationType.physical.value)
        if lat is not None and lon is not None and ltype != LocationType.virtual:
            if not any(p.latitude == lat and p.longitude == lon for p in points.get(sid, ())):
                points.setdefault(sid, []).append(Point(lat, lon, city, (prov or "").upper() or None))
        elif prov and sid not in points:
            loc_type[sid].add("province:" + prov.upper())
    sched: dict[str, list[tuple]] = {}
    for sid, *row in db.execute(scoped(select(Schedule.service_id, Schedule.byday, Schedule.opens_at,
                                              Schedule.closes_at, Schedule.timezone, Schedule.freq)
                                       .where(Schedule.service_id.is_not(None)).order_by(Schedule.id),
                                       Schedule.service_id)):
        sched.setdefault(sid, []).append(tuple(row))
    caps: dict[str, Capacity] = {}
    for sid, available, maximum, updated, unit in db.execute(scoped(
            select(ServiceCapacity.service_id, ServiceCapacity.available, ServiceCapacity.maximum,
                   ServiceCapacity.updated, Unit.name).join(Unit, Unit.id == ServiceCapacity.unit_id),
            ServiceCapacity.service_id)):
        if sid not in caps or updated > caps[sid].updated:
            caps[sid] = Capacity(available, maximum, unit or "bed", updated)
    phones: dict[str, str] = {}
    for sid, number in db.execute(scoped(select(Phone.service_id, Phone.number)
                                         .where(Phone.service_id.is_not(None)).order_by(Phone.id),
                                         Phone.service_id)):
        phones.setdefault(sid, number)

    for sid, e in entries.items():
        e.types = frozenset(types.get(sid, ()))
        codes = elig.get(sid, set())
        e.genders, e.statuses = frozenset(codes & _GENDERS), frozenset(codes & _STATUSES)
        e.survivor_types = frozenset(codes & _SURVIVORS)
        e.indigenous_led = Feature.indigenous_led.value in feats.get(e.organization_id, ())
        e.languages = frozenset(langs.get(sid, ()))
        e.points = points.get(sid, [])
        ltypes = loc_type.get(sid, set())
        e.confidential = LocationType.redacted.value in ltypes
        area_names = [a for a in areas.get(sid, []) if a]
        e.area_provinces = frozenset(a.upper() for a in area_names if len(a) == 2 and a.upper() in DEFAULT_OFFSET)
        e.virtual = "virtual" in (a.lower() for a in area_names) or (LocationType.virtual.value in ltypes
                                                                      and not e.points)
        # national: says so, or virtual with no province limit
        e.national = "national" in (a.lower() for a in area_names) or (e.virtual and not e.area_provinces)
        if not e.points and not e.area_provinces and not e.national:
            # no coordinates and no area: serve the province of its address, if any
            e.area_provinces = frozenset(t.split(":", 1)[1] for t in ltypes if t.startswith("province:"))
        e.windows, e.hours, e.after_hours, all_week = compile_hours(sched.get(sid, ()), e.province)
        e.open_24_7 = Feature.open_24_7.value in feats.get(sid, ()) or all_week
        if e.open_24_7:
            e.after_hours = True
        e.capacity = caps.get(sid)
        e.phone = phones.get(sid)
    return entries


# -- the process-wide cache -------------------------------------------------------------
_lock = threading.Lock()
_indexes: OrderedDict[str, Index] = OrderedDict()  # one per database, most recent last
_MAX_DATABASES = 4
_forced: set[str] = set()


def _key(db: Session) -> str:
    return db.get_bind().url.render_as_string(hide_password=True)


def invalidate(db: Session | None = None) -> None:
    """Forget the index (of one database, or of all): the next search rebuilds it."""
    with _lock:
        if db is None:
            _indexes.clear()
        else:
            _indexes.pop(_key(db), None)


def _audit_mark(db: Session) -> str | None:
    return db.execute(select(AuditHead.hash).where(AuditHead.id == 1)).scalar_one_or_none()


def get_index(db: Session) -> Index:
    """The current index for this database: reused, partly refreshed or rebuilt as needed.

    Every service action writes an audit entry in its own transaction, so an unchanged audit
    head (one row, read by primary key) means nothing changed; only when it moved are the
    directory aggregates compared.
    """
    key = _key(db)
    mark = _audit_mark(db)
    current = _indexes.get(key)
    if current is not None and mark is not None and current.audit_mark == mark:
        return current
    sig = signature(db)
    if current is not None and current.signature == sig:
        current.audit_mark = mark
        return current
    with _lock:
        current = _indexes.get(key)
        if current is not None and current.signature == sig:
            current.audit_mark = mark
            return current
        index = _refresh(db, current, sig) if current is not None else None
        if index is None:
            index = Index.of(load(db), sig, _all_service_ids(db))
        index.audit_mark = mark
        _indexes[key] = index
        _indexes.move_to_end(key)
        while len(_indexes) > _MAX_DATABASES:
            _indexes.popitem(last=False)
        return index


def _all_service_ids(db: Session) -> frozenset[str]:
    return frozenset(db.execute(select(Service.id)).scalars())


def _refresh(db: Session, old: Index, sig: tuple) -> Index | None:
    """Reload only what changed when no row was added or removed; None means rebuild everything."""
    (n_svc, svc_max, n_org, n_vet, vet_sum, n_loc, n_cap) = sig
    (o_svc, o_svc_max, o_org, o_vet, o_vet_sum, o_loc, o_cap) = old.signature
    if (n_svc, n_org, n_loc, n_cap) != (o_svc, o_org, o_loc, o_cap):
        return None
    if o_svc_max is None or svc_max is None or svc_max < o_svc_max:
        return None
    service_ids = _all_service_ids(db)
    if service_ids != old.service_ids:
        return None  # as many rows as before, but not the same ones
    changed: set[str] = set()
    if svc_max != o_svc_max:
        changed.update(db.execute(select(Service.id).where(Service.updated_at >= o_svc_max)).scalars())
    if (n_vet, vet_sum) != (o_vet, o_vet_sum):
        # which organisations' vetting differs from what the index holds: compare, it is one narrow table
        held = {e.organization_id: e.vetting_expires for e in old.entries.values()}
        now_vetted = dict(db.execute(select(Vetting.organization_id, Vetting.expires_on)
                                     .where(Vetting.status == VettingStatus.vetted.value,
                                            Vetting.expires_on.is_not(None))).all())
        moved = {o for o in held.keys() | now_vetted.keys() if held.get(o) != now_vetted.get(o)}
        if len(moved) > 500:
            return None
        if moved:
            changed.update(db.execute(select(Service.id).where(Service.organization_id.in_(sorted(moved))))
                           .scalars())
    if len(changed) > max(200, len(old.entries) // 4):
        return None
    fresh = load(db, sorted(changed))
    entries = dict(old.entries)
    for sid in changed:
        entries.pop(sid, None)
    entries.update(fresh)
    return Index.of(entries, sig, service_ids)
