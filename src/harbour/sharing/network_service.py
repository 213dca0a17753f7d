"""Network view service: the graph a member of an agency may see, built under the sharing access gate.

What goes in:

* the viewer's own agency's person records that are connected to something — in a linkage entity with
  other records, or sharing a phone, online handle/ad, vehicle or address (by blind index) with another
  record — in full, with their phones, handles, vehicles, dated locations and occurrences;
* other agencies' records related to those (same entity, or the same phone/handle/plate/address) **only
  when the viewer states a purpose** and only through :func:`harbour.sharing.access.require`: an agreement
  in force (active, within its dates, the viewer receiving, the owner providing) listing the record category
  and the purpose.  The agreement's disclosure level decides what is loaded: ``hit`` → the other agency's
  name and contact only; ``summary`` → sex, year of birth, city and province, offence codes and how many
  records of each category; ``full`` → the record, with its linked records of each category the agreement
  also covers in full.  (A steward's approved disclosure never exceeds the agreement's level for its purpose,
  so the agreement's level is what the network shows.)
* every other agency's data shown is audited by the gate with the purpose (one entry per agency and
  category), and the page view itself is audited (``list sharing_network``).

Discovery (which other records are related) happens on the server over linkage entities and blind indexes,
reading identifiers only; nothing of another agency is loaded before the gate allows it.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

import networkx as nx
from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.crypto import keyring
from harbour.core.errors import NotFound
from harbour.sharing import access, rls
from harbour.sharing import network as net
from harbour.sharing.choices import LEVEL_RANK
from harbour.sharing.ingest import blind
from harbour.sharing.models import (
    Agency,
    EntityMember,
    Handle,
    Location,
    Occurrence,
    OccurrencePerson,
    Person,
    PersonKey,
    Phone,
    Vehicle,
)

CHUNK = 500
LINKED = ("phone", "handle", "vehicle", "location", "occurrence")


@dataclass
class AgencyAccess:
    id: int
    code: str
    name: str
    level: str  # hit / summary / full
    records: int


@dataclass
class Network:
    viewer: access.Viewer
    purpose: str | None
    persons: list[net.PersonView]
    graph: nx.Graph
    groups: list[net.Group]
    shared: list[AgencyAccess] = field(default_factory=list)  # other agencies whose records are included
    purposes: list[str] = field(default_factory=list)  # purposes the viewer's agreements in force list
    _by_key: dict[str, net.PersonView] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for p in self.persons:  # pages ask once per node: a dict, not a scan
            self._by_key.setdefault(p.key, p)

    def person(self, key: str) -> net.PersonView | None:
        return self._by_key.get(key)


def _chunks(values):
    values = list(values)
    for i in range(0, len(values), CHUNK):
        yield values[i:i + CHUNK]


def check_purpose(purpose: str | None) -> str | None:
    """The network may be built without a purpose (the viewer's own records only)."""
    return None if purpose in (None, "") else access.check_purpose(purpose)


# -- discovery (identifiers only) -----------------------------------------------------------------------
# (space, category, model, digest column, filter): where blind indexes of the same value meet across tables.
# PersonKey holds a person record's own phones and e-mails (category "person"); the others are linked records.
_SOURCES = (
    ("phone", "person", PersonKey, PersonKey.digest, PersonKey.kind == "phone"),
    ("email", "person", PersonKey, PersonKey.digest, PersonKey.kind == "email"),
    ("phone", "phone", Phone, Phone.number_bi, None),
    ("handle", "handle", Handle, Handle.handle_bi, None),
    ("vehicle", "vehicle", Vehicle, Vehicle.plate_bi, None),
    ("address", "location", Location, Location.address_bi, None),
)


@dataclass
class _Discovery:
    own_person_ids: set[int] = field(default_factory=set)
    entity_of: dict[tuple[int, str], str] = field(default_factory=dict)  # (agency_id, record_id) -> entity
    other_records: dict[int, set[str]] = field(default_factory=lambda: defaultdict(set))  # agency -> record ids
    other_persons: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))  # agency -> person ids
    # (agency_id, person_id) -> {(space, category, digest)} of the matched attributes
    matched: dict[tuple[int, int], set[tuple[str, str, str]]] = field(default_factory=lambda: defaultdict(set))


