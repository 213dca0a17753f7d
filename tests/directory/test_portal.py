"""The provider portal: isolation between providers both ways, answering referrals, keeping services current.

Runs on SQLite and PostgreSQL (fixtures).  All names, numbers and places are fictional.
"""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from harbour.core.models import AuditEntry
from harbour.directory.models import Referral, Schedule, ServiceCapacity
from harbour.directory.referrals import is_open_24_7
from tests.conftest import PASSWORD, csrf_of
from tests.directory.test_referrals import ALIAS, CODE_WORD, _cheap_password_hashing, case_for, link, provider, send

__all__ = ["_cheap_password_hashing"]  # autouse fixture, re-used
API = "/api/v1/directory/referrals"
ALL = ("referrals:read", "referrals:write")


@pytest.fixture
def two(db, make_user):
    """Two providers, A and B, each with its own staff member and a referral from the same case."""
    sup, adv, admin = make_user("hotline_supervisor"), make_user("hotline_advocate"), make_user("admin")
    org_a, svc_a = provider(db, sup, "Alpha Shelter (fictional)")
    org_b, svc_b = provider(db, sup, "Beta Shelter (fictional)", city="Kenora")
    staff_a, staff_b = make_user("provider_staff"), make_user("provider_staff")
    link(db, admin, staff_a, org_a)
    link(db, admin, staff_b, org_b)
    case = case_for(db, adv)
    ref_a, ref_b = send(db, adv, case, [svc_a, svc_b], fields=("alias", "code_word"),
                        message="Demo message (fictional).")
    return {"sup": sup, "adv": adv, "admin": admin, "case": case, "A": (org_a, svc_a, staff_a, ref_a),
            "B": (org_b, svc_b, staff_b, ref_b)}


def sign_in(client: TestClient, user) -> str:
    token = csrf_of(client, "/login")
    r = client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token,
                                    "next": "/console"}, follow_redirects=False)
    assert r.status_code == 303
    return csrf_of(client, "/portal/services" if user.role == "provider_staff" else "/console/cases")


@pytest.mark.parametrize("mine,theirs", [("A", "B"), ("B", "A")])
def test_provider_isolation_both_ways(app, db, two, token_for, mine, theirs):
    org, svc, staff, ref = two[mine]
    other_org, other_svc, _other_staff, other_ref = two[theirs]
    h = token_for(staff, ALL + ("directory:read", "directory:write"))

    with TestClient(app) as api:
        listed = api.get(API, headers=h).json()
        assert [i["id"] for i in listed["items"]] == [ref.id]
        assert api.get(f"{API}/{other_ref.id}", headers=h).status_code == 404
        for action, body in (("accept", None), ("decline", {"reason": "no_capacity"}),
                             ("complete", {"outcome": "other"})):
            assert api.post(f"{API}/{other_ref.id}/{action}", json=body, headers=h).status_code == 404
        assert api.get(f"{API}/{ref.id}", headers=h).status_code == 200

    with TestClient(app) as c:
        token = sign_in(c, staff)
        page = c.get("/portal")
        assert page.status_code == 200 and ref.reference in page.text and other_ref.reference not in page.text
        assert org.name in page.text and other_org.name not in page.text
        assert c.get(f"/portal/referrals/{other_ref.id}").status_code == 404
        r = c.post(f"/portal/referrals/{other_ref.id}/accept", data={"csrf_token": token})
        assert r.status_code == 404
        assert c.get(f"/portal/services/{other_svc.id}").status_code == 404
        before = db.execute(select(ServiceCapacity.available).where(ServiceCapacity.service_id == other_svc.id)
                            ).scalar_one()
        r = c.post(f"/portal/services/{other_svc.id}/capacity", data={"csrf_token": token, "available": "0"})
        assert r.status_code == 404
        r = c.post(f"/portal/services/{other_svc.id}", data={"csrf_token": token, "phone": "807-555-0199"})
        assert r.status_code == 404
        services = c.get("/portal/services")
        assert svc.name in services.text and other_svc.name not in services.text
    db.expire_all()
    assert db.execute(select(ServiceCapacity.available).where(ServiceCapacity.service_id == other_svc.id)
                      ).scalar_one() == before
    assert db.get(Referral, other_ref.id).status == "sent"


