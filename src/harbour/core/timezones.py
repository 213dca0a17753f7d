"""Times as people read them: the console shows and reads times in the user's time zone (their own choice,
else the deployment's ``HARBOUR_TIME_ZONE``); everything is stored, exported and sent over the API in UTC.

Canada's zones are offered by name (the IANA zone behind each keeps the daylight-saving rules right,
Saskatchewan's included)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from harbour.core.i18n import N_

ZONES: tuple[tuple[str, str], ...] = (
    ("America/St_Johns", N_("Newfoundland time (St. John's)")),
    ("America/Halifax", N_("Atlantic time (Halifax)")),
    ("America/Toronto", N_("Eastern time (Toronto, Ottawa, Montréal)")),
    ("America/Winnipeg", N_("Central time (Winnipeg)")),
    ("America/Regina", N_("Saskatchewan time (Regina, no daylight saving)")),
    ("America/Edmonton", N_("Mountain time (Edmonton, Calgary)")),
    ("America/Vancouver", N_("Pacific time (Vancouver)")),
    ("America/Whitehorse", N_("Yukon time (Whitehorse)")),
    ("UTC", N_("Coordinated Universal Time (UTC)")),
)
CODES = {code for code, _label in ZONES}


def valid(name: str | None) -> bool:
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def zone(user_zone: str | None, default: str) -> ZoneInfo:
    """The user's zone if they chose one, else the deployment's (UTC if that is not a zone)."""
    for name in (user_zone, default):
        if valid(name):
            return ZoneInfo(name)
    return ZoneInfo("UTC")


def label(tz: ZoneInfo) -> str:
    """The zone's name for people (untranslated: pass it through gettext)."""
    return dict(ZONES).get(tz.key, tz.key)


def local(value: datetime | date | None, tz: ZoneInfo) -> datetime | date | None:
    """A stored time in ``tz`` (naive values are UTC, as the database layer gives them on SQLite)."""
    if not isinstance(value, datetime):
        return value
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(tz)


def utc_iso(value: datetime) -> str:
    """A time as UTC ISO text to the minute (what timeline events keep; naive values are UTC)."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).isoformat(timespec="minutes")


def shown(iso: str, tz: ZoneInfo) -> str:
    """Stored ISO text as a person reads it in ``tz`` and the page's language (``core.formats``):
    ``Jan 15, 2026, 9:30 a.m. EST`` (unreadable text as it is)."""
    from harbour.core import formats

    try:
        datetime.fromisoformat(iso)
    except (TypeError, ValueError):
        return iso or ""
    return formats.datetime_text(iso, tz)


def from_input(value: str, tz: ZoneInfo) -> str:
    """An ``<input type="datetime-local">`` value (wall time in ``tz``) as an ISO time with its offset."""
    parsed = datetime.fromisoformat(value.strip())
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)).isoformat()


def for_input(value: datetime | None, tz: ZoneInfo) -> str:
    """A stored time as a ``datetime-local`` value in ``tz``."""
    value = local(value, tz)
    return value.strftime("%Y-%m-%dT%H:%M") if isinstance(value, datetime) else ""
