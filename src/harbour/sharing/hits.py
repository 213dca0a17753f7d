"""Hits and the disclosure workflow.

Rules (decided here, once):
* A cross-agency match gives each side a hit only if an agreement in force lets that side *receive* the
  other's records of that category (any purpose, any level).  No agreement: no hit for that side — the
  match is kept server-side and becomes a hit as soon as an agreement allows it.  The owner's record
  never leaks to an agency without an agreement.
* A hit reveals only what the lowest level (hit/no-hit) allows: that the other agency holds a matching
  record, the category, how it was found (plaintext or encoded linkage), when, and the other agency's
  name and sharing-desk contact.  Never the other record's id or fields.
* An inbox shows a hit only while an agreement still allows it: revoking, suspending or the end date
  passing hides it at once.
* A match that a later relink no longer finds (a corrected record) is retracted: its hits are withdrawn (shown
  as such, nothing more can be asked), requests still waiting are withdrawn, and an approved disclosure is
  no longer shown (it would show the corrected record, which no longer matches).  If a relink finds the
  pair again, its hits come back as new.
* More needs a disclosure request with a stated purpose, up to the agreement's level for that purpose;
  the owning agency's data steward approves (possibly at a lower level) or denies.  The requester then
  sees the granted fields — re-checked against the agreement on every view — and every view is audited.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.db import utcnow
from harbour.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from harbour.core.i18n import N_
from harbour.sharing import access, rls
from harbour.sharing.choices import LEVEL_RANK, STEWARD_ROLES, Purpose
from harbour.sharing.models import DisclosureRequest, Hit, Match, Person


class Deliverer:
    """Creates the hits cross-agency matches deserve, each side separately (call in cross-agency mode).
    Caches agreement answers and existing hits, so delivering for many matches costs a few queries."""

    def __init__(self, db: Session):
        self.db = db
        self.levels: dict[tuple[int, int, str], bool] = {}
        self.existing = {tuple(row) for row in db.execute(select(Hit.agency_id, Hit.match_id)).all()}
        self.by_agency: dict[int, int] = {}

    def allowed(self, receiver: int, owner: int, category: str) -> bool:
        key = (receiver, owner, category)
        if key not in self.levels:
            self.levels[key] = access.any_level(self.db, receiver, owner, category) is not None
        return self.levels[key]

    def __call__(self, match: Match) -> list[Hit]:
        made = []
        if match.agency_a_id == match.agency_b_id or match.retracted_at is not None:
            return made
        sides = ((match.agency_a_id, match.record_a, match.agency_b_id),
                 (match.agency_b_id, match.record_b, match.agency_a_id))
        for receiver, record_id, owner in sides:
            if (receiver, match.id) in self.existing or not self.allowed(receiver, owner, match.category):
                continue
            hit = Hit(agency_id=receiver, record_id=record_id, category=match.category, other_agency_id=owner,
                      match_id=match.id, method=match.method)
            self.db.add(hit)
            self.existing.add((receiver, match.id))
            self.by_agency[receiver] = self.by_agency.get(receiver, 0) + 1
            made.append(hit)
        return made


def deliver(db: Session, match: Match) -> list[Hit]:
    """The hits one match deserves (see :class:`Deliverer` for many)."""
    made = Deliverer(db)(match)
    db.flush()
    return made


WITHDRAWN = N_("This hit was withdrawn: the records no longer match.")
CHUNK = 500  # ids per IN list


def withdraw_for_matches(db: Session, match_ids: list[int]) -> int:
    """Retracted matches: withdraw their hits and the requests still waiting on them (cross-agency mode).
    Returns the number of hits withdrawn."""
    withdrawn = 0
    for i in range(0, len(match_ids), CHUNK):
        chunk = match_ids[i:i + CHUNK]
        withdrawn += db.execute(update(Hit).where(Hit.match_id.in_(chunk), Hit.status != "withdrawn")
                                .values(status="withdrawn")).rowcount
        db.execute(update(DisclosureRequest).where(DisclosureRequest.match_id.in_(chunk),
                                                   DisclosureRequest.status == "pending").values(status="withdrawn"))
    return withdrawn


def reinstate_for_matches(db: Session, match_ids: list[int]) -> None:
    """Matches found again: their withdrawn hits are new again (cross-agency mode)."""
    for i in range(0, len(match_ids), CHUNK):
        db.execute(update(Hit).where(Hit.match_id.in_(match_ids[i:i + CHUNK]), Hit.status == "withdrawn")
                   .values(status="new", seen_at=None))


def _in_force(db: Session, hit: Hit) -> bool:
    return access.any_level(db, hit.agency_id, hit.other_agency_id, hit.category) is not None


def inbox(db: Session, *, actor: Actor, status: str | None = None, limit: int = 200) -> list[Hit]:
    viewer = access.viewer(db, actor)
    query = select(Hit).where(Hit.agency_id == viewer.agency_id).order_by(Hit.created_at.desc(), Hit.id.desc())
    if status:
        query = query.where(Hit.status == status)
    allowed: dict[tuple[int, str], bool] = {}
    out = []
    for hit in db.execute(query).scalars():
        key = (hit.other_agency_id, hit.category)
        if key not in allowed:
            allowed[key] = _in_force(db, hit)
        if allowed[key]:
            out.append(hit)
        if len(out) >= limit:
            break
    return out


def get_hit(db: Session, *, actor: Actor, hit_id: int) -> Hit:
    viewer = access.viewer(db, actor)
    hit = db.get(Hit, hit_id)
    if hit is None or hit.agency_id != viewer.agency_id or not _in_force(db, hit):
        raise NotFound(N_("No such hit."))
    return hit


def hit_view(hit: Hit) -> dict:
    """Everything a hit reveals (the hit/no-hit level)."""
    other = hit.other_agency
    return {"id": hit.id, "record_id": hit.record_id, "category": hit.category, "method": hit.method,
            "status": hit.status, "created_at": hit.created_at.isoformat(),
            "other_agency": {"code": other.code, "name": other.name, "kind": other.kind, "province": other.province,
                             "contact_name": other.contact_name, "contact_email": other.contact_email,
                             "contact_phone": other.contact_phone}}


def mark(db: Session, *, actor: Actor, hit_id: int, status: str) -> Hit:
    if status not in ("seen", "closed", "new"):
        raise ValidationFailed(N_("Choose one of the listed options."))
    hit = get_hit(db, actor=actor, hit_id=hit_id)
    if hit.status == "withdrawn":
        raise Conflict(WITHDRAWN)
    hit.status = status
    if status == "seen" and hit.seen_at is None:
        hit.seen_at = utcnow()
    audit(db, actor, "update", "sharing_hit", hit.id, detail={"status": status})
    return hit


# -- disclosure requests ----------------------------------------------------------------------------------
def request_disclosure(db: Session, *, actor: Actor, hit_id: int, purpose: str, level: str,
                       justification: str) -> DisclosureRequest:
    hit = get_hit(db, actor=actor, hit_id=hit_id)
    if hit.status == "withdrawn":
        raise Conflict(WITHDRAWN)
    allowed = access.level(db, hit.agency_id, hit.other_agency_id, hit.category, purpose)
    if allowed is None:
        raise Forbidden(N_("No data-sharing agreement in force allows this access for that purpose."))
    if LEVEL_RANK[level] > LEVEL_RANK[allowed]:
        raise Forbidden(N_("The data-sharing agreement does not allow this much disclosure."))
    pending = db.execute(select(DisclosureRequest.id).where(DisclosureRequest.hit_id == hit.id,
                                                            DisclosureRequest.status == "pending")).first()
    if pending:
        raise Conflict(N_("A request for this hit is already waiting for the data steward."))
    req = DisclosureRequest(hit_id=hit.id, match_id=hit.match_id, category=hit.category,
                            requester_agency_id=hit.agency_id, owner_agency_id=hit.other_agency_id,
                            requested_by_id=actor.id, purpose=purpose, level_requested=level,
                            justification=justification)
    db.add(req)
    db.flush()
    audit(db, actor, "request_disclosure", "sharing_disclosure_request", req.id, purpose=purpose,
          detail={"hit": hit.id, "owner_agency": hit.other_agency_id, "level": level})
    return req


def request_choices(db: Session, *, actor: Actor, hit_id: int) -> dict[str, str]:
    """What a disclosure request about this hit may ask, for the form: each purpose for which an agreement in
    force allows more than hit/no-hit, with the most it allows (``{"investigation": "summary"}``).  Asks
    :func:`access.level`, the rule :func:`request_disclosure` applies; decides nothing itself."""
    hit = get_hit(db, actor=actor, hit_id=hit_id)
    if hit.status == "withdrawn":
        return {}
    out: dict[str, str] = {}
    for purpose in Purpose.codes():
        allowed = access.level(db, hit.agency_id, hit.other_agency_id, hit.category, purpose)
        if allowed is not None and LEVEL_RANK[allowed] > LEVEL_RANK["hit"]:
            out[purpose] = allowed.value
    return out


def decision_level(db: Session, *, actor: Actor, request_id: int) -> str | None:
    """The most the owner's data steward may approve for this request now: what was asked, capped by what the
    agreement in force allows for its purpose (None: no agreement allows more than hit/no-hit; deny only).
    The rule :func:`decide` applies, asked for the form."""
    req = get_request(db, actor=actor, request_id=request_id)
    allowed = access.level(db, req.requester_agency_id, req.owner_agency_id, req.category, req.purpose)
    if allowed is None or LEVEL_RANK[allowed] <= LEVEL_RANK["hit"]:
        return None
    return min(req.level_requested, allowed.value, key=lambda lv: LEVEL_RANK[lv])


def requests_for(db: Session, *, actor: Actor, direction: str = "incoming", status: str | None = None) -> list:
    """incoming: requests to the viewer's agency (its stewards decide); outgoing: requests it made."""
    viewer = access.viewer(db, actor)
    column = DisclosureRequest.owner_agency_id if direction == "incoming" else DisclosureRequest.requester_agency_id
    query = select(DisclosureRequest).where(column == viewer.agency_id).order_by(DisclosureRequest.created_at.desc())
    if status:
        query = query.where(DisclosureRequest.status == status)
    return list(db.execute(query).scalars())


