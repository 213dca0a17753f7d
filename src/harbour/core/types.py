"""Shared request types: ids that fit the database's integer columns, whole numbers that are not
booleans, and aware date-times in a sane range (converted to UTC)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field

MAX_DB_ID = 2_147_483_647
MIN_YEAR, MAX_YEAR = 1900, 2200


def _no_bool(value):
    if isinstance(value, bool):
        raise ValueError("a whole number is expected, not true/false")
    return value


def _utc_in_range(value: datetime) -> datetime:
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"the year must be between {MIN_YEAR} and {MAX_YEAR}")
    try:
        return value.astimezone(UTC)
    except OverflowError as exc:  # pragma: no cover - excluded by the year range above
        raise ValueError("date out of range") from exc


Int = Annotated[int, BeforeValidator(_no_bool)]
DbId = Annotated[int, BeforeValidator(_no_bool), Field(ge=1, le=MAX_DB_ID)]
IdPath = Annotated[int, Path(ge=1, le=MAX_DB_ID)]
UtcDateTime = Annotated[AwareDatetime, AfterValidator(_utc_in_range)]
