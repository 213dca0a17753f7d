"""Quick exit on every public page: the button, Esc twice, and Tab-then-Enter all leave for the neutral
site, and the Harbour page is no longer in the tab's history (its entry was replaced, not pushed).

The neutral site is answered by route interception, so the test needs no network.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.pages import PUBLIC_PAGES

NEUTRAL_BODY = "<!doctype html><title>Neutral test page</title><h1>Weather (neutral test page)</h1>"
BEFORE_URL = "https://news.example.test/"  # a page the visitor had open before Harbour (also intercepted)
BEFORE_BODY = "<!doctype html><title>Before</title><h1>A page opened before Harbour</h1>"


def _open(new_page, live_server, path):
    page = new_page()
    page.route(BEFORE_URL, lambda route: route.fulfill(status=200, content_type="text/html", body=BEFORE_BODY))
    page.goto(BEFORE_URL)
    response = page.goto(path)
    return page, response


@pytest.mark.parametrize("name", list(PUBLIC_PAGES))
def test_quick_exit_leaves_and_is_not_in_history(new_page, live_server, shot, name):
    page, response = _open(new_page, live_server, PUBLIC_PAGES[name])
    assert response.status == 200, f"{PUBLIC_PAGES[name]} answered {response.status}"

    exit_link = page.locator("#quick-exit")
    expect(exit_link).to_be_visible()
    neutral = page.locator("body").get_attribute("data-quick-exit")
    assert neutral and not neutral.startswith(live_server), "quick exit must point away from Harbour"
    assert exit_link.get_attribute("href") == neutral  # works without JavaScript too
    # Nothing in the tab's storage says which Harbour page was read (htmx is not loaded on public pages).
    assert page.evaluate("() => [localStorage.length, sessionStorage.length]") == [0, 0]
    entries = page.evaluate("history.length")
    page.route(neutral, lambda route: route.fulfill(status=200, content_type="text/html", body=NEUTRAL_BODY))
    shot(page, f"quick-exit-{name}", full_page=False)  # the button is in the first screen

    # 1. The button.
    with page.expect_navigation(url=neutral):
        exit_link.click()
    expect(page.get_by_role("heading", name="Weather (neutral test page)")).to_be_visible()
    assert page.url == neutral

    # Back goes to what was open before Harbour, never to the Harbour page; the entry was replaced.
    page.go_back()
    expect(page.get_by_role("heading", name="A page opened before Harbour")).to_be_visible()
    assert page.url == BEFORE_URL
    page.go_forward()
    assert page.url == neutral
    assert page.evaluate("history.length") == entries, "quick exit must replace the Harbour entry, not add one"

    # 2. Esc twice.
    page.goto(PUBLIC_PAGES[name])
    with page.expect_navigation(url=neutral):
        page.keyboard.press("Escape")
        page.keyboard.press("Escape")
    assert page.url == neutral

    # 3. Keyboard only: the quick exit is the first thing Tab reaches, and Enter follows it.
    page.goto(PUBLIC_PAGES[name])
    page.keyboard.press("Tab")
    expect(exit_link).to_be_focused()
    with page.expect_navigation(url=neutral):
        page.keyboard.press("Enter")
    assert page.url == neutral


def test_single_escape_does_not_exit(page, live_server):
    """One Esc (e.g. closing a browser menu) keeps the visitor on the page; only two within a second exit."""
    page.goto("/tip")
    page.get_by_label("What did you see or hear?").fill("Synthetic test text")
    page.keyboard.press("Escape")
    page.wait_for_timeout(1200)
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)
    assert page.url == live_server + "/tip"
    expect(page.get_by_label("What did you see or hear?")).to_have_value("Synthetic test text")


def test_console_has_no_escape_exit(page, login, live_server):
    """Staff pages do not treat Esc as quick exit (advocates use Esc in forms and menus)."""
    login(page, "demo-advocate")
    url = page.url
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)
    assert page.url == url
    expect(page.locator("#quick-exit")).to_have_count(0)