def _select(model, column, extra, *conditions):
    query = select(column, model.agency_id, model.person_id).where(model.person_id.is_not(None), column.is_not(None),
                                                                    *conditions)
    return query.where(extra) if extra is not None else query


def _discover(db: Session, agency_id: int, *, only_person: int | None = None) -> _Discovery:
    found = _Discovery()
    with rls.across_agencies(db):  # entities are server-side (row-level security allows them in this mode only)
        own_members = dict(db.execute(select(EntityMember.record_id, EntityMember.entity_id)
                                      .where(EntityMember.agency_id == agency_id)).all())
        members = []
        for chunk in _chunks(set(own_members.values())):
            members += db.execute(select(EntityMember.entity_id, EntityMember.agency_id, EntityMember.record_id)
                                  .where(EntityMember.entity_id.in_(chunk))).all()
    if own_members:
        size = defaultdict(int)
        for entity_id, _a, _r in members:
            size[entity_id] += 1
        for entity_id, member_agency, record_id in members:
            if size[entity_id] < 2:
                continue
            found.entity_of[(member_agency, record_id)] = entity_id
            if member_agency != agency_id:
                found.other_records[member_agency].add(record_id)
        own_multi = [r for r, e in own_members.items() if size[e] >= 2]
        for chunk in _chunks(own_multi):
            found.own_person_ids |= set(db.execute(select(Person.id).where(Person.agency_id == agency_id,
                                                                           Person.record_id.in_(chunk))).scalars())
    own_digests: dict[str, set[str]] = defaultdict(set)
    for space, _category, model, column, extra in _SOURCES:
        own_digests[space] |= set(db.execute(_select(model, column, extra, model.agency_id == agency_id)).scalars())
    holders: dict[tuple[str, str], set[tuple[int, int, str]]] = defaultdict(set)
    with rls.across_agencies(db):  # identifiers only: which records hold the same blind index
        for space, category, model, column, extra in _SOURCES:
            for chunk in _chunks(own_digests[space]):
                for digest, agency, person in db.execute(_select(model, column, extra, column.in_(chunk))).all():
                    holders[(space, digest)].add((agency, person, category))
    for (space, digest), held in holders.items():
        if len({(a, p) for a, p, _c in held}) < 2:
            continue
        for agency, person, category in held:
            if agency == agency_id:
                found.own_person_ids.add(person)
            else:
                found.other_persons[agency].add(person)
                found.matched[(agency, person)].add((space, category, digest))
    if only_person is not None:
        found.own_person_ids.add(only_person)
    return found


# -- loading records as the viewer may see them -------------------------------------------------------------
def _linked_rows(db: Session, agency_id: int, person_ids: list[int], categories) -> dict[str, dict[int, list]]:
    out: dict[str, dict[int, list]] = {c: defaultdict(list) for c in LINKED}
    for chunk in _chunks(person_ids):
        for category, model in (("phone", Phone), ("handle", Handle), ("vehicle", Vehicle), ("location", Location)):
            if category in categories:
                for row in db.execute(select(model).where(model.agency_id == agency_id,
                                                          model.person_id.in_(chunk))).scalars():
                    out[category][row.person_id].append(row)
        if "occurrence" in categories:
            rows = db.execute(
                select(OccurrencePerson.person_id, OccurrencePerson.role, Occurrence.record_id, Occurrence.occurred_on,
                       Occurrence.jurisdiction, Occurrence.offence_codes)
                .join(Occurrence, and_(Occurrence.id == OccurrencePerson.occurrence_id,
                                       Occurrence.agency_id == OccurrencePerson.agency_id))
                .where(OccurrencePerson.agency_id == agency_id, OccurrencePerson.person_id.in_(chunk))).all()
            for person_id, role, rid, on, jurisdiction, offences in rows:
                out["occurrence"][person_id].append((rid, on, jurisdiction, offences or [], role))
    return out


