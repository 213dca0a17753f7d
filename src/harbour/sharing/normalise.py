"""Normalisation of canonical person rows before record linkage.

Everything here is vectorised with pandas (values that repeat, such as names, are transformed once per
distinct value), so a million rows normalise in seconds.  The output columns are what the Splink model
compares: accent-free lower-case names, a canonical given name (nicknames and French/English variants
folded: Bob -> robert, Jean -> john, Guillaume -> william), metaphone codes, dates of birth as ISO strings
with a day/month-swapped twin, phones in E.164 (``phonenumbers``, region CA), postal codes, e-mails,
street and city.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

import jellyfish
import numpy as np
import pandas as pd
import phonenumbers

from harbour.sharing.nicknames import canonical_given

CANONICAL_COLUMNS = ["record_id", "agency", "given_name", "middle_name", "surname", "date_of_birth", "sex",
                     "phone", "email", "street_address", "city", "province", "postal_code"]

#: Columns produced by :func:`prepare` and read by the linkage model.
MODEL_COLUMNS = ["uid", "agency", "record_id", "given", "given_canon", "given_meta", "middle", "surname",
                 "surname_meta", "dob", "dob_swap", "sex", "phone", "phone_local", "email", "email_user",
                 "street", "city", "postal", "postal_fsa"]

_STREET_WORDS = {
    "street": "st", "str": "st", "rue": "st", "avenue": "ave", "av": "ave", "road": "rd", "chemin": "ch",
    "drive": "dr", "boulevard": "blvd", "boul": "blvd", "bd": "blvd", "court": "crt", "ct": "crt",
    "crescent": "cres", "place": "pl", "lane": "ln", "terrace": "terr", "highway": "hwy", "route": "rte",
    "north": "n", "nord": "n", "south": "s", "sud": "s", "east": "e", "est": "e", "west": "w", "ouest": "o",
    "apartment": "apt", "app": "apt", "unit": "apt", "suite": "apt", "saint": "st", "sainte": "ste",
}
_SEX = {"m": "m", "male": "m", "man": "m", "h": "m", "homme": "m", "f": "f", "female": "f", "woman": "f",
        "femme": "f", "x": "x", "other": "x", "autre": "x", "u": None, "unknown": None, "inconnu": None}
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class BadDate(ValueError):
    """A date of birth that is not a real YYYY-MM-DD date (carries the row positions, never the value)."""

    def __init__(self, positions: list[int]):
        super().__init__(f"{len(positions)} invalid date(s) of birth")
        self.positions = positions


def strip_accents(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")


_STR = "string[pyarrow]"  # Arrow-backed strings: vectorised string functions run in C++


def _blank_to_none(series: pd.Series) -> pd.Series:
    s = series.astype(_STR).str.strip()
    return s.mask(s == "", pd.NA)


def _per_distinct(series: pd.Series, func) -> pd.Series:
    """Apply ``func`` once per distinct non-null value (names and cities repeat a lot)."""
    values = series.dropna().unique()
    mapping = {v: func(v) for v in values}
    return series.map(mapping, na_action="ignore").astype(_STR)


@lru_cache(maxsize=200_000)
def name_key(value: str) -> str | None:
    """Accent-free lower-case letters only: "Côté-St Pierre" -> "cotestpierre"."""
    text = strip_accents(value).lower()
    text = re.sub(r"\b(sainte?|ste)\b", "st", text)
    text = re.sub(r"[^a-z]", "", text)
    return text or None


@lru_cache(maxsize=200_000)
def given_key(value: str) -> str | None:
    """Given names keep their first word as the comparison value ("Jean-Pierre" -> "jeanpierre")."""
    text = strip_accents(value).lower()
    text = re.sub(r"[^a-z\- ]", "", text).strip(" -")
    text = re.sub(r"[\- ]+", "", text)
    return text or None


def metaphone(value: str) -> str | None:
    code = jellyfish.metaphone(value) if value else ""
    return code or None


@lru_cache(maxsize=1_000_000)
def phone_e164(value: str) -> str | None:
    """A phone number in E.164 (+15145550123), parsed as a Canadian number when it has no country code."""
    try:
        number = phonenumbers.parse(value, "CA")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phones_e164(series: pd.Series) -> pd.Series:
    """Vectorised :func:`phone_e164`: plain North American numbers (10 digits, or 11 starting with 1, with only
    spaces, dots, dashes, brackets or a leading +1) are formatted directly — exactly what ``phonenumbers`` gives
    for them; everything else (other countries, letters, extensions) goes through ``phonenumbers``."""
    series = series.astype(_STR)
    digits = series.str.replace(r"\D", "", regex=True)
    plain = series.str.fullmatch(r"[\d\s().\-]+").fillna(False).astype(bool)
    plus1 = series.str.fullmatch(r"\s*\+1[\d\s().\-]+").fillna(False).astype(bool)
    ten = plain & digits.str.fullmatch(r"[2-9]\d{2}[2-9]\d{6}").fillna(False).astype(bool)
    eleven = (plain | plus1) & digits.str.fullmatch(r"1[2-9]\d{2}[2-9]\d{6}").fillna(False).astype(bool)
    out = pd.Series(pd.NA, index=series.index, dtype=_STR)
    out[ten] = "+1" + digits[ten]
    out[eleven] = "+" + digits[eleven]
    rest = series.notna() & ~ten & ~eleven
    if rest.any():
        out[rest] = _per_distinct(series[rest], phone_e164)
    return out


def parse_date(value: str) -> str | None:
    """ISO date YYYY-MM-DD (strict), also accepting the compact YYYYMMDD form; None when invalid."""
    value = value.strip()
    if len(value) == 8 and value.isdigit():
        value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
    if not _ISO_DATE.match(value):
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        return None


def dates_iso(series: pd.Series, *, strict: bool) -> pd.Series:
    """Dates as ISO strings; invalid dates raise :class:`BadDate` when ``strict`` else become missing."""
    out = _per_distinct(series, parse_date)
    bad = series.notna() & out.isna()
    if strict and bad.any():
        raise BadDate([int(i) for i in np.flatnonzero(bad.to_numpy())])
    return out


@lru_cache(maxsize=500_000)
def street_key(value: str) -> str | None:
    words = re.sub(r"[^a-z0-9 ]", " ", strip_accents(value).lower()).split()
    return " ".join(_STREET_WORDS.get(w, w) for w in words) or None


@lru_cache(maxsize=100_000)
def city_key(value: str) -> str | None:
    words = re.sub(r"[^a-z0-9 ]", " ", strip_accents(value).lower()).split()
    return "".join("st" if w in ("saint", "sainte", "ste") else w for w in words) or None


def prepare(frame: pd.DataFrame, *, strict_dates: bool = False) -> pd.DataFrame:
    """Canonical person rows -> the model's comparison columns (see :data:`MODEL_COLUMNS`).

    ``frame`` needs ``record_id`` and ``agency``; any other canonical column may be absent or blank.
    """
    n = len(frame)

    def col(name: str) -> pd.Series:
        if name in frame.columns:
            return _blank_to_none(frame[name].reset_index(drop=True))
        return pd.Series([pd.NA] * n, dtype="string")

    out = pd.DataFrame(index=pd.RangeIndex(n))
    out["agency"] = col("agency")
    out["record_id"] = col("record_id")
    out["uid"] = out["agency"] + "|" + out["record_id"]

    given = _per_distinct(col("given_name"), given_key)
    out["given"] = given
    out["given_canon"] = _per_distinct(given, canonical_given)
    out["given_meta"] = _per_distinct(given, metaphone)
    out["middle"] = _per_distinct(col("middle_name"), given_key)
    surname = _per_distinct(col("surname"), name_key)
    out["surname"] = surname
    out["surname_meta"] = _per_distinct(surname, metaphone)

    dob = dates_iso(col("date_of_birth"), strict=strict_dates)
    out["dob"] = dob
    swapped = dob.str.slice(0, 5) + dob.str.slice(8, 10) + "-" + dob.str.slice(5, 7)
    out["dob_swap"] = swapped.mask(swapped == dob, pd.NA)

    out["sex"] = _per_distinct(col("sex"), lambda v: _SEX.get(v.strip().lower()))
    phone = phones_e164(col("phone"))
    out["phone"] = phone
    out["phone_local"] = phone.str.slice(-7)

    email = col("email").str.lower()
    out["email"] = email
    out["email_user"] = email.str.split("@").str[0].str.replace(r"[^a-z0-9]", "", regex=True)

    out["street"] = _per_distinct(col("street_address"), street_key)
    out["city"] = _per_distinct(col("city"), city_key)
    postal = col("postal_code").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    postal = postal.mask(postal == "", pd.NA)
    out["postal"] = postal
    out["postal_fsa"] = postal.str.slice(0, 3)
    for c in out.columns:
        out[c] = out[c].astype(object).where(out[c].notna(), None)
    return out[MODEL_COLUMNS]
