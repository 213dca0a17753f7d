"""Language toggle EN/FR on every public page and in the console: the page text really changes,
<html lang> follows, and the choice is remembered on the next page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import PUBLIC_PAGES


def _h1(page) -> str:
    return page.get_by_role("heading", level=1).first.inner_text().strip()


@pytest.mark.parametrize("name", list(PUBLIC_PAGES))
def test_public_page_switches_language(page, shot, name):
    response = page.goto(PUBLIC_PAGES[name])
    assert response.status == 200
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "en")  # the context's locale is en-CA
    expect(page.locator("#quick-exit")).to_contain_text("Quick exit")
    english_h1, english_main = _h1(page), page.locator("main").inner_text()

    toggle = page.get_by_role("navigation", name="Public pages").get_by_role("link", name="Français")
    expect(toggle).to_have_attribute("lang", "fr")
    toggle.click()
    expect(html).to_have_attribute("lang", "fr")
    expect(page.locator("#quick-exit")).to_contain_text("Sortie rapide")
    nav = page.get_by_role("navigation", name="Pages publiques")
    expect(nav.get_by_role("link", name="Obtenir de l'aide")).to_be_visible()
    expect(nav.get_by_role("link", name="Faire un signalement")).to_be_visible()
    assert _h1(page) != english_h1, f"the heading stayed in English: {english_h1!r}"
    assert page.locator("main").inner_text() != english_main
    shot(page, f"language-fr-{name}", full_page=False)

    # Remembered: the next page opens in French without ?lang=.
    nav.get_by_role("link", name="Obtenir de l'aide").click()
    expect(page).to_have_url(re.compile(r"/help$"))
    expect(html).to_have_attribute("lang", "fr")

    # And back to English.
    page.get_by_role("navigation", name="Pages publiques").get_by_role("link", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    expect(page.locator("#quick-exit")).to_contain_text("Quick exit")


def test_browser_language_french_by_default(new_page):
    """A visitor whose browser asks for French gets French without touching the toggle."""
    page = new_page(locale="fr-CA")
    page.goto("/tip")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("heading", level=1)).to_have_text("Faire un signalement anonyme")
    expect(page.get_by_role("button", name="Envoyer le signalement")).to_be_visible()


def test_console_switches_language(page, login, shot):
    login(page, "demo-advocate")
    html = page.locator("html")
    expect(html).to_have_attribute("lang", "en")
    nav = page.get_by_role("navigation", name="Console")
    expect(nav.get_by_role("link", name="New contact")).to_be_visible()
    english_h1 = _h1(page)

    page.get_by_role("banner").get_by_role("link", name="Français").click()
    expect(html).to_have_attribute("lang", "fr")
    expect(nav.get_by_role("link", name="Nouveau contact")).to_be_visible()
    expect(nav.get_by_role("link", name="Répertoire")).to_be_visible()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    assert _h1(page) != english_h1
    shot(page, "language-fr-console", full_page=False)

    nav.get_by_role("link", name="Répertoire").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Trouver un service")
    expect(html).to_have_attribute("lang", "fr")

    page.get_by_role("banner").get_by_role("link", name="English").click()
    expect(html).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a service")
