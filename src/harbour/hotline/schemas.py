"""Pydantic schemas: what the API and the console forms accept and return."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

import phonenumbers
from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

from harbour.core.choices import Province
from harbour.core.db import utcnow
from harbour.core.schemas import Strict, blank_to_none
from harbour.core.types import DbId, Int, UtcDateTime
from harbour.hotline.choices import (
    AgeBand,
    CallerType,
    CaseOutcome,
    CaseStatus,
    Channel,
    Citizenship,
    Classification,
    ConsentMethod,
    ConsentPurpose,
    ControlMeans,
    Exploitation,
    Gender,
    Indicator,
    Need,
    Recruitment,
    RiskLevel,
    TaskKind,
    YesNoUnknown,
)

ShortText = Annotated[str, Field(max_length=200)]
LongText = Annotated[str, Field(max_length=10_000)]
LangCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]
City = Annotated[str, Field(max_length=120)]


def normalise_phone(value: str | None) -> str | None:
    """E.164 for a Canadian (or international, with +) number; ValueError if not a phone number."""
    if value is None or not value.strip():
        return None
    try:
        parsed = phonenumbers.parse(value, "CA")
    except phonenumbers.NumberParseException as exc:
        raise ValueError("not a phone number") from exc
    if not phonenumbers.is_valid_number(parsed):
        raise ValueError("not a valid phone number (include the area code)")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _not_future(value: datetime | None) -> datetime | None:
    if value is not None and value > utcnow() + timedelta(minutes=5):
        raise ValueError("cannot be in the future")
    return value


def _not_null(value):
    """In an update, leaving a field out keeps it; sending null for a required field is refused."""
    if value is None:
        raise ValueError("cannot be null")
    return value


# -- contacts ---------------------------------------------------------------
class ContactFields(Strict):
    duration_seconds: Annotated[Int, Field(ge=0, le=86_400)] | None = None
    language: LangCode | None = None
    interpreter_language: LangCode | None = None
    caller_type: CallerType | None = None
    classification: Classification | None = None
    province: Province | None = None
    city: City | None = None
    summary: LongText | None = None
    caller_name: ShortText | None = None
    caller_phone: Annotated[str, Field(max_length=40)] | None = None
    caller_email: EmailStr | None = None
    anonymous: bool = False

    _blank = field_validator(
        "language", "interpreter_language", "caller_type", "classification", "province", "city",
        "summary", "caller_name", "caller_phone", "caller_email", "duration_seconds", mode="before",
    )(blank_to_none)

    @field_validator("caller_phone")
    @classmethod
    def _phone(cls, v):
        return normalise_phone(v)


class ContactCreate(ContactFields):
    """Only the channel is required; received time defaults to now."""

    channel: Channel
    received_at: UtcDateTime | None = None
    case_id: DbId | None = None

    _future = field_validator("received_at")(_not_future)


class ChatContactDetails(Strict):
    """What the advocate chooses when a chat becomes a contact and a case (the rest comes from the chat)."""

    classification: Classification | None = None
    province: Province | None = None
    city: City | None = None

    _blank = field_validator("classification", "province", "city", mode="before")(blank_to_none)


class ContactUpdate(ContactFields):
    _required = field_validator("channel", "received_at", "anonymous")(_not_null)
    channel: Channel | None = None
    received_at: UtcDateTime | None = None
    anonymous: bool | None = None  # type: ignore[assignment]

    _future = field_validator("received_at")(_not_future)


class RepeatMatch(BaseModel):
    contact_id: int
    contact_reference: str
    received_at: datetime
    case_id: int | None
    case_reference: str | None


class ContactRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    reference: str
    channel: str
    received_at: datetime
    duration_seconds: int | None
    language: str | None
    interpreter_language: str | None
    caller_type: str | None
    classification: str | None
    province: str | None
    city: str | None
    summary: str | None
    caller_name: str | None
    caller_phone: str | None
    caller_email: str | None
    anonymous: bool
    source: str
    case_id: int | None
    created_at: datetime


class ContactSaved(ContactRead):
    repeat_matches: list[RepeatMatch] = []


class ContactListItem(BaseModel):
    """No survivor-identifying fields in lists."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    reference: str
    channel: str
    received_at: datetime
    classification: str | None
    caller_type: str | None
    province: str | None
    case_id: int | None
    source: str