def get_request(db: Session, *, actor: Actor, request_id: int) -> DisclosureRequest:
    viewer = access.viewer(db, actor)
    req = db.get(DisclosureRequest, request_id)
    if req is None or viewer.agency_id not in (req.requester_agency_id, req.owner_agency_id):
        raise NotFound(N_("No such request."))
    return req


def owner_record_id(db: Session, req: DisclosureRequest) -> str:
    """The owner's record behind a request (read from the server-side match)."""
    return _owner_match(db, req)[1]


def _owner_match(db: Session, req: DisclosureRequest) -> tuple[Match, str]:
    with rls.across_agencies(db):
        match = db.get(Match, req.match_id)
    if match is None:
        raise NotFound()
    return match, (match.record_a if match.agency_a_id == req.owner_agency_id else match.record_b)


def decide(db: Session, *, actor: Actor, request_id: int, decision: str, level: str | None = None,
           note: str | None = None) -> DisclosureRequest:
    viewer = access.viewer(db, actor)
    if actor.role not in STEWARD_ROLES:
        raise Forbidden(N_("Only the owning agency's data steward decides disclosure requests."))
    req = get_request(db, actor=actor, request_id=request_id)
    if req.owner_agency_id != viewer.agency_id:
        raise Forbidden(N_("Only the owning agency's data steward decides disclosure requests."))
    if req.status != "pending":
        raise Conflict(N_("This request has been decided already."))
    if decision == "approve":
        level = level or req.level_requested
        if LEVEL_RANK[level] > LEVEL_RANK[req.level_requested]:
            raise ValidationFailed(N_("A steward may approve less than was asked, never more."))
        allowed = access.level(db, req.requester_agency_id, req.owner_agency_id, req.category, req.purpose)
        if allowed is None:
            raise Forbidden(N_("No data-sharing agreement in force allows this access for that purpose."))
        if LEVEL_RANK[level] > LEVEL_RANK[allowed]:
            raise Forbidden(N_("The data-sharing agreement does not allow this much disclosure."))
        req.status, req.level_granted = "approved", level
    elif decision == "deny":
        req.status = "denied"
    else:
        raise ValidationFailed(N_("Choose one of the listed options."))
    req.decided_by_id, req.decided_at, req.decision_note = actor.id, utcnow(), note
    audit(db, actor, "decide_disclosure", "sharing_disclosure_request", req.id, purpose=req.purpose,
          detail={"decision": req.status, "level": req.level_granted, "requester_agency": req.requester_agency_id})
    return req


