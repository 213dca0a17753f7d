"""Sharing console pages: each page renders for those entitled and refuses others; forms work end to end."""

from __future__ import annotations

import re

from sqlalchemy import select
from tests.conftest import csrf_of
from tests.sharing.conftest import PERSON_HEADER, deliver_hit, ingest_people, make_agreement, person_row

from harbour.sharing import hits, linking
from harbour.sharing.models import Agreement, DisclosureRequest, Person


def test_agency_member_pages(client, db, world, login):
    make_agreement(db, level="summary")
    deliver_hit(db, world)
    assert login(world.analyst["SPVM"]).status_code == 303
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/sharing"
    for path in ("/console/sharing", "/console/sharing/hits", "/console/sharing/requests", "/console/sharing/records",
                 "/console/sharing/records?category=occurrence", "/console/sharing/records/person/S-1",
                 "/console/sharing/ingest", "/console/sharing/agreements", "/console/sharing/pprl"):
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code)
    page = client.get("/console/sharing/hits").text
    assert "Fictional Toronto Police" in page and "desk@tps.example.org" in page and "T-1" not in page
    # records of another agency are not reachable as "ours"
    assert client.get("/console/sharing/records/person/T-1").status_code == 404
    # administration pages are for administrators
    assert client.get("/console/sharing/agencies").status_code == 403
    assert client.get("/console/sharing/agreements/new").status_code == 403


def test_upload_page_shows_the_row_report(client, db, world, login):
    login(world.analyst["TPS"])
    token = csrf_of(client, "/console/sharing/ingest")
    body = PERSON_HEADER + "T-1,TPS,Alexa,,Testperson,1990-04-12,F,,,,,,\nT-2,TPS,,,,1990-99-99,,,,,,,\n"
    r = client.post("/console/sharing/ingest", data={"csrf_token": token, "record_type": "person",
                                                     "source_system": "RMS-test"},
                    files={"file": ("people.csv", body.encode(), "text/csv")}, follow_redirects=True)
    assert r.status_code == 200 and "date_of_birth" in r.text and "people.csv" in r.text
    assert "1990-99-99" not in r.text  # never the value
    assert [p.record_id for p in db.execute(select(Person)).scalars()] == ["T-1"]
    r = client.post("/console/sharing/ingest", data={"csrf_token": token, "record_type": "person",
                                                     "source_system": "RMS-test"},
                    files={"file": ("bad.csv", b"a,b\n1,2\n", "text/csv")})
    assert r.status_code == 422 and "record_id" in r.text
    # without the CSRF token nothing happens
    r = client.post("/console/sharing/ingest", data={"record_type": "person", "source_system": "x"},
                    files={"file": ("p.csv", body.encode(), "text/csv")})
    assert r.status_code == 403


def test_request_and_decision_through_the_pages(client, db, world, login):
    make_agreement(db, level="full")
    deliver_hit(db, world)
    login(world.analyst["SPVM"])
    hit_id = hits.inbox(db, actor=world.actor(world.analyst["SPVM"]))[0].id
    token = csrf_of(client, f"/console/sharing/hits/{hit_id}")
    r = client.post(f"/console/sharing/hits/{hit_id}/request", data={"csrf_token": token, "purpose": "",
                                                                     "level": "summary", "justification": ""})
    assert r.status_code == 422 and "field-error" in r.text  # purpose and justification are required
    r = client.post(f"/console/sharing/hits/{hit_id}/request", data={
        "csrf_token": token, "purpose": "investigation", "level": "full", "justification": "Fictional joint file"}, follow_redirects=False)
    assert r.status_code == 303
    req = db.execute(select(DisclosureRequest)).scalar_one()
    client.post("/logout", data={"csrf_token": token})
    login(world.steward["TPS"])
    page = client.get(f"/console/sharing/requests/{req.id}")
    assert page.status_code == 200 and "T-1" in page.text  # the steward sees their own record
    token = csrf_of(client, f"/console/sharing/requests/{req.id}")
    r = client.post(f"/console/sharing/requests/{req.id}/decision", data={
        "csrf_token": token, "decision": "approve", "level": "summary", "note": "Call the desk."},
        follow_redirects=False)
    assert r.status_code == 303
    client.post("/logout", data={"csrf_token": token})
    login(world.analyst["SPVM"])
    page = client.get(f"/console/sharing/requests/{req.id}").text
    assert "Call the desk." in page and "1990" in page and "Testperson" not in page


