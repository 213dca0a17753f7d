"""Console polish in a real browser (issue 13): each action is confirmed once, in a status region that takes
the focus; and the disclosure request form offers only what the agreement allows and, when a request is
refused anyway, comes back with what was typed and the reason.  Synthetic people and agencies only."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.browser.seed_sharing import ANALYST, STEWARD

WHY = "Fictional joint file 42: the same person appears in two investigations."


def _flash(page):
    return page.locator("#flash")


def _focused_flash(page) -> bool:
    """The confirmation has the focus (harbour.js moves it there once the page has loaded)."""
    page.wait_for_function("() => !!document.activeElement && document.activeElement.matches('#flash [data-flash]')",
                           timeout=10_000)
    return True


def test_actions_are_confirmed_once(new_page, login, shot, axe):
    advocate = new_page()
    login(advocate, "demo-advocate")
    expect(advocate).to_have_url(re.compile(r"/console/contacts/new$"))
    expect(_flash(advocate)).to_have_text("")
    expect(_flash(advocate)).to_have_attribute("role", "status")

    # 1. a contact, then the case opened from it
    advocate.get_by_role("radio", name="Phone", exact=True).check()
    advocate.get_by_role("button", name="Save and open a case").click()
    expect(advocate).to_have_url(re.compile(r"/console/cases/new\?contact_id=\d+$"))
    expect(_flash(advocate)).to_have_text("Contact saved.")
    assert _focused_flash(advocate)  # read first by a screen reader, in view for everyone
    advocate.get_by_role("button", name="Open case").click()
    expect(advocate).to_have_url(re.compile(r"/console/cases/\d+$"))
    expect(_flash(advocate)).to_have_text("Case opened.")
    case_url = advocate.url
    shot(advocate, "polish-01-case-opened-flash")
    axe(advocate, "case page with a confirmation")

    # 2. consent recorded on the case
    consent = advocate.locator("#consent")
    consent.locator("summary", has_text="Record consent").click()
    form = consent.locator("form[action$='/consents']")
    form.get_by_label("Purpose").select_option(label="Follow-up contact")
    form.get_by_label("How it was given").select_option(label="Verbal, on the call")
    form.get_by_role("button", name="Record consent").click()
    expect(_flash(advocate)).to_have_text("Consent recorded.")
    assert _focused_flash(advocate)

    # 3. not on the next page, nor when the same page is opened again
    advocate.goto(case_url)
    expect(_flash(advocate)).to_have_text("")
    advocate.goto("/console/contacts")
    expect(_flash(advocate)).to_have_text("")

    # 4. in French, for a French-speaking advocate
    francophone = new_page()
    login(francophone, "demo-advocate2")  # prefers French: the console speaks French once signed in
    expect(francophone.locator("html")).to_have_attribute("lang", "fr")
    francophone.get_by_role("radio", name="Téléphone", exact=True).check()
    francophone.get_by_role("button", name="Enregistrer le contact").click()
    expect(_flash(francophone)).to_have_text("Contact enregistré.")
    shot(francophone, "polish-02-contact-saved-fr")
    francophone.reload()
    expect(_flash(francophone)).to_have_text("")


def test_disclosure_form_offers_what_the_agreement_allows_and_keeps_what_was_typed(new_page, login, shot, axe):
    analyst = new_page()
    login(analyst, ANALYST)
    analyst.goto("/console/sharing/hits")
    analyst.locator("main table").get_by_role("link", name=re.compile(r"^#\d+$")).first.click()
    expect(analyst.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Hit #\d+$"))
    purpose = analyst.get_by_label("Purpose")
    level = analyst.get_by_label("What you ask to see")
    # the agreements: a summary for a criminal investigation; victim protection at hit/no-hit only
    expect(purpose.locator("option")).to_have_text(["Criminal investigation (up to: Summary)"])
    expect(level.locator("option")).to_have_text(["Summary"])
    axe(analyst, "hit page with the disclosure request form")

    # A stale or forged form asks for more than the agreement allows: the service refuses, the page comes back
    # with the reason and everything typed, ready to correct.
    analyst.get_by_label("Why you need it").fill(WHY)
    level.evaluate("select => { select.add(new Option('Full record', 'full')); select.value = 'full'; }")
    with analyst.expect_response(re.compile(r"/request$")) as refused:
        analyst.get_by_role("button", name="Send the request").click()
    assert refused.value.status == 403
    alert = analyst.get_by_role("alert")
    expect(alert).to_contain_text("does not allow this much disclosure")
    expect(analyst.get_by_label("Why you need it")).to_have_value(WHY)
    expect(analyst.get_by_label("Purpose")).to_have_value("investigation")
    shot(analyst, "polish-03-disclosure-refused-kept")

    # What the agreement allows goes through, and says so once.
    analyst.get_by_label("What you ask to see").select_option("summary")
    analyst.get_by_role("button", name="Send the request").click()
    expect(analyst).to_have_url(re.compile(r"/console/sharing/requests/\d+$"))
    expect(_flash(analyst)).to_have_text("Disclosure request sent.")
    request_url = analyst.url
    analyst.reload()
    expect(_flash(analyst)).to_have_text("")

    # The owner's data steward is offered no more than was asked and allowed; the decision is confirmed.
    steward = new_page()
    login(steward, STEWARD)
    steward.goto(request_url)
    expect(steward.get_by_label("Disclose").locator("option")).to_have_text(["Summary"])
    steward.get_by_label("Decision").select_option("approve")
    steward.get_by_role("button", name="Record the decision").click()
    expect(_flash(steward)).to_have_text("Decision recorded: approved.")
    shot(steward, "polish-04-decision-recorded")