def withdraw(db: Session, *, actor: Actor, request_id: int) -> DisclosureRequest:
    viewer = access.viewer(db, actor)
    req = get_request(db, actor=actor, request_id=request_id)
    if req.requester_agency_id != viewer.agency_id:
        raise Forbidden()
    if req.status != "pending":
        raise Conflict(N_("This request has been decided already."))
    req.status = "withdrawn"
    audit(db, actor, "update", "sharing_disclosure_request", req.id, purpose=req.purpose, detail={"status": "withdrawn"})
    return req


# -- what a level reveals ---------------------------------------------------------------------------------
SUMMARY_FIELDS = ("record_id", "source_system", "updated_at", "sex", "year_of_birth", "province", "cities")
FULL_FIELDS = SUMMARY_FIELDS + ("given_name", "middle_name", "surname", "aliases", "date_of_birth", "phones",
                                "emails", "addresses", "identity_documents")


def person_fields(person: Person | None, level: str, *, record_id: str) -> dict:
    """The person's fields a level reveals (``hit``: nothing)."""
    if LEVEL_RANK[level] < LEVEL_RANK["summary"]:
        return {}
    if person is None:  # an encoded (PPRL) record the owner keeps outside Harbour: its reference only
        return {"record_id": record_id}
    out = {"record_id": person.record_id, "source_system": person.source_system,
           "updated_at": person.updated_at.isoformat(), "sex": person.sex,
           "year_of_birth": person.date_of_birth[:4] if person.date_of_birth else None,
           "province": person.province,
           "cities": sorted({a["city"] for a in person.addresses or [] if a.get("city")})}
    if level == "full":
        out.update({"given_name": person.given_name, "middle_name": person.middle_name, "surname": person.surname,
                    "aliases": person.aliases or [], "date_of_birth": person.date_of_birth,
                    "phones": person.phones or [], "emails": person.emails or [], "addresses": person.addresses or [],
                    "identity_documents": person.identity_documents or []})
    return out