def test_unlinked_staff_and_other_roles_are_refused(client, db, make_user, two, token_for):
    loose = make_user("provider_staff")
    sign_in(client, loose)
    r = client.get("/portal")
    assert r.status_code == 403 and "not linked to a provider" in r.text
    assert client.get("/portal/services").status_code == 403
    r = client.get(API, headers=token_for(loose, ALL))
    assert r.status_code == 403 and "not linked" in r.json()["error"]["message"]
    _org, _svc, _staff, ref = two["A"]
    assert client.get(f"/portal/referrals/{ref.id}").status_code == 403

    with TestClient(client.app) as c:
        sign_in(c, two["adv"])
        r = c.get("/portal")
        assert r.status_code == 403 and "Only provider staff" in r.text
        assert c.get(f"/portal/referrals/{ref.id}").status_code == 403


def test_portal_pages_show_only_what_was_shared(client, db, two):
    org, svc, staff, ref = two["A"]
    sign_in(client, staff)
    page = client.get("/portal")
    assert page.status_code == 200 and ref.reference in page.text and svc.name in page.text
    detail = client.get(f"/portal/referrals/{ref.id}")
    assert detail.status_code == 200
    assert ALIAS in detail.text and CODE_WORD in detail.text and "Demo message (fictional)." in detail.text
    case = two["case"]
    assert case.reference not in detail.text and f"/console/cases/{case.id}" not in detail.text
    assert "Private case notes" not in detail.text and "After 20:00" not in detail.text
    assert "Accept" in detail.text and "Decline" in detail.text
    assert client.get("/portal?status=accepted").text.count(ref.reference) == 0
    assert ref.reference in client.get("/portal?status=sent").text
    assert client.get("/portal?status=bogus").status_code == 422
    assert ref.reference in client.get("/portal?status=&overdue=false").text  # the filter form's "All"
    assert ref.reference not in client.get("/portal?overdue=true").text
    assert client.get("/portal/referrals/0").status_code == 422
    assert client.get("/portal/services").status_code == 200
    assert client.get(f"/portal/services/{svc.id}").status_code == 200
    assert client.get("/portal/services/" + "z" * 40).status_code == 422


