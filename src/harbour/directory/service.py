"""Directory business actions: providers, taxonomy, vetting, capacity, staff links.

Search lives in ``search.py``, referrals in ``referrals.py``, HSDS packages in ``hsds.py``.
Who may do what:
- hotline staff and administrators read the whole directory (confidential addresses
  included, since the hotline places people there);
- provider staff read and update only their own organisation;
- hotline supervisors and administrators add providers and decide vetting.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.choices import HOTLINE_ROLES, Role
from harbour.core.db import atomic, utcnow
from harbour.core.errors import Forbidden, NotFound, ValidationFailed
from harbour.core.i18n import N_
from harbour.core.models import User
from harbour.core.security import ensure_role
from harbour.directory.choices import (
    ELIGIBILITY_TAXONOMY,
    FEATURE_TAXONOMY,
    SERVICE_TAXONOMY,
    EligibleGender,
    EligibleStatus,
    Feature,
    LocationType,
    ServiceType,
    SurvivorType,
    VettingStatus,
)
from harbour.directory.models import (
    Accessibility,
    Address,
    Attribute,
    Language,
    Location,
    Organization,
    Phone,
    ProviderStaff,
    Schedule,
    Service,
    ServiceArea,
    ServiceAtLocation,
    ServiceCapacity,
    TaxonomyTerm,
    Unit,
    Vetting,
)
from harbour.directory.schemas import CapacityUpdate, ProviderCreate, ServiceDetailsUpdate, VettingUpdate, WeeklyHours

NS = uuid.UUID("6f1c2d1e-7a43-4c1b-9a1e-0c5b8d2f4a10")  # Harbour's namespace for deterministic HSDS ids
READERS = HOTLINE_ROLES | {Role.admin}
CURATORS = {Role.hotline_supervisor, Role.admin}
PROVINCE_TZ_OFFSET = {  # standard-time UTC offsets, used to write HSDS opens_at/closes_at with an offset
    "NL": -3.5, "NS": -4, "NB": -4, "PE": -4, "QC": -5, "ON": -5, "MB": -6, "SK": -6, "AB": -7, "BC": -8,
    "YT": -7, "NT": -7, "NU": -5,
}


def new_id() -> str:
    return str(uuid.uuid4())


def stable_id(*parts: str) -> str:
    return str(uuid.uuid5(NS, "/".join(parts)))


# -- access ---------------------------------------------------------------------
def staff_organization(db: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    link = db.get(ProviderStaff, user_id)
    return link.organization_id if link else None


def ensure_reader(actor: Actor) -> None:
    ensure_role(actor, READERS | {Role.provider_staff}, N_("Your role cannot use the directory."))


def can_see_confidential(db: Session, actor: Actor, organization_id: str) -> bool:
    """Confidential (redacted) addresses: the hotline and the provider's own staff only."""
    if actor.role in READERS:
        return True
    return actor.role == Role.provider_staff and staff_organization(db, actor.id) == organization_id


def ensure_own_org(db: Session, actor: Actor, organization_id: str) -> None:
    """Provider staff act only on their own organisation; curators on any."""
    if actor.role in CURATORS:
        return
    if actor.role == Role.provider_staff and staff_organization(db, actor.id) == organization_id:
        return
    raise NotFound()  # other providers' records are invisible, not forbidden


# -- taxonomy -------------------------------------------------------------------
TAXONOMIES = (
    (SERVICE_TAXONOMY, ServiceType, "service_type"),
    (ELIGIBILITY_TAXONOMY, EligibleGender, "eligibility"),
    (ELIGIBILITY_TAXONOMY, EligibleStatus, "eligibility"),
    (ELIGIBILITY_TAXONOMY, SurvivorType, "eligibility"),
    (FEATURE_TAXONOMY, Feature, "feature"),
)


def term_id(taxonomy: str, code: str) -> str:
    return stable_id("taxonomy", taxonomy, code)


def ensure_taxonomy(db: Session) -> None:
    """Create Harbour's taxonomy terms once (deterministic ids, so every install agrees)."""
    existing = set(db.execute(select(TaxonomyTerm.id)).scalars())
    for taxonomy, choice_cls, _link_type in TAXONOMIES:
        for member in choice_cls:
            tid = term_id(taxonomy, member.value)
            if tid not in existing:
                db.add(TaxonomyTerm(id=tid, code=member.value, name=member._label, description=member._label,
                                    taxonomy=taxonomy, language="en"))
                existing.add(tid)
    db.flush()


