"""Phones first: every public page fits the screen, and the quick exit is always on it.

A survivor may open any public page on a small phone.  For every public page -- the fixed list in
pages.PUBLIC_PAGES plus every plan, chart page, progress report and statistics filter found by following the
links (pages.every_public_page), the error page and the chat room -- at 320 and 390 px (emulated phones:
mobile viewport, touch) and at 1366 px (a laptop), in English and in French:

- no sideways scrolling: ``document.documentElement.scrollWidth`` is at most the screen's width (on a phone,
  content wider than the screen widens the layout viewport, and the fixed quick exit moves off the screen
  with it);
- the quick exit's box lies entirely on the screen, and nothing covers its middle, at the top of the page
  and again after scrolling to the bottom (it stays put while the page scrolls); at the top of the page it
  hides no link or control (the header keeps room for it in both languages);
- anything that scrolls sideways inside the page (a wide table) is a box a keyboard can reach and a screen
  reader can name: ``role="region"``, a label, ``tabindex="0"``.

One browser context per screen size, one page reused for every address.  The numbers measured are written
to test-artifacts/phone-layout/<width>-<lang>.json; screenshots of the key pages at 390 px go to
test-artifacts/screenshots/phone-<page>-<lang>.png.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import REPO, _contain
from tests.browser.pages import ERROR_PAGES, PUBLIC_PAGES, every_public_page, go_off_duty, go_on_duty

# width -> (height, emulate a phone): a small phone (iPhone SE), a common phone (iPhone 12-15), a laptop.
SCREENS = {320: (568, True), 390: (844, True), 1366: (768, False)}
LANGS = ("en", "fr")
SHOT_WIDTH = 390
RESULTS = REPO / "test-artifacts" / "phone-layout"

MEASURE = """() => {
  const vv = window.visualViewport;
  const exit = document.getElementById('quick-exit');
  let box = null;
  if (exit) {
    const r = exit.getBoundingClientRect();
    const hit = document.elementFromPoint((r.left + r.right) / 2, (r.top + r.bottom) / 2);
    // getBoundingClientRect is relative to the layout viewport; the screen shows the visual viewport.
    // Links and controls the button hides (at the top of the page nothing should be under it).
    const hides = Array.from(document.querySelectorAll('a[href], button, input, select, textarea, summary'))
      .filter(e => e !== exit && !e.closest('.skip-link') && e.getClientRects().length)
      .filter(e => { const o = e.getBoundingClientRect();
                     return o.left < r.right - 1 && o.right > r.left + 1 && o.top < r.bottom - 1 && o.bottom > r.top + 1; })
      .map(e => e.outerHTML.slice(0, 80));
    box = {left: r.left - vv.offsetLeft, top: r.top - vv.offsetTop, right: r.right - vv.offsetLeft,
           bottom: r.bottom - vv.offsetTop, uncovered: !!(hit && hit.closest('#quick-exit')), hides};
  }
  return {scrollWidth: document.documentElement.scrollWidth, scrollHeight: document.documentElement.scrollHeight,
          scrollY: window.scrollY, exit: box};
}"""

OPEN_DETAILS = "() => document.querySelectorAll('main details').forEach(d => { d.open = true; })"
TO_BOTTOM = "() => window.scrollTo(0, document.documentElement.scrollHeight)"
# Two frames: the page's own script reacts to a <details> opening or a scroll (not run without JavaScript).
SETTLE = "() => new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"

# Boxes inside the page that scroll sideways, and those a keyboard cannot reach or a screen reader cannot name.
SCROLL_BOXES = """() => {
  const named = e => (e.getAttribute('aria-label') || '').trim() || (e.getAttribute('aria-labelledby') || '')
    .split(/\\s+/).map(id => document.getElementById(id)).filter(Boolean).map(l => l.textContent.trim()).join(' ');
  const boxes = Array.from(document.querySelectorAll('main *')).filter(e => {
    const x = getComputedStyle(e).overflowX;
    return (x === 'auto' || x === 'scroll') && e.scrollWidth > e.clientWidth + 1;
  });
  return {count: boxes.length,
          bad: boxes.filter(e => !(e.tabIndex >= 0 && e.getAttribute('role') === 'region' && named(e)))
                    .map(e => e.outerHTML.slice(0, 140))};
}"""


def _with_lang(path: str, lang: str) -> str:
    return f"{path}{'&' if '?' in path else '?'}lang={lang}"


@pytest.fixture(scope="module")
def screens(browser, live_server):
    """width -> a page in that screen's own context (reused for every address)."""
    contexts, pages = [], {}
    for width, (height, phone) in SCREENS.items():
        options = {"locale": "en-CA", "base_url": live_server, "viewport": {"width": width, "height": height}}
        if phone:
            options |= {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}
        context = browser.new_context(**options)
        context.set_default_timeout(15_000)
        context.set_default_navigation_timeout(60_000)  # statistics pages render their charts on first view
        _contain(context, live_server)
        contexts.append(context)
        pages[width] = context.new_page()
    yield pages
    for context in contexts:
        context.close()


