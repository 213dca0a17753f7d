"""Read models of one service or one organisation, for the detail pages and the JSON API.

Access goes through ``service.get_service`` / ``service.get_organization`` (provider staff
see only their own organisation; others answer 404).  A confidential (``redacted``)
location keeps its street, postal code and coordinates out of the read model unless the
reader is entitled (``service.public_address``): the hotline and the provider's own staff.
"""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from harbour.core import formats
from harbour.core.audit import Actor
from harbour.core.choices import Province
from harbour.core.i18n import N_, gettext
from harbour.directory import service as directory
from harbour.directory.choices import (
    ELIGIBILITY_TAXONOMY,
    SERVICE_TAXONOMY,
    EligibleGender,
    EligibleStatus,
    Feature,
    LocationType,
    ServiceType,
    SurvivorType,
    VettingStatus,
)
from harbour.directory.models import Accessibility, Attribute, Location, Organization, Service, TaxonomyTerm
from harbour.directory.search import days_phrase
from harbour.directory.search_index import compile_hours

_ELIGIBILITY = {**{c: "genders" for c in EligibleGender.codes()}, **{c: "statuses" for c in EligibleStatus.codes()},
                **{c: "survivor_types" for c in SurvivorType.codes()}}


class Coded(BaseModel):
    code: str
    label: str


class AddressRead(BaseModel):
    address_1: str | None
    address_2: str | None
    city: str
    province: str
    postal_code: str | None


class LocationRead(BaseModel):
    id: str
    name: str | None
    location_type: str
    confidential: bool
    city: str | None
    province: str | None
    address: AddressRead | None = Field(description="null for a confidential location unless you are entitled")
    latitude: float | None
    longitude: float | None
    wheelchair_accessible: bool


class HoursRead(BaseModel):
    days: list[str]
    opens_at: str
    closes_at: str
    summary: str


class CapacityOut(BaseModel):
    available: float
    maximum: float | None
    unit: str
    updated: datetime


class VettingRead(BaseModel):
    status: str
    label: str
    vetted_by: str | None = None
    vetted_on: str | None = None
    expires_on: str | None = None
    current: bool


class ServiceSummary(BaseModel):
    id: str
    name: str
    status: str
    types: list[Coded]


class OrganizationRead(BaseModel):
    id: str
    name: str
    description: str
    email: str | None
    website: str | None
    indigenous_led: bool
    vetting: VettingRead
    locations: list[LocationRead]
    services: list[ServiceSummary]


class ServiceDetail(BaseModel):
    id: str
    name: str
    description: str | None
    status: str
    organization_id: str
    organization_name: str
    url: str | None
    email: str | None
    alert: str | None
    types: list[Coded]
    minimum_age: float | None
    maximum_age: float | None
    genders: list[Coded]
    statuses: list[Coded]
    survivor_types: list[Coded]
    eligibility_description: str | None
    languages: list[Coded]
    interpretation_services: str | None
    open_24_7: bool
    hours: list[HoursRead]
    areas: list[str]
    phones: list[str]
    locations: list[LocationRead]
    capacity: CapacityOut | None
    vetting: VettingRead
    last_modified: str | None


def _label(choice_cls, code: str) -> str:
    return choice_cls(code).label if code in choice_cls.codes() else code


def vetting_read(org: Organization, today: date | None = None) -> VettingRead:
    v = org.vetting
    status = v.status if v else VettingStatus.pending.value
    return VettingRead(status=status, label=_label(VettingStatus, status), vetted_by=v.vetted_by if v else None,
                       vetted_on=v.vetted_on if v else None, expires_on=v.expires_on if v else None,
                       current=directory.is_vetted(v, today))


def _terms(db: Session, link_id: str) -> list[tuple[str, str]]:
    return list(db.execute(select(TaxonomyTerm.taxonomy, TaxonomyTerm.code)
                           .join(Attribute, Attribute.taxonomy_term_id == TaxonomyTerm.id)
                           .where(Attribute.link_id == link_id)).all())