def test_admin_pages(client, db, world, login):
    login(world.admin)
    assert client.get("/console/sharing").status_code == 200
    token = csrf_of(client, "/console/sharing/agencies")
    r = client.post("/console/sharing/agencies", data={"csrf_token": token, "code": "OPP", "name": "Fictional OPP",
                                                       "kind": "provincial_police", "province": "ON"},
                    follow_redirects=False)
    assert r.status_code == 303
    r = client.post("/console/sharing/agencies/OPP/members", data={"csrf_token": token, "username": "analyst-cbsa"},
                    follow_redirects=False)
    assert r.status_code == 303 and "analyst-cbsa" in client.get("/console/sharing/agencies/OPP").text
    r = client.post("/console/sharing/agencies", data={"csrf_token": token, "code": "bad code", "name": "x",
                                                       "kind": "ngo"})
    assert r.status_code == 422
    assert client.get("/console/sharing/agreements/new").status_code == 200
    form = {"csrf_token": token, "reference": "MOU-WEB", "title": "Fictional web MOU", "legal_basis": "Fictional s. 4",
            "provides": ["TPS", "OPP"], "receives": ["TPS", "OPP"], "categories": ["person"],
            "purposes": ["investigation"], "disclosure_level": "hit", "starts_on": "2025-01-01", "activate": "on"}
    r = client.post("/console/sharing/agreements/new", data=form, follow_redirects=False)
    assert r.status_code == 303, r.text[-500:]
    agreement = db.execute(select(Agreement)).scalar_one()
    assert agreement.status == "active" and agreement.disclosure_level == "hit"
    page = client.get(f"/console/sharing/agreements/{agreement.id}").text
    assert "MOU-WEB" in page and re.search("Fictional OPP", page)
    r = client.post(f"/console/sharing/agreements/{agreement.id}/status", data={"csrf_token": token,
                                                                                "status": "suspended", "reason": "x"},
                    follow_redirects=False)
    assert r.status_code == 303
    db.expire_all()
    assert db.get(Agreement, agreement.id).status == "suspended"
    r = client.post("/console/sharing/agreements/new", data=form | {"reference": "MOU-2", "ends_on": "2024-01-01"})
    assert r.status_code == 422


def test_a_withdrawn_hit_and_its_disclosure_through_the_pages(client, db, world, login):
    from tests.sharing.conftest import ADMIN

    make_agreement(db, level="full")
    deliver_hit(db, world)
    spvm = world.actor(world.analyst["SPVM"])
    hit_id = hits.inbox(db, actor=spvm)[0].id
    req = hits.request_disclosure(db, actor=spvm, hit_id=hit_id, purpose="investigation", level="summary",
                                  justification="Fictional joint file")
    hits.decide(db, actor=world.actor(world.steward["TPS"]), request_id=req.id, decision="approve")
    db.commit()
    # S-1 is corrected into someone else; the relink retracts the match
    ingest_people(db, world.analyst["SPVM"], [person_row("SPVM", "S-1", given="Zebulon", surname="Otherfictive",
                                                         dob="1971-11-30", phone="514-555-0123", city="Gatineau")])
    assert linking.relink(db, actor=ADMIN)["hits_withdrawn"] == 2
    db.commit()
    login(world.analyst["SPVM"])
    page = client.get(f"/console/sharing/hits/{hit_id}")
    assert page.status_code == 200 and "no longer matches these records" in page.text
    assert f"/console/sharing/hits/{hit_id}/request" not in page.text  # no form to ask for more
    token = csrf_of(client, f"/console/sharing/hits/{hit_id}")
    r = client.post(f"/console/sharing/hits/{hit_id}/request", data={
        "csrf_token": token, "purpose": "investigation", "level": "summary", "justification": "Fictional"})
    assert r.status_code == 409 and "withdrawn" in r.text
    page = client.get(f"/console/sharing/requests/{req.id}")
    assert page.status_code == 200 and "no longer match" in page.text
    assert "1990" not in page.text and "1971" not in page.text  # neither the old nor the corrected record
    client.post("/account/language", data={"csrf_token": token, "language": "fr"})
    assert "ne concordent plus" in client.get(f"/console/sharing/hits/{hit_id}").text
