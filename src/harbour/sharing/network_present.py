"""How network data is shown, once for the pages and the JSON API.

The service has already reduced every record to what its viewer may see (:class:`network.PersonView`);
this module only chooses field names and drops what is empty.  A hit-only record becomes the sentence
"another agency holds a matching record" with that agency's name and contact, never a record id.
"""

from __future__ import annotations

import networkx as nx

from harbour.core.choices import Province
from harbour.core.i18n import N_, gettext
from harbour.sharing import network as net
from harbour.sharing.choices import OFFENCES, Purpose

LEVEL_LABELS = {
    net.OWN: N_("Your agency's record"),
    net.FULL: N_("Full record (agreement)"),
    net.SUMMARY: N_("Summary (agreement)"),
    net.HIT: N_("Hit: another agency holds a matching record"),
}
HIT_MESSAGE = N_("Another agency holds a matching record. Contact them for more.")


def level_label(level: str) -> str:
    return gettext(LEVEL_LABELS[level])


def province_label(code: str | None) -> str:
    return Province(code).label if code in Province.codes() else (code or "")


def offence_label(code: str) -> str:
    return gettext(OFFENCES[code]) if code in OFFENCES else code


def purpose_options(codes: list[str]) -> list[tuple[str, str]]:
    labels = dict(Purpose.options())
    return [(c, labels[c]) for c in codes if c in labels]


def person_json(p: net.PersonView) -> dict:
    base = {"key": p.key, "level": p.level, "agency": p.agency, "agency_name": p.agency_name}
    if p.level == net.HIT:
        return {**base, "message": gettext(HIT_MESSAGE), "contact": p.contact,
                "jurisdiction": p.jurisdiction}
    if p.level == net.SUMMARY:
        return {**base, "contact": p.contact, "sex": p.sex, "birth_year": p.birth_year,
                "places": [{"city": a.city, "province": a.province} for a in p.addresses],
                "offence_codes": list(p.offences), "record_counts": dict(p.counts)}
    out = {**base, "record_id": p.record_id, "name": p.name, "aliases": list(p.aliases),
           "date_of_birth": p.date_of_birth.isoformat() if p.date_of_birth else None, "sex": p.sex,
           "phones": list(p.phones), "emails": list(p.emails),
           "addresses": [{"street_address": a.street, "city": a.city, "province": a.province,
                          "postal_code": a.postal_code, "since": a.since.isoformat() if a.since else None}
                         for a in p.addresses],
           "handles": [{"platform": h.platform, "handle": h.handle, "kind": h.kind} for h in p.handles],
           "vehicles": [{"plate": v.plate, "province": v.province, "description": v.description} for v in p.vehicles],
           "occurrences": [{"id": o.id, "occurred_on": o.occurred_on.isoformat() if o.occurred_on else None,
                            "jurisdiction": o.province, "offence_codes": list(o.offences), "role": o.role}
                           for o in p.occurrences]}
    if p.level != net.OWN:
        out["contact"] = p.contact
    return out


def group_json(g: net.Group) -> dict:
    return {"id": g.id, "provinces": g.provinces, "multi_province": g.multi_province, "agencies": g.agencies,
            "persons": len(g.persons), "nodes": g.size, "kinds": g.kinds}


def graph_json(graph: nx.Graph) -> dict:
    nodes = []
    for node, data in sorted(graph.nodes(data=True)):
        item = {"id": node, "kind": data["kind"], "label": data["label"], "provinces": sorted(data["provinces"])}
        if data["kind"] == "person":
            item |= {"level": data["level"], "agency": data["agency"]}
        if data["kind"] == "occurrence":
            item |= {"occurred_on": data["on"].isoformat() if data.get("on") else None,
                     "offence_codes": list(data.get("offences", ()))}
        nodes.append(item)
    edges = [{"source": a, "target": b, "kind": d.get("kind")} for a, b, d in sorted(
        (tuple(sorted((a, b))) + (d,) for a, b, d in graph.edges(data=True)), key=lambda e: (e[0], e[1]))]
    return {"nodes": nodes, "edges": edges}


def event_json(e: net.Event) -> dict:
    return {"date": e.on.isoformat(), "kind": e.kind, "province": e.province, "city": e.city, "agency": e.agency,
            "agency_name": e.agency_name, "offence_codes": list(e.offences), "occurrence_id": e.occurrence_id}