def _attr(db: Session, link_id: str, entity: str, taxonomy: str, code: str, link_type: str) -> None:
    db.add(Attribute(id=stable_id("attribute", link_id, taxonomy, code), link_id=link_id, link_entity=entity,
                     link_type=link_type, taxonomy_term_id=term_id(taxonomy, code)))


def _hours_rows(service_id: str, province: str, hours: list[WeeklyHours], open_24_7: bool) -> list[Schedule]:
    offset = PROVINCE_TZ_OFFSET.get(province, -5)
    suffix = f"{int(offset):+03d}:{int(abs(offset) % 1 * 60):02d}"
    if open_24_7:
        hours = [WeeklyHours(days=list(("MO", "TU", "WE", "TH", "FR", "SA", "SU")), opens_at="00:00",
                             closes_at="23:59")]
    rows = []
    for i, h in enumerate(hours):
        rows.append(Schedule(id=stable_id("schedule", service_id, str(i)), service_id=service_id, freq="WEEKLY",
                             byday=",".join(h.days), opens_at=h.opens_at + suffix, closes_at=h.closes_at + suffix,
                             timezone=offset, description="24/7" if open_24_7 else None))
    return rows


# -- providers ------------------------------------------------------------------
@atomic
def create_provider(db: Session, *, actor: Actor, data: ProviderCreate, commit: bool = True) -> Organization:
    """Add an organisation with its location and services, written as HSDS rows."""
    ensure_role(actor, CURATORS | {Role.admin}, N_("Only supervisors and administrators add providers."))
    ensure_taxonomy(db)
    org = Organization(id=new_id(), name=data.name, description=data.description, email=data.email,
                       website=data.website)
    db.add(org)
    db.flush()
    db.add(Vetting(organization_id=org.id, status=data.vetting.value, vetted_by=data.vetted_by,
                   vetted_on=data.vetted_on.isoformat() if data.vetted_on else None,
                   expires_on=data.vetting_expires_on.isoformat() if data.vetting_expires_on else None))
    if data.indigenous_led:
        _attr(db, org.id, "organization", FEATURE_TAXONOMY, Feature.indigenous_led, "feature")
    loc_in = data.location
    loc = Location(id=new_id(), organization_id=org.id, name=loc_in.name or data.name,
                   location_type=loc_in.location_type.value, latitude=loc_in.latitude, longitude=loc_in.longitude)
    db.add(loc)
    db.flush()
    if loc_in.location_type != LocationType.virtual:
        db.add(Address(id=new_id(), location_id=loc.id, address_1=loc_in.address_1 or "", city=loc_in.city,
                       state_province=loc_in.province.value, postal_code=loc_in.postal_code or "", country="CA",
                       address_type="physical"))
    if loc_in.wheelchair_accessible:
        db.add(Accessibility(id=new_id(), location_id=loc.id, description="Wheelchair accessible"))
        _attr(db, loc.id, "location", FEATURE_TAXONOMY, Feature.wheelchair, "feature")
    unit_ids: dict[str, str] = {}
    for s_in in data.services:
        svc = Service(id=new_id(), organization_id=org.id, name=s_in.name, description=s_in.description,
                      status=s_in.status.value, email=s_in.email, url=s_in.url,
                      minimum_age=s_in.minimum_age, maximum_age=s_in.maximum_age,
                      eligibility_description=s_in.eligibility_description,
                      interpretation_services=s_in.interpretation_services,
                      last_modified=utcnow().isoformat(timespec="milliseconds"))
        db.add(svc)
        db.flush()
        db.add(ServiceAtLocation(id=new_id(), service_id=svc.id, location_id=loc.id))
        for t in dict.fromkeys(s_in.types):
            _attr(db, svc.id, "service", SERVICE_TAXONOMY, t.value, "service_type")
        for code in [*s_in.genders, *s_in.statuses, *s_in.survivor_types]:
            _attr(db, svc.id, "service", ELIGIBILITY_TAXONOMY, code.value, "eligibility")
        if s_in.open_24_7:
            _attr(db, svc.id, "service", FEATURE_TAXONOMY, Feature.open_24_7, "feature")
        for code in dict.fromkeys(s_in.languages):
            db.add(Language(id=new_id(), service_id=svc.id, code=code))
        for row in _hours_rows(svc.id, loc_in.province.value, s_in.hours, s_in.open_24_7):
            db.add(row)
        for area in dict.fromkeys(s_in.areas):
            db.add(ServiceArea(id=new_id(), service_id=svc.id, name=area, extent_type="text", extent=area))
        if s_in.phone:
            db.add(Phone(id=new_id(), service_id=svc.id, number=s_in.phone, type="voice"))
        if s_in.capacity is not None:
            unit = s_in.capacity.unit
            if unit not in unit_ids:
                unit_ids[unit] = stable_id("unit", unit)
                if db.get(Unit, unit_ids[unit]) is None:
                    db.add(Unit(id=unit_ids[unit], name=unit, scheme="harbour"))
                    db.flush()
            db.add(ServiceCapacity(id=new_id(), service_id=svc.id, unit_id=unit_ids[unit],
                                   available=s_in.capacity.available, maximum=s_in.capacity.maximum,
                                   updated=utcnow()))
    audit(db, actor, "create", "provider", org.id, detail={"services": len(data.services)})
    if commit:
        db.commit()
    return org


