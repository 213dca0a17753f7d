"""HSDS JSON: services in the compiled HSDS 3.0 "service" shape, built from and flattened to table rows.

Export nests, under each service: its organization (with its phones, contacts, attributes and
Harbour's ``harbour_vetting`` extension object), phones, schedules, service_areas,
service_at_locations (each with its location: addresses, phones, accessibility, languages,
schedules, contacts, attributes), languages, contacts, capacities (each with its unit) and
attributes (each with its taxonomy_term).  Every object also carries its own scalar columns,
foreign-key ids included, so the JSON can be imported back on its own.  Empty optional values
are left out.

Import walks the same shape (``organization.locations`` is accepted too), fills in the ids the
nesting implies, merges repeated copies of one object, and hands the rows to the same
validation as the CSV package.  HSDS JSON holds what hangs off services: organisations or
locations without any service, unused taxonomy terms and units travel only in the CSV tables.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from harbour.core.i18n import N_
from harbour.directory.hsds_read import Raw, RowError, _read_text
from harbour.directory.hsds_schema import HSDS_COLUMNS, REQUIRED, TABLES, VETTING, to_cell

# table -> {json key: (child table, mode, column)}
#   children: a list of child objects whose COLUMN is this object's id
#   child:    one child object whose COLUMN is this object's id
#   parent:   one object whose id is this object's COLUMN
#   attributes: attribute rows linked to this object (link_id, link_entity)
ATTR = ("attribute", "attributes", "link_id")
NESTED: dict[str, dict[str, tuple[str, str, str]]] = {
    "service": {
        "phones": ("phone", "children", "service_id"),
        "schedules": ("schedule", "children", "service_id"),
        "service_areas": ("service_area", "children", "service_id"),
        "service_at_locations": ("service_at_location", "children", "service_id"),
        "languages": ("language", "children", "service_id"),
        "organization": ("organization", "parent", "organization_id"),
        "contacts": ("contact", "children", "service_id"),
        "capacities": ("service_capacity", "children", "service_id"),
        "attributes": ATTR,
    },
    "organization": {
        "phones": ("phone", "children", "organization_id"),
        "contacts": ("contact", "children", "organization_id"),
        "locations": ("location", "children", "organization_id"),
        "attributes": ATTR,
        VETTING: (VETTING, "child", "organization_id"),
    },
    "service_at_location": {
        "location": ("location", "parent", "location_id"),
        "phones": ("phone", "children", "service_at_location_id"),
        "schedules": ("schedule", "children", "service_at_location_id"),
        "contacts": ("contact", "children", "service_at_location_id"),
        "service_areas": ("service_area", "children", "service_at_location_id"),
        "attributes": ATTR,
    },
    "location": {
        "addresses": ("address", "children", "location_id"),
        "phones": ("phone", "children", "location_id"),
        "accessibility": ("accessibility", "children", "location_id"),
        "languages": ("language", "children", "location_id"),
        "schedules": ("schedule", "children", "location_id"),
        "contacts": ("contact", "children", "location_id"),
        "attributes": ATTR,
    },
    "phone": {"languages": ("language", "children", "phone_id"), "attributes": ATTR},
    "contact": {"phones": ("phone", "children", "contact_id"), "attributes": ATTR},
    "service_capacity": {"unit": ("unit", "parent", "unit_id"), "attributes": ATTR},
    "attribute": {"taxonomy_term": ("taxonomy_term", "parent", "taxonomy_term_id")},
}
for _t in ("address", "schedule", "language", "service_area", "accessibility", "unit"):
    NESTED.setdefault(_t, {"attributes": ATTR})
EXPORT_SKIP = {("organization", "locations")}  # locations come with each service_at_location
KEY = {t: ("organization_id" if t == VETTING else "id") for t in TABLES}


def _typed(table: str, row: dict[str, str]) -> dict:
    out: dict = {}
    for col in TABLES[table]:
        cell = row[col.name]
        if cell == "":
            if not col.nullable and col.kind == "string":
                out[col.name] = ""
            continue
        if col.kind in ("number", "integer"):
            value = float(cell)
            out[col.name] = int(value) if value.is_integer() else value
        else:
            out[col.name] = cell
    return out


def services_json(cells: dict[str, list[dict[str, str]]]) -> list[dict]:
    """The compiled HSDS JSON of every service, sorted by id, from canonical cells."""
    by_id = {t: {r[KEY[t]]: r for r in rows} for t, rows in cells.items()}
    by_fk: dict[tuple[str, str], dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for table, rows in cells.items():
        for r in rows:
            for col in TABLES[table]:
                if col.fk and r[col.name]:
                    by_fk[(table, col.name)][r[col.name]].append(r)
    attrs: dict[tuple[str, str], list] = defaultdict(list)
    for r in cells["attribute"]:
        attrs[(r["link_entity"], r["link_id"])].append(r)

    def node(table: str, row: dict[str, str]) -> dict:
        out = _typed(table, row)
        for key, (child, mode, column) in NESTED.get(table, {}).items():
            if (table, key) in EXPORT_SKIP:
                continue
            if mode == "attributes":
                items = attrs.get((table, row["id"]), [])
                if items:
                    out[key] = [node(child, r) for r in items]
            elif mode == "children":
                items = by_fk[(child, column)].get(row[KEY[table]], [])
                if items:
                    out[key] = [node(child, r) for r in items]
            elif mode == "child":
                found = by_id[child].get(row[KEY[table]])
                if found:
                    out[key] = node(child, found)
            elif row.get(column) and row[column] in by_id[child]:
                out[key] = node(child, by_id[child][row[column]])
        return out

    return [node("service", r) for r in cells["service"]]


class _Flattener:
    def __init__(self, raw: Raw):
        self.raw = raw
        self.rows: dict[str, dict[str, tuple[int, dict[str, str]]]] = {t: {} for t in TABLES}
        self.count = dict.fromkeys(TABLES, 0)
        self.anonymous: dict[str, list[tuple[int, dict[str, str]]]] = defaultdict(list)

    def error(self, table: str, number: int | None, column: str | None, message: str) -> None:
        self.raw.errors.append(RowError(table, number, column, message))

    def walk(self, table: str, obj, implied: dict[str, str]) -> str | None:
        """Record OBJ (and what it nests) as rows of TABLE; returns its id."""
        self.count[table] += 1
        number = self.count[table]
        if not isinstance(obj, dict):
            self.error(table, number, None, N_("Expected an object."))
            return None
        known = {c.name for c in TABLES[table]}
        nested = NESTED.get(table, {})
        row: dict[str, str] = {}
        for key, value in obj.items():
            if key in known:
                if isinstance(value, dict | list):
                    self.error(table, number, key, N_("Expected a single value, not a list or object."))
                else:
                    row[key] = to_cell(value)
            elif key not in nested:
                self.raw.warn(N_("hsds.json %(table)s: field %(column)r is HSDS but not stored by Harbour; ignored.")
                              if key in HSDS_COLUMNS.get(table, ()) else
                              N_("hsds.json %(table)s: field %(column)r is unknown; ignored."),
                              table=table, column=str(key)[:60])
        for key, (child, mode, column) in nested.items():  # parents first: this row needs their ids
            if mode == "parent" and obj.get(key) is not None:
                child_id = self.walk(child, obj[key], {})
                if child_id and not row.get(column):
                    row[column] = child_id
        for column, value in implied.items():
            if not row.get(column):
                row[column] = value
        ident = row.get(KEY[table], "")
        self._add(table, number, ident, row)
        for key, (child, mode, column) in nested.items():
            value = obj.get(key)
            if value is None or mode == "parent" or not ident:
                continue
            if mode == "child":
                self.walk(child, value, {column: ident})
                continue
            if not isinstance(value, list):
                self.error(table, number, key, N_("Expected a list."))
                continue
            link = {column: ident} if mode == "children" else {"link_id": ident, "link_entity": table}
            for item in value:
                self.walk(child, item, link)
        return ident or None

    def _add(self, table: str, number: int, ident: str, row: dict[str, str]) -> None:
        if not ident:
            self.anonymous[table].append((number, row))
            return
        if ident not in self.rows[table]:
            self.rows[table][ident] = (number, row)
            return
        first_number, first = self.rows[table][ident]
        for column, value in row.items():  # a repeated object: copies must agree
            if value == "" or first.get(column, "") == value:
                continue
            if first.get(column, "") == "":
                first[column] = value
            else:
                self.error(table, number, column, N_("Conflicting copies of the same object in hsds.json."))

    def finish(self) -> None:
        for table in TABLES:
            rows = sorted([*self.rows[table].values(), *self.anonymous[table]], key=lambda t: t[0])
            self.raw.rows[table] = rows
            present = {c for _, r in rows for c in r}
            if rows:  # so that a required field left out of every object is still reported
                present |= {KEY[table], *REQUIRED.get(table, ())}
            self.raw.present[table] = present


def read_json(path: Path, raw: Raw, max_bytes: int) -> None:
    """Flatten an HSDS JSON file (a list of services, or an object with a ``contents`` list) into RAW."""
    text = _read_text(path, "hsds.json", raw, max_bytes)
    if text is None:
        return
    try:
        data = json.loads(text)
    except ValueError:
        raw.errors.append(RowError("hsds.json", None, None, N_("hsds.json is not valid JSON.")))
        return
    if isinstance(data, dict) and isinstance(data.get("contents"), list):
        data = data["contents"]
    if not isinstance(data, list):
        raw.errors.append(RowError("hsds.json", None, None, N_("hsds.json must hold a list of services.")))
        return
    flat = _Flattener(raw)
    for item in data:
        flat.walk("service", item, {})
    flat.finish()