def _persons(db: Session, agency_id: int, *, ids=(), record_ids=()) -> list[Person]:
    found: dict[int, Person] = {}
    for chunk in _chunks(ids):
        for p in db.execute(select(Person).where(Person.agency_id == agency_id, Person.id.in_(chunk))).scalars():
            found[p.id] = p
    for chunk in _chunks(record_ids):
        for p in db.execute(select(Person).where(Person.agency_id == agency_id,
                                                 Person.record_id.in_(chunk))).scalars():
            found[p.id] = p
    return sorted(found.values(), key=lambda p: p.record_id)


def _name(given, middle, surname) -> str | None:
    return " ".join(x for x in (given, middle, surname) if x) or None


def _date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _full_view(p: Person, agency: Agency, level: str, linked: dict[str, dict[int, list]], entity: str | None,
               matched: tuple[str, ...] = ()) -> net.PersonView:
    addresses = [net.AddressView(a.get("street_address"), a.get("city"), a.get("province"), a.get("postal_code"))
                 for a in (p.addresses or [])]
    addresses += [net.AddressView(loc.street_address, loc.city, loc.province, loc.postal_code, loc.first_seen)
                  for loc in linked["location"].get(p.id, [])]
    phones = list(p.phones or []) + [ph.number for ph in linked["phone"].get(p.id, [])]
    return net.PersonView(
        agency=agency.code, agency_name=agency.name, record_id=p.record_id, level=level, entity_id=entity,
        jurisdiction=agency.province, contact=_contact(agency), record_pk=p.id,
        name=_name(p.given_name, p.middle_name, p.surname),
        aliases=tuple(n for a in (p.aliases or []) if (n := _name(a.get("given_name"), a.get("middle_name"),
                                                                     a.get("surname")))),
        date_of_birth=_date(p.date_of_birth), sex=p.sex, phones=tuple(dict.fromkeys(phones)),
        emails=tuple(p.emails or ()), addresses=tuple(addresses),
        handles=tuple(net.HandleView(h.platform, h.handle, "ad" if h.ad_url else "handle")
                      for h in linked["handle"].get(p.id, [])),
        vehicles=tuple(net.VehicleView(v.plate, v.plate_province, " ".join(x for x in (v.colour, v.make, v.model) if x)
                                       or None) for v in linked["vehicle"].get(p.id, [])),
        occurrences=tuple(net.OccurrenceView(rid, on, jurisdiction, None, tuple(offences), role)
                          for rid, on, jurisdiction, offences, role in linked["occurrence"].get(p.id, [])),
        matched=matched)


def _summary_view(p: Person, agency: Agency, linked: dict[str, dict[int, list]], entity: str | None,
                  matched: tuple[str, ...]) -> net.PersonView:
    """Summary level: sex, year of birth, city and province, offence codes, record counts — nothing else (not
    even the record id: the view gets an opaque key)."""
    dob = _date(p.date_of_birth)
    opaque = "summary-" + _opaque(agency, p)
    places = [net.AddressView(None, a.get("city"), a.get("province"), None) for a in (p.addresses or [])]
    offences = sorted({code for row in linked["occurrence"].get(p.id, []) for code in row[3]})
    counts = {c: len(linked[c].get(p.id, [])) for c in LINKED if linked[c].get(p.id)}
    return net.PersonView(agency=agency.code, agency_name=agency.name, record_id=opaque, level=net.SUMMARY,
                          entity_id=entity, jurisdiction=agency.province, contact=_contact(agency), sex=p.sex,
                          birth_year=dob.year if dob else None, addresses=tuple(places), offences=tuple(offences),
                          counts=counts, matched=matched)


def _hit_view(p: Person, agency: Agency, entity: str | None, matched: tuple[str, ...]) -> net.PersonView:
    """Hit/no-hit: the other agency's name and whom to contact.  The record id stays server-side: the view
    gets an opaque key."""
    opaque = "hit-" + _opaque(agency, p)
    return net.PersonView(agency=agency.code, agency_name=agency.name, record_id=opaque, level=net.HIT,
                          entity_id=entity, jurisdiction=agency.province, contact=_contact(agency), matched=matched)