def get_organization(db: Session, *, actor: Actor, organization_id: str) -> Organization:
    ensure_reader(actor)
    org = db.get(Organization, organization_id)
    if org is None:
        raise NotFound()
    if actor.role == Role.provider_staff:
        ensure_own_org(db, actor, org.id)
    return org


def get_service(db: Session, *, actor: Actor, service_id: str) -> Service:
    ensure_reader(actor)
    svc = db.get(Service, service_id)
    if svc is None:
        raise NotFound()
    if actor.role == Role.provider_staff:
        ensure_own_org(db, actor, svc.organization_id)
    return svc


def public_address(db: Session, actor: Actor, location: Location) -> Address | None:
    """The address the actor may see: none for a confidential location unless entitled."""
    if location.location_type == LocationType.redacted and not can_see_confidential(db, actor,
                                                                                      location.organization_id):
        return None
    return location.addresses[0] if location.addresses else None


@atomic
def set_vetting(db: Session, *, actor: Actor, organization_id: str, data: VettingUpdate) -> Vetting:
    ensure_role(actor, CURATORS, N_("Only supervisors and administrators decide vetting."))
    org = db.get(Organization, organization_id)
    if org is None:
        raise NotFound()
    v = org.vetting or Vetting(organization_id=org.id)
    v.status = data.status.value
    v.vetted_by = data.vetted_by
    v.vetted_on = data.vetted_on.isoformat() if data.vetted_on else None
    v.expires_on = data.expires_on.isoformat() if data.expires_on else None
    v.notes = data.notes
    db.add(v)
    org.updated_at = utcnow()
    audit(db, actor, "update", "vetting", org.id, detail={"status": v.status, "expires_on": v.expires_on})
    db.commit()
    return v


def vetting_due(db: Session, *, within_days: int = 30, today: date | None = None) -> list[Vetting]:
    """Vetted providers whose vetting expires within N days (or already has): the reminder list."""
    today = today or utcnow().date()
    horizon = (today + timedelta(days=within_days)).isoformat()
    return list(db.execute(select(Vetting).where(Vetting.status == VettingStatus.vetted.value,
                                                 Vetting.expires_on <= horizon)
                           .order_by(Vetting.expires_on)).scalars())


def is_vetted(v: Vetting | None, today: date | None = None) -> bool:
    today = today or utcnow().date()
    return bool(v and v.status == VettingStatus.vetted and v.expires_on and v.expires_on >= today.isoformat())


