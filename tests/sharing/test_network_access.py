"""Network view access, both ways: another agency's attributes appear in the page and the JSON only when an
agreement in force allows them for the stated purpose, and only at its disclosure level; the view is audited.

All people are fictional ("Testperson", "Sashaqueen Uniquesurnamo", 555-01XX numbers, example.org e-mail).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from tests.conftest import actor_of
from tests.sharing.conftest import ADMIN, ingest_people, make_agreement, person_row

from harbour.core.models import AuditEntry
from harbour.sharing import agreements, ingest
from harbour.sharing.models import EntityMember, Person
from harbour.sharing.schemas import AgreementStatusBody

# What only the Montréal record holds: none of it may leak without a full agreement.
SECRET_FULL = ["Sashaqueen", "Uniquesurnamo", "77 Secret Lane", "H7N 1A1", "s1-secret@example.org", "1991-07-03",
               "spvm_only_handle", "DEMO-SPVM-OCC-1", "SPVM-S1"]
SUMMARY_ONLY = ["Laval", "1991", "286.3"]
SPVM_NAME = "Fictional Montreal Police"
SPVM_CONTACT = "SPVM sharing desk"
CATEGORIES = ("person", "phone", "handle", "location", "occurrence")


def _ingest(db, user, record_type, rows):
    batch = ingest.ingest(db, actor=actor_of(user), record_type=record_type, rows=rows, source_system="RMS-test")
    assert batch.rows_failed == 0, batch.problems
    db.commit()


@pytest.fixture
def linked(db, world):
    """A Toronto record and a Montréal record of the same fictional person (linkage put them in one entity and
    they share a phone), each with an occurrence and a dated address in its own province."""
    tps, spvm = world.analyst["TPS"], world.analyst["SPVM"]
    ingest_people(db, tps, [person_row("TPS", "TPS-T1")])
    _ingest(db, tps, "location", [{"agency": "TPS", "record_id": "TPS-L1", "person_record_id": "TPS-T1",
                                   "kind": "residence", "street_address": "1 Fictional Way", "city": "Toronto",
                                   "province": "ON", "postal_code": "M5V 1A1", "first_seen": "2023-02-01"}])
    _ingest(db, tps, "occurrence", [{"agency": "TPS", "record_id": "TPS-OCC-1", "occurred_on": "2023-03-04",
                                     "jurisdiction": "ON", "offence_codes": ["CC-279.01"],
                                     "people": [{"person_record_id": "TPS-T1", "role": "victim"}]}])
    ingest_people(db, spvm, [{"record_id": "SPVM-S1", "agency": "SPVM", "given_name": "Sashaqueen",
                              "surname": "Uniquesurnamo", "date_of_birth": "1991-07-03", "sex": "F",
                              "phone": "416-555-0142", "email": "s1-secret@example.org",
                              "street_address": "77 Secret Lane", "city": "Laval", "province": "QC",
                              "postal_code": "H7N 1A1"}])
    _ingest(db, spvm, "handle", [{"agency": "SPVM", "record_id": "SPVM-H1", "person_record_id": "SPVM-S1",
                                  "platform": "FictionalAds", "handle": "spvm_only_handle"}])
    _ingest(db, spvm, "occurrence", [{"agency": "SPVM", "record_id": "DEMO-SPVM-OCC-1", "occurred_on": "2024-05-02",
                                      "jurisdiction": "QC", "offence_codes": ["CC-286.3"],
                                      "people": [{"person_record_id": "SPVM-S1", "role": "victim"}]}])
    # what linkage writes for a cross-agency cluster
    db.add_all([EntityMember(entity_id="E-test-1", agency_id=world.agency["TPS"].id, record_id="TPS-T1"),
                EntityMember(entity_id="E-test-1", agency_id=world.agency["SPVM"].id, record_id="SPVM-S1")])
    db.commit()
    return world


def _agreement(db, state: str):
    today = date.today()
    if state == "none":
        return None
    if state == "expired":
        return make_agreement(db, level="full", categories=CATEGORIES, starts_on=today - timedelta(days=90),
                              ends_on=today - timedelta(days=1))
    if state == "revoked":
        agreement = make_agreement(db, level="full", categories=CATEGORIES)
        agreements.set_status(db, actor=ADMIN, agreement_id=agreement.id,
                              data=AgreementStatusBody(status="revoked", reason="Test revocation (fictional)."))
        db.commit()
        return agreement
    if state == "draft":
        return make_agreement(db, level="full", categories=CATEGORIES, activate=False)
    return make_agreement(db, level=state, categories=CATEGORIES)


def _views(client, login, token_for, world, purpose="investigation") -> tuple[str, str]:
    """Everything the Toronto analyst can read about the network: every page's HTML and every JSON answer."""
    user = world.analyst["TPS"]
    headers = token_for(user, scopes=("sharing:read",))
    q = f"?purpose={purpose}" if purpose else ""
    overview = client.get(f"/api/v1/sharing/network{q}{'&' if q else '?'}min_provinces=1", headers=headers)
    assert overview.status_code == 200, overview.text
    texts = [overview.text]
    own = next(p for p in overview.json()["groups"])
    group = client.get(f"/api/v1/sharing/network/groups/{own['id']}{q}", headers=headers)
    assert group.status_code == 200
    texts.append(group.text)
    person_id = next(p["key"] for p in group.json()["persons"] if p["level"] == "own")
    assert person_id == "person:TPS:TPS-T1"
    pk = _pk(client.app, "TPS-T1")
    movement = client.get(f"/api/v1/sharing/network/persons/{pk}/movement{q}", headers=headers)
    assert movement.status_code == 200
    texts.append(movement.text)
    assert login(user).status_code == 303
    for path in ("/console/sharing/network", "/console/sharing/network?show=all",
                 f"/console/sharing/network/groups/{own['id']}", f"/console/sharing/network/persons/{pk}"):
        page = client.get(path + (("&" if "?" in path else "?") + f"purpose={purpose}" if purpose else ""))
        assert page.status_code == 200, page.text[:400]
        texts.append(page.text)
    return "\n".join(texts[:3]), "\n".join(texts[3:])


