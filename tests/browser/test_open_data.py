"""Journey 4 in a real browser: a researcher opens /statistics on a phone, finds the open-data downloads, and
downloads a CSV and the zip through the links; both are byte for byte the files `harbour stats release` wrote.

The browser suite's seed loads no statistics history (it takes minutes to build); the release here is made
from the seeded hotline data by the real command line, against the live server's own database and store.
"""

from __future__ import annotations

import os
import subprocess

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import HARBOUR, REPO


@pytest.fixture(scope="module")
def release(live_server_env, tmp_path_factory):
    """A suppress-mode release of every year, published with `harbour stats release --out DIR`; (reference, DIR)."""
    if os.environ.get("HARBOUR_TEST_LIVE_URL"):
        pytest.skip("publishes a release into the live server's own database: not on a server you run yourself")
    out = tmp_path_factory.mktemp("release")
    done = subprocess.run([str(HARBOUR), "stats", "release", "--out", str(out)],
                          env=live_server_env, cwd=str(REPO), capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    reference = next(w for w in done.stdout.split() if w.startswith("SUPPRESS-")).rstrip(":")
    return reference, out


def test_a_researcher_downloads_the_released_files_on_a_phone(new_page, live_server, release, shot, axe,
                                                              tmp_path):
    reference, out = release
    page = new_page(viewport={"width": 320, "height": 740})
    page.goto("/statistics")
    section = page.locator("#open-data")
    expect(section.get_by_role("heading", name="Open data downloads")).to_be_visible()
    card = section.locator("article").filter(has_text=reference)
    expect(card).to_contain_text("Small-cell suppression")
    expect(card).to_contain_text("Canada: every province, territory and region")
    section.scroll_into_view_if_needed()
    shot(page, "statistics-open-data-320", full_page=False)

    # The section fits the phone; the file list scrolls inside its own box.
    card.locator("summary").click()
    box = card.locator(".stats-scroll")
    expect(box).to_be_visible()
    assert section.evaluate("el => el.getBoundingClientRect().right") <= 320
    assert box.evaluate("el => el.getBoundingClientRect().right") <= 320
    assert box.evaluate("el => el.scrollWidth > el.clientWidth"), "the file table should scroll in its own box"

    # One CSV through its link, and the zip through the button: the released bytes, exactly.
    with page.expect_download() as csv_download:
        card.get_by_role("link", name="gender.csv", exact=True).click()
    saved = tmp_path / "gender.csv"
    csv_download.value.save_as(saved)
    assert saved.read_bytes() == (out / "gender.csv").read_bytes()
    with page.expect_download() as zip_download:
        card.get_by_role("link", name="Download everything").click()
    saved_zip = tmp_path / csv_download.value.suggested_filename.replace(".csv", ".zip")
    zip_download.value.save_as(saved_zip)
    released_zip = next(out.glob("*.zip"))
    assert zip_download.value.suggested_filename == released_zip.name
    assert saved_zip.read_bytes() == released_zip.read_bytes()

    axe(page, "open-data section at 320 px", context="#open-data")
    page.set_viewport_size({"width": 390, "height": 844})
    section.scroll_into_view_if_needed()
    shot(page, "statistics-open-data-390", full_page=False)

    # French: the same section, in French.
    page.goto("/statistics?lang=fr")
    expect(page.locator("#open-data").get_by_role("heading", name="Données ouvertes à télécharger")).to_be_visible()
    expect(page.locator("#open-data").get_by_role("link", name="Tout télécharger")).to_have_count(
        page.locator("#open-data article").count())