def _opaque(agency: Agency, p: Person) -> str:
    """A stable key for a record whose id the viewer may not see (keyed digest: not guessable from ids)."""
    return keyring().blind_index(f"{agency.id}:{p.id}", domain="sharing-network-record")[:16]


def _contact(agency: Agency) -> str | None:
    return " · ".join(x for x in (agency.contact_name, agency.contact_email, agency.contact_phone) if x) or None


def _own_digest_nodes(persons: list[Person], linked: dict[str, dict[int, list]]) -> dict[tuple[str, str], str]:
    """(space, blind index) → graph node key, from the viewer's own records (their plaintext, the ingest's rule)."""
    nodes: dict[tuple[str, str], str] = {}
    for p in persons:
        for phone in p.phones or []:
            if (number := net.normal_phone(phone)):
                nodes[("phone", blind("phone", phone))] = f"phone:{number}"
        for email in p.emails or []:
            if (mail := net.normal_email(email)):
                nodes[("email", blind("email", email))] = f"email:{mail}"
    for rows in linked["phone"].values():
        for row in rows:
            if (number := net.normal_phone(row.number)):
                nodes[("phone", row.number_bi)] = f"phone:{number}"
    for rows in linked["handle"].values():
        for row in rows:
            view = net.HandleView(row.platform, row.handle, "ad" if row.ad_url else "handle")
            if (key := net.handle_key(view)):
                nodes[("handle", row.handle_bi)] = f"{view.kind}:{key}"
    for rows in linked["vehicle"].values():
        for row in rows:
            if (key := net.vehicle_key(net.VehicleView(row.plate, row.plate_province))):
                nodes[("vehicle", row.plate_bi)] = f"vehicle:{key}"
    for rows in linked["location"].values():
        for row in rows:
            if row.address_bi and (key := net.address_key(net.AddressView(row.street_address, row.city, row.province,
                                                                             row.postal_code))):
                nodes[("address", row.address_bi)] = f"address:{key}"
    return nodes


def build(db: Session, actor: Actor, *, purpose: str | None, scope: str = "overview",
          only_person: int | None = None) -> Network:
    """The viewer's network.  ``purpose`` None: the viewer's own agency's records only."""
    purpose = check_purpose(purpose)
    viewer = access.viewer(db, actor)
    me = db.get(Agency, viewer.agency_id)
    found = _discover(db, viewer.agency_id, only_person=only_person)

    own = _persons(db, viewer.agency_id, ids=found.own_person_ids)
    own_linked = _linked_rows(db, viewer.agency_id, [p.id for p in own], set(LINKED))
    persons = [_full_view(p, me, net.OWN, own_linked, found.entity_of.get((me.id, p.record_id))) for p in own]
    digest_nodes = _own_digest_nodes(own, own_linked)

    shared: list[AgencyAccess] = []
    if purpose:
        owners = sorted(set(found.other_records) | set(found.other_persons))
        for owner_id in owners:
            shared_views = _other_agency(db, actor, viewer, owner_id, purpose, found, digest_nodes, scope)
            if shared_views:
                owner = db.get(Agency, owner_id)
                best = max((v.level for v in shared_views), key=lambda lvl: LEVEL_RANK[lvl])
                shared.append(AgencyAccess(owner.id, owner.code, owner.name, best, len(shared_views)))
                persons += shared_views
    graph = net.build_graph(persons)
    groups = net.groups(graph, min_persons=1)
    audit(db, actor, "list", "sharing_network", scope, purpose=purpose,
          detail={"own_records": len(own), "other_agencies": [a.id for a in shared],
                  "other_records": sum(a.records for a in shared), "groups": len(groups)})
    result = Network(viewer, purpose, persons, graph, groups, shared, access.purposes_in_force(db, viewer.agency_id))
    db.commit()
    return result


