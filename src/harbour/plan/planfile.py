"""The shape of a plan file (schema ``harbour-plan/1``, documented in :mod:`harbour.plan.importer`).

Pydantic models that check one file on its own, and the translation of their errors into
row-level messages with paths like ``pillars[1].objectives[0].tasks[3].deliverables[0].status``.
Checks that need the whole file or the database (duplicates, department codes) are in the importer.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from harbour.core.i18n import N_, gettext
from harbour.plan.choices import (
    CODE_PATTERN,
    DEPARTMENT_PATTERN,
    NUMBER_PATTERN,
    DeliverableStatus,
    StrategyKind,
    check_fiscal_year,
)

SCHEMA = "harbour-plan/1"


def _fy(value):
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(gettext(N_("fiscal year must be text like 2013-2014")))
    try:
        return check_fiscal_year(value)
    except ValueError:
        raise ValueError(gettext(N_("'%(value)s' is not a fiscal year like 2013-2014 (two consecutive years)"),
                                 value=value)) from None


def _matches(pattern: str, what: str):
    rx = re.compile(pattern)

    def check(value):
        if not isinstance(value, str) or not rx.match(value):
            raise ValueError(gettext(N_("'%(value)s' is not a valid %(what)s"), value=value, what=what))
        return value

    return check


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class Text2(_In):
    en: str = Field(min_length=1, max_length=10_000)
    fr: str | None = Field(default=None, max_length=10_000)

    @model_validator(mode="before")
    @classmethod
    def _plain(cls, value):
        return {"en": value} if isinstance(value, str) else value


class DepartmentIn(_In):
    code: str
    name: Text2
    aliases: list[str] = Field(default_factory=list)

    _code = field_validator("code")(_matches(DEPARTMENT_PATTERN, "department code"))


def _ref_check(value):
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return _matches(r"^[A-Za-z0-9._-]{1,20}$", "ref")(value)


class DeliverableIn(_In):
    ref: str | None = None
    text: Text2
    timeline: str | None = Field(default=None, max_length=200)
    start: str | None = None
    end: str | None = None
    status: str = DeliverableStatus.not_started.value
    status_text: str | None = Field(default=None, max_length=200)
    leads: list[str] = Field(min_length=1)
    partners: list[str] = Field(default_factory=list)
    lead_text: str | None = Field(default=None, max_length=200)
    narrative: Text2 | None = None
    note: Text2 | None = None

    _ref = field_validator("ref", mode="before")(_ref_check)
    _years = field_validator("start", "end", mode="before")(_fy)

    @field_validator("status", mode="before")
    @classmethod
    def _status(cls, value):
        key = re.sub(r"[\s-]+", "_", value.strip().lower()) if isinstance(value, str) else value
        if key not in DeliverableStatus.codes():
            raise ValueError(gettext(N_("unknown status '%(value)s'"), value=value))
        return key

    @model_validator(mode="after")
    def _order(self):
        if self.start and self.end and self.end < self.start:
            raise ValueError(gettext(N_("end fiscal year %(end)s is before start %(start)s"),
                                     end=self.end, start=self.start))
        return self


def _number(value):
    """Task and objective numbers are text: 1.10 and 1.1 differ, so YAML decimals are refused."""
    if isinstance(value, bool) or isinstance(value, float):
        raise ValueError(gettext(N_("write the number in quotes, like \"1.10\" (unquoted, YAML reads a decimal)")))
    if isinstance(value, int):
        value = str(value)
    return _matches(NUMBER_PATTERN, "number like 1.11")(value)


class TaskIn(_In):
    number: str
    text: Text2
    deliverables: list[DeliverableIn] = Field(default_factory=list)

    _number = field_validator("number", mode="before")(_number)


class ObjectiveIn(_In):
    number: str
    text: Text2
    tasks: list[TaskIn] = Field(default_factory=list)

    _number = field_validator("number", mode="before")(_number)


class PillarIn(_In):
    code: str
    order: int | None = Field(default=None, ge=0, le=1000)
    name: Text2
    objectives: list[ObjectiveIn] = Field(default_factory=list)

    _code = field_validator("code")(_matches(CODE_PATTERN, "pillar code"))


class IndicatorValueIn(_In):
    fiscal_year: str
    target: float | None = Field(default=None, allow_inf_nan=False)
    actual: float | None = Field(default=None, allow_inf_nan=False)

    _year = field_validator("fiscal_year", mode="before")(_fy)


class IndicatorIn(_In):
    code: str
    name: Text2
    unit: str | None = Field(default=None, max_length=40)
    objective: str | None = None
    values: list[IndicatorValueIn] = Field(default_factory=list)

    _code = field_validator("code")(_matches(CODE_PATTERN, "indicator code"))


class StrategyIn(_In):
    code: str
    kind: str
    title: Text2
    start_fiscal_year: str | None = None
    end_fiscal_year: str | None = None
    source: Text2 | None = None
    published: bool = True

    _code = field_validator("code")(_matches(CODE_PATTERN, "strategy code"))
    _years = field_validator("start_fiscal_year", "end_fiscal_year", mode="before")(_fy)

    @field_validator("kind")
    @classmethod
    def _kind(cls, value):
        if value not in StrategyKind.codes():
            raise ValueError(gettext(N_("unknown kind '%(value)s' (use action_plan, strategy or recommendations)"),
                                     value=value))
        return value


class PlanFile(_In):
    schema_: str | None = Field(default=None, alias="schema")
    strategy: StrategyIn
    status_fiscal_year: str | None = None
    departments: list[DepartmentIn] = Field(default_factory=list)
    pillars: list[PillarIn] = Field(min_length=1)
    indicators: list[IndicatorIn] = Field(default_factory=list)

    _year = field_validator("status_fiscal_year", mode="before")(_fy)

    @field_validator("schema_")
    @classmethod
    def _schema(cls, value):
        if value is not None and value != SCHEMA:
            raise ValueError(gettext(N_("unsupported schema '%(value)s' (expected %(schema)s)"),
                                     value=value, schema=SCHEMA))
        return value


_PYDANTIC = {
    "missing": N_("required"),
    "extra_forbidden": N_("unknown field"),
    "string_type": N_("must be text"),
    "list_type": N_("must be a list"),
    "model_type": N_("must be a mapping of fields"),
    "model_attributes_type": N_("must be a mapping of fields"),
    "dict_type": N_("must be a mapping of fields"),
    "int_type": N_("must be a whole number"),
    "int_parsing": N_("must be a whole number"),
    "float_type": N_("must be a number"),
    "float_parsing": N_("must be a number"),
    "finite_number": N_("must be a finite number"),
    "bool_type": N_("must be true or false"),
    "bool_parsing": N_("must be true or false"),
    "string_too_long": N_("is too long"),
    "string_too_short": N_("must not be empty"),
    "too_short": N_("must not be empty"),
    "greater_than_equal": N_("is too small"),
    "less_than_equal": N_("is too large"),
}


def _path(loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + ("schema" if part == "schema_" else str(part))
    return out or "(file)"


def pydantic_errors(exc: ValidationError) -> list[str]:
    out = []
    for err in exc.errors():
        kind = err.get("type", "")
        if kind == "value_error":
            message = str(err.get("msg", "")).removeprefix("Value error, ")
        else:
            message = gettext(_PYDANTIC.get(kind, N_("is not valid")))
        out.append(f"{_path(err.get('loc', ()))}: {message}")
    return out
