"""Directory schemas: provider records as Harbour builds them, search, referrals."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from harbour.core.choices import Province
from harbour.core.schemas import Strict
from harbour.core.types import DbId, Int
from harbour.directory.choices import (
    DeclineReason,
    EligibleGender,
    EligibleStatus,
    LocationType,
    ReferralOutcome,
    ServiceStatus,
    ServiceType,
    SharedField,
    SurvivorType,
    VettingStatus,
)

LangCode = Annotated[str, Field(pattern=r"^[a-z]{2,3}$")]
HHMM = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class WeeklyHours(Strict):
    """Opening hours on some weekdays, in the location's local time."""

    days: list[Annotated[str, Field(pattern=r"^(MO|TU|WE|TH|FR|SA|SU)$")]] = Field(min_length=1)
    opens_at: HHMM
    closes_at: HHMM


class CapacityIn(Strict):
    available: Annotated[Int, Field(ge=0, le=100_000)]
    maximum: Annotated[Int, Field(ge=0, le=100_000)] | None = None
    unit: Annotated[str, Field(min_length=1, max_length=40)] = "bed"

    @model_validator(mode="after")
    def _fits(self):
        if self.maximum is not None and self.available > self.maximum:
            raise ValueError("available cannot exceed maximum")
        return self


class ServiceIn(Strict):
    name: Annotated[str, Field(min_length=1, max_length=300)]
    description: Annotated[str, Field(max_length=5000)] | None = None
    types: list[ServiceType] = Field(min_length=1)
    status: ServiceStatus = ServiceStatus.active
    languages: list[LangCode] = Field(default_factory=lambda: ["en"])
    minimum_age: Annotated[Int, Field(ge=0, le=120)] | None = None
    maximum_age: Annotated[Int, Field(ge=0, le=120)] | None = None
    genders: list[EligibleGender] = Field(default_factory=list, description="empty: everyone")
    statuses: list[EligibleStatus] = Field(default_factory=list, description="empty: everyone")
    survivor_types: list[SurvivorType] = Field(default_factory=list, description="empty: both")
    eligibility_description: Annotated[str, Field(max_length=2000)] | None = None
    open_24_7: bool = False
    hours: list[WeeklyHours] = Field(default_factory=list)
    areas: list[Annotated[str, Field(max_length=60)]] = Field(
        default_factory=list, description="'national', 'virtual', a province code, or empty: near the location")
    phone: Annotated[str, Field(max_length=40)] | None = None
    email: EmailStr | None = None
    url: Annotated[str, Field(max_length=500)] | None = None
    capacity: CapacityIn | None = None
    interpretation_services: Annotated[str, Field(max_length=2000)] | None = None

    @model_validator(mode="after")
    def _ages(self):
        if self.minimum_age is not None and self.maximum_age is not None and self.minimum_age > self.maximum_age:
            raise ValueError("minimum_age is above maximum_age")
        for area in self.areas:
            if area not in ("national", "virtual") and area not in Province.codes():
                raise ValueError("areas must be 'national', 'virtual' or a province code")
        return self


class LocationIn(Strict):
    name: Annotated[str, Field(max_length=300)] | None = None
    location_type: LocationType = LocationType.physical
    address_1: Annotated[str, Field(max_length=300)] | None = None
    city: Annotated[str, Field(min_length=1, max_length=200)]
    province: Province
    postal_code: Annotated[str, Field(max_length=10)] | None = None
    latitude: Annotated[float, Field(ge=41.0, le=84.0)] | None = None
    longitude: Annotated[float, Field(ge=-142.0, le=-52.0)] | None = None
    wheelchair_accessible: bool = False


class ProviderCreate(Strict):
    name: Annotated[str, Field(min_length=1, max_length=300)]
    description: Annotated[str, Field(max_length=5000)] = ""
    email: EmailStr | None = None
    website: Annotated[str, Field(max_length=500)] | None = None
    indigenous_led: bool = False
    location: LocationIn
    services: list[ServiceIn] = Field(min_length=1, max_length=50)
    vetting: VettingStatus = VettingStatus.pending
    vetted_by: Annotated[str, Field(max_length=200)] | None = None
    vetted_on: date | None = None
    vetting_expires_on: date | None = None


class VettingUpdate(Strict):
    status: VettingStatus
    vetted_by: Annotated[str, Field(max_length=200)] | None = None
    vetted_on: date | None = None
    expires_on: date | None = None
    notes: Annotated[str, Field(max_length=2000)] | None = None

    @model_validator(mode="after")
    def _dates(self):
        if self.status == VettingStatus.vetted and (self.vetted_on is None or self.expires_on is None):
            raise ValueError("a vetted provider needs a vetting date and an expiry date")
        if self.vetted_on and self.expires_on and self.expires_on <= self.vetted_on:
            raise ValueError("expiry must be after the vetting date")
        return self


class CapacityUpdate(Strict):
    available: Annotated[Int, Field(ge=0, le=100_000)]
    maximum: Annotated[Int, Field(ge=0, le=100_000)] | None = None

    @model_validator(mode="after")
    def _fits(self):
        if self.maximum is not None and self.available > self.maximum:
            raise ValueError("available cannot exceed maximum")
        return self


class ServiceDetailsUpdate(Strict):
    """What provider staff may change about their own service in the portal."""

    phone: Annotated[str, Field(max_length=40)] | None = None
    email: EmailStr | None = None
    url: Annotated[str, Field(max_length=500)] | None = None
    open_24_7: bool | None = None
    hours: list[WeeklyHours] | None = None
    alert: Annotated[str, Field(max_length=1000)] | None = None
    status: ServiceStatus | None = None


# -- referrals ------------------------------------------------------------------
class ReferralCreate(Strict):
    case_id: DbId
    service_ids: list[Annotated[str, Field(min_length=1, max_length=36)]] = Field(min_length=1, max_length=10)
    shared_fields: list[SharedField] = Field(default_factory=list)
    callback_phone: Annotated[str, Field(max_length=40)] | None = None
    message: Annotated[str, Field(max_length=2000)] | None = None
    respond_within_hours: Annotated[Int, Field(ge=1, le=336)] | None = None

    @field_validator("service_ids")
    @classmethod
    def _unique(cls, v):
        return list(dict.fromkeys(v))


class ReferralDecline(Strict):
    reason: DeclineReason
    note: Annotated[str, Field(max_length=2000)] | None = None


class ReferralComplete(Strict):
    outcome: ReferralOutcome
    note: Annotated[str, Field(max_length=2000)] | None = None


class ReferralRevoke(Strict):
    reason: Annotated[str, Field(min_length=1, max_length=2000)]


class ReferralRead(BaseModel):
    """What a provider sees: the referral and what the advocate chose to share; nothing else of the case."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    reference: str
    service_id: str
    organization_id: str
    status: str
    shared: dict
    message: str | None
    sent_at: object
    respond_by: object
    responded_at: object | None
    decline_reason: str | None
    completed_at: object | None
    outcome: str | None
    overdue: bool = False