def _other_agency(db: Session, actor: Actor, viewer: access.Viewer, owner_id: int, purpose: str, found: _Discovery,
                  digest_nodes: dict, scope: str) -> list[net.PersonView]:
    person_level = access.level(db, viewer.agency_id, owner_id, "person", purpose)
    if person_level is None:
        return []  # no agreement in force for this purpose: nothing, not even that a record exists
    access.require(db, viewer.agency_id, owner_id, "person", purpose, actor=actor, record_type="sharing_network",
                   record_id=scope)
    owner = db.get(Agency, owner_id)
    people = _persons(db, owner_id, ids=found.other_persons.get(owner_id, ()),
                      record_ids=found.other_records.get(owner_id, ()))
    levels = {p.id: person_level.value for p in people}
    category_levels = {c: access.level(db, viewer.agency_id, owner_id, c, purpose) for c in LINKED}
    # a summary's offence codes and record counts come from the linked records: only categories the agreement
    # covers at summary level or more are read (a category shared at hit level says nothing beyond a hit)
    wanted = {c for c, lvl in category_levels.items() if lvl is not None and LEVEL_RANK[lvl] >= LEVEL_RANK["summary"]}
    detailed = [p.id for p in people if levels[p.id] != net.HIT]
    linked = _linked_rows(db, owner_id, detailed, wanted if detailed else set())
    views = []
    used_categories: set[str] = set()
    for p in people:
        entity = found.entity_of.get((owner_id, p.record_id))
        allowed = {**category_levels, "person": person_level}
        matched = tuple(sorted({digest_nodes[(space, d)] for space, c, d in found.matched.get((owner_id, p.id), ())
                                if (space, d) in digest_nodes and allowed.get(c) is not None}))
        if entity is None and not matched:
            continue  # related only through an attribute its agreement does not cover
        level = levels[p.id]
        if level == "full":
            full_linked = {c: (linked[c] if category_levels[c] == "full" else {}) for c in LINKED}
            used_categories |= {c for c in LINKED if full_linked[c].get(p.id)}
            views.append(_full_view(p, owner, net.FULL, full_linked, entity, matched))
        elif level == "summary":
            used_categories |= {c for c in LINKED if linked[c].get(p.id)}
            views.append(_summary_view(p, owner, linked, entity, matched))
        else:
            views.append(_hit_view(p, owner, entity, matched))
        used_categories |= {c for _s, c, _d in found.matched.get((owner_id, p.id), ())
                            if c != "person" and category_levels.get(c)}
    for category in sorted(used_categories):
        access.require(db, viewer.agency_id, owner_id, category, purpose, actor=actor, record_type="sharing_network",
                       record_id=scope)
    return views


# -- pages' questions ----------------------------------------------------------------------------------------
def group(db: Session, actor: Actor, gid: str, *, purpose: str | None) -> tuple[Network, net.Group]:
    network = build(db, actor, purpose=purpose, scope=gid)
    found = next((g for g in network.groups if g.id == gid), None)
    if found is None:
        raise NotFound()
    return network, found


@dataclass
class Movement:
    network: Network
    person: net.PersonView
    group: net.Group
    records: list[net.PersonView]  # the same person: the record and the visible records of its entity
    events: list[net.Event]
    moves: list[tuple[net.Event, net.Event]]


def movement(db: Session, actor: Actor, person_id: int, *, purpose: str | None) -> Movement:
    """An own person record's movement over time: its dated places and those of the records linkage put in the
    same entity that the viewer may see for ``purpose``."""
    purpose = check_purpose(purpose)
    viewer = access.viewer(db, actor)
    own = db.execute(select(Person.id).where(Person.id == person_id, Person.agency_id == viewer.agency_id)).first()
    if own is None:
        raise NotFound()
    network = build(db, actor, purpose=purpose, scope=f"person:{person_id}", only_person=person_id)
    person = next(p for p in network.persons if p.record_pk == person_id and p.level == net.OWN)
    same = [p for p in network.persons if p.key == person.key or (person.entity_id and p.entity_id == person.entity_id)]
    events = net.timeline(same)
    return Movement(network, person, net.group_of(network.graph, person.key), same, events, net.movements(events))
