"""Directory tables.

``hsds_*`` tables mirror Open Referral HSDS 3.0 (plus 3.1's service_capacity and unit)
column for column, with HSDS string ids (UUIDs), so an HSDS package round-trips
losslessly.  Harbour's own needs live in ``directory_*`` tables: vetting, which staff
belong to which provider, referrals and unmet needs.  Confidential shelters use
location_type ``redacted``; their address lines are encrypted like every address.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from harbour.core.crypto import EncryptedText
from harbour.core.db import Base, UTCDateTime, utcnow

Id = String(36)


def _fk(table: str, nullable: bool = True, index: bool = True):
    return mapped_column(Id, ForeignKey(f"{table}.id", ondelete="CASCADE"), nullable=nullable, index=index)


class Organization(Base):
    __tablename__ = "hsds_organization"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    alternate_name: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str | None] = mapped_column(String(200))
    website: Mapped[str | None] = mapped_column(String(500))
    year_incorporated: Mapped[int | None] = mapped_column(Integer)
    legal_status: Mapped[str | None] = mapped_column(String(200))
    parent_organization_id: Mapped[str | None] = mapped_column(Id)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    services: Mapped[list[Service]] = relationship(back_populates="organization", order_by="Service.name")
    locations: Mapped[list[Location]] = relationship(back_populates="organization", order_by="Location.id")
    vetting: Mapped[Vetting | None] = relationship(back_populates="organization", uselist=False)


class Service(Base):
    __tablename__ = "hsds_service"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    organization_id: Mapped[str] = _fk("hsds_organization", nullable=False)
    program_id: Mapped[str | None] = mapped_column(Id)
    name: Mapped[str] = mapped_column(String(300))
    alternate_name: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))
    email: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(30), default="active")
    interpretation_services: Mapped[str | None] = mapped_column(Text)
    application_process: Mapped[str | None] = mapped_column(Text)
    fees_description: Mapped[str | None] = mapped_column(Text)
    accreditations: Mapped[str | None] = mapped_column(Text)
    eligibility_description: Mapped[str | None] = mapped_column(Text)
    minimum_age: Mapped[float | None] = mapped_column(Float)
    maximum_age: Mapped[float | None] = mapped_column(Float)
    assured_date: Mapped[str | None] = mapped_column(String(40))
    assurer_email: Mapped[str | None] = mapped_column(String(200))
    alert: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(String(40))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow, index=True)

    organization: Mapped[Organization] = relationship(back_populates="services")
    at_locations: Mapped[list[ServiceAtLocation]] = relationship(back_populates="service")
    capacities: Mapped[list[ServiceCapacity]] = relationship(back_populates="service")
    languages: Mapped[list[Language]] = relationship(primaryjoin="Service.id == foreign(Language.service_id)",
                                                     viewonly=True)
    schedules: Mapped[list[Schedule]] = relationship(primaryjoin="Service.id == foreign(Schedule.service_id)",
                                                     viewonly=True)
    areas: Mapped[list[ServiceArea]] = relationship(primaryjoin="Service.id == foreign(ServiceArea.service_id)",
                                                    viewonly=True)
    phones: Mapped[list[Phone]] = relationship(primaryjoin="Service.id == foreign(Phone.service_id)", viewonly=True)


class Location(Base):
    __tablename__ = "hsds_location"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    location_type: Mapped[str] = mapped_column(String(20), default="physical")
    url: Mapped[str | None] = mapped_column(String(500))
    organization_id: Mapped[str | None] = _fk("hsds_organization")
    name: Mapped[str | None] = mapped_column(String(300))
    alternate_name: Mapped[str | None] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    transportation: Mapped[str | None] = mapped_column(Text)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    external_identifier: Mapped[str | None] = mapped_column(String(200))
    external_identifier_type: Mapped[str | None] = mapped_column(String(200))

    organization: Mapped[Organization | None] = relationship(back_populates="locations")
    addresses: Mapped[list[Address]] = relationship(back_populates="location")


class ServiceAtLocation(Base):
    __tablename__ = "hsds_service_at_location"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    service_id: Mapped[str] = _fk("hsds_service", nullable=False)
    location_id: Mapped[str] = _fk("hsds_location", nullable=False)
    description: Mapped[str | None] = mapped_column(Text)

    service: Mapped[Service] = relationship(back_populates="at_locations")
    location: Mapped[Location] = relationship()


class Address(Base):
    __tablename__ = "hsds_address"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    location_id: Mapped[str | None] = _fk("hsds_location")
    attention: Mapped[str | None] = mapped_column(EncryptedText())
    address_1: Mapped[str] = mapped_column(EncryptedText())
    address_2: Mapped[str | None] = mapped_column(EncryptedText())
    city: Mapped[str] = mapped_column(String(200))
    region: Mapped[str | None] = mapped_column(String(200))
    state_province: Mapped[str] = mapped_column(String(60))
    postal_code: Mapped[str] = mapped_column(EncryptedText())
    country: Mapped[str] = mapped_column(String(2), default="CA")
    address_type: Mapped[str] = mapped_column(String(20), default="physical")

    location: Mapped[Location | None] = relationship(back_populates="addresses")


class Phone(Base):
    __tablename__ = "hsds_phone"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    location_id: Mapped[str | None] = _fk("hsds_location")
    service_id: Mapped[str | None] = _fk("hsds_service")
    organization_id: Mapped[str | None] = _fk("hsds_organization")
    contact_id: Mapped[str | None] = _fk("hsds_contact")
    service_at_location_id: Mapped[str | None] = _fk("hsds_service_at_location")
    number: Mapped[str] = mapped_column(String(60))
    extension: Mapped[float | None] = mapped_column(Float)
    type: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)


class ProviderContact(Base):
    __tablename__ = "hsds_contact"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    organization_id: Mapped[str | None] = _fk("hsds_organization")
    service_id: Mapped[str | None] = _fk("hsds_service")
    service_at_location_id: Mapped[str | None] = _fk("hsds_service_at_location")
    location_id: Mapped[str | None] = _fk("hsds_location")
    name: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str | None] = mapped_column(String(200))
    department: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))


class Schedule(Base):
    __tablename__ = "hsds_schedule"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    service_id: Mapped[str | None] = _fk("hsds_service")
    location_id: Mapped[str | None] = _fk("hsds_location")
    service_at_location_id: Mapped[str | None] = _fk("hsds_service_at_location")
    valid_from: Mapped[str | None] = mapped_column(String(40))
    valid_to: Mapped[str | None] = mapped_column(String(40))
    dtstart: Mapped[str | None] = mapped_column(String(40))
    timezone: Mapped[float | None] = mapped_column(Float)
    until: Mapped[str | None] = mapped_column(String(40))
    count: Mapped[int | None] = mapped_column(Integer)
    wkst: Mapped[str | None] = mapped_column(String(2))
    freq: Mapped[str | None] = mapped_column(String(10))
    interval: Mapped[int | None] = mapped_column(Integer)
    byday: Mapped[str | None] = mapped_column(String(100))
    byweekno: Mapped[str | None] = mapped_column(String(100))
    bymonthday: Mapped[str | None] = mapped_column(String(100))
    byyearday: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    opens_at: Mapped[str | None] = mapped_column(String(20))
    closes_at: Mapped[str | None] = mapped_column(String(20))
    schedule_link: Mapped[str | None] = mapped_column(String(500))
    attending_type: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)


class Language(Base):
    __tablename__ = "hsds_language"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    service_id: Mapped[str | None] = _fk("hsds_service")
    location_id: Mapped[str | None] = _fk("hsds_location")
    phone_id: Mapped[str | None] = _fk("hsds_phone")
    name: Mapped[str | None] = mapped_column(String(100))
    code: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)


class ServiceArea(Base):
    __tablename__ = "hsds_service_area"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    service_id: Mapped[str | None] = _fk("hsds_service")
    service_at_location_id: Mapped[str | None] = _fk("hsds_service_at_location")
    name: Mapped[str | None] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    extent: Mapped[str | None] = mapped_column(Text)
    extent_type: Mapped[str | None] = mapped_column(String(20))
    uri: Mapped[str | None] = mapped_column(String(500))


class Accessibility(Base):
    __tablename__ = "hsds_accessibility"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    location_id: Mapped[str | None] = _fk("hsds_location")
    description: Mapped[str | None] = mapped_column(Text)
    details: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(String(500))


class TaxonomyTerm(Base):
    __tablename__ = "hsds_taxonomy_term"
    __table_args__ = (UniqueConstraint("taxonomy", "code"),)

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[str | None] = mapped_column(Id)
    taxonomy: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(8))
    taxonomy_id: Mapped[str | None] = mapped_column(Id)
    term_uri: Mapped[str | None] = mapped_column(String(500))


class Attribute(Base):
    """Links a taxonomy term to any entity (HSDS 3.0 `attribute`)."""

    __tablename__ = "hsds_attribute"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    link_id: Mapped[str] = mapped_column(Id, index=True)
    taxonomy_term_id: Mapped[str] = _fk("hsds_taxonomy_term", nullable=False)
    link_type: Mapped[str | None] = mapped_column(String(60))
    link_entity: Mapped[str] = mapped_column(String(60))
    value: Mapped[str | None] = mapped_column(Text)
    label: Mapped[str | None] = mapped_column(String(200))

    taxonomy_term: Mapped[TaxonomyTerm] = relationship(lazy="joined")


class Unit(Base):
    __tablename__ = "hsds_unit"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    scheme: Mapped[str | None] = mapped_column(String(100))
    identifier: Mapped[str | None] = mapped_column(String(100))
    uri: Mapped[str | None] = mapped_column(String(500))


class ServiceCapacity(Base):
    """HSDS 3.1 service_capacity: how much is available now, and since when we know it."""

    __tablename__ = "hsds_service_capacity"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    service_id: Mapped[str] = _fk("hsds_service", nullable=False)
    unit_id: Mapped[str] = _fk("hsds_unit", nullable=False)
    available: Mapped[float] = mapped_column(Float)
    maximum: Mapped[float | None] = mapped_column(Float)
    description: Mapped[str | None] = mapped_column(Text)
    updated: Mapped[datetime] = mapped_column(UTCDateTime())

    service: Mapped[Service] = relationship(back_populates="capacities")
    unit: Mapped[Unit] = relationship(lazy="joined")


# -- Harbour extensions -----------------------------------------------------------
class Vetting(Base):
    """Vetting of a provider organisation; unvetted or expired providers are never suggested."""

    __tablename__ = "directory_vetting"

    organization_id: Mapped[str] = mapped_column(Id, ForeignKey("hsds_organization.id", ondelete="CASCADE"),
                                                 primary_key=True)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    vetted_by: Mapped[str | None] = mapped_column(String(200))
    vetted_on: Mapped[str | None] = mapped_column(String(10))
    expires_on: Mapped[str | None] = mapped_column(String(10), index=True)
    notes: Mapped[str | None] = mapped_column(Text)

    organization: Mapped[Organization] = relationship(back_populates="vetting")


class ProviderStaff(Base):
    """Which provider organisation a provider-staff user works for (one each)."""

    __tablename__ = "directory_provider_staff"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True)
    organization_id: Mapped[str] = _fk("hsds_organization", nullable=False)


class Referral(Base):
    __tablename__ = "directory_referral"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"), index=True)
    service_id: Mapped[str] = mapped_column(Id, ForeignKey("hsds_service.id"), index=True)
    organization_id: Mapped[str] = mapped_column(Id, ForeignKey("hsds_organization.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="sent", index=True)
    shared: Mapped[str] = mapped_column(EncryptedText())  # JSON of the fields the advocate chose to send
    shared_fields: Mapped[list] = mapped_column(JSON, default=list)
    message: Mapped[str | None] = mapped_column(EncryptedText())
    consent_basis: Mapped[dict] = mapped_column(JSON, default=dict)
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    respond_by: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    responded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decline_reason: Mapped[str | None] = mapped_column(String(30))
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    outcome: Mapped[str | None] = mapped_column(String(30))
    outcome_note: Mapped[str | None] = mapped_column(EncryptedText())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoke_reason: Mapped[str | None] = mapped_column(EncryptedText())

    service: Mapped[Service] = relationship(lazy="joined")
    organization: Mapped[Organization] = relationship(lazy="joined")


class UnmetNeed(Base):
    """A search that found nothing suitable: need, place and time only (for the statistics module)."""

    __tablename__ = "directory_unmet_need"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    needs: Mapped[list] = mapped_column(JSON, default=list)
    province: Mapped[str | None] = mapped_column(String(2), index=True)
    place: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    radius_km: Mapped[float | None] = mapped_column(Float)
    language: Mapped[str | None] = mapped_column(String(8))
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
