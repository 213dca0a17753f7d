"""The hotline JSON API (/api/v1/hotline), end to end through HTTP, on SQLite and PostgreSQL.

All people, phones and e-mails here are synthetic and obviously fake (555-01XX numbers).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text

API = "/api/v1/hotline"


# -- helpers -------------------------------------------------------------------
def iso(dt: datetime) -> str:
    return dt.isoformat()


def parse(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch):
    """Argon2 with minimal cost: users are created in every test; sign-in itself is not tested here."""
    from argon2 import PasswordHasher

    from harbour.core import security

    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def advocate(make_user):
    return make_user("hotline_advocate")


@pytest.fixture
def supervisor(make_user):
    return make_user("hotline_supervisor")


@pytest.fixture
def h(advocate, token_for):
    """Headers for the advocate's read+write token."""
    return token_for(advocate)


@pytest.fixture
def sup_h(supervisor, token_for):
    return token_for(supervisor)


def new_contact(client, h, **fields) -> dict:
    r = client.post(f"{API}/contacts", json={"channel": "phone", **fields}, headers=h)
    assert r.status_code == 201, r.text
    return r.json()


def new_case(client, h, **fields) -> dict:
    r = client.post(f"{API}/cases", json=fields, headers=h)
    assert r.status_code == 201, r.text
    return r.json()


def add_consent(client, h, case_id, purpose="follow_up", **fields) -> dict:
    r = client.post(f"{API}/cases/{case_id}/consents", json={"purpose": purpose, "method": "verbal", **fields},
                    headers=h)
    assert r.status_code == 201, r.text
    return r.json()


def follow_up_task(client, h, case_id):
    return client.post(f"{API}/cases/{case_id}/tasks",
                       json={"title": "Call back at the safe time", "kind": "follow_up_contact",
                             "due_at": iso(now() + timedelta(days=1))}, headers=h)


def case_task_count(client, h, case_id) -> int:
    r = client.get(f"{API}/cases/{case_id}/tasks", headers=h)
    assert r.status_code == 200
    return len(r.json())


# -- contacts ------------------------------------------------------------------
def test_create_contact(client, h):
    # -- contact with only channel is saved and timestamped
    before = now()
    r = client.post(f"{API}/contacts", json={"channel": "web_chat"}, headers=h)
    after = now()
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["channel"] == "web_chat"
    assert body["reference"].startswith("CT-")
    assert before - timedelta(seconds=1) <= parse(body["received_at"]) <= after + timedelta(seconds=1)
    assert parse(body["received_at"]).utcoffset() == timedelta(0)
    assert body["source"] == "api"
    assert body["case_id"] is None
    assert body["anonymous"] is False
    assert body["repeat_matches"] == []
    for field in ("caller_name", "caller_phone", "caller_email", "summary", "classification", "province"):
        assert body[field] is None

    # -- contact with every field
    received = (now() - timedelta(days=30)).replace(second=0, microsecond=0)
    payload = {
        "channel": "phone",
        "received_at": received.astimezone(timezone(timedelta(hours=-5))).isoformat(),  # given in Eastern time
        "duration_seconds": 420,
        "language": "fr",
        "interpreter_language": "yue",
        "caller_type": "victim",
        "classification": "potential_case",
        "province": "ON",
        "city": "Thunder Bay",
        "summary": "  Fictional caller asks for a safe place tonight.  ",
        "caller_name": "Fictional Person",
        "caller_phone": "(807) 555-0123",
        "caller_email": "fictional.person@example.com",
        "anonymous": False,
    }
    r = client.post(f"{API}/contacts", json=payload, headers=h)
    assert r.status_code == 201, r.text
    body = r.json()
    assert parse(body["received_at"]) == received
    assert body["caller_phone"] == "+18075550123"  # normalised to E.164
    assert body["summary"] == "Fictional caller asks for a safe place tonight."  # trimmed
    for key in ("duration_seconds", "language", "interpreter_language", "caller_type", "classification",
                "province", "city", "caller_name", "caller_email", "anonymous"):
        assert body[key] == payload[key], key
    got = client.get(f"{API}/contacts/{body['id']}", headers=h).json()
    assert got["caller_name"] == "Fictional Person"
    assert got["caller_phone"] == "+18075550123"
    assert parse(got["received_at"]) == received

    # -- contact into existing case and unknown case
    case = new_case(client, h)
    c = new_contact(client, h, case_id=case["id"])
    assert c["case_id"] == case["id"]
    assert c["id"] in client.get(f"{API}/cases/{case['id']}", headers=h).json()["contact_ids"]
    r = client.post(f"{API}/contacts", json={"channel": "phone", "case_id": 999_999}, headers=h)
    assert r.status_code == 422
    assert r.json()["error"]["fields"][0]["field"] == "case_id"


