"""Pydantic schemas: agency records as ingested (one row = one model), agreements, disclosures, reads."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harbour.core.choices import Province
from harbour.core.schemas import Strict, blank_to_none
from harbour.sharing.choices import (
    AGENCY_CODE_PATTERN,
    RECORD_ID_PATTERN,
    AgencyKind,
    DisclosureLevel,
    DocumentType,
    LocationKind,
    PersonRole,
    Purpose,
    RecordCategory,
    normalise_offence,
)

Name = Annotated[str, Field(max_length=100)]
Text200 = Annotated[str, Field(max_length=200)]
RecordId = Annotated[str, Field(pattern=RECORD_ID_PATTERN)]
AgencyCode = Annotated[str, Field(pattern=AGENCY_CODE_PATTERN)]
Note = Annotated[str, Field(max_length=4000)]
POSTAL = re.compile(r"^([A-CEGHJ-NPRSTVXY]\d[A-CEGHJ-NPRSTV-Z]) ?(\d[A-CEGHJ-NPRSTV-Z]\d)$")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
MIN_BIRTH_YEAR = 1900


def phone_e164(value: str) -> str:
    """A Canadian (or +country) phone number in E.164; raises ValueError when it is not a valid number."""
    try:
        number = phonenumbers.parse(value, "CA")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def postal_code(value: str) -> str:
    match = POSTAL.match(value.strip().upper())
    if not match:
        raise ValueError("not a Canadian postal code (A1A 1A1)")
    return f"{match.group(1)} {match.group(2)}"


def _sex(value):
    if value is None:
        return None
    text = str(value).strip().upper()
    mapping = {"F": "F", "FEMALE": "F", "M": "M", "MALE": "M", "X": "X", "U": "U", "UNKNOWN": "U", "H": "M"}
    if text not in mapping:
        raise ValueError("use F, M, X or U")
    return mapping[text]


def _birth_date(value: date | None) -> date | None:
    if value is not None and (value.year < MIN_BIRTH_YEAR or value > date.today()):
        raise ValueError("a date of birth between 1900 and today")
    return value


class Address(Strict):
    street_address: Text200 | None = None
    city: Text200 | None = None
    province: Province | None = None
    postal_code: str | None = Field(default=None, max_length=10)

    _blank = field_validator("*", mode="before")(blank_to_none)

    @field_validator("postal_code")
    @classmethod
    def _postal(cls, value):
        return postal_code(value) if value else None

    def is_empty(self) -> bool:
        return not any((self.street_address, self.city, self.province, self.postal_code))


class Alias(Strict):
    given_name: Name | None = None
    middle_name: Name | None = None
    surname: Name | None = None

    _blank = field_validator("*", mode="before")(blank_to_none)


class IdentityDocument(Strict):
    type: DocumentType
    number: Annotated[str, Field(min_length=1, max_length=60)]
    country: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] = "CAN"


class RecordBase(Strict):
    record_id: RecordId
    agency: AgencyCode


class PersonIn(RecordBase):
    """One person row: the canonical CSV columns, plus (JSON only) aliases and further phones, emails,
    addresses and identity documents."""

    given_name: Name | None = None
    middle_name: Name | None = None
    surname: Name | None = None
    date_of_birth: date | None = None
    sex: str | None = None
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=254)
    street_address: Text200 | None = None
    city: Text200 | None = None
    province: Province | None = None
    postal_code: str | None = Field(default=None, max_length=10)
    aliases: list[Alias] = Field(default_factory=list, max_length=20)
    phones: list[Annotated[str, Field(max_length=40)]] = Field(default_factory=list, max_length=20)
    emails: list[Annotated[str, Field(max_length=254)]] = Field(default_factory=list, max_length=20)
    addresses: list[Address] = Field(default_factory=list, max_length=20)
    identity_documents: list[IdentityDocument] = Field(default_factory=list, max_length=20)

    _blank = field_validator("given_name", "middle_name", "surname", "date_of_birth", "sex", "phone", "email",
                             "street_address", "city", "province", "postal_code", mode="before")(blank_to_none)

    @field_validator("date_of_birth", mode="before")
    @classmethod
    def _iso_only(cls, value):
        value = blank_to_none(value)
        if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
            raise ValueError("use YYYY-MM-DD")
        return value

    _dob = field_validator("date_of_birth")(lambda cls, v: _birth_date(v))
    _sex = field_validator("sex")(lambda cls, v: _sex(v))

    @field_validator("phone")
    @classmethod
    def _phone(cls, value):
        return phone_e164(value) if value else None

    @field_validator("phones")
    @classmethod
    def _phones(cls, value):
        return [phone_e164(v) for v in value if v and v.strip()]

    @field_validator("email")
    @classmethod
    def _email(cls, value):
        if value and not EMAIL.match(value):
            raise ValueError("not an email address")
        return value.lower() if value else None

    @field_validator("emails")
    @classmethod
    def _emails(cls, value):
        out = []
        for v in value:
            if not EMAIL.match(v.strip()):
                raise ValueError("not an email address")
            out.append(v.strip().lower())
        return out

    @field_validator("postal_code")
    @classmethod
    def _postal(cls, value):
        return postal_code(value) if value else None

    def all_phones(self) -> list[str]:
        return list(dict.fromkeys(([self.phone] if self.phone else []) + self.phones))

    def all_emails(self) -> list[str]:
        return list(dict.fromkeys(([self.email] if self.email else []) + self.emails))

    def all_addresses(self) -> list[dict]:
        first = Address(street_address=self.street_address, city=self.city, province=self.province,
                        postal_code=self.postal_code)
        found = ([first] if not first.is_empty() else []) + [a for a in self.addresses if not a.is_empty()]
        out = []
        for a in found:
            item = a.model_dump(mode="json")
            if item not in out:
                out.append(item)
        return out


class _Linked(RecordBase):
    person_record_id: RecordId | None = None
    _blank_person = field_validator("person_record_id", mode="before")(blank_to_none)


class PhoneIn(_Linked):
    number: Annotated[str, Field(max_length=40)]
    first_seen: date | None = None
    last_seen: date | None = None

    @field_validator("number")
    @classmethod
    def _number(cls, value):
        return phone_e164(value)


class HandleIn(_Linked):
    platform: Annotated[str, Field(min_length=1, max_length=60)]
    handle: Annotated[str, Field(min_length=1, max_length=200)]
    ad_url: Annotated[str, Field(max_length=500)] | None = None
    first_seen: date | None = None
    last_seen: date | None = None

    @field_validator("ad_url")
    @classmethod
    def _url(cls, value):
        if value and not re.match(r"^https?://\S+$", value):
            raise ValueError("ad links must be http:// or https:// addresses")
        return value


class VehicleIn(_Linked):
    plate: Annotated[str, Field(min_length=1, max_length=12, pattern=r"^[A-Za-z0-9 -]+$")]
    plate_province: Province | None = None
    make: Annotated[str, Field(max_length=60)] | None = None
    model: Annotated[str, Field(max_length=60)] | None = None
    colour: Annotated[str, Field(max_length=40)] | None = None
    year: Annotated[int, Field(ge=1900, le=2100)] | None = None


class LocationIn(_Linked):
    kind: LocationKind = LocationKind.other
    street_address: Text200 | None = None
    city: Text200 | None = None
    province: Province | None = None
    postal_code: str | None = Field(default=None, max_length=10)
    latitude: Annotated[float, Field(ge=41.0, le=84.0)] | None = None
    longitude: Annotated[float, Field(ge=-142.0, le=-52.0)] | None = None
    first_seen: date | None = None
    last_seen: date | None = None

    @field_validator("postal_code")
    @classmethod
    def _postal(cls, value):
        return postal_code(value) if value else None


class OccurrencePersonIn(Strict):
    person_record_id: RecordId
    role: PersonRole = PersonRole.other


class OccurrenceIn(RecordBase):
    occurred_on: date
    jurisdiction: Province
    offence_codes: list[str] = Field(default_factory=list, max_length=20)
    status: Annotated[str, Field(max_length=40)] | None = None
    summary: Annotated[str, Field(max_length=4000)] | None = None
    people: list[OccurrencePersonIn] = Field(default_factory=list, max_length=200)

    @field_validator("offence_codes")
    @classmethod
    def _offences(cls, value):
        out = []
        for code in value:
            canonical = normalise_offence(code)
            if canonical is None:
                raise ValueError("unknown offence code (e.g. CC-279.01, CC-286.2, IRPA-118)")
            if canonical not in out:
                out.append(canonical)
        return out

    @field_validator("occurred_on")
    @classmethod
    def _not_future(cls, value):
        if value > date.today() or value.year < 1900:
            raise ValueError("a date between 1900 and today")
        return value


ROW_SCHEMAS: dict[str, type[RecordBase]] = {
    "person": PersonIn, "phone": PhoneIn, "handle": HandleIn, "vehicle": VehicleIn, "location": LocationIn,
    "occurrence": OccurrenceIn,
}


class IngestBody(Strict):
    """JSON ingest: rows are checked one by one (bad ones are reported, good ones kept)."""

    source_system: Annotated[str, Field(min_length=1, max_length=120)]
    records: list[Any] = Field(min_length=1, max_length=50_000)  # a non-object item is a bad row, not a bad body


# -- agencies and agreements -----------------------------------------------------------------------
class AgencyCreate(Strict):
    code: AgencyCode
    name: Annotated[str, Field(min_length=2, max_length=200)]
    name_fr: Annotated[str, Field(max_length=200)] | None = None
    kind: AgencyKind
    province: Province | None = None
    contact_name: Annotated[str, Field(max_length=200)] | None = None
    contact_email: Annotated[str, Field(max_length=200)] | None = None
    contact_phone: Annotated[str, Field(max_length=40)] | None = None

    _blank = field_validator("name_fr", "province", "contact_name", "contact_email", "contact_phone",
                             mode="before")(blank_to_none)

    @field_validator("contact_email")
    @classmethod
    def _email(cls, value):
        if value and not EMAIL.match(value):
            raise ValueError("not an email address")
        return value


class MembershipBody(Strict):
    username: Annotated[str, Field(min_length=1, max_length=80)]


class PartyIn(Strict):
    agency: AgencyCode
    provides: bool = True
    receives: bool = True


class AgreementCreate(Strict):
    reference: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{1,39}$")]
    title: Annotated[str, Field(min_length=3, max_length=200)]
    legal_basis: Annotated[str, Field(min_length=3, max_length=4000)]
    parties: list[PartyIn] = Field(min_length=2, max_length=50)
    categories: list[RecordCategory] = Field(min_length=1)
    purposes: list[Purpose] = Field(min_length=1)
    disclosure_level: DisclosureLevel
    starts_on: date
    ends_on: date | None = None
    activate: bool = False

    @model_validator(mode="after")
    def _dates_and_parties(self):
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise ValueError("the end date is before the start date")
        codes = [p.agency for p in self.parties]
        if len(set(codes)) != len(codes):
            raise ValueError("an agency is listed twice")
        if not any(p.provides for p in self.parties) or not any(p.receives for p in self.parties):
            raise ValueError("at least one party must provide and one receive")
        return self


class AgreementStatusBody(Strict):
    status: Literal["draft", "active", "suspended", "revoked"]
    reason: Annotated[str, Field(max_length=2000)] | None = None


class DisclosureRequestCreate(Strict):
    purpose: Purpose
    level: Literal["summary", "full"] = "summary"
    justification: Annotated[str, Field(min_length=3, max_length=4000)]


class DecisionBody(Strict):
    decision: Literal["approve", "deny"]
    level: Literal["summary", "full"] | None = None
    note: Annotated[str, Field(max_length=4000)] | None = None

    _blank = field_validator("level", "note", mode="before")(blank_to_none)


class PprlDocument(BaseModel):
    """A CLK document as written by ``harbour pprl encode`` (checked in depth by pprl.validate_document)."""

    model_config = ConfigDict(extra="allow")
    format: str
    agency: str
    records: list[dict] = Field(max_length=2_000_000)


# -- reads ----------------------------------------------------------------------------------------------
class AgencyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    code: str
    name: str
    name_fr: str | None
    kind: str
    province: str | None
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    active: bool


class BatchRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: int
    record_type: str
    source_system: str
    fmt: str
    filename: str | None
    created_at: datetime
    rows_total: int
    rows_created: int
    rows_updated: int
    rows_unchanged: int
    rows_failed: int
    problems: list


class AgreementRead(BaseModel):
    id: int
    reference: str
    title: str
    legal_basis: str
    parties: list[dict]
    categories: list[str]
    purposes: list[str]
    disclosure_level: str
    starts_on: date
    ends_on: date | None
    status: str
    effective_status: str
    status_reason: str | None
