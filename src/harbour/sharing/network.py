"""The network view's graph: persons, phones, e-mails, addresses, online handles/ads, vehicles and occurrences.

Pure functions over *already filtered* inputs: a :class:`PersonView` carries only what its viewer is
entitled to see (the service builds them through the sharing access gate: the viewer's own records in
full, other agencies' records at the disclosure level their agreement allows).  Nothing here reads the
database, so the rules that matter for entitlement live in one place (``network_service``) and the
graph rules are testable on small hand-built inputs.

Graph rules:

* one node per person record (``person``), per normalised phone (E.164), e-mail, street address
  (street + postal code, or street + city + province), online handle/ad (platform + handle), vehicle
  (plate + province) and occurrence;
* a person record is joined to every attribute it carries, and records that linkage put in the same
  cross-agency entity are joined through an ``entity`` node (only when the viewer sees two or more of
  them: an entity never reveals a record the viewer may not know about);
* a record seen at hit/no-hit or summary level is never joined to a phone, e-mail, address, handle or
  vehicle node: it is joined through its entity, or — when the server matched it on such an attribute by
  blind index — straight to the viewer's records holding that attribute ("matches this record"), so no
  edge tells the viewer which phone or address the other record holds;
* the provinces of a connected group are those of its addresses, occurrences and vehicle plates, and,
  for records with none of these (hit-only records included), the jurisdiction of the holding agency.
  A group spans several provinces/territories when it has two or more.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

import networkx as nx

from harbour.core.choices import Province
from harbour.sharing.normalise import phone_e164

# disclosure levels as the network sees them ("own": the viewer's own agency)
OWN, FULL, SUMMARY, HIT = "own", "full", "summary", "hit"
LEVELS = (OWN, FULL, SUMMARY, HIT)
NODE_KINDS = ("person", "entity", "phone", "email", "address", "handle", "vehicle", "occurrence")
PROVINCES = frozenset(Province.codes())


@dataclass(frozen=True)
class AddressView:
    street: str | None = None
    city: str | None = None
    province: str | None = None
    postal_code: str | None = None
    since: date | None = None  # when the record places the person there (record or report date)


@dataclass(frozen=True)
class OccurrenceView:
    id: str  # the owning agency's occurrence number
    occurred_on: date | None = None
    province: str | None = None
    city: str | None = None
    offences: tuple[str, ...] = ()
    role: str | None = None  # the person's role in it (suspect, victim, witness...) when known


@dataclass(frozen=True)
class HandleView:
    platform: str
    handle: str
    kind: str = "handle"  # "handle" or "ad"


@dataclass(frozen=True)
class VehicleView:
    plate: str
    province: str | None = None
    description: str | None = None  # make, model, colour


@dataclass
class PersonView:
    """One person record as its viewer may see it.  At ``hit`` level only the first block is filled."""

    agency: str  # holding agency's code
    agency_name: str
    record_id: str
    level: str  # OWN, FULL, SUMMARY or HIT
    entity_id: str | None = None
    jurisdiction: str | None = None  # the holding agency's province/territory (None: national)
    contact: str | None = None  # whom to contact at the holding agency (hit notices)
    name: str | None = None
    aliases: tuple[str, ...] = ()
    date_of_birth: date | None = None
    birth_year: int | None = None
    sex: str | None = None
    phones: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    addresses: tuple[AddressView, ...] = ()
    handles: tuple[HandleView, ...] = ()
    vehicles: tuple[VehicleView, ...] = ()
    occurrences: tuple[OccurrenceView, ...] = ()
    recorded_on: date | None = None  # date of the record (ingest or report), for the timeline
    record_pk: int | None = None  # the database id, for links to the record page (own/full only)
    offences: tuple[str, ...] = ()  # summary level: offence codes of the record's occurrences
    counts: dict[str, int] = field(default_factory=dict)  # summary level: records per category
    # graph node keys of the viewer's attributes this record matched (same phone/handle/plate/address by
    # blind index): a hit-only or summary record is joined to the viewer's records holding them, never to
    # the attribute itself
    matched: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return person_key(self.agency, self.record_id)

    @property
    def hidden(self) -> bool:
        return self.level == HIT


def person_key(agency: str, record_id: str) -> str:
    return f"person:{agency}:{record_id}"


# -- normalisation ---------------------------------------------------------------------------------
def _fold(text: str | None) -> str:
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    return re.sub(r"[^a-z0-9]+", " ", text).strip()


def normal_phone(raw: str | None) -> str | None:
    """E.164 (the linkage's own rule, :func:`harbour.sharing.normalise.phone_e164`), else None."""
    return phone_e164(raw) if raw and raw.strip() else None


def normal_email(raw: str | None) -> str | None:
    raw = (raw or "").strip().lower()
    return raw if "@" in raw and "." in raw.rsplit("@", 1)[-1] else None


def normal_province(raw: str | None) -> str | None:
    code = (raw or "").strip().upper()
    return code if code in PROVINCES else None


def address_key(address: AddressView) -> str | None:
    """Street + postal code (or street + city + province).  A city alone is not an address: joining
    everyone who lives in the same city would invent connections."""
    street = _fold(address.street)
    if not street:
        return None
    postal = re.sub(r"\s+", "", (address.postal_code or "").upper())
    if postal:
        return f"{street}|{postal}"
    city = _fold(address.city)
    province = normal_province(address.province)
    return f"{street}|{city}|{province}" if city and province else None


def handle_key(handle: HandleView) -> str | None:
    platform, name = _fold(handle.platform), (handle.handle or "").strip().lower().lstrip("@")
    return f"{platform}:{name}" if platform and name else None


def vehicle_key(vehicle: VehicleView) -> str | None:
    plate = re.sub(r"[^A-Z0-9]", "", (vehicle.plate or "").upper())
    return f"{normal_province(vehicle.province) or '--'}:{plate}" if plate else None


# -- graph -------------------------------------------------------------------------------------------
def build_graph(persons: list[PersonView]) -> nx.Graph:
    """The network of what the viewer sees.  Node attributes: ``kind``, ``label``, ``provinces`` (a set)
    and, on person nodes, ``level``, ``agency``, ``agency_name`` and ``entity``."""
    graph = nx.Graph()
    entity_members: dict[str, list[str]] = {}
    deferred: list[PersonView] = []
    for person in persons:
        if person.level not in LEVELS:
            raise ValueError(f"unknown disclosure level {person.level!r}")
        own_provinces = _record_provinces(person)
        graph.add_node(person.key, kind="person", label=_person_label(person), level=person.level,
                       agency=person.agency, agency_name=person.agency_name, entity=person.entity_id,
                       provinces=set(own_provinces))
        if person.entity_id:
            entity_members.setdefault(person.entity_id, []).append(person.key)
        if person.level in (HIT, SUMMARY):
            deferred.append(person)  # joined below, only to what the viewer already sees
        if person.hidden:
            continue  # nothing of a hit-only record joins the graph but its entity and its matched nodes
        for phone in person.phones:
            if (number := normal_phone(phone)):
                _attach(graph, person.key, f"phone:{number}", "phone", number, set())
        for email in person.emails:
            if (mail := normal_email(email)):
                _attach(graph, person.key, f"email:{mail}", "email", mail, set())
        for address in person.addresses:
            if (akey := address_key(address)):
                province = normal_province(address.province)
                label = ", ".join(p for p in (address.street, address.city, province) if p)
                _attach(graph, person.key, f"address:{akey}", "address", label, {province} - {None})
        for handle in person.handles:
            if (hkey := handle_key(handle)):
                _attach(graph, person.key, f"{handle.kind}:{hkey}", "handle",
                        f"{handle.platform}: {handle.handle}", set(), subkind=handle.kind)
        for vehicle in person.vehicles:
            if (vkey := vehicle_key(vehicle)):
                province = normal_province(vehicle.province)
                label = " ".join(p for p in (vkey.split(":", 1)[1], province and f"({province})") if p)
                _attach(graph, person.key, f"vehicle:{vkey}", "vehicle", label, {province} - {None})
        for occ in person.occurrences:
            province = normal_province(occ.province)
            label = " ".join(p for p in (occ.occurred_on.isoformat() if occ.occurred_on else None,
                                         occ.city, province and f"({province})") if p)
            _attach(graph, person.key, f"occurrence:{person.agency}:{occ.id}", "occurrence", label,
                    {province} - {None}, on=occ.occurred_on, offences=tuple(occ.offences))
    for person in deferred:
        # a hit or summary record never joins an attribute node (that would tell which phone or address it
        # holds): it joins the viewer's records holding the matched attribute, as "matches this record"
        for node in person.matched:
            if node in graph and graph.nodes[node]["kind"] not in ("person", "entity"):
                for holder in list(graph.neighbors(node)):
                    if graph.nodes[holder]["kind"] == "person" and graph.nodes[holder]["level"] in (OWN, FULL):
                        graph.add_edge(person.key, holder, kind="match")
    for entity_id, members in entity_members.items():
        if len(members) < 2:
            continue
        node = f"entity:{entity_id}"
        graph.add_node(node, kind="entity", label=entity_id, provinces=set())
        for member in members:
            graph.add_edge(member, node, kind="same_entity")
    return graph


def _attach(graph: nx.Graph, person: str, node: str, kind: str, label: str, provinces: set[str], **attrs) -> None:
    if node not in graph:
        graph.add_node(node, kind=kind, label=label, provinces=set(provinces), **attrs)
    else:
        graph.nodes[node]["provinces"] |= provinces
    graph.add_edge(person, node, kind=kind)


def _record_provinces(person: PersonView) -> set[str]:
    """Where a record places the person: its addresses, occurrences and plates; else the holding agency's
    jurisdiction (for a hit-only record that is all there is)."""
    found: set[str] = set()
    if not person.hidden:
        found |= {normal_province(a.province) for a in person.addresses}
        found |= {normal_province(o.province) for o in person.occurrences}
        found |= {normal_province(v.province) for v in person.vehicles}
        found.discard(None)
    if not found and normal_province(person.jurisdiction):
        found.add(normal_province(person.jurisdiction))
    return found


def _person_label(person: PersonView) -> str:
    if person.hidden or not person.name:
        return person.agency_name
    return person.name


# -- connected groups ------------------------------------------------------------------------------------
@dataclass
class Group:
    id: str
    nodes: set[str]
    provinces: list[str]  # sorted
    persons: list[str]  # person node keys, sorted
    agencies: list[str]  # holding agency codes, sorted
    kinds: dict[str, int] = field(default_factory=dict)  # node count per kind

    @property
    def multi_province(self) -> bool:
        return len(self.provinces) >= 2

    @property
    def size(self) -> int:
        return len(self.nodes)


def group_id(graph: nx.Graph, nodes) -> str:
    """A stable name for a connected group: a digest of its smallest visible person key (hit-only records are
    used only when there is nothing else), so a group keeps its name when more or less of other agencies'
    records are shown.  The key holds agency codes and record numbers only; the digest keeps even those out
    of URLs."""
    persons = [n for n in nodes if graph.nodes[n]["kind"] == "person"]
    visible = [n for n in persons if graph.nodes[n]["level"] != HIT]
    anchor = min(visible or persons or nodes)
    return "g" + hashlib.sha256(anchor.encode()).hexdigest()[:12]


def groups(graph: nx.Graph, *, min_provinces: int = 1, min_persons: int = 1) -> list[Group]:
    """Connected components as groups, the widest spread first (provinces, then agencies, then persons)."""
    out = []
    for component in nx.connected_components(graph):
        persons = sorted(n for n in component if graph.nodes[n]["kind"] == "person")
        if len(persons) < min_persons:
            continue
        provinces: set[str] = set()
        for node in component:
            provinces |= graph.nodes[node]["provinces"]
        if len(provinces) < min_provinces:
            continue
        agencies = sorted({graph.nodes[p]["agency"] for p in persons})
        kinds = Counter(graph.nodes[n]["kind"] for n in component)
        out.append(Group(group_id(graph, component), set(component), sorted(provinces), persons, agencies,
                         dict(sorted(kinds.items()))))
    out.sort(key=lambda g: (-len(g.provinces), -len(g.agencies), -len(g.persons), g.id))
    return out


def multi_province_groups(graph: nx.Graph) -> list[Group]:
    """Connected groups that span two or more provinces/territories."""
    return groups(graph, min_provinces=2, min_persons=1)


def find_group(graph: nx.Graph, gid: str) -> Group | None:
    return next((g for g in groups(graph) if g.id == gid), None)


def group_of(graph: nx.Graph, node: str) -> Group | None:
    if node not in graph:
        return None
    component = nx.node_connected_component(graph, node)
    return next(g for g in groups(graph.subgraph(component)))


# -- movement over time ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Event:
    on: date
    kind: str  # "occurrence", "address" or "record"
    province: str | None
    city: str | None
    agency: str
    agency_name: str
    record_id: str
    offences: tuple[str, ...] = ()
    occurrence_id: str | None = None


def timeline(persons: list[PersonView]) -> list[Event]:
    """Dated places of the given records, oldest first: occurrences, dated addresses and, for a record
    with neither, the record's own date at its first address or the agency's jurisdiction.  Hit-only
    records contribute nothing (their dates and places are not the viewer's to see)."""
    events: list[Event] = []
    for person in persons:
        if person.hidden:
            continue
        base = {"agency": person.agency, "agency_name": person.agency_name, "record_id": person.record_id}
        dated = False
        for occ in person.occurrences:
            if occ.occurred_on:
                events.append(Event(occ.occurred_on, "occurrence", normal_province(occ.province), occ.city,
                                    offences=tuple(occ.offences), occurrence_id=occ.id, **base))
                dated = True
        for address in person.addresses:
            if address.since:
                events.append(Event(address.since, "address", normal_province(address.province), address.city,
                                    **base))
                dated = True
        if not dated and person.recorded_on:
            first = person.addresses[0] if person.addresses else None
            province = normal_province(first.province) if first else None
            events.append(Event(person.recorded_on, "record", province or normal_province(person.jurisdiction),
                                first.city if first else None, **base))
    events.sort(key=lambda e: (e.on, e.agency, e.record_id, e.kind, e.occurrence_id or ""))
    return events


def movements(events: list[Event]) -> list[tuple[Event, Event]]:
    """Consecutive dated places in different provinces/territories: (from, to) pairs."""
    placed = [e for e in events if e.province]
    return [(a, b) for a, b in zip(placed, placed[1:], strict=False) if a.province != b.province]
