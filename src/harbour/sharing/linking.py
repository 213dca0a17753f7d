"""Linkage across agencies: stored model versions, relinking (Splink via :mod:`harbour.sharing.linkage`),
matches, entities, and PPRL submissions matched with :mod:`harbour.sharing.pprl` (never seeing names).

This is the only code that reads every agency's records at once; it does so inside
``rls.across_agencies`` and writes nothing any agency can read except hits, which the access gate's
rules decide (:func:`harbour.sharing.hits.deliver`).
"""

from __future__ import annotations

import hashlib
import json
import logging

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.choices import Role
from harbour.core.db import utcnow
from harbour.core.errors import Forbidden, NotFound, ValidationFailed
from harbour.core.i18n import N_
from harbour.sharing import access, rls
from harbour.sharing.hits import Deliverer, reinstate_for_matches, withdraw_for_matches
from harbour.sharing.models import Agency, EntityMember, LinkageModelVersion, Match, Person, PprlSubmission

log = logging.getLogger(__name__)
SYSTEM = Actor.system("linkage")
DEFAULT_THRESHOLD = 0.95


def _require_admin(actor: Actor) -> None:
    if actor.id is not None and actor.role != Role.admin:
        raise Forbidden(N_("Only an administrator may run linkage."))


# -- model versions ----------------------------------------------------------------------------------
def _store_model(db: Session, model, *, actor: Actor, activate: bool) -> LinkageModelVersion:
    row = db.execute(select(LinkageModelVersion).where(LinkageModelVersion.version == model.version)).scalar_one_or_none()
    if row is None:
        row = LinkageModelVersion(version=model.version, settings=model.settings, trained_on=model.trained_on,
                                  created_by=actor.label)
        db.add(row)
    if activate:
        db.execute(update(LinkageModelVersion).values(active=False))
        row.active = True
    db.flush()
    audit(db, actor, "create", "sharing_model_version", row.id, detail={"version": row.version,
                                                                       "trained_on": row.trained_on,
                                                                       "active": row.active})
    return row


def active_model(db: Session, *, actor: Actor = SYSTEM):
    """The active model (a linkage.LinkageModel); the shipped default is stored and activated on first use."""
    from harbour.sharing import linkage

    row = db.execute(select(LinkageModelVersion).where(LinkageModelVersion.active.is_(True))).scalar_one_or_none()
    if row is None:
        row = _store_model(db, linkage.default_model(), actor=actor, activate=True)
    return linkage.LinkageModel(version=row.version, settings=row.settings, trained_on=row.trained_on)


def list_models(db: Session) -> list[LinkageModelVersion]:
    return list(db.execute(select(LinkageModelVersion).order_by(LinkageModelVersion.created_at.desc())).scalars())


def activate_model(db: Session, *, actor: Actor, version: str) -> LinkageModelVersion:
    _require_admin(actor)
    row = db.execute(select(LinkageModelVersion).where(LinkageModelVersion.version == version)).scalar_one_or_none()
    if row is None:
        raise NotFound(N_("No such model version."))
    db.execute(update(LinkageModelVersion).values(active=False))
    row.active = True
    audit(db, actor, "update", "sharing_model_version", row.id, detail={"active": True})
    return row


def canonical_rows(db: Session) -> list[dict]:
    """Every agency's person records as linkage rows (CANONICAL_COLUMNS).  Cross-agency: server only."""
    codes = dict(db.execute(select(Agency.id, Agency.code)).all())
    rows = []
    with rls.across_agencies(db):
        for p in db.execute(select(Person).order_by(Person.id)).scalars():
            address = (p.addresses or [{}])[0]
            rows.append({
                "record_id": p.record_id, "agency": codes[p.agency_id], "given_name": p.given_name,
                "middle_name": p.middle_name, "surname": p.surname, "date_of_birth": p.date_of_birth, "sex": p.sex,
                "phone": (p.phones or [None])[0], "email": (p.emails or [None])[0],
                "street_address": address.get("street_address"), "city": address.get("city"),
                "province": address.get("province"), "postal_code": address.get("postal_code"),
            })
    return rows


def train_model(db: Session, *, actor: Actor, seed: int = 42, activate: bool = True) -> LinkageModelVersion:
    """Train a new model (unsupervised EM) on every agency's person records and store it as a version."""
    from harbour.sharing import linkage

    _require_admin(actor)
    rows = canonical_rows(db)
    if len(rows) < 50:
        raise ValidationFailed(N_("Too few person records to train a model (at least 50 are needed)."))
    model = linkage.train(rows, seed=seed)
    return _store_model(db, model, actor=actor, activate=activate)


