"""Sharing tables: agencies (tenants) and memberships, agency records with provenance, data-sharing
agreements, linkage model versions, matches, entities, hits, disclosure requests and PPRL submissions.

Ownership: every agency record carries ``agency_id``; its natural key is ``(agency_id, record_id)``
and every foreign key between agency records includes ``agency_id`` (composite keys), so a record can
never point at another agency's row.  On PostgreSQL these tables also have row-level security keyed on
the acting agency (see :mod:`harbour.sharing.rls` and migration 0020).

Identifying person fields are encrypted at rest (``EncryptedText``); exact lookups go through keyed
blind indexes (``sharing_person_key``, ``*_bi`` columns) and never through plaintext.
"""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from harbour.core.crypto import EncryptedText
from harbour.core.db import Base, JSONList, UTCDateTime, utcnow


class EncryptedJSON(EncryptedText):
    """A JSON value (list or dict) stored encrypted; rotated with every other EncryptedText column."""

    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return super().process_bind_param(json.dumps(value, ensure_ascii=False, sort_keys=True), dialect)

    def process_result_value(self, value, dialect):
        text = super().process_result_value(value, dialect)
        return None if text is None else json.loads(text)


# -- agencies -------------------------------------------------------------------------------------
class Agency(Base):
    """A tenant: a police service, CBSA, IRCC, FINTRAC, labour inspectors, Crown, an NGO or the hotline.
    Contact fields are the agency's sharing desk (whom other agencies contact after a hit), not a person's."""

    __tablename__ = "sharing_agency"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(30), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(30))
    province: Mapped[str | None] = mapped_column(String(2))
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AgencyMembership(Base):
    """A user belongs to exactly one agency (unique user_id)."""

    __tablename__ = "sharing_membership"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), unique=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("sharing_agency.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))

    agency: Mapped[Agency] = relationship(lazy="joined")


# -- provenance ---------------------------------------------------------------------------------------
class IngestBatch(Base):
    """One upload (CSV file or JSON request): who, when, from which source system, and the row report."""

    __tablename__ = "sharing_ingest_batch"
    __table_args__ = (UniqueConstraint("id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("sharing_agency.id"), index=True)
    record_type: Mapped[str] = mapped_column(String(20))
    source_system: Mapped[str] = mapped_column(String(120))
    fmt: Mapped[str] = mapped_column(String(10))
    filename: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    rows_total: Mapped[int] = mapped_column(Integer, default=0)
    rows_created: Mapped[int] = mapped_column(Integer, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, default=0)
    rows_unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rows_failed: Mapped[int] = mapped_column(Integer, default=0)
    # [{"row": 3, "record_id": "...", "errors": [{"field": "date_of_birth", "message": "..."}]}] — never values
    problems: Mapped[list] = mapped_column(JSON, default=list)


def _owned(table: str, *extra, person: bool = False):
    """Table args shared by agency records: natural key, composite FKs that include the agency."""
    args = [
        UniqueConstraint("agency_id", "record_id"),
        UniqueConstraint("id", "agency_id"),
        ForeignKeyConstraint(["batch_id", "agency_id"], ["sharing_ingest_batch.id", "sharing_ingest_batch.agency_id"],
                             name=f"fk_{table}_batch_agency"),
    ]
    if person:
        args.append(ForeignKeyConstraint(["person_id", "agency_id"], ["sharing_person.id", "sharing_person.agency_id"],
                                         name=f"fk_{table}_person_agency"))
    return (*args, *extra)


class _Provenance:
    """Columns every agency record has: owner, the agency's own identifier and where the row came from."""

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("sharing_agency.id"), index=True)
    record_id: Mapped[str] = mapped_column(String(120))
    source_system: Mapped[str] = mapped_column(String(120))
    batch_id: Mapped[int | None] = mapped_column(Integer)
    ingested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ingested_by_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    content_hash: Mapped[str] = mapped_column(String(64))


# -- agency records -----------------------------------------------------------------------------------
class Person(_Provenance, Base):
    __tablename__ = "sharing_person"
    __table_args__ = _owned("sharing_person")

    given_name: Mapped[str | None] = mapped_column(EncryptedText())
    middle_name: Mapped[str | None] = mapped_column(EncryptedText())
    surname: Mapped[str | None] = mapped_column(EncryptedText())
    aliases: Mapped[list | None] = mapped_column(EncryptedJSON())  # [{"given_name","middle_name","surname"}]
    date_of_birth: Mapped[str | None] = mapped_column(EncryptedText())  # ISO YYYY-MM-DD
    sex: Mapped[str | None] = mapped_column(String(1))
    phones: Mapped[list | None] = mapped_column(EncryptedJSON())  # E.164 strings
    emails: Mapped[list | None] = mapped_column(EncryptedJSON())
    addresses: Mapped[list | None] = mapped_column(EncryptedJSON())  # [{"street_address","city","province","postal_code"}]
    identity_documents: Mapped[list | None] = mapped_column(EncryptedJSON())  # [{"type","number","country"}]
    province: Mapped[str | None] = mapped_column(String(2), index=True)  # of the first address: coarse, not identifying
    needs_linkage: Mapped[bool] = mapped_column(Boolean, default=True, index=True)


class PersonKey(Base):
    """Keyed blind indexes of a person's exact identifiers (phone, email, document, name+birth date)."""

    __tablename__ = "sharing_person_key"
    __table_args__ = (
        ForeignKeyConstraint(["person_id", "agency_id"], ["sharing_person.id", "sharing_person.agency_id"],
                             name="fk_sharing_person_key_person_agency", ondelete="CASCADE"),
        Index("ix_sharing_person_key_digest", "kind", "digest"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("sharing_agency.id"), index=True)
    person_id: Mapped[int] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    digest: Mapped[str] = mapped_column(String(64))


class AgencyPhone(_Provenance, Base):
    __tablename__ = "sharing_phone"
    __table_args__ = _owned("sharing_phone", person=True)

    person_id: Mapped[int | None] = mapped_column(Integer, index=True)
    number: Mapped[str] = mapped_column(EncryptedText())  # E.164
    number_bi: Mapped[str] = mapped_column(String(64), index=True)
    first_seen: Mapped[date | None] = mapped_column(Date)
    last_seen: Mapped[date | None] = mapped_column(Date)


class Handle(_Provenance, Base):
    """An online handle or advertisement (platform, handle, ad URL, first/last seen)."""

    __tablename__ = "sharing_handle"
    __table_args__ = _owned("sharing_handle", person=True)

    person_id: Mapped[int | None] = mapped_column(Integer, index=True)
    platform: Mapped[str] = mapped_column(String(60))
    handle: Mapped[str] = mapped_column(EncryptedText())
    handle_bi: Mapped[str] = mapped_column(String(64), index=True)
    ad_url: Mapped[str | None] = mapped_column(EncryptedText())
    first_seen: Mapped[date | None] = mapped_column(Date)
    last_seen: Mapped[date | None] = mapped_column(Date)


class Vehicle(_Provenance, Base):
    __tablename__ = "sharing_vehicle"
    __table_args__ = _owned("sharing_vehicle", person=True)

    person_id: Mapped[int | None] = mapped_column(Integer, index=True)
    plate: Mapped[str] = mapped_column(EncryptedText())
    plate_bi: Mapped[str] = mapped_column(String(64), index=True)
    plate_province: Mapped[str | None] = mapped_column(String(2))
    make: Mapped[str | None] = mapped_column(String(60))
    model: Mapped[str | None] = mapped_column(String(60))
    colour: Mapped[str | None] = mapped_column(String(40))
    year: Mapped[int | None] = mapped_column(Integer)


class AgencyLocation(_Provenance, Base):
    __tablename__ = "sharing_location"
    __table_args__ = _owned("sharing_location", person=True)

    person_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(20))
    street_address: Mapped[str | None] = mapped_column(EncryptedText())
    city: Mapped[str | None] = mapped_column(String(120))
    province: Mapped[str | None] = mapped_column(String(2), index=True)
    postal_code: Mapped[str | None] = mapped_column(EncryptedText())
    address_bi: Mapped[str | None] = mapped_column(String(64), index=True)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    first_seen: Mapped[date | None] = mapped_column(Date)
    last_seen: Mapped[date | None] = mapped_column(Date)


class Occurrence(_Provenance, Base):
    """A police occurrence (or inspection, report): feeds statistics (occurred_on, jurisdiction, offence_codes)."""

    __tablename__ = "sharing_occurrence"
    __table_args__ = _owned("sharing_occurrence")

    occurred_on: Mapped[date] = mapped_column(Date, index=True)
    jurisdiction: Mapped[str] = mapped_column(String(2), index=True)  # province/territory code
    offence_codes: Mapped[list[str]] = mapped_column(JSONList(), default=list)  # e.g. ["CC-279.01", "IRPA-118"]
    status: Mapped[str | None] = mapped_column(String(40))
    summary: Mapped[str | None] = mapped_column(EncryptedText())

    people: Mapped[list[OccurrencePerson]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class OccurrencePerson(Base):
    __tablename__ = "sharing_occurrence_person"
    __table_args__ = (
        UniqueConstraint("occurrence_id", "person_id"),
        ForeignKeyConstraint(["occurrence_id", "agency_id"], ["sharing_occurrence.id", "sharing_occurrence.agency_id"],
                             name="fk_sharing_occurrence_person_occ_agency", ondelete="CASCADE"),
        ForeignKeyConstraint(["person_id", "agency_id"], ["sharing_person.id", "sharing_person.agency_id"],
                             name="fk_sharing_occurrence_person_person_agency", ondelete="CASCADE"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("sharing_agency.id"), index=True)
    occurrence_id: Mapped[int] = mapped_column(Integer, index=True)
    person_id: Mapped[int] = mapped_column(Integer, index=True)
    role: Mapped[str] = mapped_column(String(20))


# -- agreements --------------------------------------------------------------------------------------
class Agreement(Base):
    """A data-sharing agreement (MOU). ``status`` stores draft/active/suspended/revoked; "expired" and
    "not yet in force" follow from the dates (``access.effective_status``)."""

    __tablename__ = "sharing_agreement"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    legal_basis: Mapped[str] = mapped_column(Text)
    categories: Mapped[list[str]] = mapped_column(JSONList(), default=list)
    purposes: Mapped[list[str]] = mapped_column(JSONList(), default=list)
    disclosure_level: Mapped[str] = mapped_column(String(10))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    status_reason: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    parties: Mapped[list[AgreementParty]] = relationship(cascade="all, delete-orphan", lazy="selectin",
                                                         back_populates="agreement")


class AgreementParty(Base):
    """A party: ``provides`` (others may see its records) and/or ``receives`` (it may see others')."""

    __tablename__ = "sharing_agreement_party"
    __table_args__ = (UniqueConstraint("agreement_id", "agency_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("sharing_agreement.id", ondelete="CASCADE"), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("sharing_agency.id"), index=True)
    provides: Mapped[bool] = mapped_column(Boolean, default=True)
    receives: Mapped[bool] = mapped_column(Boolean, default=True)

    agreement: Mapped[Agreement] = relationship(back_populates="parties")
    agency: Mapped[Agency] = relationship(lazy="joined")


# -- linkage ---------------------------------------------------------------------------------------------
class LinkageModelVersion(Base):
    __tablename__ = "sharing_model_version"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(80), unique=True)
    settings: Mapped[dict] = mapped_column(JSON)
    trained_on: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_by: Mapped[str | None] = mapped_column(String(120))


class Match(Base):
    """A pair of records judged to be the same (person) by Splink or by PPRL. Server-side only: no agency
    reads this table directly (row-level security allows it only in cross-agency server mode)."""

    __tablename__ = "sharing_match"
    __table_args__ = (UniqueConstraint("method", "agency_a_id", "record_a", "agency_b_id", "record_b"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    method: Mapped[str] = mapped_column(String(10))
    category: Mapped[str] = mapped_column(String(20), default="person")
    agency_a_id: Mapped[int] = mapped_column(ForeignKey("sharing_agency.id"), index=True)
    record_a: Mapped[str] = mapped_column(String(120))
    agency_b_id: Mapped[int] = mapped_column(ForeignKey("sharing_agency.id"), index=True)
    record_b: Mapped[str] = mapped_column(String(120))
    match_weight: Mapped[float | None] = mapped_column(Float)
    match_probability: Mapped[float] = mapped_column(Float)
    agreed: Mapped[list[str]] = mapped_column(JSONList(), default=list)
    model_version: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # set when a later relink no longer finds the pair (a corrected record); cleared if it finds it again
    retracted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class EntityMember(Base):
    """Current clustering: which entity (same real person across agencies) each person record belongs to."""

    __tablename__ = "sharing_entity_member"
    __table_args__ = (UniqueConstraint("agency_id", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    entity_id: Mapped[str] = mapped_column(String(80), index=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("sharing_agency.id"), index=True)
    record_id: Mapped[str] = mapped_column(String(120))
    model_version: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# -- hits and disclosure --------------------------------------------------------------------------------
class Hit(Base):
    """A notification to ``agency_id`` that another agency holds a record matching its ``record_id``.
    It names the other agency and whom to contact, never the other record (that lives in the match)."""

    __tablename__ = "sharing_hit"
    __table_args__ = (UniqueConstraint("agency_id", "match_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("sharing_agency.id"), index=True)
    record_id: Mapped[str] = mapped_column(String(120))
    category: Mapped[str] = mapped_column(String(20), default="person")
    other_agency_id: Mapped[int] = mapped_column(ForeignKey("sharing_agency.id"), index=True)
    match_id: Mapped[int] = mapped_column(ForeignKey("sharing_match.id", ondelete="CASCADE"), index=True)
    method: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="new", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    other_agency: Mapped[Agency] = relationship(foreign_keys=[other_agency_id], lazy="joined")


class DisclosureRequest(Base):
    """The hit's holder asks the owning agency's data steward for more, stating a purpose."""

    __tablename__ = "sharing_disclosure_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    hit_id: Mapped[int] = mapped_column(ForeignKey("sharing_hit.id", ondelete="CASCADE"), index=True)
    # copied from the hit/match so the owner's steward never needs the requester's hit row (RLS keeps it private)
    match_id: Mapped[int] = mapped_column(ForeignKey("sharing_match.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(20), default="person")
    requester_agency_id: Mapped[int] = mapped_column(ForeignKey("sharing_agency.id"), index=True)
    owner_agency_id: Mapped[int] = mapped_column(ForeignKey("sharing_agency.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    purpose: Mapped[str] = mapped_column(String(40))
    level_requested: Mapped[str] = mapped_column(String(10))
    justification: Mapped[str | None] = mapped_column(EncryptedText())
    status: Mapped[str] = mapped_column(String(12), default="pending", index=True)
    level_granted: Mapped[str | None] = mapped_column(String(10))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    decision_note: Mapped[str | None] = mapped_column(EncryptedText())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    requester_agency: Mapped[Agency] = relationship(foreign_keys=[requester_agency_id], lazy="joined")
    owner_agency: Mapped[Agency] = relationship(foreign_keys=[owner_agency_id], lazy="joined")


class PprlSubmission(Base):
    """An agency's keyed Bloom-filter encodings (CLKs; no names). The newest active one per agency is matched."""

    __tablename__ = "sharing_pprl_submission"

    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("sharing_agency.id"), index=True)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    record_count: Mapped[int] = mapped_column(Integer)
    schema_id: Mapped[str] = mapped_column(String(64))  # fingerprint of the encoding schema: only equal ones compare
    document: Mapped[dict] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


# Tables with row-level security on PostgreSQL, and the column(s) naming the owning agency.
RLS_TABLES: dict[str, tuple[str, ...]] = {
    "sharing_ingest_batch": ("agency_id",),
    "sharing_person": ("agency_id",),
    "sharing_person_key": ("agency_id",),
    "sharing_phone": ("agency_id",),
    "sharing_handle": ("agency_id",),
    "sharing_vehicle": ("agency_id",),
    "sharing_location": ("agency_id",),
    "sharing_occurrence": ("agency_id",),
    "sharing_occurrence_person": ("agency_id",),
    "sharing_hit": ("agency_id",),
    "sharing_pprl_submission": ("agency_id",),
    "sharing_disclosure_request": ("requester_agency_id", "owner_agency_id"),
    "sharing_match": (),  # server-side only (cross-agency mode)
    "sharing_entity_member": (),
}

# Short names (the class names carry an "Agency" prefix: the directory has its own HSDS Phone and Location).
Phone = AgencyPhone
Location = AgencyLocation

RECORD_MODELS = {"person": Person, "phone": Phone, "handle": Handle, "vehicle": Vehicle, "location": Location,
                 "occurrence": Occurrence}