def location_read(db: Session, actor: Actor, loc: Location) -> LocationRead:
    addr = directory.public_address(db, actor, loc)
    confidential = loc.location_type == LocationType.redacted
    shown = addr is not None or not confidential
    any_addr = loc.addresses[0] if loc.addresses else None
    wheelchair = db.execute(select(Accessibility.id).where(Accessibility.location_id == loc.id)).first() is not None
    return LocationRead(
        id=loc.id, name=loc.name, location_type=loc.location_type, confidential=confidential,
        city=any_addr.city if any_addr else None, province=any_addr.state_province if any_addr else None,
        address=AddressRead(address_1=addr.address_1 or None, address_2=addr.address_2, city=addr.city,
                            province=addr.state_province, postal_code=addr.postal_code or None) if addr else None,
        latitude=loc.latitude if shown else None, longitude=loc.longitude if shown else None,
        wheelchair_accessible=wheelchair)


def service_detail(db: Session, *, actor: Actor, service_id: str) -> ServiceDetail:
    svc = directory.get_service(db, actor=actor, service_id=service_id)
    return describe_service(db, actor, svc)


def describe_service(db: Session, actor: Actor, svc: Service) -> ServiceDetail:
    terms = _terms(db, svc.id)
    types = [Coded(code=c, label=_label(ServiceType, c)) for t, c in terms if t == SERVICE_TAXONOMY]
    elig: dict[str, list[Coded]] = {"genders": [], "statuses": [], "survivor_types": []}
    for taxonomy, code in terms:
        if taxonomy == ELIGIBILITY_TAXONOMY and code in _ELIGIBILITY:
            cls = {"genders": EligibleGender, "statuses": EligibleStatus, "survivor_types": SurvivorType}[
                _ELIGIBILITY[code]]
            elig[_ELIGIBILITY[code]].append(Coded(code=code, label=_label(cls, code)))
    locations = [sal.location for sal in svc.at_locations]
    province = next((a.state_province for loc in locations for a in loc.addresses), None)
    rows = [(s.byday, s.opens_at, s.closes_at, s.timezone, s.freq) for s in svc.schedules]
    _windows, shown, _after, all_week = compile_hours(rows, province)
    open_24_7 = all_week or any(c == Feature.open_24_7 for _t, c in terms)
    cap = max(svc.capacities, key=lambda c: c.updated) if svc.capacities else None
    return ServiceDetail(
        id=svc.id, name=svc.name, description=svc.description, status=svc.status, organization_id=svc.organization_id,
        organization_name=svc.organization.name, url=svc.url, email=svc.email, alert=svc.alert,
        types=sorted(types, key=lambda c: ServiceType.codes().index(c.code) if c.code in ServiceType.codes() else 99),
        minimum_age=svc.minimum_age, maximum_age=svc.maximum_age, eligibility_description=svc.eligibility_description,
        languages=[Coded(code=lang.code, label=formats.language_name(lang.code)) for lang in svc.languages if lang.code],
        interpretation_services=svc.interpretation_services, open_24_7=open_24_7,
        hours=[HoursRead(days=list(h.days), opens_at=h.opens, closes_at=h.closes,
                         summary=f"{days_phrase(h.days)} {h.opens}–{h.closes}") for h in shown],
        areas=[a.name or a.extent or "" for a in svc.areas], phones=[p.number for p in svc.phones],
        locations=[location_read(db, actor, loc) for loc in locations],
        capacity=CapacityOut(available=cap.available, maximum=cap.maximum, unit=cap.unit.name,
                             updated=cap.updated) if cap else None,
        vetting=vetting_read(svc.organization), last_modified=svc.last_modified, **elig)


def organization_detail(db: Session, *, actor: Actor, organization_id: str) -> OrganizationRead:
    org = directory.get_organization(db, actor=actor, organization_id=organization_id)
    services = []
    for svc in org.services:
        codes = [c for t, c in _terms(db, svc.id) if t == SERVICE_TAXONOMY]
        services.append(ServiceSummary(id=svc.id, name=svc.name, status=svc.status,
                                       types=[Coded(code=c, label=_label(ServiceType, c)) for c in codes]))
    indigenous = any(c == Feature.indigenous_led for _t, c in _terms(db, org.id))
    return OrganizationRead(id=org.id, name=org.name, description=org.description or "", email=org.email,
                            website=org.website, indigenous_led=indigenous, vetting=vetting_read(org),
                            locations=[location_read(db, actor, loc) for loc in org.locations], services=services)


def area_label(area: str) -> str:
    if area == "national":
        return gettext(N_("Across Canada"))
    if area == "virtual":
        return gettext(N_("Virtual (phone or online)"))
    return Province(area).label if area in Province.codes() else area
