"""Reading and validating an HSDS package: every problem found, by table, row and column, never the value.

Rows are numbered as in a spreadsheet: the header is row 1.  Nothing here writes to the database.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbour.core.choices import Province
from harbour.core.errors import ValidationFailed
from harbour.core.i18n import N_, gettext
from harbour.directory import models as m
from harbour.directory.hsds_schema import (
    _BYDAY_RE,
    _EMAIL_RE,
    _ENTITY_TABLES,
    _LANG_RE,
    _TIME_RE,
    BYDAY,
    DATE_OR_DATETIMES,
    EMAILS,
    ENUMS,
    HSDS_COLUMNS,
    HSDS_NOT_STORED,
    KEYS,
    LANG_CODES,
    MAX_FILE_BYTES,
    MODELS,
    NON_NEGATIVE,
    ORDER,
    RANGES,
    REQUIRED,
    TABLES,
    TIMES,
    Column,
)

_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # tab, newline and carriage return are fine


# -- import: errors ----------------------------------------------------------------------
@dataclass
class RowError:
    """One problem in a package: where it is and what is wrong, never the value itself."""

    table: str
    row: int | None  # the header is row 1; None for the whole file
    column: str | None
    message: str  # a catalogue key
    params: dict = field(default_factory=dict)

    def text(self) -> str:
        return gettext(self.message, **self.params)

    def __str__(self) -> str:
        return f"{self.table}:{'-' if self.row is None else self.row}:{self.column or '-'}: {self.text()}"


class PackageInvalid(ValidationFailed):
    """The package was refused; ``errors`` lists every row-level problem found."""

    def __init__(self, errors: list[RowError]):
        fields = {}
        for e in errors[:50]:
            fields.setdefault(f"{e.table}:{'-' if e.row is None else e.row}:{e.column or '-'}", e.text())
        super().__init__(N_("The HSDS package is not valid (%(count)s problems); nothing was imported."),
                         fields=fields, count=len(errors))
        self.errors = errors


# -- import: reading files ----------------------------------------------------------------
@dataclass
class Raw:
    """What was read: text cells per table with their row numbers, and warnings."""

    rows: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=lambda: {t: [] for t in ORDER})
    present: dict[str, set[str]] = field(default_factory=lambda: {t: set() for t in ORDER})
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def warn(self, message: str, **params) -> None:
        text = gettext(message, **params)
        if text not in self.warnings:
            self.warnings.append(text)


def _read_text(path: Path, table: str, raw: Raw, max_bytes: int) -> str | None:
    if path.stat().st_size > max_bytes:
        raw.errors.append(RowError(table, None, None, N_("The file is larger than the limit of %(mb)s MB."),
                                   {"mb": round(max_bytes / 1_048_576, 2)}))
        return None
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raw.errors.append(RowError(table, line, None, N_("The file is not UTF-8 encoded.")))
        return None


def _read_csv(path: Path, table: str, raw: Raw, max_bytes: int) -> None:
    text = _read_text(path, table, raw, max_bytes)
    if text is None:
        return
    known = {c.name for c in TABLES[table]}
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader, None)
        if not header:
            raw.errors.append(RowError(table, 1, None, N_("The file has no header row.")))
            return
        header = [h.strip() for h in header]
        for i, name in enumerate(header):
            if name in header[:i]:
                raw.errors.append(RowError(table, 1, name, N_("The header repeats this column.")))
            elif name not in known:
                raw.warn(N_("%(table)s: column %(column)r is HSDS but not stored by Harbour; ignored.")
                         if name in HSDS_COLUMNS.get(table, ()) else
                         N_("%(table)s: column %(column)r is unknown; ignored."), table=table, column=name[:60])
        for col in sorted({KEYS[table], *REQUIRED.get(table, ())} - set(header)):
            raw.errors.append(RowError(table, 1, col, N_("Missing required column.")))
        raw.present[table] = known & set(header)
        for number, cells in enumerate(reader, start=2):
            if not cells or cells == [""]:
                continue
            if len(cells) != len(header):
                raw.errors.append(RowError(table, number, None,
                                           N_("The row has %(cells)s cells but the header has %(columns)s."),
                                           {"cells": len(cells), "columns": len(header)}))
                continue
            raw.rows[table].append((number, {h: v for h, v in zip(header, cells, strict=True) if h in known}))
    except csv.Error:
        raw.errors.append(RowError(table, reader.line_num or None, None,
                                   N_("The file is not valid CSV (or a cell is far too large).")))


def read_dir(in_dir: Path, *, max_bytes: int = MAX_FILE_BYTES) -> tuple[Raw, str]:
    raw = Raw()
    in_dir = Path(in_dir)
    if not in_dir.is_dir():
        raw.errors.append(RowError("package", None, None, N_("The package directory does not exist.")))
        return raw, "csv"
    csvs = {p.stem: p for p in in_dir.glob("*.csv") if p.is_file()}
    if (in_dir / "datapackage.json").is_file():
        text = _read_text(in_dir / "datapackage.json", "datapackage", raw, max_bytes)
        try:
            if text is not None:
                json.loads(text)
        except ValueError:
            raw.errors.append(RowError("datapackage", None, None, N_("datapackage.json is not valid JSON.")))
    found = [t for t in ORDER if t in csvs]
    if not found:
        if (in_dir / "hsds.json").is_file():
            from harbour.directory.hsds_json import read_json

            read_json(in_dir / "hsds.json", raw, max_bytes)
            return raw, "json"
        raw.errors.append(RowError("package", None, None,
                                   N_("The package has no HSDS tables (no CSV files and no hsds.json).")))
        return raw, "csv"
    for stem in sorted(csvs):
        if stem in MODELS:
            _read_csv(csvs[stem], stem, raw, max_bytes)
        elif stem in HSDS_NOT_STORED:
            raw.warn(N_("%(file)s: HSDS table not stored by Harbour; ignored."), file=f"{stem}.csv")
        else:
            raw.warn(N_("%(file)s: unknown table; ignored."), file=f"{stem[:60]}.csv")
    return raw, "csv"


# -- import: validation ---------------------------------------------------------------------
def _is_date(s: str) -> bool:
    try:
        date.fromisoformat(s)
        return len(s) == 10
    except ValueError:
        return False


def _parse_datetime(s: str) -> datetime | None:
    try:
        value = datetime.fromisoformat(s)
    except ValueError:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _parse(table: str, col: Column, cell: str):
    """The typed value of one non-empty cell, or a RowError message key (with params)."""
    key = (table, col.name)
    if _CONTROL_RE.search(cell):
        return None, (N_("Contains a control character that is not allowed."), {})
    if col.max_len is not None and len(cell) > col.max_len:
        return None, (N_("Too long (at most %(max)s characters)."), {"max": col.max_len})
    if col.kind in ("number", "integer"):
        try:
            value = float(cell)
        except ValueError:
            return None, (N_("Not a number."), {})
        if not math.isfinite(value):
            return None, (N_("Not a number."), {})
        if col.kind == "integer":
            if not value.is_integer() or abs(value) > 2**31 - 1:
                return None, (N_("Not a whole number."), {})
            value = int(value)
        if key in NON_NEGATIVE and value < 0:
            return None, (N_("Must not be negative."), {})
        if key in RANGES and not RANGES[key][0] <= value <= RANGES[key][1]:
            return None, (RANGES[key][2], {})
        return value, None
    if col.kind == "datetime":
        value = _parse_datetime(cell)
        return (value, None) if value else (None, (N_("Not a date and time (use ISO 8601)."), {}))
    if key in ENUMS and cell not in ENUMS[key]:
        return None, (N_("Not one of the allowed values: %(allowed)s."), {"allowed": ", ".join(ENUMS[key])})
    if col.kind == "date" and not _is_date(cell):
        return None, (N_("Not a date (use YYYY-MM-DD)."), {})
    if key in DATE_OR_DATETIMES and not (_is_date(cell) or _parse_datetime(cell)):
        return None, (N_("Not a date or date and time (use ISO 8601)."), {})
    if key in EMAILS and not _EMAIL_RE.match(cell):
        return None, (N_("Not a valid e-mail address."), {})
    if key in TIMES and not _TIME_RE.match(cell):
        return None, (N_("Use HH:MM, optionally with seconds and a UTC offset."), {})
    if key in BYDAY and not _BYDAY_RE.match(cell):
        return None, (N_("Use comma-separated weekday codes such as MO,TU."), {})
    if key in LANG_CODES and not _LANG_RE.match(cell):
        return None, (N_("Use an ISO 639 language code such as en or fr."), {})
    if key == ("address", "country") and not re.fullmatch(r"[A-Z]{2}", cell):
        return None, (N_("Use a two-letter country code such as CA."), {})
    if key == ("attribute", "link_entity") and cell not in _ENTITY_TABLES:
        return None, (N_("Not one of the allowed values: %(allowed)s."), {"allowed": ", ".join(_ENTITY_TABLES)})
    return cell, None


Parsed = dict[str, list[tuple[int, dict]]]


def _validate_rows(raw: Raw) -> Parsed:
    parsed: Parsed = {t: [] for t in ORDER}
    for table in ORDER:
        cols = {c.name: c for c in TABLES[table]}
        present = raw.present[table]
        seen: dict[str, int] = {}
        key = KEYS[table]
        for number, cells in raw.rows[table]:
            values: dict = {}
            ok = True
            for name in [n for n in cols if n in present]:
                col, cell = cols[name], cells.get(name, "")
                if cell == "":
                    if name == key or name in REQUIRED.get(table, ()):
                        raw.errors.append(RowError(table, number, name, N_("This value is required.")))
                        ok = False
                    values[name] = None if col.nullable else ""
                    continue
                value, problem = _parse(table, col, cell)
                if problem:
                    raw.errors.append(RowError(table, number, name, problem[0], problem[1]))
                    ok = False
                values[name] = value
            ident = values.get(key)
            if isinstance(ident, str) and ident:
                if ident in seen:
                    raw.errors.append(RowError(table, number, key, N_("Duplicate id: already used on row %(row)s."),
                                               {"row": seen[ident]}))
                    ok = False
                else:
                    seen[ident] = number
            if ok:
                _row_rules(table, number, values, raw.errors)
                parsed[table].append((number, values))
    return parsed


def _row_rules(table: str, number: int, v: dict, errors: list[RowError]) -> None:
    if table == "service" and v.get("minimum_age") is not None and v.get("maximum_age") is not None \
            and v["minimum_age"] > v["maximum_age"]:
        errors.append(RowError(table, number, "minimum_age", N_("The minimum age is above the maximum age.")))
    if table == "address" and v.get("country") == "CA" and v.get("state_province") not in Province.codes():
        errors.append(RowError(table, number, "state_province",
                               N_("Use a province or territory code such as ON.")))
    if table == "service_capacity" and v.get("maximum") is not None and v.get("available") is not None \
            and v["available"] > v["maximum"]:
        errors.append(RowError(table, number, "available", N_("Available places cannot exceed the maximum.")))


def _existing_ids(db: Session, table: str, ids: set[str]) -> set[str]:
    model, key = MODELS[table], KEYS[table]
    found: set[str] = set()
    ids_list = sorted(ids)
    for i in range(0, len(ids_list), 500):
        chunk = ids_list[i:i + 500]
        found.update(db.execute(select(getattr(model, key)).where(getattr(model, key).in_(chunk))).scalars())
    return found


def _validate_links(db: Session, raw: Raw, parsed: Parsed) -> None:
    """Foreign keys (and attribute links) resolve within the package or the database."""
    errors = raw.errors
    # every id in the package counts, even on rows with other problems (no cascade of errors)
    in_package = {t: {c[KEYS[t]] for _, c in raw.rows[t] if c.get(KEYS[t])} for t in ORDER}
    wanted: dict[str, set[str]] = {t: set() for t in ORDER}
    refs: list[tuple[str, int, str, str, str]] = []  # table, row, column, target table, id
    for table in ORDER:
        fk_cols = [c for c in TABLES[table] if c.fk]
        for number, v in parsed[table]:
            for c in fk_cols:
                if v.get(c.name):
                    refs.append((table, number, c.name, c.fk, v[c.name]))
            if table == "attribute" and v.get("link_entity") in MODELS and v.get("link_id"):
                refs.append((table, number, "link_id", v["link_entity"], v["link_id"]))
    for _t, _n, _c, target, ident in refs:
        if ident not in in_package[target]:
            wanted[target].add(ident)
    in_db = {t: _existing_ids(db, t, ids) if ids else set() for t, ids in wanted.items()}
    for table, number, column, target, ident in refs:
        if ident not in in_package[target] and ident not in in_db[target]:
            errors.append(RowError(table, number, column,
                                   N_("Refers to a %(target)s that is neither in the package nor in the database."),
                                   {"target": target}))
    # taxonomy (taxonomy, code) pairs are unique: in the package and against other ids in the database
    pairs: dict[tuple, tuple[int, str]] = {}
    for number, v in parsed["taxonomy_term"]:
        if v.get("code") is None:
            continue
        pair = (v.get("taxonomy"), v["code"])
        if pair in pairs:
            errors.append(RowError("taxonomy_term", number, "code",
                                   N_("Another taxonomy term already uses this taxonomy and code.")))
        pairs[pair] = (number, v["id"])
    if pairs:
        for term in db.execute(select(m.TaxonomyTerm).where(m.TaxonomyTerm.code.in_({p[1] for p in pairs}))).scalars():
            hit = pairs.get((term.taxonomy, term.code))
            if hit and hit[1] != term.id and term.id not in in_package["taxonomy_term"]:
                errors.append(RowError("taxonomy_term", hit[0], "code",
                                       N_("Another taxonomy term already uses this taxonomy and code.")))


def validate(db: Session, raw: Raw) -> Parsed:
    """Every problem in the package, or the typed rows ready to write."""
    parsed = _validate_rows(raw)
    _validate_links(db, raw, parsed)
    if raw.errors:
        raw.errors.sort(key=lambda e: (ORDER.index(e.table) if e.table in ORDER else -1, e.row or 0, e.column or ""))
        raise PackageInvalid(raw.errors)
    return parsed
