"""Open Referral HSDS 3.0 data packages: export and import (tabular CSV + datapackage.json, and HSDS JSON).

Package layout (``export_package``)::

    organization.csv service.csv location.csv service_at_location.csv address.csv contact.csv
    phone.csv schedule.csv language.csv service_area.csv accessibility.csv taxonomy_term.csv
    attribute.csv unit.csv service_capacity.csv    one CSV per HSDS table we store
    harbour_vetting.csv                            Harbour extension: vetting of each organisation
    datapackage.json                               Frictionless tabular data package descriptor
    hsds.json                                      HSDS JSON: a list of services in the compiled shape

Each CSV has the HSDS columns in the order of the HSDS 3.0 schema (only the columns Harbour
stores; the header is always written), rows sorted by id, UTF-8 without BOM and ``\\n`` line
endings.  Numbers are written in their shortest exact form (``18`` never ``18.0``), empty cells
mean "no value", date-times are ISO 8601 UTC with milliseconds (microseconds when they have
them).  So export → import into an empty database → export gives byte-identical files.

``harbour_vetting.csv`` (extension, not part of HSDS) has the columns
``organization_id, status, vetted_by, vetted_on, expires_on, notes``: status is one of pending,
vetted, suspended, rejected; dates are YYYY-MM-DD.  In HSDS JSON it is the ``harbour_vetting``
object of each organisation.

``import_package`` checks everything first (columns, types, enumerations, ids, foreign keys
within the package or the database, coordinates, file and field sizes) and imports nothing if
anything is wrong: the errors name table, row (the header is row 1), column and what is wrong,
never the value.  Otherwise it upserts every row by id in one transaction and writes one audit
entry with the counts.  A directory holding only ``hsds.json`` is imported from HSDS JSON.

Modules: ``hsds_schema`` (tables, columns, rules, canonical cells), ``hsds_read`` (reading and
validation, row-level errors), ``hsds_json`` (HSDS JSON), this one (export, import, the facade).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.db import atomic
from harbour.core.errors import TooLarge, ValidationFailed
from harbour.core.i18n import N_
from harbour.core.security import ensure_role
from harbour.directory.choices import LocationType
from harbour.directory.hsds_json import services_json
from harbour.directory.hsds_read import PackageInvalid, Raw, RowError, read_dir, validate
from harbour.directory.hsds_schema import (
    ENUMS,
    HSDS_COLUMNS,
    KEYS,
    MAX_FILE_BYTES,
    MODELS,
    ORDER,
    REDACT_DECIMALS,
    REDACTED_BLANK,
    REQUIRED,
    TABLES,
    TEXT_MAX,
    VETTING,
    Column,
    to_cell,
)
from harbour.directory.service import CURATORS

__all__ = ["ExportReport", "HSDS_COLUMNS", "ImportReport", "MODELS", "ORDER", "PackageInvalid", "Raw", "RowError",
           "TABLES", "TEXT_MAX", "VETTING", "collect", "datapackage", "export_package", "import_package",
           "read_dir", "to_cell", "validate"]


def _rows(db: Session, table: str) -> list[dict[str, str]]:
    cols = TABLES[table]
    key = KEYS[table]
    objs = sorted(db.execute(select(MODELS[table])).scalars(), key=lambda o: getattr(o, key))
    return [{c.name: to_cell(getattr(o, c.name)) for c in cols} for o in objs]


def _redact(cells: dict[str, list[dict[str, str]]]) -> None:
    """Blank confidential locations' address lines and postal codes; round their coordinates."""
    hidden = {r["id"] for r in cells["location"] if r["location_type"] == LocationType.redacted}
    for r in cells["location"]:
        if r["id"] in hidden:
            for c in ("latitude", "longitude"):
                if r[c]:
                    r[c] = to_cell(round(float(r[c]), REDACT_DECIMALS))
    for r in cells["address"]:
        if r["location_id"] in hidden:
            for c in REDACTED_BLANK:
                r[c] = ""
    for r in cells[VETTING]:  # internal notes and who vetted stay with the hotline
        r["vetted_by"] = r["notes"] = ""


