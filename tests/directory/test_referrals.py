"""Referrals: the consent gate, vetting, minimal sharing, the state machine, timeline, audit and roles.

Runs on SQLite and PostgreSQL (fixtures).  All names, numbers and places are fictional.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from harbour.core import security
from harbour.core.errors import Conflict, ConsentRequired, Forbidden, NotFound, ValidationFailed
from harbour.core.models import AuditEntry
from harbour.directory import referrals
from harbour.directory import service as directory
from harbour.directory.models import Referral
from harbour.directory.schemas import (
    ProviderCreate,
    ReferralComplete,
    ReferralCreate,
    ReferralDecline,
    ReferralRevoke,
)
from harbour.hotline import consent
from harbour.hotline import service as hotline
from harbour.hotline.models import Case, CaseEvent
from harbour.hotline.schemas import (
    CaseCreate,
    CaseUpdate,
    ConsentCreate,
    ConsentRevoke,
    ContactCreate,
    OverrideDecision,
    OverrideRequest,
    SafetyPlanUpdate,
)
from tests.conftest import actor_of, csrf_of

ALIAS = "Fictional Robin"
CODE_WORD = "TEST-HERON"
PHONE = "613-555-0142"
PHONE_E164 = "+16135550142"


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch):
    from argon2 import PasswordHasher

    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


# -- builders (also used by test_portal.py) ---------------------------------------------
def provider(db, sup, name: str = "Test Shelter (fictional)", *, vetting: str = "vetted",
             expires: date | None = None, status: str = "active", types=("emergency_shelter",),
             province: str = "ON", city: str = "Thunder Bay", capacity: dict | None = None):
    today = datetime.now(UTC).date()
    spec = {
        "name": name, "vetting": vetting,
        "location": {"city": city, "province": province, "latitude": 48.38, "longitude": -89.25,
                     "address_1": "1 Example Street (fictional)"},
        "services": [{"name": f"{name} – service", "types": list(types), "status": status, "languages": ["en", "fr"],
                      "phone": "807-555-0100", "hours": [{"days": ["MO", "TU"], "opens_at": "09:00",
                                                         "closes_at": "17:00"}],
                      "capacity": capacity or {"available": 3, "maximum": 10}}],
    }
    if vetting == "vetted":
        spec |= {"vetted_by": "Test vetting team", "vetted_on": (today - timedelta(days=100)).isoformat(),
                 "vetting_expires_on": (expires or today + timedelta(days=265)).isoformat()}
    org = directory.create_provider(db, actor=actor_of(sup), data=ProviderCreate.model_validate(spec))
    return org, org.services[0]


def case_for(db, adv, *, consent_to_referral: bool = True, needs=("emergency_shelter", "counselling")) -> Case:
    a = actor_of(adv)
    contact, _ = hotline.create_contact(db, actor=a, data=ContactCreate(channel="web_chat", language="fr",
                                                                       province="ON", city="Thunder Bay"))
    case = hotline.open_case(db, actor=a, data=CaseCreate(
        contact_ids=[contact.id], needs=list(needs), survivor_alias=ALIAS, age_band="18-24", gender="woman",
        notes="Private case notes (fictional) that never leave the hotline."))
    hotline.update_safety_plan(db, actor=a, case_id=case.id, data=SafetyPlanUpdate(
        safe_times="After 20:00 (fictional)", code_word=CODE_WORD))
    if consent_to_referral:
        consent.record_consent(db, actor=a, case_id=case.id, data=ConsentCreate(purpose="referral", method="verbal"))
    db.refresh(case)
    return case


def send(db, adv, case, services, fields=("language", "needs"), **kw) -> list[Referral]:
    return referrals.send_referrals(db, actor=actor_of(adv), data=ReferralCreate(
        case_id=case.id, service_ids=[s.id for s in services], shared_fields=list(fields), **kw))


def link(db, admin, user, org) -> None:
    directory.link_staff(db, actor=actor_of(admin), user_id=user.id, organization_id=org.id)


def counts(db) -> tuple[int, int, int]:
    db.expire_all()
    return (db.execute(select(func.count(Referral.id))).scalar_one(),
            db.execute(select(func.count(CaseEvent.id))).scalar_one(),
            db.execute(select(func.count(AuditEntry.id))).scalar_one())


@pytest.fixture
def world(db, make_user):
    sup, adv, admin = make_user("hotline_supervisor"), make_user("hotline_advocate"), make_user("admin")
    staff = make_user("provider_staff")
    org, svc = provider(db, sup)
    link(db, admin, staff, org)
    return {"sup": sup, "adv": adv, "admin": admin, "staff": staff, "org": org, "svc": svc}


# -- the consent gate --------------------------------------------------------------------
def test_refused_without_referral_consent_and_nothing_is_written(db, world):
    case = case_for(db, world["adv"], consent_to_referral=False)
    before = counts(db)
    with pytest.raises(ConsentRequired):
        send(db, world["adv"], case, [world["svc"]], fields=("alias",))
    assert counts(db) == before
    assert db.get(Case, case.id).status == "open"


def test_allowed_with_consent_and_case_becomes_referred(db, world):
    case = case_for(db, world["adv"])
    [ref] = send(db, world["adv"], case, [world["svc"]])
    assert ref.status == "sent" and re.fullmatch(r"RF-[A-Z2-9]{7}", ref.reference)
    assert ref.consent_basis["type"] == "consent"
    assert ref.organization_id == world["org"].id
    db.expire_all()
    assert db.get(Case, case.id).status == "referred"
    hours = (ref.respond_by - ref.sent_at).total_seconds() / 3600
    assert hours == 24  # the configured default


def test_allowed_with_a_signed_off_override(db, world, make_user):
    case = case_for(db, world["adv"], consent_to_referral=False)
    ov = consent.request_override(db, actor=actor_of(world["adv"]), case_id=case.id,
                                  data=OverrideRequest(purpose="referral", reason="Imminent danger tonight (test)"))
    with pytest.raises(ConsentRequired):  # requested is not enough
        send(db, world["adv"], case, [world["svc"]])
    consent.decide_override(db, actor=actor_of(world["sup"]), override_id=ov.id,
                            data=OverrideDecision(approve=True, hours=2))
    [ref] = send(db, world["adv"], case, [world["svc"]])
    assert ref.consent_basis == {"type": "override", "id": ov.id}


def test_refused_after_consent_revoked_or_expired(db, world):
    case = case_for(db, world["adv"])
    c = db.get(Case, case.id).consents[0]
    consent.revoke_consent(db, actor=actor_of(world["adv"]), consent_id=c.id,
                           data=ConsentRevoke(reason="Survivor withdrew (test)"))
    before = counts(db)
    with pytest.raises(ConsentRequired):
        send(db, world["adv"], case, [world["svc"]])
    assert counts(db) == before

    expired = case_for(db, world["adv"], consent_to_referral=False)
    now = datetime.now(UTC)
    consent.record_consent(db, actor=actor_of(world["adv"]), case_id=expired.id, data=ConsentCreate(
        purpose="referral", method="verbal", given_at=now - timedelta(days=10), expires_at=now - timedelta(days=1)))
    other = case_for(db, world["adv"], consent_to_referral=False)  # consent for another purpose does not count
    consent.record_consent(db, actor=actor_of(world["adv"]), case_id=other.id,
                           data=ConsentCreate(purpose="follow_up", method="verbal"))
    for c in (expired, other):
        before = counts(db)
        with pytest.raises(ConsentRequired):
            send(db, world["adv"], c, [world["svc"]])
        assert counts(db) == before


# -- vetting and service state ------------------------------------------------------------
@pytest.mark.parametrize("kind", ["pending", "expired", "suspended", "inactive", "missing"])
def test_only_active_services_of_vetted_providers(db, world, kind):
    today = datetime.now(UTC).date()
    if kind == "missing":
        target = type("S", (), {"id": "00000000-0000-0000-0000-000000000000"})()
    else:
        opts = {"pending": {"vetting": "pending"}, "suspended": {"vetting": "suspended"},
                "expired": {"expires": today - timedelta(days=1)}, "inactive": {"status": "inactive"}}[kind]
        _org, target = provider(db, world["sup"], f"Other {kind} (fictional)", **opts)
    case = case_for(db, world["adv"])
    before = counts(db)
    with pytest.raises(ValidationFailed) as err:
        send(db, world["adv"], case, [world["svc"], target])  # one good, one bad: nothing is sent
    assert err.value.status_code == 422
    assert counts(db) == before
    assert db.get(Case, case.id).status == "open"


def test_no_second_open_referral_to_the_same_service_nor_from_a_closed_case(db, world):
    case = case_for(db, world["adv"])
    send(db, world["adv"], case, [world["svc"]])
    with pytest.raises(Conflict):
        send(db, world["adv"], case, [world["svc"]])
    closed = case_for(db, world["adv"])
    hotline.update_case(db, actor=actor_of(world["adv"]), case_id=closed.id,
                        data=CaseUpdate(status="closed", outcome="other"))
    before = counts(db)
    with pytest.raises(Conflict):
        send(db, world["adv"], closed, [world["svc"]])
    assert counts(db) == before


# -- minimal sharing --------------------------------------------------------------------------
def test_only_the_chosen_fields_are_shared_and_encrypted_at_rest(app, db, world):
    case = case_for(db, world["adv"])
    [ref] = send(db, world["adv"], case, [world["svc"]], fields=("alias", "needs", "callback_phone", "code_word"),
                 callback_phone=PHONE, message="Please call after 20:00 (fictional).")
    view = referrals.get_for_provider(db, actor=actor_of(world["staff"]), referral_id=ref.id)
    assert view.shared == {"alias": ALIAS, "needs": ["emergency_shelter", "counselling"],
                           "callback_phone": PHONE_E164, "code_word": CODE_WORD}
    dumped = view.model_dump_json()
    assert "case_id" not in dumped and case.reference not in dumped and "Private case notes" not in dumped
    assert "woman" not in dumped and "18-24" not in dumped and "After 20:00 (fictional)" not in dumped
    with app.state.engine.connect() as conn:
        raw_shared, raw_message = conn.execute(text("SELECT shared, message FROM directory_referral")).one()
    assert raw_shared.startswith("enc1:") and ALIAS not in raw_shared
    assert raw_message.startswith("enc1:")
    # nothing personal in the timeline event data or the audit details
    events = db.execute(select(CaseEvent).where(CaseEvent.case_id == case.id)).scalars().all()
    audit_rows = db.execute(select(AuditEntry)).scalars().all()
    blob = json.dumps([e.data for e in events] + [a.detail for a in audit_rows])
    for secret in (ALIAS, CODE_WORD, PHONE_E164, "20:00"):
        assert secret not in blob


def test_callback_phone_must_be_a_phone_number_when_shared(db, world):
    case = case_for(db, world["adv"])
    before = counts(db)
    with pytest.raises(ValidationFailed):
        send(db, world["adv"], case, [world["svc"]], fields=("callback_phone",), callback_phone="not a phone")
    with pytest.raises(ValidationFailed):
        send(db, world["adv"], case, [world["svc"]], fields=("callback_phone",))
    assert counts(db) == before
    [ref] = send(db, world["adv"], case, [world["svc"]], fields=("language",), callback_phone=PHONE)
    assert referrals.shared_values(ref) == {"language": "fr"}  # typed but not ticked: not shared


# -- state machine, timeline, audit ------------------------------------------------------------
def test_state_machine_timeline_and_audit(db, world):
    staff = actor_of(world["staff"])
    case = case_for(db, world["adv"])
    [ref] = send(db, world["adv"], case, [world["svc"]])
    with pytest.raises(Conflict):
        referrals.complete(db, actor=staff, referral_id=ref.id, data=ReferralComplete(outcome="service_provided"))
    referrals.accept(db, actor=staff, referral_id=ref.id)
    for action in (lambda: referrals.accept(db, actor=staff, referral_id=ref.id),
                   lambda: referrals.decline(db, actor=staff, referral_id=ref.id,
                                             data=ReferralDecline(reason="no_capacity"))):
        with pytest.raises(Conflict) as err:
            action()
        assert err.value.status_code == 409
    done = referrals.complete(db, actor=staff, referral_id=ref.id,
                              data=ReferralComplete(outcome="service_provided", note="Stayed three nights (test)."))
    assert done.status == "completed" and done.completed_at and done.responded_by_id == world["staff"].id
    with pytest.raises(Conflict):
        referrals.revoke(db, actor=actor_of(world["adv"]), referral_id=ref.id, data=ReferralRevoke(reason="test"))

    kinds = [(e.kind, e.data.get("status")) for e in db.execute(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)).scalars()]
    tail = kinds[kinds.index(("referral_sent", "sent")):]
    assert tail == [("referral_sent", "sent"), ("status_changed", None), ("referral_updated", "accepted"),
                    ("referral_updated", "completed")]
    last = db.execute(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id.desc())).scalars().first()
    assert last.data["outcome"] == "service_provided" and last.data["summary"] == world["org"].name
    assert last.data["reference"] == ref.reference and last.data["referral_id"] == ref.id

    rows = db.execute(select(AuditEntry).where(AuditEntry.record_type == "referral")
                      .order_by(AuditEntry.seq)).scalars().all()
    steps = [(a.action, a.detail.get("status")) for a in rows if a.action != "read"]
    assert steps == [("create", None), ("update", "accepted"), ("update", "completed")]
    assert all(a.purpose == "referral" for a in rows)
    assert rows[0].actor_id == world["adv"].id and rows[-1].actor_id == world["staff"].id


def test_decline_and_revoke(db, world):
    staff = actor_of(world["staff"])
    _org2, svc2 = provider(db, world["sup"], "Second Shelter (fictional)")
    case = case_for(db, world["adv"])
    first, second = send(db, world["adv"], case, [world["svc"], svc2], fields=("alias",))
    declined = referrals.decline(db, actor=staff, referral_id=first.id,
                                 data=ReferralDecline(reason="no_capacity", note="Full tonight (test)."))
    assert declined.status == "declined" and declined.decline_reason == "no_capacity" and declined.responded_at
    with pytest.raises(Conflict):
        referrals.revoke(db, actor=actor_of(world["adv"]), referral_id=first.id, data=ReferralRevoke(reason="x"))
    revoked = referrals.revoke(db, actor=actor_of(world["sup"]), referral_id=second.id,
                               data=ReferralRevoke(reason="Survivor withdrew consent (test)"))
    assert revoked.status == "revoked" and revoked.revoked_by_id == world["sup"].id
    view = referrals.provider_view(revoked)
    assert view.shared == {} and view.message is None  # withdrawn from the provider
    assert [r.status for r in referrals.for_case(db, actor=actor_of(world["adv"]), case_id=case.id)] == [
        "declined", "revoked"]


def test_overdue(db, world):
    case = case_for(db, world["adv"])
    _o2, svc2 = provider(db, world["sup"], "Counselling Centre (fictional)", types=("counselling",))
    urgent, later = send(db, world["adv"], case, [world["svc"], svc2], respond_within_hours=1)
    now = datetime.now(UTC)
    assert referrals.overdue(db) == []
    assert {r.id for r in referrals.overdue(db, now + timedelta(hours=2))} == {urgent.id, later.id}
    referrals.accept(db, actor=actor_of(world["staff"]), referral_id=urgent.id)
    assert [r.id for r in referrals.overdue(db, now + timedelta(hours=2))] == [later.id]
    assert referrals.is_overdue(later, now + timedelta(hours=2))


def test_default_deadline_is_one_hour_for_emergency_shelter(db, world):
    assert referrals.default_response_hours(case_for(db, world["adv"]), 24) == 1
    assert referrals.default_response_hours(case_for(db, world["adv"], needs=("counselling",)), 24) == 24


# -- roles ------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ["researcher", "agency_analyst", "admin", "provider_staff"])
def test_other_roles_cannot_send(db, world, make_user, role):
    case = case_for(db, world["adv"])
    with pytest.raises(Forbidden):
        send(db, make_user(role), case, [world["svc"]])


def test_an_advocate_cannot_answer_for_a_provider(db, world):
    case = case_for(db, world["adv"])
    [ref] = send(db, world["adv"], case, [world["svc"]])
    for user in (world["adv"], world["sup"], world["admin"]):
        with pytest.raises(Forbidden):
            referrals.accept(db, actor=actor_of(user), referral_id=ref.id)
    with pytest.raises(Forbidden):
        referrals.revoke(db, actor=actor_of(world["staff"]), referral_id=ref.id, data=ReferralRevoke(reason="x"))
    with pytest.raises(NotFound):
        referrals.accept(db, actor=actor_of(world["staff"]), referral_id=ref.id + 1000)


# -- API ----------------------------------------------------------------------------------------
API = "/api/v1/directory/referrals"
ALL = ("referrals:read", "referrals:write")


def test_api_send_list_answer(client, db, world, token_for):
    case = case_for(db, world["adv"])
    adv_h, staff_h = token_for(world["adv"], ALL), token_for(world["staff"], ALL)
    r = client.post(API + "/", json={"case_id": case.id, "service_ids": [world["svc"].id],
                                     "shared_fields": ["alias", "callback_phone"], "callback_phone": PHONE},
                    headers=adv_h)
    assert r.status_code == 201, r.text
    [sent] = r.json()
    assert sent["case_id"] == case.id and sent["organization_name"] == world["org"].name
    rid = sent["id"]
    listed = client.get(API, params={"case_id": case.id}, headers=adv_h).json()
    assert [i["id"] for i in listed["items"]] == [rid]
    assert client.get(API, headers=adv_h).status_code == 422  # hotline staff must name the case

    mine = client.get(API, headers=staff_h).json()
    assert [i["id"] for i in mine["items"]] == [rid]
    one = client.get(f"{API}/{rid}", headers=staff_h).json()
    assert set(one) == {"id", "reference", "service_id", "organization_id", "status", "shared", "message",
                        "sent_at", "respond_by", "responded_at", "decline_reason", "completed_at", "outcome",
                        "overdue"}
    assert one["shared"] == {"alias": ALIAS, "callback_phone": PHONE_E164}
    assert case.reference not in json.dumps(mine) + json.dumps(one)

    assert client.post(f"{API}/{rid}/accept", headers=adv_h).status_code == 403
    r = client.post(f"{API}/{rid}/accept", headers=staff_h)
    assert r.status_code == 200 and r.json()["status"] == "accepted" and "case_id" not in r.json()
    assert client.post(f"{API}/{rid}/accept", headers=staff_h).status_code == 409
    r = client.post(f"{API}/{rid}/complete", json={"outcome": "ongoing_support"}, headers=staff_h)
    assert r.status_code == 200 and r.json()["outcome"] == "ongoing_support"
    r = client.post(f"{API}/{rid}/revoke", json={"reason": "test"}, headers=adv_h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "conflict"


def test_api_refusals_and_bad_input(client, db, world, token_for, make_user):
    case = case_for(db, world["adv"], consent_to_referral=False)
    adv_h = token_for(world["adv"], ALL)
    body = {"case_id": case.id, "service_ids": [world["svc"].id], "shared_fields": ["alias"]}
    before = counts(db)
    r = client.post(API, json=body, headers=adv_h)
    assert r.status_code == 409 and r.json()["error"]["code"] == "consent_required"
    bad = [
        {**body, "unexpected": 1},
        {**body, "service_ids": ["x" * 37]},
        {**body, "service_ids": []},
        {**body, "shared_fields": ["case_notes"]},
        {**body, "case_id": 0},
        {**body, "respond_within_hours": 0},
        {**body, "message": "bad\x00text"},
        {**body, "case_id": 999_999},
    ]
    for b in bad:
        r = client.post(API, json=b, headers=adv_h)
        assert r.status_code == 422, (b, r.text)
        assert "error" in r.json()
    consent.record_consent(db, actor=actor_of(world["adv"]), case_id=case.id,
                           data=ConsentCreate(purpose="referral", method="verbal"))
    before = counts(db)
    r = client.post(API, json={**body, "shared_fields": ["callback_phone"], "callback_phone": "555-SECRET-99"},
                    headers=adv_h)
    assert r.status_code == 422 and "555-SECRET-99" not in r.text  # never echoes the value
    assert counts(db) == before
    assert client.get(f"{API}/99999999999", headers=adv_h).status_code == 422
    assert client.get(f"{API}/123", headers=adv_h).status_code == 404
    assert client.post(f"{API}/1/decline", json={"reason": "bored"}, headers=token_for(world["staff"], ALL)
                       ).status_code == 422
    for role in ("researcher", "agency_analyst", "admin"):
        h = token_for(make_user(role), ALL)
        assert client.post(API, json=body, headers=h).status_code == 403
        assert client.get(API, params={"case_id": case.id}, headers=h).status_code == 403
    r = client.post(API, json=body, headers=token_for(world["adv"], ("referrals:read",)))
    assert r.status_code == 403  # the token lacks the write scope


# -- console: refer from a case, case page, dashboard ------------------------------------------
def _console(client, login, user, path="/console/cases") -> str:
    assert login(user).status_code == 303
    return csrf_of(client, path)


def test_console_refer_form_consent_error_then_send_and_revoke(client, db, world, login):
    case = case_for(db, world["adv"], consent_to_referral=False)
    token = _console(client, login, world["adv"])
    page = client.get(f"/console/cases/{case.id}/referrals/new", params={"service_ids": [world["svc"].id]})
    assert page.status_code == 200
    assert world["org"].name in page.text and "no current referral consent" in page.text
    assert ALIAS in page.text and CODE_WORD in page.text  # previews for the advocate
    form = {"csrf_token": token, "service_ids": world["svc"].id, "shared_fields": ["alias", "callback_phone"],
            "callback_phone": PHONE, "message": "", "respond_within_hours": "1"}
    before = counts(db)
    r = client.post(f"/console/cases/{case.id}/referrals/new", data=form)
    assert r.status_code == 409 and "no current consent" in r.text
    assert counts(db)[:2] == before[:2]  # no referral, no timeline event
    assert 'value="613-555-0142"' in r.text  # nothing typed is lost

    consent.record_consent(db, actor=actor_of(world["adv"]), case_id=case.id,
                           data=ConsentCreate(purpose="referral", method="verbal"))
    r = client.post(f"/console/cases/{case.id}/referrals/new", data=form, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/console/cases/{case.id}#referrals"
    ref = db.execute(select(Referral)).scalar_one()
    assert referrals.shared_values(ref) == {"alias": ALIAS, "callback_phone": PHONE_E164}
    page = client.get(f"/console/cases/{case.id}")
    assert 'id="referrals"' in page.text and ref.reference in page.text and world["org"].name in page.text
    assert f'/console/directory?case_id={case.id}' in page.text and "Referral sent" in page.text

    r = client.post(f"/console/referrals/{ref.id}/revoke", data={"csrf_token": token, "reason": "Test revoke"},
                    follow_redirects=False)
    assert r.status_code == 303
    db.expire_all()
    assert db.get(Referral, ref.id).status == "revoked"
    r = client.post(f"/console/referrals/{ref.id}/revoke", data={"csrf_token": token, "reason": "Again"})
    assert r.status_code == 409 and "can be revoked" in r.text
    r = client.post(f"/console/cases/{case.id}/referrals/new", data={**form, "csrf_token": "wrong"})
    assert r.status_code == 403


def test_console_form_flags_unvetted_services_and_bad_input(client, db, world, login):
    _o, pending = provider(db, world["sup"], "Pending Place (fictional)", vetting="pending")
    case = case_for(db, world["adv"])
    token = _console(client, login, world["adv"])
    page = client.get(f"/console/cases/{case.id}/referrals/new",
                      params={"service_ids": [world["svc"].id, pending.id, "y" * 80]})
    assert page.status_code == 200 and "not currently vetted" in page.text
    assert page.text.count('name="service_ids"') == 1
    r = client.post(f"/console/cases/{case.id}/referrals/new",
                    data={"csrf_token": token, "service_ids": pending.id, "shared_fields": "needs"})
    assert r.status_code == 422 and "not currently vetted" in r.text
    r = client.post(f"/console/cases/{case.id}/referrals/new",
                    data={"csrf_token": token, "service_ids": world["svc"].id, "respond_within_hours": "soon"})
    assert r.status_code == 422
    assert counts(db)[0] == 0
    assert client.get("/console/cases/999999/referrals/new").status_code == 404


def test_dashboard_lists_overdue_referrals(client, db, world, login, app):
    case = case_for(db, world["adv"])
    [ref] = send(db, world["adv"], case, [world["svc"]], respond_within_hours=1)
    with app.state.engine.begin() as conn:  # pretend it was sent two hours ago
        past = datetime.now(UTC) - timedelta(hours=1)
        conn.execute(text("UPDATE directory_referral SET respond_by = :t"),
                     {"t": past.replace(tzinfo=None) if app.state.settings.is_sqlite else past})
    _console(client, login, world["sup"], "/console/dashboard")
    page = client.get("/console/dashboard")
    assert "Overdue referrals" in page.text and ref.reference in page.text
    assert f"/console/cases/{case.id}#referrals" in page.text


# -- demo -----------------------------------------------------------------------------------------
def test_referral_demo_is_idempotent(db, world, make_user):
    from harbour.directory.demo_referrals import load_referral_demo

    demo_staff = make_user("provider_staff", username="demo-provider")
    link(db, world["admin"], demo_staff, world["org"])
    provider(db, world["sup"], "Counselling Centre (fictional)", types=("counselling",))
    cases = [case_for(db, world["adv"]) for _ in range(4)] + [case_for(db, world["adv"], consent_to_referral=False)]
    got = load_referral_demo(db, seed=7)
    assert got["referrals"] >= 4
    refs = db.execute(select(Referral)).scalars().all()
    assert cases[-1].id not in {r.case_id for r in refs}  # no consent, no referral
    assert all(r.consent_basis.get("type") == "consent" for r in refs)
    assert {r.status for r in refs} - {"sent", "accepted", "declined", "completed", "revoked"} == set()
    assert got["referrals accepted"] >= 1
    assert got.get("referrals overdue", 0) == len(referrals.overdue(db))
    assert load_referral_demo(db, seed=7) == {}
    assert db.execute(select(func.count(Referral.id))).scalar_one() == len(refs)
