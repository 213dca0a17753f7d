"""Flash messages (issue 13): after a POST-redirect action the next page confirms it once, in a role=status
region, in the page's language, with no personal data; the page after that does not repeat it.  On SQLite
and PostgreSQL; every person is fictional."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from harbour.core import flash
from harbour.hotline.models import Case, Contact
from tests.conftest import csrf_of

FLASH_REGION = re.compile(r'<div id="flash" class="flash-region" role="status"[^>]*>(.*?)</div>', re.S)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch):
    from argon2 import PasswordHasher

    from harbour.core import security

    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def shown(html: str) -> str:
    """The text of the page's flash region ('' when it says nothing)."""
    match = FLASH_REGION.search(html)
    assert match, "the page has no flash region"
    return re.sub(r"<[^>]+>", "", match.group(1)).strip()


def _signed_in(client, login, user) -> str:
    assert login(user).status_code == 303
    return csrf_of(client, "/console/contacts/new")


def _flash_cookie(response) -> str | None:
    for header in response.headers.get_list("set-cookie"):
        if header.startswith(flash.COOKIE + "="):
            return header
    return None


def test_a_saved_contact_is_confirmed_once(client, make_user, login, db):
    token = _signed_in(client, login, make_user("hotline_advocate"))
    r = client.post("/console/contacts", data={"csrf_token": token, "channel": "phone", "city": "Thunder Bay",
                                               "summary": "Fictional caller Bluebird Testperson"},
                    follow_redirects=False)
    assert r.status_code == 303
    contact = db.execute(select(Contact)).scalar_one()
    assert r.headers["location"] == f"/console/contacts/{contact.id}"  # the confirmation is not in the URL
    cookie = _flash_cookie(r)
    assert cookie is not None
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    assert re.fullmatch(r"[a-z0-9_.]+\.[0-9a-f]{32}", value)  # a code and its signature: nothing typed
    assert "httponly" in cookie.lower() and "samesite=strict" in cookie.lower() and "max-age=" in cookie.lower()

    page = client.get(r.headers["location"])
    assert shown(page.text) == "Contact saved."
    assert "Thunder Bay" not in shown(page.text) and "Bluebird" not in shown(page.text)
    deleted = _flash_cookie(page)
    assert deleted is not None and ('max-age=0' in deleted.lower() or "expires=" in deleted.lower())
    assert shown(client.get(r.headers["location"]).text) == ""  # not on the next page


def test_several_case_actions_each_say_what_happened(client, make_user, login, db):
    adv = make_user("hotline_advocate")
    token = _signed_in(client, login, adv)
    r = client.post("/console/cases", data={"csrf_token": token}, follow_redirects=True)
    assert shown(r.text) == "Case opened."
    case = db.execute(select(Case)).scalar_one()
    url = f"/console/cases/{case.id}"
    steps = [
        (f"{url}/consents", {"purpose": "follow_up", "method": "verbal"}, "Consent recorded."),
        (f"{url}/tasks", {"title": "Fictional call back", "due_at": "2026-11-25T10:00", "kind": "general"},
         "Task added."),
        (f"{url}/safety-plan", {"safe_to_call_back": "yes", "safe_to_leave_voicemail": "no", "safe_to_text": "no"},
         "Safety plan saved."),
        (url, {"risk_level": "high"}, "Case saved."),
    ]
    for path, data, message in steps:
        if path == url:
            db.expire_all()
            data = {**data, "version": str(db.get(Case, case.id).version)}
        r = client.post(path, data={"csrf_token": token, **data}, follow_redirects=True)
        assert r.status_code == 200, (path, r.text[-400:])
        assert shown(r.text) == message, path
        assert shown(client.get(url).text) == "", path  # once only


def test_a_refused_action_shows_no_confirmation(client, make_user, login, db):
    token = _signed_in(client, login, make_user("hotline_advocate"))
    client.post("/console/cases", data={"csrf_token": token}, follow_redirects=True)
    case = db.execute(select(Case)).scalar_one()
    r = client.post(f"/console/cases/{case.id}/tasks", data={"csrf_token": token, "title": "Call back",
                                                            "due_at": "2026-11-25T10:00", "kind": "follow_up_contact"})
    assert r.status_code == 409 and shown(r.text) == "" and _flash_cookie(r) is None


def test_the_confirmation_speaks_the_next_pages_language(client, make_user, login):
    token = _signed_in(client, login, make_user("hotline_advocate"))
    client.get("/console/contacts/new?lang=fr")
    r = client.post("/console/contacts", data={"csrf_token": token, "channel": "phone"}, follow_redirects=True)
    assert shown(r.text) == "Contact enregistré."
    r = client.post("/account/language", data={"csrf_token": token, "language": "en"}, follow_redirects=True)
    assert shown(r.text) == "Language saved."


def test_partial_pages_leave_the_confirmation_for_the_page(client, make_user, login):
    """htmx fragments (the chat badge polls every 30 s) neither show nor use up a waiting confirmation."""
    token = _signed_in(client, login, make_user("hotline_advocate"))
    r = client.post("/console/contacts", data={"csrf_token": token, "channel": "phone"}, follow_redirects=False)
    badge = client.get("/console/chat/count", headers={"HX-Request": "true"})
    assert badge.status_code == 200 and "Contact saved." not in badge.text and _flash_cookie(badge) is None
    assert shown(client.get(r.headers["location"]).text) == "Contact saved."


def test_a_forged_or_unknown_confirmation_is_ignored(client, make_user, login):
    _signed_in(client, login, make_user("hotline_advocate"))
    for value in ("hotline.contact_saved", "hotline.contact_saved." + "0" * 32, "nonsense.code." + "a" * 32,
                  "<script>alert(1)</script>"):
        client.cookies.set(flash.COOKIE, value)
        assert shown(client.get("/console/contacts/new").text) == "", value
    client.cookies.delete(flash.COOKIE)


def test_account_and_administration_actions(client, make_user, login, db):
    admin = make_user("admin")
    locked = make_user("hotline_advocate")
    token = _signed_in(client, login, admin)
    r = client.post("/account/time-zone", data={"csrf_token": token, "time_zone": "America/Winnipeg"},
                    follow_redirects=True)
    assert shown(r.text) == "Time zone saved."
    r = client.post(f"/admin/users/{locked.id}/unlock", data={"csrf_token": token}, follow_redirects=True)
    assert shown(r.text) == "Account unlocked."
    r = client.post(f"/admin/users/{locked.id}/active", data={"csrf_token": token, "active": ""},
                    follow_redirects=True)
    assert shown(r.text) == "Account disabled."
    assert shown(client.get("/admin").text) == ""


def test_signing_out_is_confirmed_on_the_public_sign_in_page(client, make_user, login):
    token = _signed_in(client, login, make_user("hotline_advocate"))
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=True)
    assert r.url.path == "/login" and shown(r.text) == "You have signed out."
    assert shown(client.get("/login").text) == ""


def test_every_registered_message_is_plain_catalogue_text(app):
    """No placeholders: a confirmation can never carry what someone typed.  (``app``: creating it imports every
    view module, which register their messages.)"""
    from harbour.core.i18n import translations

    fr = translations("fr")
    assert len(flash.registered()) >= 40
    for message in flash.registered():
        assert "%(" not in message.text and "{" not in message.text, message.code
        assert fr.gettext(message.text) != message.text, f"no French for {message.text!r}"