def disclosure(db: Session, *, actor: Actor, request_id: int) -> dict:
    """What an approved request discloses, to the requester (re-checked against the agreement now, audited)
    or to the owner's members (their own record: what they have disclosed)."""
    viewer = access.viewer(db, actor)
    req = get_request(db, actor=actor, request_id=request_id)
    if req.status != "approved":
        raise Conflict(N_("Nothing is disclosed until the data steward approves the request."))
    match, record_id = _owner_match(db, req)
    if match.retracted_at is not None:
        raise Conflict(N_("The records no longer match, so nothing more is disclosed."))
    if viewer.agency_id == req.requester_agency_id:
        current = access.require(db, req.requester_agency_id, req.owner_agency_id, req.category, req.purpose,
                                 actor=actor, record_type="sharing_disclosure_request", record_id=req.id)
        level = min(req.level_granted, current.value, key=lambda lv: LEVEL_RANK[lv])
    else:
        level = req.level_granted
    person = None
    if req.category == "person":
        person = db.execute(select(Person).where(Person.agency_id == req.owner_agency_id,
                                                 Person.record_id == record_id)).scalar_one_or_none()
    fields = person_fields(person, level, record_id=record_id)
    audit(db, actor, "disclose", "sharing_disclosure_request", req.id, purpose=req.purpose,
          detail={"level": level, "fields": sorted(k for k, v in fields.items() if v not in (None, [], "")),
                  "owner_agency": req.owner_agency_id, "viewer_agency": viewer.agency_id})
    return {"request": req.id, "level": level, "purpose": req.purpose, "fields": fields,
            "note": req.decision_note, "owner_agency": req.owner_agency.code}