def collect(db: Session, *, redact: bool = False) -> dict[str, list[dict[str, str]]]:
    """Every stored HSDS row (and vetting) as canonical text cells, sorted by id."""
    cells = {table: _rows(db, table) for table in ORDER}
    if redact:
        _redact(cells)
    return cells


# -- export ----------------------------------------------------------------------------
@dataclass
class ExportReport:
    out_dir: Path
    counts: dict[str, int]
    files: list[str]
    redacted: bool = False

    def lines(self) -> list[str]:
        head = f"exported {sum(self.counts.values())} rows to {self.out_dir}" + (" (redacted)" if self.redacted else "")
        return [head] + [f"  {t}: {n}" for t, n in self.counts.items()]


def _csv_bytes(table: str, rows: list[dict[str, str]]) -> bytes:
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\n")
    names = [c.name for c in TABLES[table]]
    writer.writerow(names)
    for r in rows:
        writer.writerow([r[n] for n in names])
    return buf.getvalue().encode("utf-8")


def _field_schema(table: str, col: Column) -> dict:
    out: dict = {"name": col.name, "type": col.kind}
    if col.kind == "datetime":
        out["format"] = "any"
    constraints: dict = {}
    if col.name == KEYS[table] or col.name in REQUIRED.get(table, ()):
        constraints["required"] = True
    if col.name == KEYS[table]:
        constraints["unique"] = True
    if (table, col.name) in ENUMS:
        constraints["enum"] = list(ENUMS[(table, col.name)])
    if constraints:
        out["constraints"] = constraints
    return out


def datapackage() -> dict:
    resources = []
    for table in ORDER:
        schema: dict = {"fields": [_field_schema(table, c) for c in TABLES[table]], "primaryKey": KEYS[table]}
        fks = [{"fields": c.name, "reference": {"resource": c.fk, "fields": KEYS[c.fk]}}
               for c in TABLES[table] if c.fk]
        if fks:
            schema["foreignKeys"] = fks
        res = {"name": table, "path": f"{table}.csv", "profile": "tabular-data-resource", "format": "csv",
               "mediatype": "text/csv", "encoding": "utf-8", "schema": schema}
        if table == VETTING:
            res["description"] = ("Harbour extension (not part of HSDS): vetting of each organisation. status is "
                                  "pending, vetted, suspended or rejected; vetted_on and expires_on are YYYY-MM-DD; "
                                  "unvetted or expired providers are never suggested by Harbour's search.")
        resources.append(res)
    return {"name": "harbour-directory", "title": "Harbour service-provider directory (Open Referral HSDS 3.0)",
            "profile": "tabular-data-package", "version": "3.0",
            "licenses": [{"name": "ODC-BY-1.0", "path": "https://opendatacommons.org/licenses/by/1-0/"}],
            "resources": resources}