def _pk(app, record_id: str) -> int:
    with app.state.sessionmaker() as s:
        return s.execute(select(Person.id).where(Person.record_id == record_id)).scalar_one()


@pytest.mark.parametrize("state", ["none", "expired", "revoked", "draft"])
def test_without_an_agreement_in_force_nothing_of_the_other_agency_shows(db, client, login, token_for, linked, state):
    _agreement(db, state)
    json_text, html = _views(client, login, token_for, linked)
    for text in (json_text, html):
        for secret in SECRET_FULL + ["Laval", "286.3", SPVM_NAME, SPVM_CONTACT, "SPVM"]:
            assert secret not in text, (state, secret)
    assert "Testperson" in html and "TPS-T1" in json_text  # the viewer's own record is there in full
    reads = db.execute(select(AuditEntry).where(AuditEntry.record_type == "sharing_network",
                                                AuditEntry.action == "read")).scalars().all()
    assert reads == []


def test_hit_only_shows_that_another_agency_holds_a_match_and_whom_to_contact(db, client, login, token_for, linked):
    _agreement(db, "hit")
    json_text, html = _views(client, login, token_for, linked)
    for text in (json_text, html):
        assert SPVM_NAME in text and SPVM_CONTACT in text
        for secret in SECRET_FULL + SUMMARY_ONLY:
            assert secret not in text, secret
    assert "Another agency holds a matching record" in html


def test_summary_shows_the_limited_attributes_only(db, client, login, token_for, linked):
    _agreement(db, "summary")
    json_text, html = _views(client, login, token_for, linked)
    for text in (json_text, html):
        assert "Laval" in text and "1991" in text and "286.3" in text  # the page names the offence in words
        for secret in SECRET_FULL:
            assert secret not in text, secret


def test_summary_offence_codes_need_occurrences_at_summary_and_are_audited(db, client, login, token_for, linked):
    # occurrences covered only at hit level (a second agreement): the summary says nothing of them
    make_agreement(db, level="summary", categories=("person", "phone", "handle", "location"))
    make_agreement(db, reference="MOU-2", level="hit", categories=("occurrence",))
    json_text, html = _views(client, login, token_for, linked)
    for text in (json_text, html):
        assert "Laval" in text and "286.3" not in text
    categories = {r.detail.get("category") for r in db.execute(select(AuditEntry).where(
        AuditEntry.record_type == "sharing_network", AuditEntry.action == "read")).scalars()}
    assert "occurrence" not in categories


def test_summary_reads_of_linked_records_are_audited(db, client, login, token_for, linked):
    _agreement(db, "summary")
    _views(client, login, token_for, linked)
    categories = {r.detail.get("category") for r in db.execute(select(AuditEntry).where(
        AuditEntry.record_type == "sharing_network", AuditEntry.action == "read")).scalars()}
    assert {"person", "occurrence"} <= categories


