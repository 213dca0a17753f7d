"""Journey: a visitor opens an anonymous French chat from the get-help page, waits in the queue, an advocate
takes it from the console, they talk (with HTML/script injection attempts shown as plain text on both sides),
the advocate turns the chat into a contact and case with the transcript attached, and the visitor's quick exit
ends the chat.  Two browser contexts, real WebSockets, real chromium.  Synthetic words only.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.pages import go_off_duty, go_on_duty

ADVOCATE = "demo-advocate3"
INJECTION = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
REPLY = "Bonjour, je suis là. <b>Pas de gras</b>"


def _not_pwned(page) -> None:
    assert page.evaluate("() => typeof window.__pwned") == "undefined"
    assert page.locator(".chat-log img, .chat-log script, .chat-log b").count() == 0


def test_visitor_chat_with_advocate_to_case(new_page, login, shot):
    advocate = new_page()
    login(advocate, ADVOCATE)
    advocate.goto("/console/chat")
    go_on_duty(advocate)
    expect(advocate.locator("#chat-status")).to_have_text("Connected.")

    # The visitor: no account, from the get-help page, in French.
    visitor = new_page()
    visitor.goto("/help")
    visitor.get_by_role("link", name="Chat with an advocate").click()
    expect(visitor).to_have_url(re.compile(r"/help/chat$"))
    visitor.get_by_role("radio", name="Français").check()
    shot(visitor, "chat-01-visitor-start")
    visitor.get_by_role("button", name="Start the chat").click()
    expect(visitor).to_have_url(re.compile(r"/help/chat/room$"))
    expect(visitor.locator("html")).to_have_attribute("lang", "fr")
    expect(visitor.locator("#chat-status")).to_contain_text(re.compile(r"\b1\b"))
    shot(visitor, "chat-02-visitor-waiting")

    # Nothing kept in the browser but a session cookie (no expiry) for the chat.
    assert visitor.evaluate("() => [localStorage.length, sessionStorage.length]") == [0, 0]
    chat_cookie = [c for c in visitor.context.cookies() if c["name"] == "harbour_chat"][0]
    assert chat_cookie["expires"] == -1 and chat_cookie["httpOnly"] and chat_cookie["sameSite"] == "Strict"

    # The advocate sees the chat arrive in the queue (pushed over the WebSocket) and takes it.
    take = advocate.get_by_role("button", name=re.compile(r"^Take chat CH-"))
    expect(take).to_have_count(1)
    reference = re.search(r"CH-\w+", take.inner_text()).group(0)
    shot(advocate, "chat-03-advocate-queue")
    take.click()
    panel = advocate.locator(".chat-panel", has_text=reference)
    expect(panel).to_be_visible()
    expect(visitor.locator("#chat-log")).to_contain_text(re.compile("advocate|intervenant|intervention", re.I))
    expect(visitor.get_by_role("textbox")).to_be_enabled()

    # Messages both ways; markup arrives as text on both sides.
    visitor.get_by_role("textbox").fill(INJECTION)
    visitor.get_by_role("textbox").press("Enter")
    expect(panel.locator(".chat-log")).to_contain_text(INJECTION)
    expect(visitor.locator("#chat-log")).to_contain_text(INJECTION)
    panel.get_by_role("textbox", name="Reply").fill(REPLY)
    panel.get_by_role("button", name="Send").click()
    expect(visitor.locator("#chat-log")).to_contain_text(REPLY)
    _not_pwned(visitor)
    _not_pwned(advocate)
    shot(visitor, "chat-04-visitor-conversation")
    shot(advocate, "chat-05-advocate-conversation")

    # The advocate turns the chat into a contact and a case, choosing its place and classification (two fields);
    # the transcript is attached.
    expect(panel.get_by_label("Classification")).to_have_value("potential_case")
    panel.get_by_label("Province or territory").select_option(label="Ontario")
    panel.get_by_label("City or community").fill("Thunder Bay")
    with advocate.expect_navigation():
        panel.get_by_role("button", name="Save as contact and open a case").click()
    expect(advocate).to_have_url(re.compile(r"/console/cases/\d+$"))
    expect(advocate.locator("#flash")).to_have_text("Chat saved as a contact, and a case opened.")
    expect(advocate.locator("#details")).to_contain_text("Thunder Bay, Ontario")
    expect(advocate.locator("#contacts")).to_contain_text("Web chat")
    expect(advocate.locator("#contacts")).to_contain_text("Potential trafficking case")
    transcript_link = advocate.get_by_role("link", name=f"Web chat {reference}")
    expect(transcript_link).to_be_visible()
    shot(advocate, "chat-06-case-with-transcript")
    transcript_link.click()
    expect(advocate.locator("pre.transcript")).to_contain_text(INJECTION)
    expect(advocate.locator("pre.transcript")).to_contain_text(REPLY)
    _not_pwned(advocate)
    shot(advocate, "chat-07-transcript")

    # Quick exit: the chat closes and the page leaves (the outside site is blocked in tests).
    visitor.locator("#quick-exit").click()
    visitor.wait_for_timeout(300)
    assert "/help/chat" not in visitor.url
    advocate.goto("/console/chat")
    ended = advocate.locator("section", has=advocate.get_by_role("heading", name="Recently ended"))
    expect(ended.get_by_role("row", name=re.compile(reference))).to_contain_text("The visitor ended the chat")
    expect(advocate.locator(".chat-panel", has_text=reference)).to_have_count(0)
    shot(advocate, "chat-08-ended")

    go_off_duty(advocate)  # so other journeys see the chat as closed


def test_chat_closed_out_of_hours_shows_phone_and_tip_form(page, shot):
    page.goto("/help/chat")
    closed = page.locator("#chat-closed")
    # every chat test goes off duty when it ends, so no advocate is available here
    expect(closed).to_have_count(1)
    expect(closed.get_by_role("link", name=re.compile(r"\d-\d{3}-\d{3}-\d{4}"))).to_be_visible()
    expect(closed.get_by_role("link", name="Report a tip anonymously")).to_have_attribute("href", "/tip")
    shot(page, "chat-00-closed")
