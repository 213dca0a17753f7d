"""`harbour demo`'s sharing part on SQLite and PostgreSQL: agencies, members, agreements in every state, records,
linkage across agencies, hits, disclosure requests, the network's multi-province groups; loading twice adds
nothing.  Everything is synthetic and fictional."""

from __future__ import annotations

from collections import defaultdict

import pytest
from sqlalchemy import func, select
from tests.conftest import actor_of

from harbour.core.models import User
from harbour.sharing import access, network_service
from harbour.sharing import network as net
from harbour.sharing.demo import MEMBERS, load_sharing_demo, sharing_demo_logins
from harbour.sharing.demo_people import AGENCIES
from harbour.sharing.models import Agency, Agreement, DisclosureRequest, EntityMember, Hit, Person

pytestmark = pytest.mark.slow

EXPECTED_STATES = {
    "DEMO-MOU-ONQC-FULL": ("active", "full"), "DEMO-MOU-TPS-SPVM": ("active", "summary"),
    "DEMO-MOU-MUNI-HIT": ("active", "hit"), "DEMO-MOU-TPS-WPS-2022": ("expired", "full"),
    "DEMO-MOU-TPS-BSA": ("revoked", "full"), "DEMO-MOU-TPS-FIU": ("draft", "summary"),
    "DEMO-MOU-SPVM-HRP": ("suspended", "summary"),
}


def _user(db, username: str) -> User:
    return db.execute(select(User).where(User.username == username)).scalar_one()


def test_sharing_demo_loads_links_and_shows_multi_province_groups(db, client):
    counts = load_sharing_demo(db, seed=2026)
    assert counts["sharing agencies"] == len(AGENCIES) == db.execute(select(func.count(Agency.id))).scalar_one()
    assert all("(fictional" in a.name for a in db.execute(select(Agency)).scalars())
    assert counts["sharing records"] == db.execute(select(func.count(Person.id))).scalar_one() >= 200

    # the two existing agency-role demo logins work for two different police services
    assert access.agency_of(db, _user(db, "demo-analyst")).code == "DEMO-TPS"
    assert access.agency_of(db, _user(db, "demo-steward")).code == "DEMO-SPVM"
    for username, code, *_ in MEMBERS:
        assert access.agency_of(db, _user(db, username)).code == code
    assert {u for u, _p, _r in sharing_demo_logins()} >= {"demo-tps-steward", "demo-spvm-analyst"}
    assert all(p == f"{u}-pass" for u, p, _r in sharing_demo_logins())

    by_ref = {a.reference: a for a in db.execute(select(Agreement)).scalars()}
    for ref, (state, level) in EXPECTED_STATES.items():
        assert access.effective_status(by_ref[ref]) == state, ref
        assert by_ref[ref].disclosure_level == level, ref

    # linkage found the travellers across agencies: most of their records share one entity
    entity_of = {(m.agency_id, m.record_id): m.entity_id for m in db.execute(select(EntityMember)).scalars()}
    codes = {a.id: a.code for a in db.execute(select(Agency)).scalars()}
    from harbour.sharing.demo_people import generate

    identities = defaultdict(list)
    for rec in generate(2026):
        identities[rec.identity].append(rec)
    ids = {code: aid for aid, code in codes.items()}
    linked_travellers = 0
    for key, recs in identities.items():
        if key.startswith("traveller-"):
            entities = [entity_of.get((ids[r.agency], r.record_id)) for r in recs]
            linked_travellers += max(entities.count(e) for e in set(entities)) >= 2
    assert linked_travellers >= 6
    assert counts["sharing matches"] > 0 and counts["sharing hits"] > 0
    tps = ids["DEMO-TPS"]
    assert db.execute(select(func.count(Hit.id)).where(Hit.agency_id == tps)).scalar_one() > 0
    requests = {r.status: r for r in db.execute(select(DisclosureRequest)).scalars()}
    assert set(requests) == {"approved", "pending"} and requests["approved"].level_granted == "summary"

    # the network: Toronto's analyst sees groups across several provinces, with every disclosure level
    network = network_service.build(db, actor_of(_user(db, "demo-analyst")), purpose="investigation")
    multi = [g for g in network.groups if g.multi_province]
    assert multi and max(len(g.provinces) for g in multi) >= 3
    levels = {p.level for p in network.persons}
    assert levels == {net.OWN, net.FULL, net.SUMMARY, net.HIT}
    shared = {a.code: a.level for a in network.shared}
    assert shared.get("DEMO-HRP") == "hit" and shared.get("DEMO-SPVM") == "summary"
    assert "DEMO-WPS" not in shared and "DEMO-BSA" not in shared and "DEMO-FIU" not in shared  # expired/revoked/draft

    # idempotent
    before = db.execute(select(func.count(Person.id))).scalar_one()
    assert load_sharing_demo(db, seed=2026) == {}
    assert db.execute(select(func.count(Person.id))).scalar_one() == before
    assert db.execute(select(func.count(Agreement.id))).scalar_one() == len(by_ref)
