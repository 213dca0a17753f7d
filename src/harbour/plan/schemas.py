"""Pydantic schemas: what the plan API and console forms accept and return."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from harbour.core.schemas import Strict, blank_to_none
from harbour.plan.choices import DEPARTMENT_PATTERN, DeliverableStatus, ReviewDecision, check_fiscal_year

LongText = Annotated[str, Field(max_length=10_000)]
Note = Annotated[str, Field(max_length=4_000)]
FiscalYear = Annotated[str, Field(min_length=9, max_length=9)]
DepartmentCode = Annotated[str, Field(pattern=DEPARTMENT_PATTERN)]
Link = Annotated[str, Field(max_length=500)]


def check_link(value: str) -> str:
    """An evidence link: an absolute http(s) address without spaces."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or any(ch.isspace() for ch in value):
        raise ValueError("evidence links must be http:// or https:// addresses")
    return value


class ProgressFields(Strict):
    entry_date: date | None = None
    narrative_en: LongText | None = None
    narrative_fr: LongText | None = None
    evidence_links: list[Link] = Field(default_factory=list, max_length=20)
    proposed_status: DeliverableStatus | None = None

    _blank = field_validator("narrative_en", "narrative_fr", "proposed_status", "entry_date",
                             mode="before")(blank_to_none)

    @field_validator("evidence_links")
    @classmethod
    def _links(cls, value: list[str]) -> list[str]:
        out = []
        for link in value:
            if link and link.strip():
                out.append(check_link(link.strip()))
        return out

    @field_validator("entry_date")
    @classmethod
    def _not_future(cls, value: date | None) -> date | None:
        if value is not None and value > date.today() + timedelta(days=1):
            raise ValueError("cannot be in the future")
        return value


class ProgressCreate(ProgressFields):
    """A department lead's update on one deliverable.  ``submit`` sends it for review at once."""

    fiscal_year: FiscalYear
    department: DepartmentCode | None = None
    submit: bool = True

    _blank_dept = field_validator("department", mode="before")(blank_to_none)

    @field_validator("fiscal_year")
    @classmethod
    def _fy(cls, value: str) -> str:
        return check_fiscal_year(value)

    @model_validator(mode="after")
    def _some_narrative(self):
        if not (self.narrative_en or self.narrative_fr):
            raise ValueError("write the update in English or French")
        return self


class ProgressUpdate(ProgressFields):
    """Changes to a draft (only the fields sent change)."""

    fiscal_year: FiscalYear | None = None

    @field_validator("fiscal_year")
    @classmethod
    def _fy(cls, value: str | None) -> str | None:
        return None if value is None else check_fiscal_year(value)


class ReviewBody(Strict):
    decision: ReviewDecision
    note: Note | None = None

    _blank = field_validator("note", mode="before")(blank_to_none)


class IndicatorValueBody(Strict):
    target: float | None = Field(default=None, allow_inf_nan=False, ge=-1e12, le=1e12)
    actual: float | None = Field(default=None, allow_inf_nan=False, ge=-1e12, le=1e12)


class ProgressRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    deliverable_id: int
    department_code: str
    fiscal_year: str
    entry_date: date
    narrative_en: str | None
    narrative_fr: str | None
    evidence_links: list[str]
    proposed_status: str | None
    state: str
    author_id: int
    submitted_at: datetime | None
    reviewer_id: int | None
    reviewed_at: datetime | None
    reviewer_note: str | None
    created_at: datetime
    updated_at: datetime


class PublicProgressRead(BaseModel):
    """An approved update as the public (and every plan:read token) sees it: no people, no notes."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    deliverable_id: int
    department_code: str
    fiscal_year: str
    entry_date: date
    narrative_en: str | None
    narrative_fr: str | None
    evidence_links: list[str]
    proposed_status: str | None
    reviewed_at: datetime | None


class DepartmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    name_en: str
    name_fr: str
    aliases: list[str]


class StrategyRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    code: str
    kind: str
    title_en: str
    title_fr: str
    start_fiscal_year: str | None
    end_fiscal_year: str | None
    source_en: str | None
    source_fr: str | None


class IndicatorValueRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    fiscal_year: str
    target: float | None
    actual: float | None


class IndicatorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    code: str
    name_en: str
    name_fr: str
    unit: str | None
    values: list[IndicatorValueRead]
