"""English and French: how the language is chosen, remembered and used, in pages and in API errors."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from harbour.core import i18n
from harbour.core.security import LANG_COOKIE

PO = Path(i18n.__file__).resolve().parent.parent / "locale" / "fr" / "LC_MESSAGES" / "messages.po"
API = "/api/v1/hotline"


def html_lang(response) -> str:
    match = re.search(r'<html lang="([a-z]{2})"', response.text)
    assert match, response.text[:200]
    return match.group(1)


@pytest.mark.parametrize("header, expected", [
    (None, "en"),
    ("fr-CA", "fr"),
    ("fr-CA,fr;q=0.9,en;q=0.8", "fr"),
    ("en-CA,en;q=0.9,fr;q=0.8", "en"),
    ("de-DE,fr;q=0.5", "fr"),  # the first language Harbour speaks
    ("de-DE,es;q=0.5", "en"),  # none: English
    ("en;q=0.2,fr;q=0.9", "fr"),  # by weight, not by order
    ("fr;q=abc", "fr"),  # a broken weight does not break the page
    ("*", "en"),
])
def test_negotiate_from_accept_language(header, expected):
    assert i18n.negotiate(None, None, header) == expected


def test_query_beats_cookie_beats_header():
    assert i18n.negotiate("fr", "en", "en") == "fr"
    assert i18n.negotiate(None, "fr", "en") == "fr"
    assert i18n.negotiate("de", "xx", "fr-CA") == "fr"  # unknown values are ignored
    assert i18n.negotiate(None, None, None) == "en"


def test_lang_query_sets_the_page_language_and_a_cookie(client):
    r = client.get("/help?lang=fr")
    assert r.status_code == 200
    assert html_lang(r) == "fr"
    assert r.headers["content-language"] == "fr"
    cookie = next(c for c in r.headers.get_list("set-cookie") if c.startswith(LANG_COOKIE + "="))
    assert cookie.startswith(f"{LANG_COOKIE}=fr;")
    assert "samesite=strict" in cookie.lower() and "httponly" in cookie.lower()

    # remembered on the next request, even against the browser's own preference
    again = client.get("/help", headers={"Accept-Language": "en-CA"})
    assert html_lang(again) == "fr"
    # the page offers the way back, and switching back is remembered too
    assert 'hreflang="en"' in again.text
    assert html_lang(client.get("/signs?lang=en")) == "en"
    assert html_lang(client.get("/signs")) == "en"


def test_accept_language_and_default(client):
    assert html_lang(client.get("/help", headers={"Accept-Language": "fr-CA"})) == "fr"
    assert html_lang(client.get("/help")) == "en"
    assert html_lang(client.get("/help", headers={"Accept-Language": "fr-CA"}, params={"lang": "en"})) == "en"
    # an unknown ?lang= does not set a cookie
    r = client.get("/help?lang=xx")
    assert html_lang(r) == "en"
    assert not any(c.startswith(LANG_COOKIE + "=") for c in r.headers.get_list("set-cookie"))


def test_public_pages_are_translated(client):
    en = client.get("/help?lang=en").text
    fr = client.get("/help?lang=fr").text
    if not PO.exists():
        pytest.skip(f"French catalogue not written yet: {PO}")
    assert en != fr
    assert i18n.translations("fr").gettext("Get help") != "Get help"
    assert i18n.translations("fr").gettext("Get help") in fr


def _french(msgid: str) -> str:
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="fr")
    entry = catalog.get(msgid)
    assert entry is not None and entry.string and not entry.fuzzy, f"no French translation for {msgid!r}"
    return entry.string


def test_api_errors_in_french(client, make_user, token_for):
    if not PO.exists():
        pytest.skip(f"French catalogue not written yet ({PO}); API error messages cannot be French before it exists")
    fr = {"Accept-Language": "fr-CA"}
    h = token_for(make_user("hotline_advocate"))

    r = client.get(f"{API}/cases", headers=fr)  # no token
    assert r.status_code == 401
    assert r.json()["error"]["message"] == _french("Sign in or provide a valid API token.")
    assert r.headers["content-language"] == "fr"

    r = client.get(f"{API}/cases/999999", headers={**h, **fr})
    assert r.status_code == 404
    assert r.json()["error"]["message"] == _french("Not found.")

    r = client.post(f"{API}/contacts", json={"channel": "pigeon"}, headers={**h, **fr})
    assert r.status_code == 422
    assert r.json()["error"]["message"] == _french("The request is not valid; nothing was changed.")
    assert r.json()["error"]["code"] == "invalid"  # codes stay stable in every language

    outsider = token_for(make_user("hotline_advocate"))
    r = client.get(f"{API}/cases/{client.post(f'{API}/cases', json={}, headers=h).json()['id']}/viewers",
                   headers={**outsider, **fr})
    assert r.status_code == 403
    assert r.json()["error"]["message"] == _french("Only supervisors can see who viewed a case.")

    # the same request in English
    r = client.get(f"{API}/cases/999999", headers={**h, "Accept-Language": "en-CA"})
    assert r.json()["error"]["message"] == "Not found."