def test_accept_complete_and_decline_through_the_portal(client, db, two):
    _org, _svc, staff, ref = two["A"]
    token = sign_in(client, staff)
    r = client.post(f"/portal/referrals/{ref.id}/accept", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/portal/referrals/{ref.id}"
    page = client.get(r.headers["location"]).text  # the confirmation, once (core.flash)
    assert re.search(r'<div id="flash"[^>]*role="status"[^>]*><p [^>]*>Referral accepted.</p></div>', page)
    assert "Referral accepted." not in client.get(r.headers["location"]).text
    again = client.post(f"/portal/referrals/{ref.id}/accept", data={"csrf_token": token})
    assert again.status_code == 409 and "no longer waiting" in again.text
    r = client.post(f"/portal/referrals/{ref.id}/complete", data={"csrf_token": token, "outcome": "nonsense"})
    assert r.status_code == 422
    r = client.post(f"/portal/referrals/{ref.id}/complete",
                    data={"csrf_token": token, "outcome": "service_provided", "note": "Stayed two nights (test)."},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200 and 'id="referral-panel"' in r.text and "Stayed two nights (test)." in r.text
    # answered in place: htmx swaps the panel and, out of band, the status region with the confirmation
    assert 'hx-select-oob="#flash:innerHTML"' in page
    assert re.search(r'<div id="flash"[^>]*><p [^>]*>Referral marked as completed.</p></div>', r.text)
    db.expire_all()
    done = db.get(Referral, ref.id)
    assert done.status == "completed" and done.outcome == "service_provided"

    # the other provider declines with a reason
    _org_b, _svc_b, staff_b, ref_b = two["B"]
    with TestClient(client.app) as c:
        token_b = sign_in(c, staff_b)
        r = c.post(f"/portal/referrals/{ref_b.id}/decline", data={"csrf_token": token_b, "reason": "no_capacity",
                                                                  "note": ""}, follow_redirects=False)
        assert r.status_code == 303
    db.expire_all()
    declined = db.get(Referral, ref_b.id)
    assert declined.status == "declined" and declined.decline_reason == "no_capacity"
    assert declined.responded_by_id == staff_b.id

    # the hotline sees both answers on the case page and timeline
    with TestClient(client.app) as c:
        sign_in(c, two["adv"])
        page = c.get(f"/console/cases/{two['case'].id}")
        assert "Service provided" in page.text and "No capacity right now" in page.text
        assert page.text.count("Referral updated") == 3


def test_capacity_and_hours_updates_are_audited_and_shown(client, db, two):
    _org, svc, staff, _ref = two["A"]
    token = sign_in(client, staff)
    r = client.post(f"/portal/services/{svc.id}/capacity", data={"csrf_token": token, "available": "7",
                                                                  "maximum": "12"}, follow_redirects=False)
    assert r.status_code == 303
    db.expire_all()
    cap = db.execute(select(ServiceCapacity).where(ServiceCapacity.service_id == svc.id)).scalar_one()
    assert (cap.available, cap.maximum) == (7, 12)
    page = client.get("/portal/services")
    assert "7 of 12" in page.text
    r = client.post(f"/portal/services/{svc.id}/capacity", data={"csrf_token": token, "available": "20",
                                                                  "maximum": "12"})
    assert r.status_code == 422
    r = client.post(f"/portal/services/{svc.id}/capacity", data={"csrf_token": token, "available": "-1"})
    assert r.status_code == 422

    r = client.post(f"/portal/services/{svc.id}", data={
        "csrf_token": token, "phone": "807-555-0123", "email": "intake@example.org", "url": "https://example.org",
        "alert": "Intake by phone only (test).", "h0_days": ["MO", "WE", "FR"], "h0_opens": "08:30",
        "h0_closes": "16:00", "h1_days": ["SA"], "h1_opens": "10:00", "h1_closes": "14:00"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    db.expire_all()
    rows = db.execute(select(Schedule).where(Schedule.service_id == svc.id).order_by(Schedule.id)).scalars().all()
    assert sorted((s.byday, s.opens_at[:5], s.closes_at[:5]) for s in rows) == [
        ("MO,WE,FR", "08:30", "16:00"), ("SA", "10:00", "14:00")]
    page = client.get(f"/portal/services/{svc.id}")
    assert 'value="08:30"' in page.text and "807-555-0123" in page.text and "Intake by phone only" in page.text

    r = client.post(f"/portal/services/{svc.id}", data={"csrf_token": token, "open_24_7": "on",
                                                        "phone": "807-555-0123"}, follow_redirects=False)
    assert r.status_code == 303
    db.expire_all()
    from harbour.directory.models import Service

    assert is_open_24_7(db, db.get(Service, svc.id))
    assert "Open 24/7" in client.get("/portal/services").text

    r = client.post(f"/portal/services/{svc.id}", data={"csrf_token": token, "h0_days": ["XX"], "h0_opens": "25:00"})
    assert r.status_code == 422
    r = client.post(f"/portal/services/{svc.id}", data={"csrf_token": token, "email": "not an email"})
    assert r.status_code == 422 and "not an email" in r.text  # kept on the form, not in an error message

    audit = db.execute(select(AuditEntry).where(AuditEntry.actor_id == staff.id, AuditEntry.action == "update")
                       .order_by(AuditEntry.seq)).scalars().all()
    assert [(a.record_type, a.record_id) for a in audit] == [("service_capacity", svc.id), ("service", svc.id),
                                                              ("service", svc.id)]
    assert audit[0].detail == {"from": 3, "to": 7}


def test_portal_forms_need_the_csrf_token(client, db, two):
    _org, svc, staff, ref = two["A"]
    sign_in(client, staff)
    for path, data in ((f"/portal/referrals/{ref.id}/accept", {}),
                       (f"/portal/referrals/{ref.id}/decline", {"reason": "other"}),
                       (f"/portal/services/{svc.id}/capacity", {"available": "1"}),
                       (f"/portal/services/{svc.id}", {"phone": "807-555-0111"})):
        assert client.post(path, data=data).status_code == 403
        assert client.post(path, data={**data, "csrf_token": "forged"}).status_code == 403
    db.expire_all()
    assert db.get(Referral, ref.id).status == "sent"
    assert db.execute(select(ServiceCapacity.available).where(ServiceCapacity.service_id == svc.id)
                      ).scalar_one() == 3
