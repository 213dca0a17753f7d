"""Bulk ingest of agency records (CSV files and JSON), idempotent by (agency, record_id).

Every row is checked on its own: a bad row is reported (row number, record id, field and reason —
never the value) and the good rows are kept.  Re-ingesting the same data changes nothing (a keyed
hash of each row's content decides created / updated / unchanged).  Members ingest only for their
own agency: a row naming another agency is a bad row, and a user outside any agency is refused.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from pydantic import ValidationError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.crypto import keyring
from harbour.core.db import utcnow
from harbour.core.errors import ValidationFailed, friendly_message
from harbour.core.i18n import N_, gettext
from harbour.sharing import access
from harbour.sharing.choices import RecordCategory
from harbour.sharing.models import RECORD_MODELS as MODELS
from harbour.sharing.models import (
    IngestBatch,
    Occurrence,
    OccurrencePerson,
    Person,
    PersonKey,
)
from harbour.sharing.schemas import ROW_SCHEMAS, PersonIn

INGEST_ROLES = frozenset({"agency_analyst", "agency_data_steward", "hotline_supervisor"})
CHUNK = 500
LIST_FIELDS = {"aliases", "phones", "emails", "addresses", "identity_documents", "offence_codes", "people"}


def blind(kind: str, value: str) -> str:
    """Keyed blind index shared by all sharing tables (the same phone gives the same digest everywhere)."""
    return keyring().blind_index(value.strip().lower(), domain=f"sharing-{kind}")


def _content_hash(record_type: str, data: dict) -> str:
    payload = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return keyring().blind_index(payload, domain=f"sharing-content-{record_type}")


def _errors_of(exc: ValidationError) -> list[dict]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        out.append({"field": ".".join(loc) or "row", "message": friendly_message(err),
                    "detail": err.get("msg", "")[:200]})
    return out


# -- CSV ------------------------------------------------------------------------------------------------
def read_csv(data: bytes | str, record_type: str) -> list[dict]:
    """Decode and parse a CSV upload: a header row, then one record per row.  Whole-file problems (not
    UTF-8, no header, unknown columns) raise 422; row problems are left to :func:`ingest`."""
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ValidationFailed(N_("The file is not UTF-8 text.")) from exc
    reader = csv.DictReader(io.StringIO(data, newline=""))
    header = reader.fieldnames or []
    header = [h.strip() for h in header]
    if "record_id" not in header or "agency" not in header:
        raise ValidationFailed(N_("The CSV file needs a header row with at least record_id and agency."))
    schema = ROW_SCHEMAS[record_type]
    known = set(schema.model_fields) - LIST_FIELDS
    unknown = [h for h in header if h not in known]
    if unknown:
        raise ValidationFailed(N_("The CSV file has columns this record type does not know: %(columns)s."),
                               columns=", ".join(sorted(unknown))[:300])
    if len(set(header)) != len(header):
        raise ValidationFailed(N_("The CSV file repeats a column."))
    rows = []
    reader.fieldnames = header
    try:
        for raw in reader:
            extra = raw.pop(None, None)
            row = {k: (v if v is None else v.strip()) for k, v in raw.items()}
            if extra:
                row["__extra__"] = True
            rows.append(row)
    except csv.Error as exc:
        raise ValidationFailed(N_("The CSV file could not be read (line %(line)s)."), line=reader.line_num) from exc
    return rows


# -- ingest -------------------------------------------------------------------------------------------
def ingest(db: Session, *, actor: Actor, record_type: str, rows: Iterable[dict], source_system: str,
           fmt: str = "json", filename: str | None = None, first_row: int = 1,
           as_agency: str | None = None) -> IngestBatch:
    """Validate and upsert ``rows`` of ``record_type`` for the actor's agency; returns the batch with its
    row report.  ``first_row`` numbers the first row (2 for a CSV file whose line 1 is the header).
    ``as_agency`` is for server-side actors only (the command line): they act for that agency."""
    if as_agency is not None and actor.id is None:
        viewer = access.system_viewer(db, actor, as_agency)
    else:
        viewer = access.viewer(db, actor, roles=INGEST_ROLES)
    if record_type not in RecordCategory.codes():
        raise ValidationFailed(N_("Unknown record type."))
    source_system = (source_system or "").strip()[:120]
    if not source_system:
        raise ValidationFailed(N_("Name the source system the records come from."),
                               fields={"source_system": N_("This field is required.")})
    schema = ROW_SCHEMAS[record_type]
    problems: list[dict] = []
    good: list[tuple[int, object]] = []
    seen: dict[str, int] = {}
    total = 0
    for offset, row in enumerate(rows):
        total += 1
        number = first_row + offset
        if not isinstance(row, dict):
            problems.append({"row": number, "record_id": None,
                             "errors": [{"field": "row", "message": gettext(N_("The body must be a JSON object."))}]})
            continue
        rid = row.get("record_id") if isinstance(row.get("record_id"), str) else None
        errors = []
        if row.pop("__extra__", False):
            errors.append({"field": "row", "message": gettext(N_("This row has more cells than the header."))})
        try:
            item = schema.model_validate({k: v for k, v in row.items() if v is not None})
        except ValidationError as exc:
            errors.extend(_errors_of(exc))
            item = None
        if item is not None and item.agency != viewer.agency_code:
            errors.append({"field": "agency", "message": gettext(N_("You may only ingest records of your own agency."))})
        if item is not None and item.record_id in seen:
            errors.append({"field": "record_id", "message": gettext(N_("This record id appears earlier in the upload "
                                                                       "(row %(row)s)."), row=seen[item.record_id])})
        if errors:
            problems.append({"row": number, "record_id": rid if rid and len(rid) <= 120 else None, "errors": errors})
            continue
        seen[item.record_id] = number
        good.append((number, item))

    if total == 0:
        raise ValidationFailed(N_("The upload holds no records."))
    batch = IngestBatch(agency_id=viewer.agency_id, record_type=record_type, source_system=source_system, fmt=fmt,
                        filename=(filename or None) and filename[:200], created_by_id=actor.id, rows_total=total)
    db.add(batch)
    db.flush()
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    person_ids = _person_ids(db, viewer.agency_id, good) if record_type != "person" else {}
    for start in range(0, len(good), CHUNK):
        chunk = good[start:start + CHUNK]
        existing = {r.record_id: r for r in db.execute(
            select(MODELS[record_type]).where(MODELS[record_type].agency_id == viewer.agency_id,
                                              MODELS[record_type].record_id.in_([i.record_id for _, i in chunk]))
        ).scalars()}
        changed_people: list[tuple[Person, bool]] = []
        for number, item in chunk:
            try:
                outcome, row = _upsert(db, record_type, item, existing.get(item.record_id), batch, actor, person_ids)
            except _RowRefused as refused:
                problems.append({"row": number, "record_id": item.record_id,
                                 "errors": [{"field": refused.field, "message": gettext(refused.message)}]})
                continue
            counts[outcome] += 1
            if record_type == "person" and outcome != "unchanged":
                changed_people.append((row, outcome == "created"))
        db.flush()
        if changed_people:
            _person_keys(db, changed_people)
    problems.sort(key=lambda p: p["row"])
    batch.rows_created, batch.rows_updated, batch.rows_unchanged = counts["created"], counts["updated"], counts["unchanged"]
    batch.rows_failed = len(problems)
    batch.problems = problems
    audit(db, actor, "ingest", "sharing_ingest_batch", batch.id, purpose="data_quality",
          detail={"agency": viewer.agency_id, "record_type": record_type, "total": total, "failed": len(problems),
                  **counts})
    db.flush()
    return batch


class _RowRefused(Exception):
    def __init__(self, field: str, message: str):
        self.field, self.message = field, message


def _person_ids(db: Session, agency_id: int, good) -> dict[str, int]:
    """Own person record ids referenced by linked rows → person row ids (same agency only)."""
    wanted = set()
    for _, item in good:
        if getattr(item, "person_record_id", None):
            wanted.add(item.person_record_id)
        for link in getattr(item, "people", []) or []:
            wanted.add(link.person_record_id)
    found: dict[str, int] = {}
    wanted_list = sorted(wanted)
    for start in range(0, len(wanted_list), CHUNK):
        part = wanted_list[start:start + CHUNK]
        for pid, rid in db.execute(select(Person.id, Person.record_id).where(Person.agency_id == agency_id,
                                                                             Person.record_id.in_(part))):
            found[rid] = pid
    return found


def _values(record_type: str, item, person_ids: dict[str, int]) -> dict:
    """Column values for one validated row (raises _RowRefused for an unknown own person)."""
    data = item.model_dump(mode="json", exclude={"record_id", "agency"})
    if record_type == "person":
        assert isinstance(item, PersonIn)
        addresses = item.all_addresses()
        return {
            "given_name": item.given_name, "middle_name": item.middle_name, "surname": item.surname,
            "aliases": [a.model_dump(mode="json") for a in item.aliases] or None,
            "date_of_birth": item.date_of_birth.isoformat() if item.date_of_birth else None,
            "sex": item.sex, "phones": item.all_phones() or None, "emails": item.all_emails() or None,
            "addresses": addresses or None,
            "identity_documents": [d.model_dump(mode="json") for d in item.identity_documents] or None,
            "province": next((a["province"] for a in addresses if a.get("province")), None),
        }
    if record_type == "occurrence":
        people = data.pop("people")
        for link in people:
            if link["person_record_id"] not in person_ids:
                raise _RowRefused("people", N_("No person of your agency has this record id."))
        data["occurred_on"] = item.occurred_on
        data["_people"] = [(person_ids[p["person_record_id"]], p["role"]) for p in people]
        return data
    person_rid = data.pop("person_record_id", None)
    if person_rid is not None and person_rid not in person_ids:
        raise _RowRefused("person_record_id", N_("No person of your agency has this record id."))
    data["person_id"] = person_ids.get(person_rid) if person_rid else None
    for key in ("first_seen", "last_seen"):
        if key in data:
            data[key] = getattr(item, key)
    if record_type == "phone":
        data["number_bi"] = blind("phone", item.number)
    elif record_type == "handle":
        data["handle_bi"] = blind("handle", f"{item.platform}:{item.handle}")
    elif record_type == "vehicle":
        data["plate"] = item.plate.upper().replace(" ", "").replace("-", "")
        data["plate_bi"] = blind("plate", data["plate"])
    elif record_type == "location":
        parts = [item.street_address, item.city, item.province, item.postal_code]
        data["address_bi"] = blind("address", "|".join(p or "" for p in parts)) if item.street_address else None
    return data


def _upsert(db: Session, record_type: str, item, row, batch: IngestBatch, actor: Actor, person_ids):
    """Insert or update one row (not flushed, except occurrences); returns (outcome, row)."""
    values = _values(record_type, item, person_ids)
    digest = _content_hash(record_type, {k: v for k, v in values.items()})
    if row is not None and row.content_hash == digest:
        return "unchanged", row
    people = values.pop("_people", None)
    now = utcnow()
    created = row is None
    if created:
        row = MODELS[record_type](agency_id=batch.agency_id, record_id=item.record_id, ingested_at=now,
                                  ingested_by_id=actor.id)
        db.add(row)
    for key, value in values.items():
        setattr(row, key, value)
    row.source_system = batch.source_system
    row.batch_id = batch.id
    row.updated_at = now
    row.content_hash = digest
    if record_type == "person":
        row.needs_linkage = True
    elif record_type == "occurrence":
        db.flush()
        _occurrence_people(db, row, people or [])
    return ("created" if created else "updated"), row


def _person_keys(db: Session, people: list[tuple[Person, bool]]) -> None:
    """Rewrite the blind-index keys of flushed persons (one delete for the updated ones)."""
    updated = [p.id for p, created in people if not created]
    if updated:
        agency_id = people[0][0].agency_id
        db.execute(delete(PersonKey).where(PersonKey.agency_id == agency_id, PersonKey.person_id.in_(updated)))
    rows = []
    for person, _created in people:
        keys = set()
        for phone in person.phones or []:
            keys.add(("phone", blind("phone", phone)))
        for email in person.emails or []:
            keys.add(("email", blind("email", email)))
        for doc in person.identity_documents or []:
            keys.add(("document", blind("document", f"{doc['type']}:{doc['country']}:{doc['number']}")))
        rows += [{"agency_id": person.agency_id, "person_id": person.id, "kind": k, "digest": d} for k, d in sorted(keys)]
    if rows:
        db.execute(PersonKey.__table__.insert(), rows)


def _occurrence_people(db: Session, occurrence: Occurrence, people: list[tuple[int, str]]) -> None:
    db.execute(delete(OccurrencePerson).where(OccurrencePerson.occurrence_id == occurrence.id,
                                              OccurrencePerson.agency_id == occurrence.agency_id))
    for person_id, role in dict(people).items():
        db.add(OccurrencePerson(agency_id=occurrence.agency_id, occurrence_id=occurrence.id, person_id=person_id,
                                role=role))
    db.expire(occurrence, ["people"])


def ingest_csv(db: Session, *, actor: Actor, record_type: str, data: bytes | str, source_system: str,
               filename: str | None = None, as_agency: str | None = None) -> IngestBatch:
    rows = read_csv(data, record_type)
    return ingest(db, actor=actor, record_type=record_type, rows=rows, source_system=source_system, fmt="csv",
                  filename=filename, first_row=2, as_agency=as_agency)


def batches(db: Session, *, actor: Actor, limit: int = 50) -> list[IngestBatch]:
    viewer = access.viewer(db, actor, roles=INGEST_ROLES)
    return list(db.execute(select(IngestBatch).where(IngestBatch.agency_id == viewer.agency_id)
                           .order_by(IngestBatch.id.desc()).limit(limit)).scalars())


def get_batch(db: Session, *, actor: Actor, batch_id: int) -> IngestBatch:
    from harbour.core.errors import NotFound

    viewer = access.viewer(db, actor, roles=INGEST_ROLES)
    batch = db.get(IngestBatch, batch_id)
    if batch is None or batch.agency_id != viewer.agency_id:
        raise NotFound()
    return batch
