"""The network under PostgreSQL row-level security, connected as the application's role (not superuser, no
BYPASSRLS): linkage entities and blind-index matches are found server-side, and the other agency's record is
read only after the access gate allowed it.  Fictional people only."""

from __future__ import annotations

from sqlalchemy import text
from tests.conftest import actor_of
from tests.sharing.conftest import make_agreement
from tests.sharing.test_network_access import CATEGORIES, linked  # noqa: F401  (fixture)
from tests.sharing.test_rls import app_role  # noqa: F401  (fixture)

from harbour.core.db import make_sessionmaker
from harbour.sharing import network as net
from harbour.sharing import network_service


def test_network_under_the_app_role_both_ways(app_role, linked, db):  # noqa: F811
    _name, engine = app_role
    factory = make_sessionmaker(engine)
    tps = actor_of(linked.analyst["TPS"])
    with factory() as app_db:
        network = network_service.build(app_db, tps, purpose="investigation")
        assert {p.agency for p in network.persons} == {"TPS"}
        own = network.persons[0]
        assert own.name and own.entity_id == "E-test-1"  # the entity was read in cross-agency mode
    make_agreement(db, level="full", categories=CATEGORIES)
    with factory() as app_db:
        network = network_service.build(app_db, tps, purpose="investigation")
        other = [p for p in network.persons if p.agency == "SPVM"]
        assert [(p.level, p.name, p.entity_id) for p in other] == [(net.FULL, "Sashaqueen Uniquesurnamo", "E-test-1")]
        assert [h.handle for h in other[0].handles] == ["spvm_only_handle"]
        assert [g.provinces for g in network.groups if g.multi_province] == [["ON", "QC"]]
        # the grant ended with the service's transaction: plain SQL now sees Toronto's rows only
        rows = app_db.execute(text("SELECT DISTINCT agency_id FROM sharing_person")).scalars().all()
        assert rows == [linked.agency["TPS"].id]
        app_db.rollback()
