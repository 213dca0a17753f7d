"""Reading agency records: one's own agency's in full; another agency's only through the access gate."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.errors import NotFound, ValidationFailed
from harbour.core.i18n import N_
from harbour.sharing import access
from harbour.sharing.agencies import get_agency
from harbour.sharing.choices import RecordCategory
from harbour.sharing.hits import person_fields
from harbour.sharing.models import (
    RECORD_MODELS,
    DisclosureRequest,
    Hit,
    IngestBatch,
    Occurrence,
    OccurrencePerson,
    Person,
)

PAGE = 50


def _model(category: str):
    if category not in RecordCategory.codes():
        raise ValidationFailed(N_("Unknown record category."))
    return RECORD_MODELS[category]


def serialise(row, category: str) -> dict:
    """Every field of one record (for its own agency or a full-level disclosure)."""
    if category == "person":
        return person_fields(row, "full", record_id=row.record_id)
    skip = {"id", "agency_id", "batch_id", "ingested_by_id", "content_hash", "person_id", "number_bi", "handle_bi",
            "plate_bi", "address_bi"}
    out = {}
    for column in row.__table__.columns:
        if column.name in skip:
            continue
        value = getattr(row, column.name)
        out[column.name] = value.isoformat() if hasattr(value, "isoformat") else value
    return out


def list_own(db: Session, *, actor: Actor, category: str = "person", offset: int = 0,
             limit: int = PAGE) -> tuple[list, int]:
    viewer = access.viewer(db, actor)
    model = _model(category)
    where = model.agency_id == viewer.agency_id
    total = db.execute(select(func.count()).select_from(model).where(where)).scalar_one()
    rows = list(db.execute(select(model).where(where).order_by(model.record_id).offset(offset).limit(limit)).scalars())
    audit(db, actor, "list", f"sharing_{category}", None, purpose="data_quality",
          detail={"agency": viewer.agency_id, "count": len(rows)})
    return rows, total


def own_record(db: Session, *, actor: Actor, category: str, record_id: str, purpose: str = "investigation") -> dict:
    """One of the viewer's agency's records with provenance, linked records and hits on it (audited)."""
    viewer = access.viewer(db, actor)
    model = _model(category)
    row = db.execute(select(model).where(model.agency_id == viewer.agency_id, model.record_id == record_id)
                     ).scalar_one_or_none()
    if row is None:
        raise NotFound(N_("No such record."))
    access.require(db, viewer.agency_id, viewer.agency_id, category, purpose, actor=actor,
                   record_type=f"sharing_{category}", record_id=row.id)
    batch = db.get(IngestBatch, row.batch_id) if row.batch_id else None
    out = {"category": category, "fields": serialise(row, category),
           "provenance": {"source_system": row.source_system, "ingested_at": row.ingested_at.isoformat(),
                          "updated_at": row.updated_at.isoformat(), "batch": row.batch_id,
                          "ingested_by_id": row.ingested_by_id,
                          "batch_created_at": batch.created_at.isoformat() if batch else None}}
    if category == "person":
        linked = {}
        for name in ("phone", "handle", "vehicle", "location"):
            m = RECORD_MODELS[name]
            linked[name] = [serialise(r, name) for r in db.execute(
                select(m).where(m.agency_id == viewer.agency_id, m.person_id == row.id)).scalars()]
        occurrences = db.execute(select(Occurrence, OccurrencePerson.role).join(
            OccurrencePerson, OccurrencePerson.occurrence_id == Occurrence.id).where(
            OccurrencePerson.person_id == row.id, OccurrencePerson.agency_id == viewer.agency_id)).all()
        linked["occurrence"] = [serialise(o, "occurrence") | {"role": role} for o, role in occurrences]
        out["linked"] = linked
    hits = list(db.execute(select(Hit).where(Hit.agency_id == viewer.agency_id, Hit.record_id == record_id,
                                             Hit.category == category)).scalars())
    out["hit_ids"] = [h.id for h in hits if access.any_level(db, h.agency_id, h.other_agency_id, h.category)]
    return out


def other_record(db: Session, *, actor: Actor, agency_code: str, category: str, record_id: str,
                 purpose: str) -> dict:
    """Another agency's record, at the level its agreement allows for ``purpose`` (audited by the gate).
    At hit/no-hit level only the answer "the agency holds such a record" is given — and only when it does;
    the gate refuses before anything is looked up when no agreement allows the access."""
    viewer = access.viewer(db, actor)
    owner = get_agency(db, agency_code)
    model = _model(category)
    level = access.require(db, viewer.agency_id, owner.id, category, purpose, actor=actor,
                           record_type=f"sharing_{category}", record_id=f"{owner.code}:{record_id}")
    row = db.execute(select(model).where(model.agency_id == owner.id, model.record_id == record_id)).scalar_one_or_none()
    if row is None:
        raise NotFound(N_("No such record."))
    if level.value == "hit":
        return {"agency": owner.code, "category": category, "level": "hit", "holds_record": True, "fields": {}}
    fields = person_fields(row, level.value, record_id=row.record_id) if category == "person" else (
        serialise(row, category) if level.value == "full" else {"record_id": row.record_id})
    return {"agency": owner.code, "category": category, "level": level.value, "holds_record": True, "fields": fields}


def counts(db: Session, *, actor: Actor) -> dict:
    """Record counts per category and open work for the viewer's agency (console home)."""
    viewer = access.viewer(db, actor)
    out = {}
    for category, model in RECORD_MODELS.items():
        out[category] = db.execute(select(func.count()).select_from(model)
                                   .where(model.agency_id == viewer.agency_id)).scalar_one()
    out["pending_requests"] = db.execute(select(func.count()).select_from(DisclosureRequest).where(
        DisclosureRequest.owner_agency_id == viewer.agency_id, DisclosureRequest.status == "pending")).scalar_one()
    return out


def person_by_id(db: Session, agency_id: int, record_id: str) -> Person | None:
    return db.execute(select(Person).where(Person.agency_id == agency_id, Person.record_id == record_id)
                      ).scalar_one_or_none()
