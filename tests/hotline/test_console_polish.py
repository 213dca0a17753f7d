"""Console polish (issue 13): a contact saved from a chat carries the place and classification the advocate
chose; a case's potential victims read as words, not a run of dashes; the timeline shows what the advocate
typed for a task.  On SQLite and PostgreSQL; every person is fictional."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from harbour.core.i18n import reset_language, set_language
from harbour.hotline import service
from harbour.hotline.chat import service as chat_service
from harbour.hotline.chat.models import ChatSession
from harbour.hotline.models import Case, Contact
from harbour.hotline.present import victims_summary
from harbour.hotline.schemas import CaseCreate, CaseUpdate, ContactCreate, TaskCreate, TaskUpdate
from tests.conftest import actor_of, csrf_of


def _signed_in(client, login, user) -> str:
    assert login(user).status_code == 303
    return csrf_of(client, "/console/contacts/new")


def _chat_with_a_message(db, settings, advocate, lang="en"):
    chat_service.set_available(db, actor=actor_of(advocate), available=True)
    chat, _raw, _events = chat_service.start_chat(db, settings, language=lang, address="192.0.2.44")
    chat_service.take(db, actor=actor_of(advocate), chat_id=chat.id)
    chat_service.post_visitor_message(db, settings, chat_id=chat.id, body="Fictional visitor: I need a safe place.")
    return chat


# -- 2. a contact saved from a chat takes the place and classification ----------------------------------
def test_chat_to_case_carries_place_and_classification(db, settings, make_user):
    advocate = make_user("hotline_advocate")
    chat = _chat_with_a_message(db, settings, advocate, lang="fr")
    contact, case, _t = chat_service.convert_to_case(
        db, actor=actor_of(advocate), chat_id=chat.id,
        details={"classification": "crisis", "province": "ON", "city": "Thunder Bay"})
    db.expire_all()
    contact, case = db.get(Contact, contact.id), db.get(Case, case.id)
    assert (contact.classification, contact.province, contact.city) == ("crisis", "ON", "Thunder Bay")
    assert (case.province, case.city) == ("ON", "Thunder Bay")  # the case takes the contact's place
    assert contact.language == "fr" and contact.channel == "web_chat"


def test_chat_to_case_through_the_console_form(client, db, settings, make_user, login):
    advocate = make_user("hotline_advocate")
    token = _signed_in(client, login, advocate)
    chat = _chat_with_a_message(db, settings, advocate)
    page = client.get("/console/chat")
    panel = page.text[page.text.index(f'id="chat-{chat.id}"'):]
    # the advocate chooses the classification (a potential case unless they say otherwise) and the place
    assert re.search(r'<option value="potential_case" selected>', panel)
    assert 'name="province"' in panel and 'name="city"' in panel

    # a bad place is refused with a clear message, and nothing is saved
    r = client.post(f"/console/chat/{chat.id}/case", data={"csrf_token": token, "classification": "potential_case",
                                                           "province": "XX", "city": "Thunder Bay"})
    assert r.status_code == 422 and "form-error" in r.text
    assert db.execute(select(func.count(Contact.id))).scalar_one() == 0

    r = client.post(f"/console/chat/{chat.id}/case", data={"csrf_token": token, "classification": "crisis",
                                                           "province": "ON", "city": "Thunder Bay"},
                    follow_redirects=False)
    assert r.status_code == 303
    case_id = int(r.headers["location"].rsplit("/", 1)[1])
    contact = db.execute(select(Contact)).scalar_one()
    assert (contact.classification, contact.province, contact.city, contact.case_id) == (
        "crisis", "ON", "Thunder Bay", case_id)
    page = client.get(f"/console/cases/{case_id}").text
    assert "Thunder Bay, Ontario" in page and "Crisis or high risk" in page


def test_a_chat_saved_without_details_still_becomes_a_case(client, db, settings, make_user, login):
    """A form sent with no details (an older page, a script) still works: nothing is made up for the contact."""
    advocate = make_user("hotline_advocate")
    token = _signed_in(client, login, advocate)
    chat = _chat_with_a_message(db, settings, advocate)
    r = client.post(f"/console/chat/{chat.id}/case", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    contact = db.execute(select(Contact)).scalar_one()
    assert contact.classification is None and contact.province is None
    db.expire_all()
    assert db.get(ChatSession, chat.id).case_id == contact.case_id


def test_a_contact_added_to_a_case_starts_from_the_case_place_and_classification(client, db, make_user, login):
    advocate = make_user("hotline_advocate")
    _signed_in(client, login, advocate)
    first, _ = service.create_contact(db, actor=actor_of(advocate), data=ContactCreate(
        channel="phone", classification="crisis", province="MB", city="Winnipeg"))
    case = service.open_case(db, actor=actor_of(advocate), data=CaseCreate(contact_ids=[first.id]))
    form = client.get(f"/console/contacts/new?case_id={case.id}").text
    assert 'value="Winnipeg"' in form
    assert re.search(r'<option value="MB" selected>', form)
    assert re.search(r'<option value="crisis" selected>', form)


# -- 3. potential victims read as words -------------------------------------------------------------
def test_potential_victims_summary_without_dashes(client, db, make_user, login):
    advocate = make_user("hotline_advocate")
    _signed_in(client, login, advocate)
    case = service.open_case(db, actor=actor_of(advocate), data=CaseCreate(victim_count=1))
    page = client.get(f"/console/cases/{case.id}").text
    details = page[page.index('id="details"'):page.index('id="consent"')]
    assert "1 potential victim" in details
    assert "· —" not in details and "— ·" not in details

    client.get("/account?lang=fr")
    page = client.get(f"/console/cases/{case.id}").text
    details = page[page.index('id="details"'):page.index('id="consent"')]
    assert "1 victime potentielle" in details and "· —" not in details


def test_potential_victims_summary_words(db, make_user):
    advocate = make_user("hotline_advocate")
    actor = actor_of(advocate)
    case = service.open_case(db, actor=actor, data=CaseCreate())
    token = set_language("en")
    try:
        assert victims_summary(case) == "Not known yet"
        case = service.update_case(db, actor=actor, case_id=case.id, data=CaseUpdate(
            victim_count=3, age_band="18-24", gender="unknown", citizenship="temporary_worker"))
        assert victims_summary(case) == "3 potential victims · 18 to 24 · Temporary foreign worker"
        case = service.update_case(db, actor=actor, case_id=case.id, data=CaseUpdate(victim_count=None, gender="woman"))
        assert victims_summary(case) == "18 to 24 · Woman or girl · Temporary foreign worker"
    finally:
        reset_language(token)
    token = set_language("fr")
    try:
        assert victims_summary(case).startswith("18 à 24")
    finally:
        reset_language(token)


# -- 4. the timeline shows what the advocate typed for a task ------------------------------------------
def test_timeline_shows_the_task_text(client, db, make_user, login):
    advocate = make_user("hotline_advocate")
    _signed_in(client, login, advocate)
    case = service.open_case(db, actor=actor_of(advocate), data=CaseCreate())
    task = service.add_task(db, actor=actor_of(advocate), case_id=case.id, data=TaskCreate(
        title="Ask the fictional shelter about a bed for Friday", due_at="2026-11-25T15:00:00+00:00"))
    service.update_task(db, actor=actor_of(advocate), task_id=task.id, data=TaskUpdate(done=True))
    page = client.get(f"/console/cases/{case.id}").text
    timeline = page[page.index('id="timeline"'):]
    assert "Task added: Ask the fictional shelter about a bed for Friday" in timeline
    assert "Task completed: Ask the fictional shelter about a bed for Friday" in timeline
    assert "General task" not in timeline
