"""Journey: a phone contact becomes a case, consent is recorded, a vetted shelter is found and referred to,
the shelter accepts in the provider portal, and the case timeline shows both steps.

Everything goes through the real pages in chromium; the people are synthetic and obviously fake.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

SHELTER_ORG = "DEMO Lakehead Harbour House of Thunder Bay (fictional)"  # demo-provider works here
SHELTER_SERVICE = "Emergency shelter / Hébergement d'urgence"
ALIAS = "Test Person Bluebird (fictional)"


def test_phone_contact_to_accepted_referral(new_page, login, shot):
    advocate = new_page()
    login(advocate, "demo-advocate")
    expect(advocate).to_have_url(re.compile(r"/console/contacts/new$"))

    # 1. Quick entry of a phone contact, then "Save and open a case".
    advocate.get_by_role("radio", name="Phone", exact=True).check()
    advocate.get_by_label("Classification").select_option(label="Potential trafficking case")
    advocate.get_by_label("Language of the contact").select_option(label="French")
    advocate.get_by_label("Province or territory").select_option(label="Ontario")
    advocate.get_by_label("City or community").fill("Thunder Bay")
    advocate.get_by_label("Summary").fill("Synthetic test call: caller needs a safe place to stay tonight.")
    shot(advocate, "referral-01-phone-contact")
    advocate.get_by_role("button", name="Save and open a case").click()
    expect(advocate).to_have_url(re.compile(r"/console/cases/new\?contact_id=\d+$"))
    expect(advocate.get_by_text(re.compile(r"Opening from contact CT-"))).to_be_visible()

    # 2. Open the case: the place comes from the contact; add the need and the alias.
    expect(advocate.get_by_label("City or community")).to_have_value("Thunder Bay")
    advocate.get_by_label("Risk level").select_option(label="High")
    advocate.get_by_label("Name or alias the survivor uses with us").fill(ALIAS)
    advocate.get_by_role("group", name="Needs").get_by_label("Emergency shelter", exact=True).check()
    shot(advocate, "referral-02-open-case")
    advocate.get_by_role("button", name="Open case").click()
    expect(advocate).to_have_url(re.compile(r"/console/cases/\d+$"))
    case_url = advocate.url
    case_ref = re.search(r"Case (\S+)", advocate.get_by_role("heading", level=1).inner_text()).group(1)
    expect(advocate.locator("#details")).to_contain_text(ALIAS)

    # Without consent the referral form refuses to send (the service enforces it; the page says so).
    consent = advocate.locator("#consent")
    expect(consent.get_by_role("row", name=re.compile("^Referral"))).to_contain_text("No consent")

    # 3. Record consent for the referral purpose.
    consent.locator("summary", has_text="Record consent").click()
    form = consent.locator("form[action$='/consents']")
    form.get_by_label("Purpose").select_option(label="Referral to service providers")
    form.get_by_label("How it was given").select_option(label="Verbal, on the call")
    form.get_by_role("button", name="Record consent").click()
    expect(advocate.locator("#consent").get_by_role("row", name=re.compile("^Referral"))).to_contain_text("Consent")
    expect(advocate.locator("#consent").get_by_role("row", name=re.compile("^Referral"))).not_to_contain_text(
        "No consent")
    shot(advocate, "referral-03-consent-recorded")

    # 4. Refer to a service: the search is prefilled from the case (need, place, language).
    advocate.locator("#referrals").get_by_role("link", name="Refer to a service").click()
    expect(advocate).to_have_url(re.compile(r"/console/directory\?case_id=\d+"))
    expect(advocate.get_by_label("City or town")).to_have_value("Thunder Bay")
    results = advocate.locator("#results")
    expect(results.get_by_role("heading", name=re.compile(r"services? found"))).to_be_visible()
    shelter = results.locator("li.result").filter(has_text=SHELTER_ORG).filter(has_text=SHELTER_SERVICE)
    expect(shelter).to_have_count(1)
    expect(shelter).to_contain_text("Serves in French")
    shot(advocate, "referral-04-directory-search")
    shelter.get_by_role("checkbox").check()
    advocate.get_by_role("button", name="Refer to selected services").click()

    # 5. Choose what to share and send.
    expect(advocate).to_have_url(re.compile(r"/referrals/new\?"))
    expect(advocate.get_by_role("heading", level=1)).to_have_text(f"Refer case {case_ref}")
    expect(advocate.get_by_text("There is no current referral consent on this case.")).to_have_count(0)
    services = advocate.get_by_role("group", name="Services to refer to")
    expect(services.get_by_role("checkbox", name=re.compile(re.escape(SHELTER_ORG)))).to_be_checked()
    shared = advocate.get_by_role("group", name="What to share with the provider")
    shared.get_by_role("checkbox", name=re.compile(r"^Name or alias")).check()
    advocate.get_by_label("Provider must answer within (hours)").fill("1")
    advocate.get_by_label("Message to the provider").fill("Synthetic test referral: arriving by taxi tonight.")
    shot(advocate, "referral-05-choose-what-to-share")
    advocate.get_by_role("button", name="Send referral").click()
    expect(advocate).to_have_url(re.compile(r"/console/cases/\d+#referrals$"))
    row = advocate.locator("#referrals tbody tr").filter(has_text=SHELTER_ORG)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Sent")
    referral_ref = row.locator("td").first.inner_text().strip()
    expect(advocate.locator("#details")).to_be_visible()
    expect(advocate.locator(".page-head .badge").first).to_have_text("Referred")
    shot(advocate, "referral-06-sent")

    # 6. Provider staff see it in their portal (only what was shared) and accept it.  demo-provider's
    #    preferred language is French, so the portal speaks French after sign-in.
    provider = new_page()
    login(provider, "demo-provider")
    expect(provider).to_have_url(re.compile(r"/portal$"))
    expect(provider.locator("html")).to_have_attribute("lang", "fr")
    expect(provider.get_by_role("heading", level=1)).to_have_text(f"Aiguillages vers {SHELTER_ORG}")
    provider.get_by_role("link", name=referral_ref, exact=True).click()
    expect(provider.get_by_role("heading", level=1)).to_have_text(f"Aiguillage {referral_ref}")
    shared_box = provider.locator("section.card").first
    expect(shared_box).to_contain_text(ALIAS)
    expect(shared_box).to_contain_text("Synthetic test referral: arriving by taxi tonight.")
    expect(shared_box).not_to_contain_text("safe place to stay tonight")  # the contact summary is not shared
    shot(provider, "referral-07-portal-referral")
    provider.get_by_role("button", name="Accepter").click()
    expect(provider.get_by_role("status")).to_contain_text("Aiguillage accepté")
    expect(provider.get_by_role("heading", name="Marquer comme terminé")).to_be_visible()
    shot(provider, "referral-08-portal-accepted")

    # 7. Back at the hotline: the case shows the acceptance, and the timeline both steps.
    advocate.goto(case_url)
    row = advocate.locator("#referrals tbody tr").filter(has_text=SHELTER_ORG)
    expect(row).to_contain_text("Accepted")
    timeline = advocate.locator("#timeline")
    sent = timeline.locator("li").filter(has_text=re.compile(r"Referral sent: " + re.escape(SHELTER_ORG)))
    expect(sent).to_have_count(1)
    expect(sent).to_contain_text("Demo Advocate")
    accepted = timeline.locator("li").filter(has_text=re.compile(r"Referral updated: .*Accepted"))
    expect(accepted).to_have_count(1)
    expect(accepted).to_contain_text(SHELTER_ORG)
    expect(accepted).to_contain_text("Demo Provider Staff")
    expect(timeline.locator("li").filter(has_text="Consent recorded: Referral to service providers")).to_have_count(1)
    expect(timeline.locator("li").filter(has_text="Status changed: Open → Referred")).to_have_count(1)
    advocate.locator("#timeline").scroll_into_view_if_needed()
    shot(advocate, "referral-09-case-timeline")