def _json_bytes(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def export_package(db: Session, out_dir: Path, *, redact: bool = False, actor: Actor | None = None) -> ExportReport:
    """Write the HSDS package to OUT_DIR (created if needed; our files are overwritten)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    cells = collect(db, redact=redact)
    files = []
    for table in ORDER:
        (out_dir / f"{table}.csv").write_bytes(_csv_bytes(table, cells[table]))
        files.append(f"{table}.csv")
    (out_dir / "datapackage.json").write_bytes(_json_bytes(datapackage()))
    (out_dir / "hsds.json").write_bytes(_json_bytes(services_json(cells)))
    files += ["datapackage.json", "hsds.json"]
    counts = {t: len(cells[t]) for t in ORDER}
    if actor is not None:
        audit(db, actor, "export", "hsds_package", None, detail={"rows": sum(counts.values()), "redacted": redact})
        db.commit()
    return ExportReport(out_dir, counts, files, redact)


# -- import ----------------------------------------------------------------------------------
@dataclass
class ImportReport:
    source: str  # "csv" or "json"
    created: dict[str, int]
    updated: dict[str, int]
    unchanged: dict[str, int]
    warnings: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"imported HSDS {self.source}: {sum(self.created.values())} created, "
               f"{sum(self.updated.values())} updated, {sum(self.unchanged.values())} unchanged"]
        for t in ORDER:
            if self.created[t] or self.updated[t] or self.unchanged[t]:
                out.append(f"  {t}: {self.created[t]} created, {self.updated[t]} updated, "
                           f"{self.unchanged[t]} unchanged")
        out += [f"warning: {w}" for w in self.warnings]
        return out


# -- import: writing ---------------------------------------------------------------------
def _upsert(db: Session, table: str, rows: list[tuple[int, dict]], report: ImportReport) -> None:
    model, key = MODELS[table], KEYS[table]
    existing: dict[str, object] = {}
    ids = [v[key] for _, v in rows]
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        for obj in db.execute(select(model).where(getattr(model, key).in_(chunk))).scalars():
            existing[getattr(obj, key)] = obj
    created = updated = unchanged = 0
    for _, values in rows:
        obj = existing.get(values[key])
        if obj is None:
            for c in TABLES[table]:  # a column left out of the package: empty text where NULL is not allowed
                if c.name not in values and not c.nullable and c.kind == "string":
                    values = {**values, c.name: ""}
            db.add(model(**values))
            created += 1
            continue
        changed = False
        for name, value in values.items():
            if getattr(obj, name) != value:
                setattr(obj, name, value)
                changed = True
        updated += changed
        unchanged += not changed
    db.flush()
    report.created[table], report.updated[table], report.unchanged[table] = created, updated, unchanged


@atomic
def import_package(db: Session, in_dir: Path, *, actor: Actor, max_file_bytes: int = MAX_FILE_BYTES) -> ImportReport:
    """Validate the whole package, then upsert every row by id in one transaction (or nothing at all)."""
    ensure_role(actor, CURATORS, N_("Only supervisors and administrators import directory data."))
    raw, source = read_dir(Path(in_dir), max_bytes=max_file_bytes)
    if raw.errors:  # unreadable files: report them before looking at rows
        raise PackageInvalid(raw.errors)
    parsed = validate(db, raw)
    report = ImportReport(source, {}, {}, {}, sorted(set(raw.warnings)))
    for table in ORDER:
        _upsert(db, table, parsed[table], report)
    audit(db, actor, "import", "hsds_package", None,
          detail={"source": source, "created": sum(report.created.values()),
                  "updated": sum(report.updated.values()), "unchanged": sum(report.unchanged.values()),
                  "tables": {t: report.created[t] + report.updated[t] for t in ORDER
                             if report.created[t] + report.updated[t]}})
    db.commit()
    return report


# -- zip packages (API upload and download) -------------------------------------------------
MAX_ZIP_ENTRIES = 64


def export_zip(db: Session, *, actor: Actor, redact: bool = False) -> bytes:
    """The package as one zip archive (for download)."""
    import io
    import tempfile
    import zipfile

    ensure_role(actor, CURATORS, N_("Only supervisors and administrators export directory data."))
    with tempfile.TemporaryDirectory() as tmp:
        report = export_package(db, Path(tmp), redact=redact, actor=actor)
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
            for name in report.files:
                zf.write(Path(tmp) / name, arcname=name)
    return buf.getvalue()


def import_zip(db: Session, data: bytes, *, actor: Actor, max_file_bytes: int = MAX_FILE_BYTES) -> ImportReport:
    """Import an uploaded zip: flat file names only, bounded count and uncompressed size (no zip bombs)."""
    import io
    import tempfile
    import zipfile

    ensure_role(actor, CURATORS, N_("Only supervisors and administrators import directory data."))
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        members = zf.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ValidationFailed(N_("The upload is not a zip archive of an HSDS package.")) from exc
    if len(members) > MAX_ZIP_ENTRIES:
        raise ValidationFailed(N_("The archive holds too many files."))
    with tempfile.TemporaryDirectory() as tmp:
        for m in members:
            if m.is_dir():
                continue
            name = Path(m.filename).name
            if not name or name != m.filename.split("/")[-1] or ".." in m.filename or m.filename.startswith("/"):
                raise ValidationFailed(N_("The archive contains an unsafe file name."))
            if m.file_size > max_file_bytes:
                raise TooLarge(N_("A file in the archive is too large."))
            with zf.open(m) as src:
                content = src.read(max_file_bytes + 1)
            if len(content) > max_file_bytes:
                raise TooLarge(N_("A file in the archive is too large."))
            (Path(tmp) / name).write_bytes(content)
        return import_package(db, Path(tmp), actor=actor, max_file_bytes=max_file_bytes)
