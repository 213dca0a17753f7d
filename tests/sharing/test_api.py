"""Sharing API: the end-to-end journey (ingest → linkage → hits → disclosure), scopes and roles both ways,
and a clear 4xx JSON answer for bad input (never a 500, nothing valid lost)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.sharing.conftest import PERSON_HEADER, make_agreement, person_row

from harbour.core.models import AuditEntry
from harbour.sharing.models import LinkageModelVersion, Match, Person

SCOPES = ("sharing:read", "sharing:write")
API = "/api/v1/sharing"


@pytest.fixture
def tokens(world, token_for):
    out = {f"analyst-{c}": token_for(world.analyst[c], SCOPES) for c in world.analyst}
    out |= {f"steward-{c}": token_for(world.steward[c], SCOPES) for c in world.steward}
    out["admin"] = token_for(world.admin, SCOPES)
    out["loner"] = token_for(world.loner, SCOPES)
    out["advocate"] = token_for(world.advocate, SCOPES)  # forged: advocates may not hold these scopes
    out["read-only"] = token_for(world.analyst["TPS"], ("sharing:read",))
    return out


def _ingest(client, token, rows, link="false"):
    return client.post(f"{API}/ingest/person?link={link}", headers=token,
                       json={"source_system": "RMS-test", "records": rows})


@pytest.mark.slow
def test_journey_ingest_link_hit_request_approve_disclose(client, db, world, tokens):
    make_agreement(db, level="summary", purposes=("investigation", "victim_protection"))
    r = _ingest(client, tokens["analyst-SPVM"], [person_row("SPVM", "S-1", city="Montreal", province="QC"),
                                                 person_row("SPVM", "S-2", given="Bruno", surname="Otherfake",
                                                            dob="1971-01-01", phone="514-555-0111")])
    assert r.status_code == 201, r.text
    # the upload triggers linkage after the response (a background task; TestClient runs it before returning)
    r = _ingest(client, tokens["analyst-TPS"], [person_row("TPS", "T-1"), {"record_id": "T-bad", "agency": "TPS",
                                                                          "date_of_birth": "1990-13-45"}], link="true")
    assert r.status_code == 201 and r.json()["rows_created"] == 1 and r.json()["rows_failed"] == 1
    assert r.json()["problems"][0]["row"] == 2 and r.json()["problems"][0]["errors"][0]["field"] == "date_of_birth"
    db.expire_all()
    assert db.execute(select(LinkageModelVersion.active)).scalar_one() is True
    match = db.execute(select(Match)).scalar_one()
    assert {match.record_a, match.record_b} == {"T-1", "S-1"} and match.match_probability > 0.95
    assert "surname" in match.agreed and match.model_version
    # both sides get a hit naming only the other agency and its contact
    spvm_hits = client.get(f"{API}/hits", headers=tokens["analyst-SPVM"]).json()
    tps_hits = client.get(f"{API}/hits", headers=tokens["analyst-TPS"]).json()
    assert [h["record_id"] for h in spvm_hits] == ["S-1"] and [h["record_id"] for h in tps_hits] == ["T-1"]
    assert spvm_hits[0]["other_agency"]["code"] == "TPS" and "T-1" not in str(spvm_hits)
    assert client.get(f"{API}/hits", headers=tokens["analyst-CBSA"]).json() == []
    # ask for more, with a purpose
    hit_id = spvm_hits[0]["id"]
    r = client.post(f"{API}/hits/{hit_id}/disclosure-requests", headers=tokens["analyst-SPVM"],
                    json={"purpose": "investigation", "level": "summary", "justification": "Fictional joint file"})
    assert r.status_code == 201, r.text
    req_id = r.json()["id"]
    assert client.get(f"{API}/disclosure-requests/{req_id}/disclosure", headers=tokens["analyst-SPVM"]).status_code == 409
    # the owner's analyst may not decide; its steward does
    r = client.post(f"{API}/disclosure-requests/{req_id}/decision", headers=tokens["analyst-TPS"],
                    json={"decision": "approve"})
    assert r.status_code == 403
    queue = client.get(f"{API}/disclosure-requests?direction=incoming&status=pending", headers=tokens["steward-TPS"])
    assert [q["id"] for q in queue.json()] == [req_id]
    r = client.post(f"{API}/disclosure-requests/{req_id}/decision", headers=tokens["steward-TPS"],
                    json={"decision": "approve", "level": "summary", "note": "Call our desk."})
    assert r.status_code == 200 and r.json()["status"] == "approved"
    out = client.get(f"{API}/disclosure-requests/{req_id}/disclosure", headers=tokens["analyst-SPVM"]).json()
    assert out["fields"]["record_id"] == "T-1" and out["fields"]["year_of_birth"] == "1990"
    assert "surname" not in out["fields"]
    # a third agency sees nothing of it
    assert client.get(f"{API}/disclosure-requests/{req_id}", headers=tokens["analyst-CBSA"]).status_code == 404
    purposes = {(e.action, e.purpose) for e in db.execute(select(AuditEntry)).scalars()}
    assert ("disclose", "investigation") in purposes and ("relink", "record_linkage") in purposes


def test_csv_ingest_over_the_api(client, db, world, tokens):
    body = PERSON_HEADER + "T-1,TPS,Alexa,,Testperson,1990-04-12,F,416-555-0142,,,,ON,\nT-2,TPS,,,,,Q,,,,,,\n"
    r = client.post(f"{API}/ingest/person/csv?source_system=RMS&link=false", headers=tokens["analyst-TPS"] |
                    {"content-type": "text/csv"}, content=body.encode())
    assert r.status_code == 201, r.text
    assert (r.json()["rows_created"], r.json()["problems"][0]["row"]) == (1, 3)
    batch = client.get(f"{API}/batches/{r.json()['id']}", headers=tokens["analyst-TPS"])
    assert batch.status_code == 200
    assert client.get(f"{API}/batches/{r.json()['id']}", headers=tokens["analyst-SPVM"]).status_code == 404
    records = client.get(f"{API}/records/person", headers=tokens["analyst-TPS"]).json()
    assert records["total"] == 1 and records["items"][0]["surname"] == "Testperson"
    assert client.get(f"{API}/records/person", headers=tokens["analyst-SPVM"]).json()["total"] == 0


@pytest.mark.parametrize("who,status", [("analyst-TPS", 201), ("steward-TPS", 201), ("loner", 403),
                                        ("advocate", 403), ("admin", 403), ("read-only", 403)])
def test_who_may_ingest(client, world, tokens, who, status):
    r = _ingest(client, tokens[who], [person_row("TPS", "T-1")])
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")


def test_other_agency_record_needs_an_agreement_and_purpose(client, db, world, tokens):
    assert _ingest(client, tokens["analyst-TPS"], [person_row("TPS", "T-1")]).status_code == 201
    url = f"{API}/agencies/TPS/records/person/T-1"
    assert client.get(url + "?purpose=investigation", headers=tokens["analyst-SPVM"]).status_code == 403
    assert client.get(url, headers=tokens["analyst-SPVM"]).status_code == 422  # purpose is required
    make_agreement(db, level="full")
    r = client.get(url + "?purpose=investigation", headers=tokens["analyst-SPVM"])
    assert r.status_code == 200 and r.json()["fields"]["surname"] == "Testperson"
    assert client.get(url + "?purpose=prosecution", headers=tokens["analyst-SPVM"]).status_code == 403
    assert client.get(url + "?purpose=investigation", headers=tokens["analyst-CBSA"]).status_code == 403


def test_administration_over_the_api(client, world, tokens):
    body = {"code": "OPP", "name": "Fictional Provincial Police", "kind": "provincial_police", "province": "ON"}
    assert client.post(f"{API}/agencies", headers=tokens["analyst-TPS"], json=body).status_code == 403
    assert client.post(f"{API}/agencies", headers=tokens["admin"], json=body).status_code == 201
    assert client.post(f"{API}/agencies", headers=tokens["admin"], json=body).status_code == 422  # code taken
    r = client.post(f"{API}/agencies/OPP/members", headers=tokens["admin"], json={"username": "analyst-cbsa"})
    assert r.status_code == 201
    me = client.get(f"{API}/me", headers=tokens["analyst-CBSA"]).json()
    assert me["agency"]["code"] == "OPP"  # one agency per user: moved
    agreement = {"reference": "MOU-API", "title": "Fictional", "legal_basis": "Fictional s. 3",
                 "parties": [{"agency": "TPS"}, {"agency": "OPP"}], "categories": ["person"],
                 "purposes": ["investigation"], "disclosure_level": "hit", "starts_on": "2025-01-01", "activate": True}
    assert client.post(f"{API}/agreements", headers=tokens["steward-TPS"], json=agreement).status_code == 403
    r = client.post(f"{API}/agreements", headers=tokens["admin"], json=agreement)
    assert r.status_code == 201 and r.json()["effective_status"] == "active"
    aid = r.json()["id"]
    assert client.get(f"{API}/agreements/{aid}", headers=tokens["analyst-TPS"]).status_code == 200
    assert client.get(f"{API}/agreements/{aid}", headers=tokens["analyst-SPVM"]).status_code == 404
    r = client.post(f"{API}/agreements/{aid}/status", headers=tokens["admin"], json={"status": "revoked",
                                                                                     "reason": "fictional"})
    assert r.status_code == 200 and r.json()["effective_status"] == "revoked"
    assert client.post(f"{API}/relink", headers=tokens["analyst-TPS"]).status_code == 403


BAD = [
    ("post", "/ingest/person", {"source_system": "x", "records": []}),
    ("post", "/ingest/person", {"source_system": "x", "records": "nope"}),
    ("post", "/ingest/person", {"records": [{"record_id": "a", "agency": "TPS"}]}),
    ("post", "/ingest/person", {"source_system": "x", "records": [{}], "extra": 1}),
    ("post", "/ingest/bank_account", {"source_system": "x", "records": [{}]}),
    ("post", "/agreements", {"reference": "R", "title": "x"}),
    ("post", "/agreements", {"reference": "MOU-BAD", "title": "Fictional", "legal_basis": "s. 1",
                             "parties": [{"agency": "TPS"}, {"agency": "SPVM"}], "categories": ["person"],
                             "purposes": ["investigation"], "disclosure_level": "hit", "starts_on": "2025-02-01",
                             "ends_on": "2025-01-01"}),
    ("post", "/agreements", {"reference": "MOU-BAD", "title": "Fictional", "legal_basis": "s. 1",
                             "parties": [{"agency": "TPS"}, {"agency": "NOPE"}], "categories": ["person"],
                             "purposes": ["investigation"], "disclosure_level": "hit", "starts_on": "2025-02-01"}),
    ("post", "/agreements/1/status", {"status": "expired"}),
    ("post", "/agreements/99999999999/status", {"status": "active"}),
    ("post", "/hits/1/disclosure-requests", {"purpose": "curiosity", "level": "summary", "justification": "xyz"}),
    ("post", "/hits/1/disclosure-requests", {"purpose": "investigation", "level": "hit", "justification": "xyz"}),
    ("post", "/disclosure-requests/1/decision", {"decision": "maybe"}),
    ("post", "/pprl/submissions", {"format": "harbour-clk/1", "agency": "TPS", "records": "x"}),
    ("post", "/pprl/submissions", []),
    ("get", "/records/person?limit=0", None),
    ("get", "/records/person/bad%20id", None),
    ("get", "/agencies/tps/records/person/T-1?purpose=investigation", None),
]


@pytest.mark.parametrize("method,path,body", BAD, ids=[f"{m} {p} {i}" for i, (m, p, _b) in enumerate(BAD)])
def test_bad_input_is_a_clear_4xx(client, world, tokens, method, path, body):
    token = tokens["admin"] if "agreements" in path else tokens["analyst-TPS"]
    r = getattr(client, method)(API + path, headers=token, **({"json": body} if body is not None else {}))
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert "error" in r.json() and r.json()["error"]["message"]


def test_csv_endpoint_refuses_bad_files(client, world, tokens):
    headers = tokens["analyst-TPS"]
    url = f"{API}/ingest/person/csv?source_system=RMS&link=false"
    assert client.post(url, headers=headers, content=b"x").status_code == 422  # not text/csv
    r = client.post(url, headers=headers | {"content-type": "text/csv"}, content=b"first,last\nA,B\n")
    assert r.status_code == 422 and "record_id" in r.json()["error"]["message"]
    r = client.post(url, headers=headers | {"content-type": "text/csv"}, content="record_id,agency\n".encode("utf-16"))
    assert r.status_code == 422


def test_no_partial_writes_on_refusal(client, db, world, tokens):
    assert _ingest(client, tokens["loner"], [person_row("TPS", "T-1")]).status_code == 403
    db.expire_all()
    assert db.execute(select(Person)).first() is None


def test_json_ingest_reports_non_objects_and_keeps_good_rows(client, world, tokens):
    r = _ingest(client, tokens["analyst-TPS"], ["not a record", person_row("TPS", "T-1"), {"record_id": 5}])
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["rows_total"], body["rows_created"], body["rows_failed"]) == (3, 1, 2)
    assert [p["row"] for p in body["problems"]] == [1, 3]
