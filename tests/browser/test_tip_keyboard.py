"""Keyboard-only completion of the anonymous tip form (Tab, typing, Space and Enter; no clicks),
including an error on the way, then an advocate finds the tip in the console."""

from __future__ import annotations

import re
import uuid

from playwright.sync_api import expect


def _focused(page) -> dict:
    return page.evaluate("""() => {
        const el = document.activeElement;
        return {tag: el.tagName.toLowerCase(), id: el.id || "", name: el.getAttribute("name") || "",
                text: (el.innerText || "").trim().slice(0, 80), type: el.type || ""};
    }""")


def _tab_to(page, predicate, what: str, limit: int = 40) -> dict:
    for _ in range(limit):
        page.keyboard.press("Tab")
        el = _focused(page)
        if predicate(el):
            return el
    raise AssertionError(f"Tab never reached {what} within {limit} presses")


def test_tip_form_by_keyboard_only(new_page, login, shot):
    marker = f"KB-{uuid.uuid4().hex[:8]}"
    summary = (f"Synthetic test tip {marker}: workers at a fictional massage parlour never seem to leave "
               "and someone else holds their phones.")
    page = new_page()
    page.goto("/tip")

    # The first two stops are the quick exit and the skip link; the skip link moves focus to the content.
    page.keyboard.press("Tab")
    assert _focused(page)["id"] == "quick-exit"
    page.keyboard.press("Tab")
    assert _focused(page)["text"] == "Skip to main content"
    page.keyboard.press("Enter")
    assert _focused(page)["id"] == "main"

    # Sending it empty: the error summary takes focus, and Tab goes on to the field that needs fixing.
    _tab_to(page, lambda el: el["tag"] == "button" and el["text"] == "Send report", "the Send report button")
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("Please correct the highlighted fields.")
    expect(page.locator(".form-error")).to_be_focused()
    expect(page.get_by_text("Tell us what you saw or heard.")).to_be_visible()
    shot(page, "tip-keyboard-01-error")
    _tab_to(page, lambda el: el["id"] == "f-summary", "the summary field")
    expect(page.locator("#f-summary")).to_have_attribute("aria-invalid", "true")

    page.keyboard.type(summary)
    page.keyboard.press("Tab")
    assert _focused(page)["id"] == "f-province"
    page.keyboard.type("Manitoba")  # type-ahead in a focused select
    expect(page.locator("#f-province")).to_have_value("MB")
    page.keyboard.press("Tab")
    assert _focused(page)["id"] == "f-city"
    page.keyboard.type("Winnipeg")
    page.keyboard.press("Tab")
    assert _focused(page)["text"] == "Send report"
    shot(page, "tip-keyboard-02-filled")
    with page.expect_navigation():
        page.keyboard.press("Space")  # buttons answer Space as well as Enter

    expect(page).to_have_url(re.compile(r"/tip/thanks$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Thank you. Your report was sent.")
    shot(page, "tip-keyboard-03-thanks")

    # An advocate sees the tip: a web tip, classified as a tip, with what was typed (nothing else).
    advocate = new_page()
    login(advocate, "demo-advocate")
    advocate.goto("/console/contacts?classification=tip")
    rows = advocate.locator("#rows tbody tr").filter(has_text="web tip")
    expect(rows.first).to_be_visible()
    rows.first.get_by_role("link").first.click()
    main = advocate.locator("main")
    expect(main).to_contain_text(marker)
    expect(main).to_contain_text("Winnipeg")
    expect(main).to_contain_text("Manitoba")
    expect(main).to_contain_text("Tip (signal)")
    shot(advocate, "tip-keyboard-04-in-console")
