"""The operator console end to end (server-rendered forms, CSRF, role checks), on both databases."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from harbour.core.models import AuditEntry
from harbour.hotline.models import Case, CaseEvent, Contact, Task
from tests.conftest import csrf_of


def _signed_in(client, login, user) -> str:
    assert login(user).status_code == 303
    return csrf_of(client, "/console/contacts/new")


def test_quick_entry_needs_only_the_channel(client, make_user, login, db):
    token = _signed_in(client, login, make_user("hotline_advocate"))
    r = client.post("/console/contacts", data={"csrf_token": token, "channel": "phone"}, follow_redirects=False)
    assert r.status_code == 303
    contact = db.execute(select(Contact)).scalar_one()
    assert contact.channel == "phone" and contact.received_at is not None
    assert r.headers["location"] == f"/console/contacts/{contact.id}"
    page = client.get(r.headers["location"])
    assert contact.reference in page.text and "Contact saved." in page.text


def test_quick_entry_as_a_browser_sends_it(client, make_user, login, db):
    """A browser posts every field, empty ones as "": only the channel is filled in."""
    token = _signed_in(client, login, make_user("hotline_advocate"))
    empty = {name: "" for name in ("received_at", "classification", "caller_type", "language", "interpreter_language",
                                   "duration_seconds", "province", "city", "caller_phone", "caller_name",
                                   "caller_email", "summary")}
    r = client.post("/console/contacts", data={"csrf_token": token, "channel": "web_chat", **empty, "then": "case"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    contact = db.execute(select(Contact)).scalar_one()
    assert contact.channel == "web_chat" and contact.city is None and contact.received_at is not None


def test_quick_entry_rejects_bad_values_and_keeps_what_was_typed(client, make_user, login, db):
    token = _signed_in(client, login, make_user("hotline_advocate"))
    r = client.post("/console/contacts", data={"csrf_token": token, "channel": "carrier-pigeon", "city": "Thunder Bay",
                                               "caller_phone": "not a phone"})
    assert r.status_code == 422
    assert 'value="Thunder Bay"' in r.text  # nothing typed is lost
    assert "field-error" in r.text
    assert db.execute(select(func.count(Contact.id))).scalar_one() == 0


def test_journey_contact_case_consent_task_timeline(client, make_user, login, db):
    adv = make_user("hotline_advocate")
    token = _signed_in(client, login, adv)
    r = client.post("/console/contacts", data={
        "csrf_token": token, "channel": "web_chat", "language": "fr", "province": "ON", "city": "Thunder Bay",
        "classification": "crisis", "then": "case"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/cases/new?contact_id=")
    contact_id = re.search(r"contact_id=(\d+)", r.headers["location"]).group(1)
    form = client.get(r.headers["location"])
    assert form.status_code == 200 and 'value="Thunder Bay"' in form.text
    r = client.post("/console/cases", data={"csrf_token": token, "contact_ids": contact_id,
                                            "needs": ["emergency_shelter", "counselling"], "risk_level": "high",
                                            "assigned_to_id": str(adv.id)}, follow_redirects=False)
    assert r.status_code == 303
    case_id = int(r.headers["location"].rsplit("/", 1)[1])
    case = db.get(Case, case_id)
    assert case.needs == ["emergency_shelter", "counselling"] and case.province == "ON"

    # follow-up contact is refused without consent, then allowed once consent is recorded
    due = "2026-11-25T10:00"
    r = client.post(f"/console/cases/{case_id}/tasks", data={"csrf_token": token, "title": "Call back",
                                                             "due_at": due, "kind": "follow_up_contact"})
    assert r.status_code == 409 and "no current consent" in r.text
    assert db.execute(select(func.count(Task.id))).scalar_one() == 0
    r = client.post(f"/console/cases/{case_id}/consents", data={"csrf_token": token, "purpose": "follow_up",
                                                                "method": "verbal"}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/console/cases/{case_id}/tasks", data={"csrf_token": token, "title": "Call back",
                                                             "due_at": due, "kind": "follow_up_contact"},
                    follow_redirects=False)
    assert r.status_code == 303
    task = db.execute(select(Task)).scalar_one()
    # typed in the console's time zone (the default, Toronto: EST in November), stored in UTC
    assert task.due_at.isoformat().startswith("2026-11-25T15:00")

    # htmx marks the task done and returns just the row
    r = client.post(f"/console/tasks/{task.id}/done", data={"csrf_token": token}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and r.text.lstrip().startswith(f'<tr id="task-{task.id}"')

    page = client.get(f"/console/cases/{case_id}")
    kinds = [e.kind for e in db.execute(select(CaseEvent).where(CaseEvent.case_id == case_id)
                                        .order_by(CaseEvent.id)).scalars()]
    assert kinds == ["case_opened", "contact_attached", "assigned", "consent_recorded", "task_added", "task_done"]
    for label in ("Case opened", "Consent recorded", "Task added", "Task completed"):
        assert label in page.text


def test_closing_needs_an_outcome(client, make_user, login, db):
    token = _signed_in(client, login, make_user("hotline_advocate"))
    client.post("/console/cases", data={"csrf_token": token})
    case = db.execute(select(Case)).scalar_one()
    r = client.post(f"/console/cases/{case.id}", data={"csrf_token": token, "status": "closed",
                                                       "version": str(case.version)})
    assert r.status_code == 422 and "outcome" in r.text
    db.refresh(case)
    assert case.status == "open"
    r = client.post(f"/console/cases/{case.id}", data={"csrf_token": token, "status": "closed",
                                                       "outcome": "services_connected", "version": str(case.version)},
                    follow_redirects=False)
    assert r.status_code == 303
    db.refresh(case)
    assert case.status == "closed" and case.closed_at is not None


def test_repeat_caller_is_offered_without_storing_the_number(client, make_user, login, db):
    token = _signed_in(client, login, make_user("hotline_advocate"))
    client.post("/console/contacts", data={"csrf_token": token, "channel": "phone", "caller_phone": "807 555 0142"})
    r = client.post("/console/contacts/repeat-check", data={"csrf_token": token, "caller_phone": "+1-807-555-0142"},
                    headers={"HX-Request": "true"})
    assert r.status_code == 200 and "contacted the hotline 1 time before" in r.text
    r = client.post("/console/contacts/repeat-check", data={"csrf_token": token, "caller_phone": "807 555 0199"},
                    headers={"HX-Request": "true"})
    assert "contacted the hotline" not in r.text


def test_supervisor_dashboard_and_who_viewed(client, make_user, login, db):
    adv, sup = make_user("hotline_advocate"), make_user("hotline_supervisor")
    token = _signed_in(client, login, adv)
    client.post("/console/cases", data={"csrf_token": token, "risk_level": "imminent"})
    case = db.execute(select(Case)).scalar_one()
    client.get(f"/console/cases/{case.id}?purpose=follow_up")
    assert client.get("/console/dashboard").status_code == 403  # advocates have no dashboard
    assert "Who viewed" not in client.get(f"/console/cases/{case.id}").text
    client.cookies.clear()
    _signed_in(client, login, sup)
    board = client.get("/console/dashboard")
    assert board.status_code == 200 and case.reference in board.text
    page = client.get(f"/console/cases/{case.id}")
    assert "Who viewed this case" in page.text and adv.username in page.text and "follow_up" in page.text


def test_console_is_closed_to_other_roles_and_to_anonymous(client, make_user, login, db):
    r = client.get("/console/cases", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    _signed_in(client, login, make_user("hotline_advocate"))
    client.post("/console/cases", data={"csrf_token": csrf_of(client, "/console/contacts/new")})
    case = db.execute(select(Case)).scalar_one()
    client.cookies.clear()
    for role in ("provider_staff", "agency_analyst", "researcher", "admin"):
        assert login(make_user(role)).status_code == 303
        before = db.execute(select(func.count(AuditEntry.id)).where(AuditEntry.action == "read")).scalar_one()
        assert client.get(f"/console/cases/{case.id}").status_code == 403
        assert client.get("/console/contacts").status_code == 403
        after = db.execute(select(func.count(AuditEntry.id)).where(AuditEntry.action == "read")).scalar_one()
        assert after == before  # a refused read is not a read
        client.cookies.clear()


def test_console_forms_refuse_missing_csrf(client, make_user, login, db):
    _signed_in(client, login, make_user("hotline_advocate"))
    r = client.post("/console/contacts", data={"channel": "phone"})
    assert r.status_code == 403
    assert db.execute(select(func.count(Contact.id))).scalar_one() == 0
