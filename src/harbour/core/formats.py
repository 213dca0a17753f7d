"""Dates, times, language names and punctuation as people read them, in the page's language (EN/FR).

Every date or time a person reads goes through here (templates use the ``dt`` and ``date`` filters, chat
messages get their time from :func:`time_text`), so a time reads the same everywhere: Babel's Canadian
English or Canadian French formats (``Jan 15, 2026, 9:30 a.m. EST`` / ``15 janv. 2026, 9 h 30 HNE``) in the
viewer's time zone (their own choice, else the deployment's ``HARBOUR_TIME_ZONE``; see ``core.timezones``).
Stored values, exports and the API keep ISO 8601 in UTC.

Language codes (ISO 639-1, -2 and -3) are shown by name with :func:`language_name`: Babel's names in the
page's language, after the few names Harbour words its own way (``hotline.choices.LANGUAGE_NAMES``: Quebec
Sign Language, Chinese (Mandarin)...); an unknown code is shown as it is.

French punctuation: :func:`punct`, :func:`colon` and :func:`labelled` put the no-break space French wants
before a colon (or ; ! ?) that a template or the code adds after a translated label; the catalogue itself is checked by
``tests/core/test_french_typography.py``.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time

from harbour.core import i18n

LOCALES = {"en": "en_CA", "fr": "fr_CA"}
NBSP = "\u00a0"
_LANGUAGE_CODE = re.compile(r"^[A-Za-z]{2,3}([_-][A-Za-z0-9]{2,8})*$")


def locale_of(lang: str | None = None) -> str:
    """The Babel locale of a page language (Canadian English or Canadian French)."""
    return LOCALES.get(lang or i18n.current_language(), LOCALES[i18n.DEFAULT_LANGUAGE])


def _parse(value) -> datetime | date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip()) if "T" in value or " " in value.strip() \
                else date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)  # naive values are UTC (SQLite gives them)


def zone_abbreviation(value: datetime, tz: ZoneInfo, lang: str | None = None) -> str:
    """``EST`` / ``HNE``; the zone database's abbreviation where CLDR has only an offset (Yukon: ``MST``)."""
    local = _aware(value).astimezone(tz)
    name = format_time(local, "z", tzinfo=tz, locale=locale_of(lang))
    if name[:1] in "+-" or name.startswith("GMT"):
        name = local.strftime("%Z")
    return name


def date_text(value, lang: str | None = None, *, tz: ZoneInfo | None = None, length: str = "medium") -> str:
    """A date (or the date of a time, in ``tz``): ``Jan 15, 2026`` / ``15 janv. 2026``.  Text that is not a
    date is returned as it is; nothing gives ``""``."""
    parsed = _parse(value)
    if parsed is None:
        return "" if value is None else str(value)
    if isinstance(parsed, datetime):
        parsed = _aware(parsed).astimezone(tz or ZoneInfo("UTC")).date()
    return format_date(parsed, length, locale=locale_of(lang))


def time_text(value, tz: ZoneInfo, lang: str | None = None, *, seconds: bool = False, zone: bool = False) -> str:
    """The time of day in ``tz``: ``9:30 a.m.`` / ``9 h 30`` (with seconds, or the zone's abbreviation)."""
    parsed = _parse(value)
    if not isinstance(parsed, datetime):
        return "" if value is None else str(value)
    text = format_time(_aware(parsed), "medium" if seconds else "short", tzinfo=tz, locale=locale_of(lang))
    return f"{text} {zone_abbreviation(parsed, tz, lang)}" if zone else text


def datetime_text(value, tz: ZoneInfo, lang: str | None = None, *, seconds: bool = False, zone: bool = True) -> str:
    """Date and time in ``tz``: ``Jan 15, 2026, 9:30 a.m. EST`` / ``15 janv. 2026, 9 h 30 HNE``.
    A date alone is shown as a date; text that is not a time, as it is."""
    parsed = _parse(value)
    if parsed is None:
        return "" if value is None else str(value)
    if not isinstance(parsed, datetime):
        return date_text(parsed, lang)
    locale = Locale.parse(locale_of(lang))
    pattern = locale.datetime_formats["medium"]
    shown = pattern.replace("{1}", date_text(parsed, lang, tz=tz)).replace(
        "{0}", time_text(parsed, tz, lang, seconds=seconds))
    return f"{shown} {zone_abbreviation(parsed, tz, lang)}" if zone else shown


# -- language names -----------------------------------------------------------------------------------
@lru_cache(maxsize=4)
def _babel_languages(locale: str) -> dict[str, str]:
    return dict(Locale.parse(locale).languages)


def language_name(code: str | None, lang: str | None = None, *, in_sentence: bool = False) -> str:
    """The name of an ISO 639 language code in the page's language (``moh`` → Mohawk / mohawk).  French
    names start with a capital when they stand alone (a list, a table cell) and keep Babel's lower case inside
    a sentence (``in_sentence``).  An unknown code is returned as it is; nothing gives ``""``."""
    if not code:
        return ""
    code = str(code).strip()
    from harbour.hotline.choices import LANGUAGE_NAMES  # Harbour's own wording for the usual ones

    lang = lang or i18n.current_language()
    key = code.lower().replace("-", "_")
    if key in LANGUAGE_NAMES:
        token = i18n.set_language(lang)
        try:
            name = i18n.gettext(LANGUAGE_NAMES[key])
        finally:
            i18n.reset_language(token)
        return name[0].lower() + name[1:] if in_sentence and lang == "fr" else name
    if not _LANGUAGE_CODE.match(code):
        return code
    names = _babel_languages(locale_of(lang))
    first, *rest = key.split("_")
    cased = "_".join([first] + [p.upper() if len(p) == 2 else p.title() for p in rest])
    name = names.get(cased) or names.get(first) if rest else names.get(first)
    if not name:
        try:  # a code with a region or script Babel knows as a locale (pt_BR, zh_Hant)
            name = Locale.parse(key).get_display_name(locale_of(lang))
        except (ValueError, UnknownLocaleError):
            name = None
    if not name:
        return code
    return name if in_sentence else name[0].upper() + name[1:]


# -- punctuation -------------------------------------------------------------------------------------------
def punct(mark: str, lang: str | None = None) -> str:
    """``:``, ``;``, ``!`` or ``?`` as the page's language writes it after a word: French puts a no-break
    space before them (`` :``)."""
    return NBSP + mark if (lang or i18n.current_language()) == "fr" and mark in ":;!?" else mark


def colon(lang: str | None = None) -> str:
    """``:`` in English, `` :`` in French (a non-breaking space before it)."""
    return punct(":", lang)


def labelled(label: str, value: str, lang: str | None = None) -> str:
    """``label: value`` with the page language's spacing (``label : value`` in French)."""
    return f"{label}{colon(lang)} {value}"