def test_repeat_caller_matches(client, h):
    # -- repeat caller matches the same number in any format
    first = new_contact(client, h, caller_phone="613-555-0142")
    assert first["repeat_matches"] == []
    second = new_contact(client, h, caller_phone="(613) 555 0142")
    assert [m["contact_id"] for m in second["repeat_matches"]] == [first["id"]]
    assert second["repeat_matches"][0]["contact_reference"] == first["reference"]
    third = new_contact(client, h, caller_phone="+1.613.555.0142")
    assert sorted(m["contact_id"] for m in third["repeat_matches"]) == sorted([first["id"], second["id"]])
    other = new_contact(client, h, caller_phone="613-555-0199")
    assert other["repeat_matches"] == []
    no_phone = new_contact(client, h)
    assert no_phone["repeat_matches"] == []

    r = client.post(f"{API}/repeat-callers/lookup", json={"phone": "1 613 555 0142"}, headers=h)
    assert r.status_code == 200
    assert sorted(m["contact_id"] for m in r.json()) == sorted([first["id"], second["id"], third["id"]])
    r = client.post(f"{API}/repeat-callers/lookup", json={"phone": "613-555-0177"}, headers=h)
    assert r.status_code == 200 and r.json() == []

    # -- repeat match names the case of an earlier contact
    case = new_case(client, h)
    first = new_contact(client, h, caller_phone="204-555-0101", case_id=case["id"])
    again = new_contact(client, h, caller_phone="2045550101")
    assert again["repeat_matches"] == [
        {"contact_id": first["id"], "contact_reference": first["reference"],
         "received_at": again["repeat_matches"][0]["received_at"], "case_id": case["id"],
         "case_reference": case["reference"]}
    ]


def test_contact_list_carries_no_identifying_fields(client, h):
    case = new_case(client, h)
    new_contact(client, h, caller_name="Fictional Person", caller_phone="613-555-0111",
                caller_email="fictional.person@example.com", summary="Fictional summary text",
                classification="tip", case_id=case["id"])
    new_contact(client, h, classification="crisis", channel="text")
    new_contact(client, h, classification="crisis")
    r = client.get(f"{API}/contacts", headers=h)
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 3 and len(body["items"]) == 3
    allowed = {"id", "reference", "channel", "received_at", "classification", "caller_type", "province", "case_id",
               "source"}
    for item in body["items"]:
        assert set(item) == allowed
    for secret in ("Fictional Person", "5550111", "555-0111", "fictional.person", "Fictional summary"):
        assert secret not in r.text

    crisis = client.get(f"{API}/contacts", params={"classification": "crisis"}, headers=h).json()
    assert crisis["total"] == 2 and {i["classification"] for i in crisis["items"]} == {"crisis"}
    by_channel = client.get(f"{API}/contacts", params={"channel": "text"}, headers=h).json()
    assert by_channel["total"] == 1 and by_channel["items"][0]["channel"] == "text"
    loose = client.get(f"{API}/contacts", params={"unattached": True}, headers=h).json()
    assert loose["total"] == 2 and all(i["case_id"] is None for i in loose["items"])
    page = client.get(f"{API}/contacts", params={"limit": 1, "offset": 1}, headers=h).json()
    assert page["total"] == 3 and len(page["items"]) == 1


