"""Console polish, where the layout is what matters (issue 13), in a real browser at desktop and phone widths:

* a section's own menu (sharing, plan) is a row of tabs, not a bulleted list, and marks the current page
  (aria-current plus a visible marker that is not colour alone);
* "I am available for chats" sits on one line with its checkbox on /console/chat, and the form stays
  inside a 390 px screen;
* the French progress report has no English status word and no table header that overflows its cell.

Screenshots of each are kept in test-artifacts/screenshots/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.browser.pages import PLAN

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}

MENU_STYLE = """(nav) => {
  const links = [...nav.querySelectorAll('a')];
  const items = [...nav.querySelectorAll('li')];
  const style = (el) => getComputedStyle(el);
  return {
    bullets: items.map((li) => style(li).listStyleType),
    tops: links.map((a) => Math.round(a.getBoundingClientRect().top)),
    links: links.map((a) => ({
      text: a.textContent.trim(), current: a.getAttribute('aria-current'),
      weight: style(a).fontWeight, shadow: style(a).boxShadow, border: style(a).borderTopColor,
      background: style(a).backgroundColor,
    })),
  };
}"""


def _check_menu(page, label: str, current: str):
    nav = page.get_by_role("navigation", name=label)
    expect(nav).to_be_visible()
    info = nav.evaluate(MENU_STYLE)
    assert set(info["bullets"]) == {"none"}, f"{label}: still a bulleted list: {info['bullets']}"
    assert len(set(info["tops"])) == 1, f"{label}: the entries are not on one row at desktop width: {info['tops']}"
    marked = [link for link in info["links"] if link["current"]]
    assert [link["text"] for link in marked] == [current], f"{label}: marked {marked}"
    others = [link for link in info["links"] if not link["current"]]
    me = marked[0]
    assert int(me["weight"]) >= 700 and all(int(o["weight"]) < 700 for o in others)
    assert me["shadow"] != "none" and all(o["shadow"] == "none" for o in others), "no marker bar on the current tab"
    expect(nav.get_by_role("link", name=current, exact=True)).to_have_attribute("aria-current", re.compile("page|true"))


def test_sharing_and_plan_menus_are_tabs_marking_the_current_page(new_page, login, shot):
    page = new_page(viewport=DESKTOP)
    login(page, "demo-admin")
    page.goto("/console/sharing/agreements")
    _check_menu(page, "Information sharing", "Agreements")
    expect(page.get_by_role("navigation", name="Information sharing").get_by_role("link", name="Agreements")
           ).to_have_attribute("aria-current", "page")
    shot(page, "polish-sharing-menu-desktop", full_page=False)
    page.goto("/console/plan/flags")
    _check_menu(page, "Action plans", "Flagged deliverables")
    shot(page, "polish-plan-menu-desktop", full_page=False)
    page.goto("/console/plan/review")
    _check_menu(page, "Action plans", "Updates waiting for review")

    phone = new_page(viewport=PHONE)
    login(phone, "demo-admin")
    phone.goto("/console/sharing")
    nav = phone.get_by_role("navigation", name="Information sharing")
    width = nav.evaluate("(n) => ({scroll: document.documentElement.scrollWidth, view: window.innerWidth,"
                         " right: n.getBoundingClientRect().right})")
    assert width["right"] <= width["view"] + 1, width  # the tabs wrap inside the screen
    shot(phone, "polish-sharing-menu-390", full_page=False)


AVAILABILITY = """() => {
  const box = document.getElementById('available');
  const label = document.querySelector('label[for="available"]');
  const form = box.closest('form');
  const r = (el) => el.getBoundingClientRect();
  const lh = parseFloat(getComputedStyle(label).lineHeight) || 24;
  return {box: r(box).toJSON(), label: r(label).toJSON(), lines: Math.round(r(label).height / lh),
          formRight: r(form).right, view: window.innerWidth, scroll: document.documentElement.scrollWidth};
}"""


@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1366", "390"])
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_chat_availability_is_one_line(new_page, login, shot, viewport, lang):
    page = new_page(viewport=viewport)
    login(page, "demo-advocate3")
    page.goto(f"/console/chat?lang={lang}")
    got = page.evaluate(AVAILABILITY)
    shot(page, f"polish-chat-availability-{lang}-{viewport['width']}", full_page=False)
    assert got["lines"] == 1, f"the label wraps onto {got['lines']} lines: {got}"
    box, label = got["box"], got["label"]
    assert box["right"] <= label["left"] and label["left"] - box["right"] < 24, got  # the box right before it
    assert abs((box["top"] + box["bottom"]) / 2 - (label["top"] + label["bottom"]) / 2) < 10, got  # same line
    assert got["formRight"] <= got["view"] + 1 and got["scroll"] <= got["view"] + 1, got


ENGLISH_STATUS = re.compile(r"\b(Complete|Completed|Ongoing|In [Pp]rogress|Not started|On track|Delayed|Start:?|End:)\b")
CLIPPED_HEADERS = """() => [...document.querySelectorAll('.plan-report th')]
  .filter((th) => th.offsetParent !== null && th.scrollWidth > th.clientWidth + 1)
  .map((th) => th.textContent.trim().slice(0, 40) + ' ' + th.scrollWidth + '>' + th.clientWidth)"""


@pytest.mark.parametrize("viewport", [DESKTOP, {"width": 768, "height": 1000}, PHONE], ids=["1366", "768", "390"])
def test_french_progress_report_headers_fit_and_speak_french(new_page, shot, viewport):
    page = new_page(viewport=viewport, locale="fr-CA")
    response = page.goto(f"/plan/{PLAN}/report/2013-2014?lang=fr")
    assert response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    report = page.locator(".plan-report")
    english = [m.group(0) for m in ENGLISH_STATUS.finditer(report.inner_text())]
    assert not english, f"English status or timeline words in the French report: {sorted(set(english))}"
    clipped = page.evaluate(CLIPPED_HEADERS)
    assert not clipped, f"table headers overflow their cells: {clipped[:10]}"
    page.locator("#chart").scroll_into_view_if_needed()
    shot(page, f"polish-report-fr-{viewport['width']}", full_page=False)


ISO_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:[+-]\d{2}:\d{2}|Z)?)?\b")
CONSOLE_WALK = {  # demo user → pages, and (list page, link pattern) to open the first item of
    "demo-advocate": (["/console/contacts", "/console/cases", "/console/tasks", "/console/chat"],
                      [("/console/cases", r"^/console/cases/\d+$"), ("/console/contacts", r"^/console/contacts/\d+$")]),
    "demo-supervisor": (["/console/dashboard", "/console/directory/vetting"], []),
    "demo-provider": (["/portal", "/portal/services"], [("/portal", r"^/portal/referrals/\d+$")]),
    "demo-coordinator": (["/console/plan", "/console/plan/review", "/console/plan/flags"],
                         [("/console/plan/review", r"^/console/plan/progress/\d+$")]),
    "demo-admin": (["/admin", "/console/sharing", "/console/sharing/agreements"], []),
}


@pytest.mark.parametrize("username", list(CONSOLE_WALK))
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_console_pages_show_no_raw_dates_or_times(new_page, login, username, lang):
    """What a person reads on the console never has an ISO date or time in it: dates and times are written
    for people (Babel, the page's language).  Attributes such as <time datetime> may keep ISO text."""
    page = new_page(viewport=DESKTOP)
    login(page, username)
    pages, firsts = CONSOLE_WALK[username]
    visited = []
    for path in pages:
        page.goto(f"{path}?lang={lang}")
        visited.append(path)
    for list_path, pattern in firsts:
        page.goto(f"{list_path}?lang={lang}")
        hrefs = [h for h in page.locator("main a").evaluate_all("(as) => as.map((a) => a.getAttribute('href'))")
                 if h and re.match(pattern, h)]
        assert hrefs, f"no item on {list_path}"
        page.goto(f"{hrefs[0]}?lang={lang}")
        visited.append(hrefs[0])
    found = {}
    for path in visited:
        page.goto(f"{path}?lang={lang}")
        raw = ISO_TIME.findall(page.locator("main").inner_text())
        if raw:
            found[path] = raw[:5]
    assert not found, f"raw ISO dates or times on the console ({lang}): {found}"