@atomic
def update_capacity(db: Session, *, actor: Actor, service_id: str, data: CapacityUpdate) -> ServiceCapacity:
    ensure_reader(actor)
    svc = db.get(Service, service_id)
    if svc is None:
        raise NotFound()
    if actor.role not in HOTLINE_ROLES:
        ensure_own_org(db, actor, svc.organization_id)
    cap = svc.capacities[0] if svc.capacities else None
    if cap is None:
        unit_id = stable_id("unit", "bed")
        if db.get(Unit, unit_id) is None:
            db.add(Unit(id=unit_id, name="bed", scheme="harbour"))
            db.flush()
        cap = ServiceCapacity(id=new_id(), service_id=svc.id, unit_id=unit_id, available=0)
        db.add(cap)
    old = cap.available
    cap.available = data.available
    if data.maximum is not None:
        cap.maximum = data.maximum
    if cap.maximum is not None and cap.available > cap.maximum:
        raise ValidationFailed(N_("Available places cannot exceed the maximum."),
                               fields={"available": N_("Above the maximum.")})
    cap.updated = utcnow()
    svc.updated_at = utcnow()
    audit(db, actor, "update", "service_capacity", svc.id, detail={"from": old, "to": data.available})
    db.commit()
    return cap


@atomic
def update_service_details(db: Session, *, actor: Actor, service_id: str, data: ServiceDetailsUpdate) -> Service:
    """Provider staff keep their hours, phone and contact details current (audited)."""
    ensure_reader(actor)
    svc = db.get(Service, service_id)
    if svc is None:
        raise NotFound()
    ensure_own_org(db, actor, svc.organization_id)
    changes = data.model_dump(exclude_unset=True)
    for field in ("email", "url", "alert"):
        if field in changes:
            setattr(svc, field, changes[field])
    if "status" in changes and changes["status"] is not None:
        svc.status = changes["status"].value if hasattr(changes["status"], "value") else changes["status"]
    if "phone" in changes:
        for p in list(svc.phones):
            db.delete(p)
        if changes["phone"]:
            db.add(Phone(id=new_id(), service_id=svc.id, number=changes["phone"], type="voice"))
    if "hours" in changes or "open_24_7" in changes:
        open_24_7 = bool(changes.get("open_24_7"))
        hours = data.hours or []
        for s in list(svc.schedules):
            db.delete(s)
        attr_id = stable_id("attribute", svc.id, FEATURE_TAXONOMY, Feature.open_24_7)
        existing = db.get(Attribute, attr_id)
        if open_24_7 and existing is None:
            _attr(db, svc.id, "service", FEATURE_TAXONOMY, Feature.open_24_7, "feature")
        elif not open_24_7 and existing is not None:
            db.delete(existing)
        province = _service_province(svc)
        db.flush()
        for row in _hours_rows(svc.id, province, hours, open_24_7):
            db.add(row)
    svc.last_modified = utcnow().isoformat(timespec="milliseconds")
    svc.updated_at = utcnow()
    audit(db, actor, "update", "service", svc.id, detail={"fields": sorted(changes)})
    db.commit()
    db.expire(svc)
    return svc


def _service_province(svc: Service) -> str:
    for sal in svc.at_locations:
        for a in sal.location.addresses:
            return a.state_province
    return "ON"


@atomic
def link_staff(db: Session, *, actor: Actor, user_id: int, organization_id: str) -> ProviderStaff:
    ensure_role(actor, {Role.admin, Role.hotline_supervisor}, N_("Only administrators link provider staff."))
    user = db.get(User, user_id)
    if user is None or user.role != Role.provider_staff:
        raise ValidationFailed(N_("Only provider-staff accounts can be linked to a provider."))
    if db.get(Organization, organization_id) is None:
        raise NotFound()
    link = db.get(ProviderStaff, user_id) or ProviderStaff(user_id=user_id, organization_id=organization_id)
    link.organization_id = organization_id
    db.add(link)
    audit(db, actor, "update", "provider_staff", user_id, detail={"organization": organization_id})
    db.commit()
    return link


def require_provider_staff(db: Session, actor: Actor) -> str:
    """The organisation a provider-staff actor works for; refuses anyone else."""
    ensure_role(actor, {Role.provider_staff}, N_("Only provider staff use the provider portal."))
    org_id = staff_organization(db, actor.id)
    if org_id is None:
        raise Forbidden(N_("Your account is not linked to a provider yet. Ask an administrator."))
    return org_id