@pytest.fixture(scope="module")
def addresses(screens) -> dict[str, tuple[str, int]]:
    """name -> (path, expected status): every public page, found once for the module."""
    found = every_public_page(screens[1366])
    assert any(name.startswith("plan-") and "-report-" in name for name in found), "no progress report found"
    assert any(re.fullmatch(r"statistics-\d{4}", name) for name in found), "no statistics year found"
    return {name: (path, 200) for name, path in found.items()} | {name: (path, 404) for name, path in ERROR_PAGES.items()}


def _check(page, width: int, height: int, *, scripts: bool = True) -> tuple[dict, list[str]]:
    """Measure the open page (every <details> opened: what is folded must fit too), at the top and then
    scrolled to the bottom; returns the numbers and the problems.  ``scripts``: the page runs JavaScript."""
    page.evaluate(OPEN_DETAILS)
    if scripts:
        page.evaluate(SETTLE)
    top = page.evaluate(MEASURE)
    page.evaluate(TO_BOTTOM)
    if scripts:
        page.evaluate(SETTLE)
    bottom = page.evaluate(MEASURE)
    boxes = page.evaluate(SCROLL_BOXES)
    problems = []
    if top["scrollWidth"] > width:
        problems.append(f"{top['scrollWidth']} px wide on a {width} px screen (sideways scrolling)")
    for where, m in (("at the top", top), ("scrolled to the bottom", bottom)):
        box = m["exit"]
        if box is None:
            problems.append(f"no #quick-exit {where}")
            continue
        if box["left"] < 0 or box["top"] < 0 or box["right"] > width or box["bottom"] > height:
            problems.append(f"quick exit off the screen {where}: left {box['left']:.0f}, right {box['right']:.0f}, "
                            f"top {box['top']:.0f}, bottom {box['bottom']:.0f} on {width}x{height}")
        elif not box["uncovered"]:
            problems.append(f"quick exit covered by something else {where}")
    if top["exit"] and top["exit"]["hides"]:
        problems.append("quick exit hides a link or control at the top of the page: " + " | ".join(top["exit"]["hides"][:3]))
    if top["scrollHeight"] > height + 1 and bottom["scrollY"] == 0:
        problems.append("the page did not scroll down (the check after scrolling proves nothing)")
    if boxes["bad"]:
        problems.append("scrolls sideways in a box a keyboard cannot reach or a screen reader cannot name "
                        "(needs role=region, a label and tabindex=0): " + " | ".join(boxes["bad"][:3]))
    numbers = {"scrollWidth": top["scrollWidth"], "exit_top": top["exit"], "exit_bottom": bottom["exit"],
               "scrollY_bottom": bottom["scrollY"], "scroll_boxes": boxes["count"]}
    return numbers, problems