# -- matches and entities ------------------------------------------------------------------------------
def _ordered(a: tuple[int, str], b: tuple[int, str]) -> tuple[tuple[int, str], tuple[int, str], bool]:
    return (a, b, False) if a <= b else (b, a, True)


def _match_cache(db: Session, method: str) -> dict:
    with rls.across_agencies(db):
        return {(m.agency_a_id, m.record_a, m.agency_b_id, m.record_b): m
                for m in db.execute(select(Match).where(Match.method == method)).scalars()}


def store_match(db: Session, *, method: str, key_a: tuple[int, str], key_b: tuple[int, str], probability: float,
                weight: float | None = None, agreed=(), model_version: str | None = None,
                category: str = "person", cache: dict | None = None, flush: bool = True) -> tuple[Match, bool]:
    """Insert or refresh one match (pairs are stored in a canonical order).  Returns (match, is_new).
    ``cache`` (from ``_match_cache``) saves a query per match when storing many."""
    (a, b, _swapped) = _ordered(key_a, key_b)
    with rls.across_agencies(db):
        if cache is not None:
            match = cache.get((a[0], a[1], b[0], b[1]))
        else:
            match = db.execute(select(Match).where(Match.method == method, Match.agency_a_id == a[0],
                                                   Match.record_a == a[1], Match.agency_b_id == b[0],
                                                   Match.record_b == b[1])).scalar_one_or_none()
        new = match is None
        if new:
            match = Match(method=method, category=category, agency_a_id=a[0], record_a=a[1], agency_b_id=b[0],
                          record_b=b[1])
            db.add(match)
        match.match_probability = float(probability)
        match.match_weight = None if weight is None else float(weight)
        match.agreed = list(agreed)
        match.model_version = model_version
        match.updated_at = utcnow()
        if new:
            if flush:
                db.flush()
            if cache is not None:
                cache[(a[0], a[1], b[0], b[1])] = match
    return match, new


def relink(db: Session, *, actor: Actor = SYSTEM, threshold: float = DEFAULT_THRESHOLD) -> dict:
    """Link every agency's person records with the active model; store matches (weight, probability, agreed
    fields, model version) and entities; deliver hits for cross-agency matches the agreements allow."""
    from harbour.sharing import linkage

    _require_admin(actor)
    rows = canonical_rows(db)
    ids = {code: agency_id for agency_id, code in db.execute(select(Agency.id, Agency.code)).all()}
    model = active_model(db, actor=actor)
    result = {"records": len(rows), "matches": 0, "cross_agency": 0, "new_matches": 0, "hits": 0, "entities": 0,
              "model_version": model.version}
    matches = linkage.predict(rows, model, threshold=threshold) if len(rows) >= 2 else []
    clusters = linkage.cluster(rows, matches, threshold=threshold) if rows else {}
    with rls.across_agencies(db):
        cache = _match_cache(db, "splink")
        stored = []
        for m in matches:
            a = (ids[m.key_a[0]], m.key_a[1])
            b = (ids[m.key_b[0]], m.key_b[1])
            match, new = store_match(db, method="splink", key_a=a, key_b=b, probability=m.match_probability,
                                     weight=m.match_weight, agreed=m.agreed, model_version=model.version, cache=cache,
                                     flush=False)
            stored.append(match)
            result["matches"] += 1
            result["new_matches"] += int(new)
        db.flush()  # one round trip for every new match; hits need their ids
        # the linkage now decides: a stored pair it no longer finds (a corrected record) is retracted, and one it
        # finds again is reinstated
        found, now = {m.id for m in stored}, utcnow()
        retracted = [m.id for m in cache.values() if m.id not in found and m.retracted_at is None]
        reinstated = [m.id for m in stored if m.retracted_at is not None]
        for match in cache.values():
            if match.id in found:
                match.retracted_at = None
            elif match.retracted_at is None:
                match.retracted_at = now
        withdrawn = withdraw_for_matches(db, retracted)
        reinstate_for_matches(db, reinstated)
        result.update(retracted=len(retracted), reinstated=len(reinstated), hits_withdrawn=withdrawn)
        deliver = Deliverer(db)
        for match in stored:
            if match.agency_a_id != match.agency_b_id:
                result["cross_agency"] += 1
                result["hits"] += len(deliver(match))
        db.query(EntityMember).delete()
        for (code, record_id), entity in clusters.items():
            db.add(EntityMember(entity_id=str(entity), agency_id=ids[code], record_id=record_id,
                                model_version=model.version))
        result["entities"] = len(set(clusters.values()))
        db.execute(update(Person).where(Person.needs_linkage.is_(True)).values(needs_linkage=False))
        result["hits"] += refresh_hits(db, deliver)
        db.flush()
    audit(db, actor, "relink", "sharing_match", None, purpose="record_linkage",
          detail={k: v for k, v in result.items() if k != "model_version"} | {
              "model": model.version, "hits_by_agency": {str(k): v for k, v in deliver.by_agency.items()}})
    return result


