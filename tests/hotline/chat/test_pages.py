"""Chat pages: entry from /help, out of hours, no-store, cookie, console access, escaping, chat -> case."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from harbour.hotline.chat import service
from harbour.hotline.chat.models import ChatSession
from tests.conftest import actor_of


def test_help_page_links_to_chat(client):
    r = client.get("/help")
    assert 'href="/help/chat"' in r.text


def test_out_of_hours_shows_phone_and_tip_form(client, settings):
    r = client.get("/help/chat")
    assert r.status_code == 200
    assert settings.hotline_phone in r.text and 'href="/tip"' in r.text
    assert 'action="/help/chat"' not in r.text
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text).group(1)
    r = client.post("/help/chat", data={"language": "en", "csrf_token": token})
    assert r.status_code == 409 and settings.hotline_phone in r.text
    assert "harbour_chat" not in r.headers.get("set-cookie", "")


def test_start_sets_only_a_short_lived_httponly_cookie_and_no_store(people, db):
    people.staff("adv")
    people.use("visitor")
    page = people.client.get("/help/chat")
    assert 'action="/help/chat"' in page.text and page.headers["cache-control"] == "no-store"
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = people.client.post("/help/chat", data={"language": "fr", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/help/chat/room"
    cookie = [c for c in r.headers.get_list("set-cookie") if c.startswith("harbour_chat=")][0].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/help/chat" in cookie
    assert "max-age" not in cookie and "expires" not in cookie  # a session cookie, never written to disk on purpose
    room = people.client.get("/help/chat/room")
    assert room.status_code == 200 and room.headers["cache-control"] == "no-store"
    assert '<html lang="fr">' in room.text  # the chat page speaks the chosen language
    assert "localStorage" not in people.client.get("/static/chat.js").text.replace(
        "Nothing is written to localStorage", "")
    assert db.execute(select(ChatSession)).scalar_one().language == "fr"


def test_csrf_required_to_start(people):
    people.staff("adv")
    people.use("visitor")
    r = people.client.post("/help/chat", data={"language": "en"})
    assert r.status_code == 403


def test_room_without_a_chat_goes_back_to_start(client):
    r = client.get("/help/chat/room", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/help/chat"


def test_visitor_end_closes_and_forgets(people, db):
    people.staff("adv")
    people.visitor("v")
    token = people.csrf("v", "/help/chat/room")
    r = people.client.post("/help/chat/end", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert any(c.startswith("harbour_chat=") and "max-age=0" in c.lower() for c in r.headers.get_list("set-cookie"))
    assert db.execute(select(ChatSession)).scalar_one().close_reason == "visitor_left"


@pytest.mark.parametrize("role", ["provider_staff", "researcher", "plan_coordinator"])
def test_console_refuses_other_roles(people, role):
    people.staff("outsider", role=role, available=False)
    people.use("outsider")
    assert people.client.get("/console/chat").status_code == 403
    assert people.client.get("/console/chat/queue").status_code == 403


def test_console_lists_queue_and_take_renders_escaped_history(people, db, settings):
    adv = people.staff("adv")
    people.visitor("v")
    chat = db.execute(select(ChatSession)).scalar_one()
    service.post_visitor_message(db, settings, chat_id=chat.id, body="<script>alert('x')</script>")
    people.use("adv")
    page = people.client.get("/console/chat")
    assert page.status_code == 200 and chat.reference in page.text and page.headers["cache-control"] == "no-store"
    token = people.csrf("adv", "/console/chat")
    r = people.client.post(f"/console/chat/{chat.id}/take", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    page = people.client.get("/console/chat")
    assert "<script>alert" not in page.text and "&lt;script&gt;alert(" in page.text
    # a second take answers with a clear message, not an error page
    r = people.client.post(f"/console/chat/{chat.id}/take", data={"csrf_token": token})
    assert r.status_code == 409 and "already taken" in r.text
    assert service.my_chats(db, actor=actor_of(adv))


def test_chat_to_case_from_the_console(people, db, settings):
    adv = people.staff("adv")
    people.visitor("v")
    chat = db.execute(select(ChatSession)).scalar_one()
    service.take(db, actor=actor_of(adv), chat_id=chat.id)
    service.post_visitor_message(db, settings, chat_id=chat.id, body="I need <i>help</i> tonight")
    token = people.csrf("adv", "/console/chat")
    r = people.client.post(f"/console/chat/{chat.id}/case", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/cases/")
    case_page = people.client.get(r.headers["location"])
    assert "/console/chat/case/" in case_page.text
    case_id = int(r.headers["location"].rsplit("/", 1)[1])
    listing = people.client.get(f"/console/chat/case/{case_id}/transcripts")
    href = re.search(r'href="(/console/chat/transcripts/\d+)"', listing.text).group(1)
    transcript = people.client.get(href)
    assert "I need &lt;i&gt;help&lt;/i&gt; tonight" in transcript.text
    people.staff("provider", role="provider_staff", available=False)
    people.use("provider")
    assert people.client.get(href).status_code == 403


@pytest.mark.parametrize("role, shown", [("hotline_advocate", True), ("hotline_supervisor", True),
                                         ("provider_staff", False), ("agency_analyst", False)])
def test_the_menu_counts_waiting_chats_for_hotline_staff_only(people, role, shown):
    people.staff("on-duty")
    people.visitor("v1")
    people.visitor("v2")
    viewer = people.staff("viewer", role=role, available=False)
    badge = people.client.get("/console/chat/count")
    assert badge.status_code == 200 and ('class="badge">2<' in badge.text) is shown
    assert service.waiting_count(people.db, actor=actor_of(viewer)) == (2 if shown else 0)