def _report(width: int, lang: str, results: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{width}-{lang}.json").write_text(json.dumps(results, indent=2) + "\n")


def _shot_name(name: str, lang: str) -> str:
    return f"phone-{name}-{lang}"


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("width", list(SCREENS))
def test_every_public_page_fits_the_screen(screens, addresses, shot, width, lang):
    page, height = screens[width], SCREENS[width][0]
    results, failures = {}, []
    for name, (path, status) in addresses.items():
        url = _with_lang(path, lang)
        response = page.goto(url)
        assert response.status == status, f"{url} answered {response.status}"
        expect(page.locator("html")).to_have_attribute("lang", lang)
        numbers, problems = _check(page, width, height)
        results[name] = {"path": url, **numbers, "problems": problems}
        failures += [f"{url}: {p}" for p in problems]
        if width == SHOT_WIDTH and (name in PUBLIC_PAGES or name in ERROR_PAGES):
            page.evaluate("() => window.scrollTo(0, 0)")
            shot(page, _shot_name(name, lang), scale="css")
    _report(width, lang, results)
    assert not failures, (f"{len(failures)} problem(s) on {len(addresses)} public pages at {width} px ({lang}):\n"
                          + "\n".join(failures))


def test_chat_room_fits_the_screen(screens, new_page, login, shot):
    """The chat's start page while chat is open, and the chat room (reached only by starting a chat, in the
    language the visitor chose) on every screen."""
    advocate = new_page()
    login(advocate, "demo-advocate")
    advocate.goto("/console/chat")
    go_on_duty(advocate)
    failures, results = [], {}
    try:
        for lang, choice in (("en", "English"), ("fr", "Français")):
            for width, page in screens.items():  # the start page while chat is open (the closed one is above)
                page.goto(f"/help/chat?lang={lang}")
                expect(page.get_by_role("radio", name=choice)).to_be_visible()
                numbers, problems = _check(page, width, SCREENS[width][0])
                results[f"start-{width}-{lang}"] = {**numbers, "problems": problems}
                failures += [f"open chat start page at {width} px ({lang}): {p}" for p in problems]
            starter = screens[SHOT_WIDTH]
            starter.goto(f"/help/chat?lang={lang}")
            starter.get_by_role("radio", name=choice).check()
            starter.locator("form button[type=submit]").click()
            expect(starter).to_have_url(re.compile(r"/help/chat/room$"))
            chat_cookie = [c for c in starter.context.cookies() if c["name"] == "harbour_chat"]
            for width, page in screens.items():
                if page is not starter:
                    page.context.add_cookies(chat_cookie)
                page.goto("/help/chat/room")
                expect(page.locator("html")).to_have_attribute("lang", lang)
                expect(page.locator("#chat-status")).not_to_have_text(re.compile("Connecting|Connexion"))
                numbers, problems = _check(page, width, SCREENS[width][0])
                results[f"room-{width}-{lang}"] = {**numbers, "problems": problems}
                failures += [f"chat room at {width} px ({lang}): {p}" for p in problems]
                if width == SHOT_WIDTH:
                    page.evaluate("() => window.scrollTo(0, 0)")
                    shot(page, _shot_name("chat-room", lang), scale="css")
            starter.locator("#chat-end-form button").click()
            expect(starter).to_have_url(re.compile(r"/help$"))
            for page in screens.values():
                page.context.clear_cookies(name="harbour_chat")
    finally:
        go_off_duty(advocate)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "chat-room.json").write_text(json.dumps(results, indent=2) + "\n")
    assert not failures, "\n".join(failures)


WIDE_TABLE = ("<h2>Synthetic wide table</h2><table><caption>Synthetic downloads</caption><thead><tr>"
              + "".join(f"<th scope='col'>Synthetic column heading {n}</th>" for n in range(12))
              + "</tr></thead><tbody><tr>" + "".join(f"<td>synthetic-value-{n}</td>" for n in range(12))
              + "</tr></tbody></table>")


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_a_table_without_a_box_does_not_widen_the_page(new_page, javascript):
    """A table a template adds without the scroll box (a new section, another module's page) still scrolls on
    its own: harbour.js puts it in a labelled region a keyboard can reach, and without JavaScript the CSS makes
    the table itself the scrolling box.  The page is a real public page with a wide synthetic table added."""
    width, (height, _phone) = 320, SCREENS[320]
    page = new_page(viewport={"width": width, "height": height}, is_mobile=True, has_touch=True,
                    java_script_enabled=javascript)

    def add_table(route):
        response = route.fetch()
        route.fulfill(response=response, body=response.text().replace("</main>", WIDE_TABLE + "</main>"))

    page.route("**/signs?lang=en", add_table)
    page.goto("/signs?lang=en")
    expect(page.get_by_role("table", name="Synthetic downloads")).to_be_attached()
    numbers, problems = _check(page, width, height, scripts=javascript)
    if javascript:
        assert not problems, problems
        box = page.get_by_role("region", name="Synthetic downloads")
        expect(box).to_have_attribute("tabindex", "0")  # it is wider than the screen: a keyboard stop
        assert box.evaluate("e => e.scrollWidth > e.clientWidth && e.querySelector('table') !== null")
    else:
        assert numbers["scrollWidth"] <= width, f"{numbers['scrollWidth']} px wide on a {width} px screen"
        assert not [p for p in problems if "quick exit" in p], problems
        assert page.locator("table").evaluate("t => t.scrollWidth > t.clientWidth")  # the table scrolls itself