def refresh_hits(db: Session, deliver: Deliverer | None = None) -> int:
    """Deliver hits for stored cross-agency matches whose agreements now allow them (e.g. just activated)."""
    delivered = 0
    with rls.across_agencies(db):
        deliver = deliver or Deliverer(db)
        before = dict(deliver.by_agency)  # a relink's Deliverer has counted its own hits already
        for match in db.execute(select(Match).where(Match.agency_a_id != Match.agency_b_id,
                                                    Match.retracted_at.is_(None))).scalars():
            delivered += len(deliver(match))
        db.flush()
        if delivered:
            audit(db, SYSTEM, "hit", "sharing_hit", None, purpose="record_linkage",
                  detail={"hits_by_agency": {str(k): v - before.get(k, 0) for k, v in deliver.by_agency.items()
                                             if v > before.get(k, 0)}})
    return delivered


def relink_quietly(factory) -> None:
    """After an ingest: relink in a fresh session; a linkage failure never undoes the ingest."""
    with factory() as db:
        try:
            relink(db)
            db.commit()
        except Exception:  # noqa: BLE001 - logged; the records are safe and `harbour sharing relink` retries
            db.rollback()
            log.exception("relink after ingest failed")


# -- PPRL -------------------------------------------------------------------------------------------
def schema_id(document: dict) -> str:
    schema = json.dumps(document.get("schema", {}), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(schema.encode()).hexdigest()


def submit_pprl(db: Session, *, actor: Actor, document: dict, threshold: float | None = None) -> dict:
    """Store an agency's CLK document (replacing its previous one) and match it against every other agency's
    current submission with the same encoding schema; matched pairs become hits (disclosure workflow)."""
    from harbour.sharing import pprl

    viewer = access.viewer(db, actor)
    problems = pprl.validate_document(document)
    if problems:
        raise ValidationFailed(N_("The encoded file is not valid: %(problems)s"), problems="; ".join(problems[:5])[:500])
    if document.get("agency") != viewer.agency_code:
        raise Forbidden(N_("You may only submit encodings of your own agency."))
    sid = schema_id(document)
    db.execute(update(PprlSubmission).where(PprlSubmission.agency_id == viewer.agency_id).values(active=False))
    submission = PprlSubmission(agency_id=viewer.agency_id, uploaded_by_id=actor.id, record_count=len(document["records"]),
                                schema_id=sid, document=document, active=True)
    db.add(submission)
    db.flush()
    pairs = hits = 0
    with rls.across_agencies(db):
        cache = _match_cache(db, "pprl")
        deliver = Deliverer(db)
        stored: list[Match] = []
        others = list(db.execute(select(PprlSubmission).where(PprlSubmission.active.is_(True),
                                                              PprlSubmission.agency_id != viewer.agency_id,
                                                              PprlSubmission.schema_id == sid)).scalars())
        for other in others:
            for m in pprl.match(document, other.document, threshold=threshold):
                match, _new = store_match(db, method="pprl", key_a=(viewer.agency_id, m.record_id_a),
                                          key_b=(other.agency_id, m.record_id_b), probability=m.score, cache=cache,
                                          flush=False)
                stored.append(match)
                pairs += 1
        db.flush()
        for match in stored:
            hits += len(deliver(match))
        db.flush()
    audit(db, actor, "create", "sharing_pprl_submission", submission.id, purpose="record_linkage",
          detail={"records": submission.record_count, "compared_with": len(others), "pairs": pairs, "hits": hits})
    return {"submission": submission.id, "records": submission.record_count, "compared_with": len(others),
            "pairs": pairs, "hits": hits}


def pprl_submissions(db: Session, *, actor: Actor) -> list[PprlSubmission]:
    viewer = access.viewer(db, actor)
    return list(db.execute(select(PprlSubmission).where(PprlSubmission.agency_id == viewer.agency_id)
                           .order_by(PprlSubmission.id.desc())).scalars())
