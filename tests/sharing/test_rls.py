"""Isolation in depth on PostgreSQL: the application's role is not superuser, has no BYPASSRLS and owns no
table; connected as that role, agency A cannot read or write agency B's rows even with raw SQL, and can
read them — with an agreement — only through the service's access gate."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from tests.conftest import actor_of
from tests.sharing.conftest import ingest_people, make_agreement, person_row

from harbour.core.db import make_sessionmaker
from harbour.core.errors import Forbidden
from harbour.sharing import hits, linking, records, rls


@pytest.fixture
def app_role(backend, settings):
    kind, _info = backend
    if kind != "postgresql":
        pytest.skip("row-level security and database roles are PostgreSQL features")
    name = f"harbour_app_{uuid.uuid4().hex[:8]}"
    done = rls.create_app_role(settings.database_url, name, None)
    assert any("role" in line for line in done)
    url = make_url(settings.database_url).set(username=name, password=None)
    engine = create_engine(url.render_as_string(hide_password=False))
    yield name, engine
    engine.dispose()
    admin = create_engine(settings.database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP OWNED BY "{name}"'))
        conn.execute(text(f'DROP ROLE "{name}"'))
    admin.dispose()


@pytest.fixture
def two_agencies(db, world):
    ingest_people(db, world.analyst["TPS"], [person_row("TPS", "T-1"), person_row("TPS", "T-2", given="Bea")])
    ingest_people(db, world.analyst["SPVM"], [person_row("SPVM", "S-1", city="Montreal", province="QC")])
    return world


def test_app_role_is_not_privileged(app_role, db):
    name, engine = app_role
    with engine.connect() as conn:
        facts = rls.role_facts(conn, name)
        assert facts == {"superuser": False, "bypassrls": False, "owns_tables": 0}
        assert conn.execute(text("SELECT current_user")).scalar_one() == name
        forced = conn.execute(text("SELECT relname FROM pg_class WHERE relname = 'sharing_person' "
                                   "AND relrowsecurity AND relforcerowsecurity")).scalar_one_or_none()
        assert forced == "sharing_person"


def test_raw_sql_sees_only_the_acting_agency(app_role, two_agencies):
    _name, engine = app_role
    tps, spvm = two_agencies.agency["TPS"].id, two_agencies.agency["SPVM"].id
    with engine.begin() as conn:  # no acting agency: nothing at all
        assert conn.execute(text("SELECT count(*) FROM sharing_person")).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM sharing_person_key")).scalar_one() == 0
    with engine.begin() as conn:
        conn.execute(text("SELECT set_config('harbour.agency_id', :a, true)"), {"a": str(spvm)})
        assert conn.execute(text("SELECT record_id FROM sharing_person")).scalars().all() == ["S-1"]
        assert conn.execute(text("SELECT count(*) FROM sharing_person WHERE agency_id = :t"),
                            {"t": tps}).scalar_one() == 0
        assert conn.execute(text("SELECT count(*) FROM sharing_ingest_batch WHERE agency_id = :t"),
                            {"t": tps}).scalar_one() == 0
        # writes to the other agency's rows touch nothing
        assert conn.execute(text("UPDATE sharing_person SET sex = 'U' WHERE agency_id = :t"), {"t": tps}).rowcount == 0
        assert conn.execute(text("DELETE FROM sharing_person WHERE agency_id = :t"), {"t": tps}).rowcount == 0
    with engine.connect() as conn, pytest.raises(DBAPIError, match="row-level security"):
        with conn.begin():
            conn.execute(text("SELECT set_config('harbour.agency_id', :a, true)"), {"a": str(spvm)})
            conn.execute(text("INSERT INTO sharing_person (agency_id, record_id, source_system, ingested_at, "
                              "updated_at, content_hash, needs_linkage) VALUES (:t, 'FORGED', 'x', now(), now(), "
                              "'x', true)"), {"t": tps})
    with engine.begin() as conn:  # the setting is transaction-local: gone in the next transaction
        assert conn.execute(text("SELECT count(*) FROM sharing_person")).scalar_one() == 0
        # matches are server-side only, even for the agencies involved
        conn.execute(text("SELECT set_config('harbour.agency_id', :a, true)"), {"a": str(tps)})
        assert conn.execute(text("SELECT count(*) FROM sharing_match")).scalar_one() == 0


def test_through_the_service_only_with_an_agreement(app_role, two_agencies, db):
    _name, engine = app_role
    world = two_agencies
    factory = make_sessionmaker(engine)
    spvm = actor_of(world.analyst["SPVM"])
    with factory() as app_db:
        with pytest.raises(Forbidden):
            records.other_record(app_db, actor=spvm, agency_code="TPS", category="person", record_id="T-1",
                                 purpose="investigation")
        app_db.rollback()
        own, total = records.list_own(app_db, actor=spvm)
        assert [r.record_id for r in own] == ["S-1"] and total == 1
        app_db.commit()
    make_agreement(db, level="full")
    with factory() as app_db:
        got = records.other_record(app_db, actor=spvm, agency_code="TPS", category="person", record_id="T-1",
                                   purpose="investigation")
        assert got["fields"]["surname"] == "Testperson"
        app_db.commit()
        # the grant ended with that transaction: a plain query in the next one sees SPVM's rows only
        rows = app_db.execute(text("SELECT record_id FROM sharing_person ORDER BY record_id")).scalars().all()
        assert rows == ["S-1"]
        app_db.rollback()


def test_hits_and_disclosure_work_under_the_app_role(app_role, two_agencies, db):
    _name, engine = app_role
    world = two_agencies
    make_agreement(db, level="summary")
    factory = make_sessionmaker(engine)
    with factory() as app_db:  # the linkage service acts across agencies
        match, _ = linking.store_match(app_db, method="splink", key_a=(world.agency["TPS"].id, "T-1"),
                                       key_b=(world.agency["SPVM"].id, "S-1"), probability=0.99)
        with rls.across_agencies(app_db):
            assert len(hits.deliver(app_db, match)) == 2
        app_db.commit()
    with factory() as app_db:
        inbox = hits.inbox(app_db, actor=actor_of(world.analyst["SPVM"]))
        assert [h.record_id for h in inbox] == ["S-1"]
        req = hits.request_disclosure(app_db, actor=actor_of(world.analyst["SPVM"]), hit_id=inbox[0].id,
                                      purpose="investigation", level="summary", justification="Fictional")
        app_db.commit()
        rid = req.id
    with factory() as app_db:
        hits.decide(app_db, actor=actor_of(world.steward["TPS"]), request_id=rid, decision="approve")
        app_db.commit()
    with factory() as app_db:
        out = hits.disclosure(app_db, actor=actor_of(world.analyst["SPVM"]), request_id=rid)
        app_db.commit()
        assert out["fields"]["record_id"] == "T-1" and "surname" not in out["fields"]