# -- cases --------------------------------------------------------------------
class CaseFields(Strict):
    risk_level: RiskLevel | None = None
    victim_count: Annotated[Int, Field(ge=0, le=10_000)] | None = None
    age_band: AgeBand | None = None
    gender: Gender | None = None
    citizenship: Citizenship | None = None
    exploitation_types: list[Exploitation] | None = None
    indicators: list[Indicator] | None = None
    recruitment: list[Recruitment] | None = None
    control_means: list[ControlMeans] | None = None
    needs: list[Need] | None = None
    province: Province | None = None
    city: City | None = None
    survivor_alias: ShortText | None = None
    notes: LongText | None = None
    assigned_to_id: DbId | None = None

    _blank = field_validator(
        "risk_level", "age_band", "gender", "citizenship", "province", "city", "survivor_alias", "notes",
        "victim_count", "assigned_to_id", mode="before",
    )(blank_to_none)


class CaseCreate(CaseFields):
    contact_ids: list[DbId] = Field(default_factory=list, max_length=100)


class CaseUpdate(CaseFields):
    status: CaseStatus | None = None
    outcome: CaseOutcome | None = None
    version: Int | None = Field(default=None, description="send the version you read to detect conflicting edits")

    _blank2 = field_validator("status", "outcome", mode="before")(blank_to_none)


class CaseListItem(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    reference: str
    status: str
    risk_level: str | None
    province: str | None
    exploitation_types: list[str]
    needs: list[str]
    assigned_to_id: int | None
    created_at: datetime
    updated_at: datetime


class CaseRead(CaseListItem):
    outcome: str | None
    victim_count: int | None
    age_band: str | None
    gender: str | None
    citizenship: str | None
    indicators: list[str]
    recruitment: list[str]
    control_means: list[str]
    city: str | None
    survivor_alias: str | None
    notes: str | None
    closed_at: datetime | None
    version: int
    contact_ids: list[int] = []


# -- consent --------------------------------------------------------------
class ConsentCreate(Strict):
    purpose: ConsentPurpose
    method: ConsentMethod
    given_at: UtcDateTime | None = None
    expires_at: UtcDateTime | None = None
    note: LongText | None = None

    _blank = field_validator("expires_at", "note", "given_at", mode="before")(blank_to_none)
    _future = field_validator("given_at")(_not_future)


class ConsentRevoke(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class ConsentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    purpose: str
    method: str
    given_at: datetime
    expires_at: datetime | None
    recorded_by_id: int | None
    revoked_at: datetime | None
    active: bool = False


class OverrideRequest(Strict):
    purpose: ConsentPurpose
    reason: Annotated[str, Field(min_length=10, max_length=2000)]


class OverrideDecision(Strict):
    approve: bool
    hours: Annotated[Int, Field(ge=1, le=72)] = 24


class OverrideRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    purpose: str
    requested_by_id: int
    requested_at: datetime
    decided_by_id: int | None
    decided_at: datetime | None
    approved: bool | None
    expires_at: datetime | None


# -- tasks, safety plan, escalation ------------------------------------------
class TaskCreate(Strict):
    title: Annotated[str, Field(min_length=1, max_length=200)]
    kind: TaskKind = TaskKind.general
    due_at: UtcDateTime
    assigned_to_id: DbId | None = None

    _blank = field_validator("assigned_to_id", mode="before")(blank_to_none)


class TaskUpdate(Strict):
    _required = field_validator("title", "due_at")(_not_null)
    done: bool | None = None
    due_at: UtcDateTime | None = None
    assigned_to_id: DbId | None = None
    title: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class TaskRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    case_id: int
    title: str
    kind: str
    due_at: datetime
    assigned_to_id: int | None
    done_at: datetime | None
    created_at: datetime


class SafetyPlanUpdate(Strict):
    safe_to_call_back: YesNoUnknown = YesNoUnknown.unknown
    safe_to_leave_voicemail: YesNoUnknown = YesNoUnknown.unknown
    safe_to_text: YesNoUnknown = YesNoUnknown.unknown
    safe_times: Annotated[str, Field(max_length=500)] | None = None
    code_word: Annotated[str, Field(max_length=100)] | None = None
    notes: LongText | None = None

    _blank = field_validator("safe_times", "code_word", "notes", mode="before")(blank_to_none)


class SafetyPlanRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    safe_to_call_back: str
    safe_to_leave_voicemail: str
    safe_to_text: str
    safe_times: str | None
    code_word: str | None
    notes: str | None
    updated_at: datetime


class EscalationCreate(Strict):
    reason: Annotated[str, Field(min_length=3, max_length=2000)]
    contact_id: DbId | None = None


class AttachContact(Strict):
    case_id: DbId


class PhoneLookup(Strict):
    phone: Annotated[str, Field(min_length=3, max_length=40)]


class EventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    kind: str
    actor_id: int | None
    data: dict
