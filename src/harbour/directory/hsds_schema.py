"""HSDS 3.0 tables as Harbour stores them: columns in the schema's order, types, rules, canonical cells.

Shared by the package export (``hsds``), the reader and validator (``hsds_read``) and HSDS JSON
(``hsds_json``).  Column lists come from Open Referral's schema/simple/schema.csv (HSDS 3.0);
Harbour stores the subset its models define, in the same order.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Float, Integer, String

from harbour.core.crypto import EncryptedText
from harbour.core.db import UTCDateTime
from harbour.core.i18n import N_
from harbour.directory import models as m
from harbour.directory.choices import LocationType, ServiceStatus, VettingStatus

MAX_FILE_BYTES = 50 * 1024 * 1024
TEXT_MAX = 10_000  # longest free-text cell accepted (Text and encrypted columns)
REDACT_DECIMALS = 1  # confidential locations' coordinates are rounded to ~10 km when redacted
VETTING = "harbour_vetting"

# Every scalar column of each HSDS 3.0 table, in the schema's order (schema/simple/schema.csv).
HSDS_COLUMNS: dict[str, tuple[str, ...]] = {
    "organization": ("id", "name", "alternate_name", "description", "email", "website", "tax_status", "tax_id",
                     "year_incorporated", "legal_status", "logo", "uri", "parent_organization_id"),
    "service": ("id", "organization_id", "program_id", "name", "alternate_name", "description", "url", "email",
                "status", "interpretation_services", "application_process", "fees_description", "wait_time", "fees",
                "accreditations", "eligibility_description", "minimum_age", "maximum_age", "assured_date",
                "assurer_email", "licenses", "alert", "last_modified"),
    "location": ("id", "location_type", "url", "organization_id", "name", "alternate_name", "description",
                 "transportation", "latitude", "longitude", "external_identifier", "external_identifier_type"),
    "service_at_location": ("id", "service_id", "location_id", "description"),
    "address": ("id", "location_id", "attention", "address_1", "address_2", "city", "region", "state_province",
                "postal_code", "country", "address_type"),
    "contact": ("id", "organization_id", "service_id", "service_at_location_id", "location_id", "name", "title",
                "department", "email"),
    "phone": ("id", "location_id", "service_id", "organization_id", "contact_id", "service_at_location_id",
              "number", "extension", "type", "description"),
    "schedule": ("id", "service_id", "location_id", "service_at_location_id", "valid_from", "valid_to", "dtstart",
                 "timezone", "until", "count", "wkst", "freq", "interval", "byday", "byweekno", "bymonthday",
                 "byyearday", "description", "opens_at", "closes_at", "schedule_link", "attending_type", "notes"),
    "language": ("id", "service_id", "location_id", "phone_id", "name", "code", "note"),
    "service_area": ("id", "service_id", "service_at_location_id", "name", "description", "extent", "extent_type",
                     "uri"),
    "accessibility": ("id", "location_id", "description", "details", "url"),
    "taxonomy_term": ("id", "code", "name", "description", "parent_id", "taxonomy", "language", "taxonomy_id",
                      "term_uri"),
    "attribute": ("id", "link_id", "taxonomy_term_id", "link_type", "link_entity", "value", "label"),
    "unit": ("id", "name", "scheme", "identifier", "uri"),
    "service_capacity": ("id", "service_id", "unit_id", "available", "maximum", "description", "updated"),
    VETTING: ("organization_id", "status", "vetted_by", "vetted_on", "expires_on", "notes"),
}
HSDS_NOT_STORED = ("program", "funding", "required_document", "metadata", "meta_table_description", "cost_option",
                   "organization_identifier", "taxonomy", "url")

MODELS: dict[str, type] = {
    "organization": m.Organization, "service": m.Service, "location": m.Location,
    "service_at_location": m.ServiceAtLocation, "address": m.Address, "contact": m.ProviderContact,
    "phone": m.Phone, "schedule": m.Schedule, "language": m.Language, "service_area": m.ServiceArea,
    "accessibility": m.Accessibility, "taxonomy_term": m.TaxonomyTerm, "attribute": m.Attribute, "unit": m.Unit,
    "service_capacity": m.ServiceCapacity, VETTING: m.Vetting,
}
ORDER = tuple(MODELS)  # parents before children: the import writes in this order
KEYS = {name: ("organization_id" if name == VETTING else "id") for name in MODELS}

# Columns that must be in the header and hold a value (beyond what the database requires).
REQUIRED: dict[str, set[str]] = {
    "organization": {"name"}, "service": {"organization_id", "name", "status"}, "location": {"location_type"},
    "service_at_location": {"service_id", "location_id"},
    "address": {"city", "state_province", "country", "address_type"}, "phone": {"number"},
    "taxonomy_term": {"name"}, "attribute": {"link_id", "taxonomy_term_id", "link_entity"}, "unit": {"name"},
    "service_capacity": {"service_id", "unit_id", "available", "updated"}, VETTING: {"status"},
}
ENUMS: dict[tuple[str, str], tuple[str, ...]] = {
    ("service", "status"): tuple(ServiceStatus.codes()),
    ("location", "location_type"): tuple(LocationType.codes()),
    ("address", "address_type"): ("physical", "postal", "virtual"),
    ("schedule", "freq"): ("WEEKLY", "MONTHLY"),
    ("schedule", "wkst"): ("MO", "TU", "WE", "TH", "FR", "SA", "SU"),
    ("service_area", "extent_type"): ("geojson", "topojson", "kml", "text"),
    (VETTING, "status"): tuple(VettingStatus.codes()),
}
DATES = {("schedule", "valid_from"), ("schedule", "valid_to"), (VETTING, "vetted_on"), (VETTING, "expires_on")}
DATE_OR_DATETIMES = {("service", "assured_date"), ("service", "last_modified"), ("schedule", "dtstart"),
                     ("schedule", "until")}
EMAILS = {("organization", "email"), ("service", "email"), ("service", "assurer_email"), ("contact", "email")}
TIMES = {("schedule", "opens_at"), ("schedule", "closes_at")}
BYDAY = {("schedule", "byday")}
LANG_CODES = {("language", "code"), ("taxonomy_term", "language")}
NON_NEGATIVE = {("service", "minimum_age"), ("service", "maximum_age"), ("service_capacity", "available"),
                ("service_capacity", "maximum"), ("schedule", "count"), ("schedule", "interval"),
                ("phone", "extension")}
RANGES = {("location", "latitude"): (-90.0, 90.0, N_("Latitude must be between -90 and 90.")),
          ("location", "longitude"): (-180.0, 180.0, N_("Longitude must be between -180 and 180."))}
REDACTED_BLANK = ("attention", "address_1", "address_2", "postal_code")

_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_TIME_RE = re.compile(r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?$")
_BYDAY_RE = re.compile(r"^[+-]?\d{0,2}(MO|TU|WE|TH|FR|SA|SU)(,[+-]?\d{0,2}(MO|TU|WE|TH|FR|SA|SU))*$")
_LANG_RE = re.compile(r"^[A-Za-z]{2,3}$")
_ENTITY_TABLES = tuple(n for n in MODELS if n != VETTING)


# -- column descriptions ------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    name: str
    kind: str  # string | number | integer | datetime | date
    max_len: int | None
    nullable: bool
    fk: str | None  # referenced table name


def _kind(table: str, col) -> tuple[str, int | None]:
    t = col.type
    if isinstance(t, UTCDateTime):
        return "datetime", None
    if isinstance(t, EncryptedText):
        return "string", TEXT_MAX
    if isinstance(t, Float):
        return "number", None
    if isinstance(t, Integer):
        return "integer", None
    if (table, col.name) in DATES:
        return "date", 10
    if isinstance(t, String):
        return "string", t.length or TEXT_MAX
    return "string", TEXT_MAX


def _columns(table: str) -> tuple[Column, ...]:
    model_cols = MODELS[table].__table__.columns
    out = []
    for name in HSDS_COLUMNS[table]:
        if name not in model_cols:
            continue
        col = model_cols[name]
        kind, max_len = _kind(table, col)
        fk = None
        for key in col.foreign_keys:
            target = key.column.table.name
            fk = next(n for n, mdl in MODELS.items() if mdl.__tablename__ == target)
        out.append(Column(name, kind, max_len, col.nullable and not col.primary_key, fk))
    return tuple(out)


TABLES: dict[str, tuple[Column, ...]] = {name: _columns(name) for name in ORDER}


# -- cells: the one canonical text form of every value --------------------------------
def to_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):  # milliseconds, or microseconds when the value has them: lossless
        spec = "milliseconds" if value.microsecond % 1000 == 0 else "microseconds"
        return value.astimezone(UTC).isoformat(timespec=spec)
    return str(value)