def test_get_patch_and_attach_contact(client, h):
    # -- get and patch contact
    # -- get contact and unknown contact
    c = new_contact(client, h, caller_name="Fictional Person", summary="Fictional summary")
    r = client.get(f"{API}/contacts/{c['id']}", headers=h)
    assert r.status_code == 200
    assert r.json()["caller_name"] == "Fictional Person"
    assert r.json()["summary"] == "Fictional summary"
    r = client.get(f"{API}/contacts/{c['id'] + 1000}", headers=h)
    assert r.status_code == 404
    assert r.json() == {"error": {"code": "not_found", "message": "Not found."}}

    # -- patch contact changes only sent fields and reindexes phone
    c = new_contact(client, h, caller_name="Fictional Person", caller_phone="613-555-0120", city="Ottawa")
    r = client.patch(f"{API}/contacts/{c['id']}", json={"classification": "potential_case",
                                                       "caller_phone": "416-555-0121"}, headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["classification"] == "potential_case"
    assert body["caller_phone"] == "+14165550121"
    assert body["caller_name"] == "Fictional Person"  # untouched
    assert body["city"] == "Ottawa"
    old = client.post(f"{API}/repeat-callers/lookup", json={"phone": "613-555-0120"}, headers=h).json()
    new = client.post(f"{API}/repeat-callers/lookup", json={"phone": "416 555 0121"}, headers=h).json()
    assert old == []
    assert [m["contact_id"] for m in new] == [c["id"]]
    # clearing a field with an empty string
    r = client.patch(f"{API}/contacts/{c['id']}", json={"city": ""}, headers=h)
    assert r.status_code == 200 and r.json()["city"] is None
    assert client.patch(f"{API}/contacts/999999", json={"city": "Ottawa"}, headers=h).status_code == 404

    # -- attach contact to case
    case = new_case(client, h)
    other = new_case(client, h)
    c = new_contact(client, h)
    r = client.post(f"{API}/contacts/{c['id']}/attach", json={"case_id": case["id"]}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["case_id"] == case["id"]
    assert client.get(f"{API}/cases/{case['id']}", headers=h).json()["contact_ids"] == [c["id"]]
    # attaching again to the same case is harmless
    r = client.post(f"{API}/contacts/{c['id']}/attach", json={"case_id": case["id"]}, headers=h)
    assert r.status_code == 200 and r.json()["case_id"] == case["id"]
    # but moving it to another case is a conflict
    r = client.post(f"{API}/contacts/{c['id']}/attach", json={"case_id": other["id"]}, headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    assert client.get(f"{API}/contacts/{c['id']}", headers=h).json()["case_id"] == case["id"]
    r = client.post(f"{API}/contacts/{c['id']}/attach", json={"case_id": 999_999}, headers=h)
    assert r.status_code == 404
    kinds = [e["kind"] for e in client.get(f"{API}/cases/{case['id']}/timeline", headers=h).json()]
    assert kinds.count("contact_attached") == 1


# -- cases ---------------------------------------------------------------------
def test_open_and_get_case(client, h):
    # -- open case with contacts
    c1 = new_contact(client, h, province="MB", city="Winnipeg", received_at=iso(now() - timedelta(hours=2)))
    c2 = new_contact(client, h)
    r = client.post(f"{API}/cases", json={"contact_ids": [c1["id"], c2["id"], c1["id"]], "risk_level": "high",
                                          "exploitation_types": ["labour"], "needs": ["emergency_shelter"],
                                          "survivor_alias": "Fictional Alias"}, headers=h)
    assert r.status_code == 201, r.text
    case = r.json()
    assert case["reference"].startswith("HC-")
    assert case["status"] == "open" and case["outcome"] is None and case["closed_at"] is None
    assert sorted(case["contact_ids"]) == sorted([c1["id"], c2["id"]])
    assert case["province"] == "MB" and case["city"] == "Winnipeg"  # taken from the first contact
    assert case["risk_level"] == "high"
    assert case["exploitation_types"] == ["labour"] and case["needs"] == ["emergency_shelter"]
    assert case["survivor_alias"] == "Fictional Alias"
    assert case["version"] == 1
    for cid in (c1["id"], c2["id"]):
        assert client.get(f"{API}/contacts/{cid}", headers=h).json()["case_id"] == case["id"]
    # a contact already on a case cannot open another
    r = client.post(f"{API}/cases", json={"contact_ids": [c1["id"]]}, headers=h)
    assert r.status_code == 409
    r = client.post(f"{API}/cases", json={"contact_ids": [999_999]}, headers=h)
    assert r.status_code == 422
    assert client.get(f"{API}/cases", headers=h).json()["total"] == 1

    # -- get case
    case = new_case(client, h, notes="Fictional notes", victim_count=2)
    r = client.get(f"{API}/cases/{case['id']}", headers=h)
    assert r.status_code == 200
    assert r.json()["notes"] == "Fictional notes" and r.json()["victim_count"] == 2
    assert client.get(f"{API}/cases/{case['id'] + 50}", headers=h).status_code == 404


def test_list_cases_with_filters(client, h, advocate, supervisor):
    a = new_case(client, h, province="ON", risk_level="high", assigned_to_id=advocate.id)
    b = new_case(client, h, province="QC", risk_level="low")
    c = new_case(client, h, province="ON", risk_level="low", assigned_to_id=supervisor.id)
    r = client.patch(f"{API}/cases/{c['id']}", json={"status": "closed", "outcome": "services_connected"}, headers=h)
    assert r.status_code == 200

    def ids(**params):
        r = client.get(f"{API}/cases", params=params, headers=h)
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["total"] == len(body["items"])
        return sorted(i["id"] for i in body["items"])

    assert ids() == sorted([a["id"], b["id"], c["id"]])
    assert ids(province="ON") == sorted([a["id"], c["id"]])
    assert ids(risk_level="low") == sorted([b["id"], c["id"]])
    assert ids(status="closed") == [c["id"]]
    assert ids(status="open") == sorted([a["id"], b["id"]])
    assert ids(assigned_to_id=advocate.id) == [a["id"]]
    assert ids(unassigned=True) == [b["id"]]
    assert ids(province="ON", risk_level="high") == [a["id"]]
    assert ids(province="NU") == []
    items = client.get(f"{API}/cases", headers=h).json()["items"]
    for item in items:
        assert "survivor_alias" not in item and "notes" not in item


def test_case_status_outcome_and_version(client, h):
    # -- closing needs an outcome and sets closed at
    case = new_case(client, h)
    r = client.patch(f"{API}/cases/{case['id']}", json={"status": "closed", "risk_level": "low"}, headers=h)
    assert r.status_code == 422
    assert r.json()["error"]["fields"] == [{"field": "outcome", "message": "Required to close."}]
    still = client.get(f"{API}/cases/{case['id']}", headers=h).json()
    assert still["status"] == "open" and still["risk_level"] is None and still["version"] == 1

    before = now()
    r = client.patch(f"{API}/cases/{case['id']}", json={"status": "closed", "outcome": "declined_services"},
                     headers=h)
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["status"] == "closed" and closed["outcome"] == "declined_services"
    assert parse(closed["closed_at"]) >= before - timedelta(seconds=1)
    assert closed["version"] == 2

    r = client.patch(f"{API}/cases/{case['id']}", json={"status": "follow_up"}, headers=h)
    assert r.status_code == 200
    assert r.json()["closed_at"] is None and r.json()["outcome"] is None and r.json()["status"] == "follow_up"

    # -- version conflict is 409 and changes nothing
    case = new_case(client, h)
    r = client.patch(f"{API}/cases/{case['id']}", json={"risk_level": "medium", "version": 1}, headers=h)
    assert r.status_code == 200 and r.json()["version"] == 2
    r = client.patch(f"{API}/cases/{case['id']}", json={"risk_level": "high", "version": 1}, headers=h)
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "conflict"
    assert client.get(f"{API}/cases/{case['id']}", headers=h).json()["risk_level"] == "medium"
    r = client.patch(f"{API}/cases/{case['id']}", json={"risk_level": "high", "version": 2}, headers=h)
    assert r.status_code == 200 and r.json()["version"] == 3


def test_assignment_only_to_active_hotline_staff(client, h, make_user, supervisor, db):
    case = new_case(client, h)
    outsider = make_user("researcher")
    admin = make_user("admin")
    gone = make_user("hotline_advocate")
    gone.is_active = False
    db.commit()
    for bad in (outsider.id, admin.id, gone.id, 999_999):
        r = client.patch(f"{API}/cases/{case['id']}", json={"assigned_to_id": bad}, headers=h)
        assert r.status_code == 422, bad
        assert r.json()["error"]["fields"][0]["field"] == "assigned_to_id"
        r = client.post(f"{API}/cases", json={"assigned_to_id": bad}, headers=h)
        assert r.status_code == 422, bad
        r = client.post(f"{API}/cases/{case['id']}/tasks", json={"title": "Check in", "assigned_to_id": bad,
                                                                 "due_at": iso(now())}, headers=h)
        assert r.status_code == 422, bad
    assert client.get(f"{API}/cases/{case['id']}", headers=h).json()["assigned_to_id"] is None
    assert client.get(f"{API}/cases", headers=h).json()["total"] == 1
    r = client.patch(f"{API}/cases/{case['id']}", json={"assigned_to_id": supervisor.id}, headers=h)
    assert r.status_code == 200 and r.json()["assigned_to_id"] == supervisor.id


# -- consent -------------------------------------------------------------------
def test_consents(client, h, advocate):
    # -- record list and revoke consent
    case = new_case(client, h)
    given = now() - timedelta(minutes=10)
    c = add_consent(client, h, case["id"], purpose="referral", method="written", given_at=iso(given),
                    expires_at=iso(now() + timedelta(days=30)), note="Fictional note")
    assert c["active"] is True and c["purpose"] == "referral" and c["method"] == "written"
    assert c["recorded_by_id"] == advocate.id and c["revoked_at"] is None
    assert parse(c["given_at"]) == given
    listed = client.get(f"{API}/cases/{case['id']}/consents", headers=h).json()
    assert [(x["id"], x["active"]) for x in listed] == [(c["id"], True)]

    r = client.post(f"{API}/consents/{c['id']}/revoke", json={"reason": "Survivor withdrew it"}, headers=h)
    assert r.status_code == 200, r.text
    assert r.json()["revoked_at"] is not None
    listed = client.get(f"{API}/cases/{case['id']}/consents", headers=h).json()
    assert [(x["id"], x["active"]) for x in listed] == [(c["id"], False)]

    r = client.post(f"{API}/consents/{c['id']}/revoke", json={"reason": "Again"}, headers=h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"
    assert client.post(f"{API}/consents/999999/revoke", json={"reason": "x"}, headers=h).status_code == 404

    # -- consent must expire after it was given
    case = new_case(client, h)
    given = now() - timedelta(hours=2)
    for expires_delta in (timedelta(hours=-1), timedelta(0)):
        r = client.post(f"{API}/cases/{case['id']}/consents",
                        json={"purpose": "follow_up", "method": "verbal", "given_at": iso(given),
                              "expires_at": iso(given + expires_delta)}, headers=h)
        assert r.status_code == 422, expires_delta
        assert r.json()["error"]["fields"][0]["field"] == "expires_at"
    assert client.get(f"{API}/cases/{case['id']}/consents", headers=h).json() == []
    r = client.post(f"{API}/cases/999999/consents", json={"purpose": "referral", "method": "verbal"}, headers=h)
    assert r.status_code == 404


# -- consent gate --------------------------------------------------------------
def test_consent_gate(client, h, app):
    # -- consent gate for follow up tasks
    # -- follow up task needs follow up consent
    case = new_case(client, h)
    r = follow_up_task(client, h, case["id"])
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "consent_required"
    assert "Follow-up contact" in r.json()["error"]["message"]
    assert case_task_count(client, h, case["id"]) == 0

    add_consent(client, h, case["id"], purpose="referral")  # another purpose does not count
    assert follow_up_task(client, h, case["id"]).status_code == 409

    consent = add_consent(client, h, case["id"], purpose="follow_up")
    r = follow_up_task(client, h, case["id"])
    assert r.status_code == 201, r.text
    assert r.json()["kind"] == "follow_up_contact"

    r = client.post(f"{API}/consents/{consent['id']}/revoke", json={"reason": "No more calls"}, headers=h)
    assert r.status_code == 200
    r = follow_up_task(client, h, case["id"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "consent_required"
    assert case_task_count(client, h, case["id"]) == 1

    # a general task never needs consent
    r = client.post(f"{API}/cases/{case['id']}/tasks", json={"title": "Find a shelter bed",
                                                             "due_at": iso(now())}, headers=h)
    assert r.status_code == 201

    # -- consent on another case does not open the gate
    case, other = new_case(client, h), new_case(client, h)
    add_consent(client, h, other["id"], purpose="follow_up")
    assert follow_up_task(client, h, case["id"]).status_code == 409
    assert follow_up_task(client, h, other["id"]).status_code == 201

    # -- consent gate and expiry
    # -- expired consent does not open the gate
    case = new_case(client, h)
    c = add_consent(client, h, case["id"], purpose="follow_up", given_at=iso(now() - timedelta(hours=3)),
                    expires_at=iso(now() - timedelta(seconds=5)))
    assert c["active"] is False
    listed = client.get(f"{API}/cases/{case['id']}/consents", headers=h).json()
    assert listed[0]["active"] is False
    r = follow_up_task(client, h, case["id"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "consent_required"

    # -- consent that expires while in use closes the gate
    case = new_case(client, h)
    c = add_consent(client, h, case["id"], purpose="follow_up", expires_at=iso(now() + timedelta(days=1)))
    assert follow_up_task(client, h, case["id"]).status_code == 201
    with app.state.engine.begin() as conn:  # time passes: the consent's expiry is now behind us
        conn.execute(text("UPDATE hotline_consent SET expires_at = :t WHERE id = :id"),
                     {"t": (now() - timedelta(seconds=1)).replace(tzinfo=None) if app.state.settings.is_sqlite
                      else now() - timedelta(seconds=1), "id": c["id"]})
    assert follow_up_task(client, h, case["id"]).status_code == 409


# -- imminent-danger override --------------------------------------------------
def request_override(client, headers, case_id, purpose="follow_up"):
    r = client.post(f"{API}/cases/{case_id}/overrides",
                    json={"purpose": purpose, "reason": "Caller says they will be moved tonight; no time to ask."},
                    headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


def test_override_needs_another_supervisors_sign_off(client, h, sup_h, make_user, token_for, advocate):
    case = new_case(client, h)
    other_sup = make_user("hotline_supervisor")
    other_h = token_for(other_sup)

    ov = request_override(client, h, case["id"])
    assert ov["approved"] is None and ov["requested_by_id"] == advocate.id and ov["expires_at"] is None
    assert follow_up_task(client, h, case["id"]).status_code == 409  # not yet signed off

    # an advocate cannot decide
    r = client.post(f"{API}/overrides/{ov['id']}/decision", json={"approve": True}, headers=h)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"

    # a supervisor who asked for an override cannot sign off their own request
    own = request_override(client, sup_h, case["id"])
    r = client.post(f"{API}/overrides/{own['id']}/decision", json={"approve": True}, headers=sup_h)
    assert r.status_code == 422
    assert follow_up_task(client, h, case["id"]).status_code == 409

    before = now()
    r = client.post(f"{API}/overrides/{ov['id']}/decision", json={"approve": True, "hours": 6}, headers=other_h)
    assert r.status_code == 200, r.text
    decided = r.json()
    assert decided["approved"] is True and decided["decided_by_id"] == other_sup.id
    expires = parse(decided["expires_at"])
    assert before + timedelta(hours=6) - timedelta(seconds=5) <= expires <= now() + timedelta(hours=6)

    r = follow_up_task(client, h, case["id"])
    assert r.status_code == 201, r.text

    # decided once only
    r = client.post(f"{API}/overrides/{ov['id']}/decision", json={"approve": False}, headers=sup_h)
    assert r.status_code == 409
    # and another supervisor may decide the first supervisor's request
    r = client.post(f"{API}/overrides/{own['id']}/decision", json={"approve": False}, headers=other_h)
    assert r.status_code == 200 and r.json()["approved"] is False


def test_override_purpose_refusal_and_expiry(client, h, sup_h, app):
    # -- override for one purpose does not cover another
    case = new_case(client, h)
    ov = request_override(client, h, case["id"], purpose="law_enforcement")
    assert client.post(f"{API}/overrides/{ov['id']}/decision", json={"approve": True}, headers=sup_h).status_code == 200
    assert follow_up_task(client, h, case["id"]).status_code == 409

    # -- refused override does not open the gate
    case = new_case(client, h)
    ov = request_override(client, h, case["id"])
    r = client.post(f"{API}/overrides/{ov['id']}/decision", json={"approve": False}, headers=sup_h)
    assert r.status_code == 200
    assert r.json()["approved"] is False and r.json()["expires_at"] is None
    r = follow_up_task(client, h, case["id"])
    assert r.status_code == 409 and r.json()["error"]["code"] == "consent_required"

    # -- expired override closes the gate
    case = new_case(client, h)
    ov = request_override(client, h, case["id"])
    client.post(f"{API}/overrides/{ov['id']}/decision", json={"approve": True, "hours": 1}, headers=sup_h)
    assert follow_up_task(client, h, case["id"]).status_code == 201
    past = now() - timedelta(seconds=1)
    with app.state.engine.begin() as conn:
        conn.execute(text("UPDATE hotline_consent_override SET expires_at = :t WHERE id = :id"),
                     {"t": past.replace(tzinfo=None) if app.state.settings.is_sqlite else past, "id": ov["id"]})
    assert follow_up_task(client, h, case["id"]).status_code == 409

    # -- override reason is required
    case = new_case(client, h)
    r = client.post(f"{API}/cases/{case['id']}/overrides", json={"purpose": "follow_up", "reason": "urgent"},
                    headers=h)
    assert r.status_code == 422
    r = client.post(f"{API}/cases/{case['id']}/overrides", json={"purpose": "follow_up"}, headers=h)
    assert r.status_code == 422


# -- tasks -----------------------------------------------------------------------
def test_tasks(client, h, advocate, supervisor):
    # -- tasks create list done and overdue
    case = new_case(client, h)
    overdue = client.post(f"{API}/cases/{case['id']}/tasks",
                          json={"title": "Call the shelter back", "due_at": iso(now() - timedelta(hours=1))},
                          headers=h)
    assert overdue.status_code == 201, overdue.text
    overdue = overdue.json()
    assert overdue["assigned_to_id"] == advocate.id  # defaults to the creator on an unassigned case
    assert overdue["kind"] == "general" and overdue["done_at"] is None
    later = client.post(f"{API}/cases/{case['id']}/tasks",
                        json={"title": "Check the referral", "due_at": iso(now() + timedelta(days=2)),
                              "assigned_to_id": supervisor.id}, headers=h).json()
    assert later["assigned_to_id"] == supervisor.id

    def ids(**params):
        r = client.get(f"{API}/tasks", params=params, headers=h)
        assert r.status_code == 200
        return [t["id"] for t in r.json()]

    assert ids() == [overdue["id"], later["id"]]  # by due date
    assert ids(overdue=True) == [overdue["id"]]
    assert ids(mine=True) == [overdue["id"]]
    assert [t["id"] for t in client.get(f"{API}/cases/{case['id']}/tasks", headers=h).json()] == \
        [overdue["id"], later["id"]]

    r = client.patch(f"{API}/tasks/{overdue['id']}", json={"done": True}, headers=h)
    assert r.status_code == 200 and r.json()["done_at"] is not None
    assert ids() == [later["id"]]
    assert ids(overdue=True) == []
    r = client.patch(f"{API}/tasks/{overdue['id']}", json={"done": False, "title": "Call again"}, headers=h)
    assert r.status_code == 200 and r.json()["done_at"] is None and r.json()["title"] == "Call again"
    assert ids(overdue=True) == [overdue["id"]]
    assert client.patch(f"{API}/tasks/999999", json={"done": True}, headers=h).status_code == 404

    # -- task defaults to the case assignee
    case = new_case(client, h, assigned_to_id=supervisor.id)
    t = client.post(f"{API}/cases/{case['id']}/tasks", json={"title": "Review", "due_at": iso(now())}, headers=h)
    assert t.status_code == 201 and t.json()["assigned_to_id"] == supervisor.id


# -- safety plan -----------------------------------------------------------------
def test_safety_plan_and_escalation(client, h):
    # -- safety plan put and get
    case = new_case(client, h)
    r = client.get(f"{API}/cases/{case['id']}/safety-plan", headers=h)
    assert r.status_code == 200 and r.json() is None
    plan = {"safe_to_call_back": "yes", "safe_to_leave_voicemail": "no", "safe_to_text": "unknown",
            "safe_times": "Weekdays 10:00-11:00", "code_word": "Fictional blue", "notes": "Fictional plan notes"}
    r = client.put(f"{API}/cases/{case['id']}/safety-plan", json=plan, headers=h)
    assert r.status_code == 200, r.text
    got = client.get(f"{API}/cases/{case['id']}/safety-plan", headers=h).json()
    assert {k: got[k] for k in plan} == plan
    # a second PUT replaces the plan (fields not sent return to their defaults)
    r = client.put(f"{API}/cases/{case['id']}/safety-plan", json={"safe_to_text": "yes"}, headers=h)
    assert r.status_code == 200
    got = client.get(f"{API}/cases/{case['id']}/safety-plan", headers=h).json()
    assert got["safe_to_text"] == "yes" and got["safe_to_call_back"] == "unknown" and got["code_word"] is None
    assert client.put(f"{API}/cases/999999/safety-plan", json={}, headers=h).status_code == 404

    # -- escalation
    # -- escalation raises risk to imminent
    case = new_case(client, h, risk_level="medium")
    contact = new_contact(client, h, case_id=case["id"])
    r = client.post(f"{API}/cases/{case['id']}/escalations",
                    json={"reason": "Caller reports a weapon; warm transfer to 9-1-1", "contact_id": contact["id"]},
                    headers=h)
    assert r.status_code == 201, r.text
    assert r.json()["case_id"] == case["id"] and r.json()["kind"] == "911_transfer"
    assert client.get(f"{API}/cases/{case['id']}", headers=h).json()["risk_level"] == "imminent"

    # -- escalation with a contact from another case is 422
    case, other = new_case(client, h, risk_level="low"), new_case(client, h)
    foreign = new_contact(client, h, case_id=other["id"])
    loose = new_contact(client, h)
    for cid in (foreign["id"], loose["id"], 999_999):
        r = client.post(f"{API}/cases/{case['id']}/escalations",
                        json={"reason": "Emergency transfer", "contact_id": cid}, headers=h)
        assert r.status_code == 422, cid
        assert r.json()["error"]["fields"][0]["field"] == "contact_id"
    assert client.get(f"{API}/cases/{case['id']}", headers=h).json()["risk_level"] == "low"
    kinds = [e["kind"] for e in client.get(f"{API}/cases/{case['id']}/timeline", headers=h).json()]
    assert "escalated_911" not in kinds


# -- escalation ------------------------------------------------------------------
# -- timeline and viewers --------------------------------------------------------
def test_timeline_shows_every_step_in_order(client, h, sup_h, supervisor):
    contact = new_contact(client, h, classification="potential_case")
    case = new_case(client, h, contact_ids=[contact["id"]])
    steps = []
    steps.append(client.patch(f"{API}/cases/{case['id']}", json={"assigned_to_id": supervisor.id}, headers=h))
    steps.append(client.patch(f"{API}/cases/{case['id']}", json={"needs": ["counselling"]}, headers=h))
    consent = add_consent(client, h, case["id"], purpose="follow_up")
    task = follow_up_task(client, h, case["id"])
    steps.append(task)
    steps.append(client.patch(f"{API}/tasks/{task.json()['id']}", json={"done": True}, headers=h))
    steps.append(client.put(f"{API}/cases/{case['id']}/safety-plan", json={"safe_to_text": "no"}, headers=h))
    ov = request_override(client, h, case["id"], purpose="law_enforcement")
    steps.append(client.post(f"{API}/overrides/{ov['id']}/decision", json={"approve": False}, headers=sup_h))
    steps.append(client.post(f"{API}/cases/{case['id']}/escalations", json={"reason": "Danger now"}, headers=h))
    steps.append(client.post(f"{API}/consents/{consent['id']}/revoke", json={"reason": "Withdrawn"}, headers=h))
    steps.append(client.patch(f"{API}/cases/{case['id']}", json={"status": "closed", "outcome": "other"}, headers=h))
    assert all(s.status_code in (200, 201) for s in steps), [s.text for s in steps]

    r = client.get(f"{API}/cases/{case['id']}/timeline", headers=h)
    assert r.status_code == 200
    events = r.json()
    assert [e["kind"] for e in events] == [
        "case_opened", "contact_attached", "assigned", "case_updated", "consent_recorded", "task_added",
        "task_done", "safety_plan_updated", "override_requested", "override_refused", "escalated_911",
        "consent_revoked", "status_changed",
    ]
    times = [parse(e["at"]) for e in events]
    assert times == sorted(times)
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)
    assert events[1]["data"]["contact_id"] == contact["id"]
    assert events[2]["data"]["user_id"] == supervisor.id
    assert events[-1]["data"] == {"old": "open", "new": "closed", "outcome": "other"}
    # no personal data in the timeline
    assert "Withdrawn" not in r.text and "Danger now" not in r.text
    assert client.get(f"{API}/cases/999999/timeline", headers=h).status_code == 404


def test_viewers_endpoint_for_supervisors_only(client, h, sup_h, advocate, supervisor):
    case = new_case(client, h)
    client.get(f"{API}/cases/{case['id']}", headers=h)
    client.get(f"{API}/cases/{case['id']}", params={"purpose": "supervision"}, headers=sup_h)
    r = client.get(f"{API}/cases/{case['id']}/viewers", headers=sup_h)
    assert r.status_code == 200, r.text
    rows = r.json()
    assert [(v["actor_id"], v["purpose"]) for v in rows] == [(supervisor.id, "supervision"),
                                                             (advocate.id, "case_management")]
    assert rows[0]["actor"] == supervisor.username
    r = client.get(f"{API}/cases/{case['id']}/viewers", headers=h)
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    assert client.get(f"{API}/cases/999999/viewers", headers=sup_h).status_code == 404


def test_pages_ask_the_service_who_may_sign_off_and_see_viewers():
    """The case page shows the sign-off buttons and the viewers list by asking consent.may_decide and
    service.may_see_viewers (the rules decide_override and case_viewers enforce), both ways."""
    from harbour.core.audit import Actor
    from harbour.hotline import consent, service
    from harbour.hotline.models import ConsentOverride

    override = ConsentOverride(requested_by_id=7)
    supervisor, requester = Actor(8, "sup", "hotline_supervisor"), Actor(7, "sup2", "hotline_supervisor")
    advocate = Actor(9, "adv", "hotline_advocate")
    assert consent.may_decide(supervisor, override)
    assert not consent.may_decide(requester, override) and not consent.may_decide(advocate, override)
    assert service.may_see_viewers(supervisor) and not service.may_see_viewers(advocate)
