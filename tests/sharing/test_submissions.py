"""PPRL submissions: agencies upload keyed Bloom-filter encodings (no names); the server matches them against
other agencies' submissions and the pairs become hits in the same disclosure workflow."""

from __future__ import annotations

import json

from sqlalchemy import select
from tests.sharing.conftest import ingest_people, make_agreement, person_row

from harbour.sharing import pprl
from harbour.sharing.models import Match, PprlSubmission

SECRET = b"fictional-shared-secret-for-tests-only"
SCOPES = ("sharing:read", "sharing:write")
API = "/api/v1/sharing"


def _doc(agency: str, rows, secret: bytes = SECRET) -> dict:
    return pprl.encode_rows([dict(r, middle_name=None) for r in rows], secret, agency=agency)


def test_submissions_match_into_hits_and_disclosure(client, db, world, token_for):
    make_agreement(db, level="summary")
    tps, spvm, cbsa = (token_for(world.analyst[c], SCOPES) for c in ("TPS", "SPVM", "CBSA"))
    steward = token_for(world.steward["TPS"], SCOPES)
    # TPS also holds the record in plaintext; SPVM may only share encodings
    ingest_people(db, world.analyst["TPS"], [person_row("TPS", "T-1")])
    doc_tps = _doc("TPS", [person_row("TPS", "T-1"), person_row("TPS", "T-2", given="Zed", surname="Elsewhere",
                                                                  dob="1960-01-01", phone="416-555-0177")])
    doc_spvm = _doc("SPVM", [person_row("SPVM", "S-9", city="Toronto")])
    assert "Testperson" not in json.dumps(doc_tps)  # what leaves the agency holds no names
    r = client.post(f"{API}/pprl/submissions", headers=tps, json=doc_tps)
    assert r.status_code == 201 and r.json()["compared_with"] == 0
    r = client.post(f"{API}/pprl/submissions", headers=spvm, json=doc_spvm)
    assert r.status_code == 201 and (r.json()["pairs"], r.json()["hits"]) == (1, 2), r.text
    match = db.execute(select(Match)).scalar_one()
    assert match.method == "pprl" and {match.record_a, match.record_b} == {"T-1", "S-9"}
    spvm_hits = client.get(f"{API}/hits", headers=spvm).json()
    assert [(h["record_id"], h["method"]) for h in spvm_hits] == [("S-9", "pprl")]
    assert client.get(f"{API}/hits", headers=cbsa).json() == []
    req = client.post(f"{API}/hits/{spvm_hits[0]['id']}/disclosure-requests", headers=spvm,
                      json={"purpose": "investigation", "level": "summary", "justification": "Fictional"}).json()
    assert client.post(f"{API}/disclosure-requests/{req['id']}/decision", headers=steward,
                       json={"decision": "approve"}).status_code == 200
    out = client.get(f"{API}/disclosure-requests/{req['id']}/disclosure", headers=spvm).json()
    assert out["fields"]["record_id"] == "T-1" and out["fields"]["year_of_birth"] == "1990"
    # and the other way: TPS's hit on SPVM's encoded-only record discloses its reference, nothing more
    tps_hit = client.get(f"{API}/hits", headers=tps).json()[0]
    req = client.post(f"{API}/hits/{tps_hit['id']}/disclosure-requests", headers=tps,
                      json={"purpose": "investigation", "level": "summary", "justification": "Fictional"}).json()
    client.post(f"{API}/disclosure-requests/{req['id']}/decision", headers=token_for(world.steward["SPVM"], SCOPES),
                json={"decision": "approve", "note": "Ask for file 9."})
    out = client.get(f"{API}/disclosure-requests/{req['id']}/disclosure", headers=tps).json()
    assert out["fields"] == {"record_id": "S-9"} and out["note"] == "Ask for file 9."


def test_resubmission_replaces_and_other_secrets_never_compare(client, db, world, token_for):
    make_agreement(db)
    tps, spvm = token_for(world.analyst["TPS"], SCOPES), token_for(world.analyst["SPVM"], SCOPES)
    client.post(f"{API}/pprl/submissions", headers=tps, json=_doc("TPS", [person_row("TPS", "T-1")]))
    r = client.post(f"{API}/pprl/submissions", headers=tps, json=_doc("TPS", [person_row("TPS", "T-1")]))
    assert r.status_code == 201
    assert [s.active for s in db.execute(select(PprlSubmission).order_by(PprlSubmission.id)).scalars()] == [False, True]
    other = _doc("SPVM", [person_row("SPVM", "S-1")], secret=b"another-fictional-secret-0123456789")
    r = client.post(f"{API}/pprl/submissions", headers=spvm, json=other)
    assert r.status_code == 201 and r.json()["compared_with"] == 0 and r.json()["pairs"] == 0


def test_submission_refusals(client, db, world, token_for):
    tps = token_for(world.analyst["TPS"], SCOPES)
    doc = _doc("SPVM", [person_row("SPVM", "S-1")])
    assert client.post(f"{API}/pprl/submissions", headers=tps, json=doc).status_code == 403  # not our agency
    broken = _doc("TPS", [person_row("TPS", "T-1")]) | {"format": "something-else"}
    r = client.post(f"{API}/pprl/submissions", headers=tps, json=broken)
    assert r.status_code == 422 and r.json()["error"]["message"]
    loner = token_for(world.loner, SCOPES)
    assert client.post(f"{API}/pprl/submissions", headers=loner, json=doc).status_code == 403
    assert db.execute(select(PprlSubmission)).first() is None
