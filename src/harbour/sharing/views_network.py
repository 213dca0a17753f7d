"""Network pages: connected groups across provinces, one group's graph, one person's movement over time.

Thin routes: parse, call :mod:`harbour.sharing.network_service` (which applies the access gate and audits),
render.  Nothing of another agency reaches a template unless the service put it in a ``PersonView``.
"""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam

from harbour.core.i18n import N_, gettext
from harbour.core.security import DbSession, WebUser, verify_csrf
from harbour.core.types import IdPath
from harbour.core.web import render
from harbour.sharing import network as net
from harbour.sharing import network_present as present
from harbour.sharing import network_service as service
from harbour.sharing import network_svg

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
PurposeQ = Annotated[str | None, Query(max_length=40)]
GroupId = Annotated[str, PathParam(pattern=r"^g[0-9a-f]{12}$")]
MAX_LISTED = 200


def _vocab(network: service.Network, purpose: str | None) -> dict:
    return {
        "purpose": purpose,
        "purposes": present.purpose_options(network.purposes),
        "shared": network.shared,
        "level_label": present.level_label,
        "province_label": present.province_label,
        "offence_label": present.offence_label,
        "kind_label": lambda k: gettext(network_svg.KIND_STYLE[k][2]),
        "hit_message": gettext(present.HIT_MESSAGE),
        "q": lambda **extra: "?" + urlencode({k: v for k, v in {"purpose": purpose, **extra}.items() if v}),
        "levels": net,
    }


@router.get("/console/sharing/network")
def overview(request: Request, who: WebUser, db: DbSession, purpose: PurposeQ = None,
             show: Literal["multi", "all"] = "multi"):
    network = service.build(db, who.actor, purpose=purpose or None)
    groups = [g for g in network.groups if show == "all" or g.multi_province]
    multi = sum(1 for g in network.groups if g.multi_province)
    return render(request, "sharing/network.html", {
        **_vocab(network, network.purpose), "active": "sharing_network", "groups": groups[:MAX_LISTED],
        "more": max(0, len(groups) - MAX_LISTED), "show": show, "multi_count": multi,
        "total_count": len(network.groups), "own_count": sum(1 for p in network.persons if p.level == net.OWN)})


@router.get("/console/sharing/network/groups/{gid}")
def group_page(request: Request, who: WebUser, db: DbSession, gid: GroupId, purpose: PurposeQ = None):
    network, group = service.group(db, who.actor, gid, purpose=purpose or None)
    sub = network.graph.subgraph(group.nodes)
    q = _vocab(network, network.purpose)["q"]

    def href(node, data):
        person = network.person(node) if data["kind"] == "person" else None
        if person is not None and person.level == net.OWN and person.record_pk:
            return f"/console/sharing/network/persons/{person.record_pk}{q()}"
        return None

    title = gettext(N_("Connected group across %(provinces)s"), provinces=", ".join(group.provinces))
    svg = network_svg.graph_svg(sub, title=title, href=href)
    persons = [network.person(k) for k in group.persons]
    attributes = sorted(((d["kind"], d["label"], sorted(d["provinces"]), sub.degree(n))
                         for n, d in sub.nodes(data=True) if d["kind"] not in ("person", "entity")),
                        key=lambda row: (row[0], row[1]))
    return render(request, "sharing/network_group.html", {
        **_vocab(network, network.purpose), "active": "sharing_network", "group": group, "svg": svg, "title": title,
        "persons": persons, "attributes": attributes, "too_big": svg is None})


@router.get("/console/sharing/network/persons/{person_id}")
def movement_page(request: Request, who: WebUser, db: DbSession, person_id: IdPath, purpose: PurposeQ = None):
    result = service.movement(db, who.actor, person_id, purpose=purpose or None)
    title = gettext(N_("Movement over time"))
    chart = network_svg.movement_chart(result.events, title=title)
    return render(request, "sharing/network_person.html", {
        **_vocab(result.network, result.network.purpose), "active": "sharing_network", "result": result,
        "person": result.person, "records": result.records, "events": result.events, "moves": result.moves,
        "chart": chart, "group": result.group})
