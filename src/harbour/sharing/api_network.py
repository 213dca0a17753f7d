"""JSON API of the network view under /api/v1/sharing/network: parse, check the token's scope, call the service.

Other agencies' records appear only when ``purpose`` is given and an agreement in force allows it (the
service applies the access gate and audits); bad input is a 4xx with a JSON message.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi import Path as PathParam

from harbour.core.choices import ApiScope
from harbour.core.security import ApiUser, DbSession
from harbour.core.types import IdPath
from harbour.sharing import network_present as present
from harbour.sharing import network_service as service

router = APIRouter(prefix="/api/v1/sharing/network", tags=["sharing"])
PurposeQ = Annotated[str | None, Query(max_length=40, description="a purpose code the viewer's agreements list, "
                                                                   "e.g. investigation; omitted: own records only")]
GroupId = Annotated[str, PathParam(pattern=r"^g[0-9a-f]{12}$", description="a group id from the group list")]


def _shared(network: service.Network) -> list[dict]:
    return [{"agency": a.code, "name": a.name, "level": a.level, "records": a.records} for a in network.shared]


@router.get("")
def groups(db: DbSession, who: ApiUser, purpose: PurposeQ = None,
           min_provinces: Annotated[int, Query(ge=1, le=13)] = 2,
           limit: Annotated[int, Query(ge=1, le=500)] = 100) -> dict:
    """Connected groups (widest spread first) with at least ``min_provinces`` provinces/territories."""
    network = service.build(db, who.actor_for(ApiScope.sharing_read), purpose=purpose or None)
    found = [g for g in network.groups if len(g.provinces) >= min_provinces]
    return {"purpose": network.purpose, "purposes": network.purposes, "shared": _shared(network),
            "total": len(found), "groups": [present.group_json(g) for g in found[:limit]]}


@router.get("/groups/{gid}")
def group(db: DbSession, who: ApiUser, gid: GroupId, purpose: PurposeQ = None) -> dict:
    """One group: its graph (nodes and edges) and its person records as the viewer may see them."""
    network, found = service.group(db, who.actor_for(ApiScope.sharing_read), gid, purpose=purpose or None)
    return {"purpose": network.purpose, "shared": _shared(network), "group": present.group_json(found),
            "persons": [present.person_json(network.person(k)) for k in found.persons],
            **present.graph_json(network.graph.subgraph(found.nodes))}


@router.get("/persons/{person_id}/movement")
def movement(db: DbSession, who: ApiUser, person_id: IdPath, purpose: PurposeQ = None) -> dict:
    """One of the viewer's own person records: its dated places and those of the same person's records the
    viewer may see, oldest first, and the moves between provinces/territories."""
    result = service.movement(db, who.actor_for(ApiScope.sharing_read), person_id, purpose=purpose or None)
    return {"purpose": result.network.purpose, "shared": _shared(result.network),
            "person": present.person_json(result.person),
            "records": [present.person_json(p) for p in result.records],
            "group": result.group.id if result.group else None,
            "events": [present.event_json(e) for e in result.events],
            "moves": [{"from": present.event_json(a), "to": present.event_json(b)} for a, b in result.moves]}