def test_full_agreement_shows_the_record_and_audits_the_purpose(db, client, login, token_for, linked):
    _agreement(db, "full")
    json_text, html = _views(client, login, token_for, linked)
    for text in (json_text, html):
        for value in ("Sashaqueen", "Uniquesurnamo", "77 Secret Lane", "spvm_only_handle", "DEMO-SPVM-OCC-1"):
            assert value in text, value
    reads = db.execute(select(AuditEntry).where(AuditEntry.record_type == "sharing_network",
                                                AuditEntry.action == "read")).scalars().all()
    assert reads and all(r.purpose == "investigation" for r in reads)
    assert {r.detail["owner_agency"] for r in reads} == {linked.agency["SPVM"].id}
    assert {r.detail["level"] for r in reads} == {"full"}
    views = db.execute(select(AuditEntry).where(AuditEntry.record_type == "sharing_network",
                                                AuditEntry.action == "list")).scalars().all()
    assert views and all(v.purpose == "investigation" for v in views)


def test_full_agreement_for_another_purpose_or_no_purpose_shows_nothing(db, client, login, token_for, linked):
    _agreement(db, "full")  # lists investigation only
    for purpose in ("victim_protection", None):
        json_text, html = _views(client, login, token_for, linked, purpose=purpose)
        for text in (json_text, html):
            for secret in SECRET_FULL + [SPVM_NAME]:
                assert secret not in text, (purpose, secret)


def test_multi_province_group_and_movement_appear_only_through_the_agreement(db, client, token_for, linked):
    headers = token_for(linked.analyst["TPS"], scopes=("sharing:read",))
    before = client.get("/api/v1/sharing/network?purpose=investigation", headers=headers).json()
    assert before["groups"] == []  # Toronto alone: one province
    _agreement(db, "full")
    after = client.get("/api/v1/sharing/network?purpose=investigation", headers=headers).json()
    assert [g["provinces"] for g in after["groups"]] == [["ON", "QC"]]
    assert after["shared"] == [{"agency": "SPVM", "name": SPVM_NAME, "level": "full", "records": 1}]
    pk = _pk(client.app, "TPS-T1")
    moved = client.get(f"/api/v1/sharing/network/persons/{pk}/movement?purpose=investigation", headers=headers).json()
    assert [(e["date"], e["province"]) for e in moved["events"]] == [("2023-02-01", "ON"), ("2023-03-04", "ON"),
                                                                      ("2024-05-02", "QC")]
    assert [(m["from"]["province"], m["to"]["province"]) for m in moved["moves"]] == [("ON", "QC")]


def test_the_other_side_sees_the_same_rules(db, client, token_for, linked):
    """Montréal's analyst under a Toronto→Montréal one-way agreement sees nothing of Toronto's record."""
    make_agreement(db, parties=(("TPS", False, True), ("SPVM", True, False)), level="full", categories=CATEGORIES)
    spvm = token_for(linked.analyst["SPVM"], scopes=("sharing:read",))
    text = client.get("/api/v1/sharing/network?purpose=investigation&min_provinces=1", headers=spvm).text
    assert "TPS" not in text and "Testperson" not in text
    tps = token_for(linked.analyst["TPS"], scopes=("sharing:read",))
    gid = client.get("/api/v1/sharing/network?purpose=investigation", headers=tps).json()["groups"][0]["id"]
    assert "Sashaqueen" in client.get(f"/api/v1/sharing/network/groups/{gid}?purpose=investigation", headers=tps).text


def test_bad_input_and_refused_callers_get_4xx(db, client, login, token_for, linked):
    headers = token_for(linked.analyst["TPS"], scopes=("sharing:read",))
    api = "/api/v1/sharing/network"
    assert client.get(f"{api}?purpose=curiosity", headers=headers).status_code == 422
    assert client.get(f"{api}?min_provinces=0", headers=headers).status_code == 422
    assert client.get(f"{api}?min_provinces=abc", headers=headers).status_code == 422
    assert client.get(f"{api}/groups/not-a-group", headers=headers).status_code == 422
    missing = client.get(f"{api}/groups/g000000000000", headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    other = _pk(client.app, "SPVM-S1")
    assert client.get(f"{api}/persons/{other}/movement", headers=headers).status_code == 404  # not one's own
    assert client.get(f"{api}/persons/0/movement", headers=headers).status_code == 422
    assert client.get(api).status_code == 401
    assert client.get(api, headers=token_for(linked.analyst["TPS"], scopes=("plan:read",))).status_code == 403
    assert client.get(api, headers=token_for(linked.loner, scopes=("sharing:read",))).status_code == 403
    assert client.get(api, headers=token_for(linked.advocate, scopes=("sharing:read",))).status_code == 403
    assert login(linked.analyst["TPS"]).status_code == 303
    assert client.get("/console/sharing/network?purpose=curiosity").status_code == 422
    assert client.get("/console/sharing/network/groups/g000000000000").status_code == 404
    assert client.get(f"/console/sharing/network/persons/{other}").status_code == 404
