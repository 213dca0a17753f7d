"""Accessibility: axe-core (WCAG 2.0/2.1 A and AA rules and best practices) inside chromium on every public
page and every console page, in English and in French, each opened by the demo user whose work it is (and
again by another role where the page differs by role: tests/browser/console_pages.py lists them, and
tests/core/test_page_coverage.py fails if a page route of the app is missing from that list).  No serious or
critical violation is allowed; every finding of any impact is written to test-artifacts/a11y/axe-results.json.

Before axe runs, every <details> on the page is opened, so the forms folded inside them (record consent,
override, 9-1-1 transfer, decline a referral...) are checked too.  Two checks axe-core no longer makes are
added: no duplicate ids, and every visible form control has a label of its own (a label[for] that points
at a duplicated id names only the first control, which axe counts as labelled).

No axe rule is disabled.
"""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import REPO, _login, format_violations
from tests.browser.console_pages import CONSOLE
from tests.browser.pages import PUBLIC_PAGES, go_off_duty, go_on_duty

RESULTS = REPO / "test-artifacts" / "a11y" / "axe-results.json"
_findings: dict[str, list[dict]] = {}

OPEN_DETAILS = "() => document.querySelectorAll('details').forEach(d => { d.open = true; })"
EXTRA_CHECKS = """() => {
  const counts = {};
  document.querySelectorAll('[id]').forEach(e => { counts[e.id] = (counts[e.id] || 0) + 1; });
  const duplicates = Object.keys(counts).filter(k => counts[k] > 1);
  const visible = e => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
  const unlabelled = Array.from(document.querySelectorAll('input:not([type=hidden]), select, textarea'))
    .filter(visible)
    .filter(e => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
    .map(e => e.outerHTML.slice(0, 160));
  return {duplicates, unlabelled};
}"""


def _check(page, axe, label: str) -> None:
    page.evaluate(OPEN_DETAILS)
    violations = axe.run(page)
    _findings[label] = [{"id": v["id"], "impact": v.get("impact"), "help": v["help"], "nodes": len(v["nodes"]),
                         "targets": [" ".join(map(str, n["target"])) for n in v["nodes"][:10]]} for v in violations]
    blocking = [v for v in violations if v.get("impact") in ("serious", "critical")]
    extra = page.evaluate(EXTRA_CHECKS)
    problems = []
    if blocking:
        problems.append(format_violations(blocking, label))
    if extra["duplicates"]:
        problems.append(f"duplicate ids on {label}: {extra['duplicates']}")
    if extra["unlabelled"]:
        problems.append(f"form controls without a label of their own on {label}:\n  " + "\n  ".join(extra["unlabelled"]))
    assert not problems, "\n".join(problems)


@pytest.fixture(scope="module", autouse=True)
def _write_results():
    yield
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    previous = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    previous.update(_findings)
    RESULTS.write_text(json.dumps(dict(sorted(previous.items())), indent=2, ensure_ascii=False) + "\n")


# -- public pages ------------------------------------------------------------------------------
PUBLIC_CASES = [(name, lang) for name in PUBLIC_PAGES for lang in ("en", "fr")]


@pytest.mark.parametrize(("name", "lang"), PUBLIC_CASES, ids=[f"{n}-{lang}" for n, lang in PUBLIC_CASES])
def test_public_page(page, axe, shot, name, lang):
    response = page.goto(f"{PUBLIC_PAGES[name]}?lang={lang}")
    assert response.status == 200
    expect(page.locator("html")).to_have_attribute("lang", lang)
    _check(page, axe, f"public {name} ({lang})")
    if lang == "en":
        shot(page, f"a11y-public-{name}", full_page=False)


def test_tip_form_with_errors(page, axe):
    page.goto("/tip")
    page.get_by_role("button", name="Send report").click()
    expect(page.get_by_role("alert")).to_be_visible()
    _check(page, axe, "public tip, with errors")


def test_public_page_on_a_phone(new_page, axe, shot):
    page = new_page(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page.goto("/help")
    _check(page, axe, "public help (phone)")
    shot(page, "a11y-public-help-phone", full_page=False)


# -- console pages, per role, in English and French ----------------------------------------------
# The list of pages (and of the routes deliberately left out) is tests/browser/console_pages.py;
# tests/core/test_page_coverage.py fails if the app has a page route in neither.
def _route_regex(route: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(route)) + "$")


def _with_lang(path: str, lang: str) -> str:
    return path + ("&" if "?" in path else "?") + f"lang={lang}"


HTMX_IDLE = "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"


def _settle(page) -> None:
    """Wait for the htmx fragments a page loads on arrival (the live chat count, a case's transcripts): htmx
    issues them as it starts, before the load event, and marks them until they have settled.  (Faster than
    waiting for the network to stay idle for half a second on every page.)"""
    page.wait_for_function(HTMX_IDLE)


@pytest.fixture(scope="module")
def signed_in(browser, live_server):
    """One signed-in context per demo user for the whole module (sign-in is slow on purpose: Argon2)."""
    contexts: dict[str, object] = {}

    def get(username: str):
        if username not in contexts:
            context = browser.new_context(locale="en-CA", base_url=live_server,
                                          viewport={"width": 1280, "height": 900})
            context.set_default_timeout(15_000)
            context.set_default_navigation_timeout(60_000)
            page = context.new_page()
            _login(page, username)
            page.goto("/help?lang=en")  # sign-in sets the user's own language; pages are opened in English first
            page.close()
            contexts[username] = context
        return contexts[username].new_page()

    yield get
    for context in contexts.values():
        context.close()


@pytest.mark.parametrize("check", CONSOLE, ids=[c.id for c in CONSOLE])
def test_console_page(signed_in, axe, shot, check):
    page = signed_in(check.user)
    try:
        path = check.where if isinstance(check.where, str) else check.where(page)
        assert _route_regex(check.route).match(path.split("?")[0]), f"{path} is not {check.route}"
        for lang in ("fr", "en"):  # English last: the context's language cookie stays English for the next test
            response = page.goto(_with_lang(path, lang))
            assert response.status == 200, f"{path} answered {response.status}"
            assert "/login" not in page.url
            expect(page.locator("html")).to_have_attribute("lang", lang)
            _settle(page)
            _check(page, axe, f"console {check.label} ({check.user}, {lang})")
            if lang == "en":
                shot(page, "a11y-console-" + re.sub(r"\W+", "-", check.label).strip("-"), full_page=False)
    finally:
        page.close()


def test_console_live_results_after_htmx_swap(signed_in, axe):
    """The directory's live results (swapped in by htmx when a filter changes) are checked as users get them."""
    page = signed_in("demo-advocate")
    try:
        page.goto("/console/directory")
        page.get_by_label("City or town").fill("Thunder Bay")
        with page.expect_response(lambda r: "/console/directory?" in r.url):
            page.get_by_role("group", name=re.compile("What is needed")).get_by_label("Counselling", exact=False).first.check()
        expect(page.locator("#results h2")).to_contain_text("found")
        _check(page, axe, "console directory results (htmx)")
    finally:
        page.close()


def test_the_check_catches_real_problems(page, axe):
    """The harness itself: a control without a label, a duplicated id and unreadable text are all caught."""
    page.goto("/help")
    page.evaluate("""() => {
        const main = document.getElementById('main');
        const input = document.createElement('input'); input.id = 'main'; main.appendChild(input);
        const p = document.createElement('p'); p.textContent = 'Pale text'; p.style.color = '#c8c8c8';
        main.appendChild(p);
    }""")
    found = {v["id"]: v["impact"] for v in axe.run(page)}
    assert found.get("label") == "critical"
    assert found.get("color-contrast") == "serious"
    with pytest.raises(AssertionError, match=r"(?s)serious or critical.*color-contrast"):
        axe(page)
    with pytest.raises(AssertionError, match=r"duplicate ids on broken: \['main'\]"):
        _check(page, axe, "broken")
    _findings.pop("broken", None)


def test_live_chat_in_use(new_page, login, axe, shot):
    """The chat as people use it: the open start page, the visitor waiting and talking, the advocate's
    console with a chat in the queue and a conversation open (real WebSockets)."""
    advocate = new_page()
    login(advocate, "demo-advocate")
    advocate.goto("/console/chat")
    go_on_duty(advocate)
    try:
        visitor = new_page()
        visitor.goto("/help/chat")
        expect(visitor.get_by_role("button", name="Start the chat")).to_be_visible()
        _check(visitor, axe, "public chat start (open)")
        visitor.get_by_role("button", name="Start the chat").click()
        expect(visitor).to_have_url(re.compile(r"/help/chat/room$"))
        expect(visitor.locator("#chat-status")).to_contain_text("in line")
        _check(visitor, axe, "public chat room (waiting)")

        take = advocate.get_by_role("button", name=re.compile(r"^Take chat CH-"))
        expect(take.first).to_be_visible()
        _check(advocate, axe, "console live chat (queue)")
        take.first.click()
        expect(visitor.get_by_role("textbox")).to_be_enabled()
        visitor.get_by_role("textbox").fill("Synthetic test message for the accessibility check.")
        visitor.get_by_role("textbox").press("Enter")
        panel = advocate.locator(".chat-panel").first
        expect(panel.locator(".chat-log")).to_contain_text("Synthetic test message")
        _check(visitor, axe, "public chat room (talking)")
        _check(advocate, axe, "console live chat (conversation)")
        shot(visitor, "a11y-chat-visitor", full_page=False)
        shot(advocate, "a11y-chat-advocate", full_page=False)
        # The same two pages in French (reloaded: the chat goes on, the panel is drawn by the server).
        visitor.goto("/help/chat/room?lang=fr")
        expect(visitor.get_by_role("textbox")).to_be_enabled()
        _check(visitor, axe, "public chat room (talking, fr)")
        advocate.goto("/console/chat?lang=fr")
        expect(advocate.locator(".chat-panel .chat-log").first).to_contain_text("Synthetic test message")
        _check(advocate, axe, "console live chat (conversation, fr)")

        # Saved to a case: the case page with its transcripts, and the transcript, in both languages.
        advocate.goto("/console/chat?lang=en")
        with advocate.expect_navigation():
            advocate.locator(".chat-panel").first.get_by_role(
                "button", name="Save as contact and open a case").click()
        transcript = advocate.locator("#chat-transcripts").get_by_role("link", name=re.compile(r"^Web chat CH-"))
        expect(transcript).to_be_visible()
        _check(advocate, axe, "console case with a chat transcript")
        path = transcript.get_attribute("href")
        for lang in ("fr", "en"):
            advocate.goto(f"{path}?lang={lang}")
            expect(advocate.locator("pre.transcript")).to_contain_text("Synthetic test message")
            _check(advocate, axe, f"console chat transcript ({lang})")
        visitor.goto("/help/chat/room?lang=en")
        visitor.get_by_role("button", name="End the chat").click()
    finally:
        go_off_duty(advocate)  # so the closed-chat page can be checked after this


def test_two_step_sign_in(signed_in, new_page, axe):
    """/login/totp as someone whose role requires two-step verification sees it at first: the setup page (a
    superset of the code-only page: the same form after the setup steps), then with a wrong code."""
    admin = signed_in("demo-admin")
    row = admin.locator("tr", has=admin.get_by_role("rowheader", name="Researcher", exact=True))

    def require(on: bool) -> None:
        admin.goto("/admin?lang=en")
        box = row.get_by_role("checkbox")
        box.check() if on else box.uncheck()
        with admin.expect_navigation():
            row.get_by_role("button").click()
        expect(row).to_contain_text("Required" if on else "Optional")

    require(True)
    try:
        page = new_page()
        page.goto("/login")
        page.get_by_label("Username").fill("demo-researcher")
        page.get_by_label("Password").fill("demo-researcher-pass")
        with page.expect_navigation():
            page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(re.compile(r"/login/totp$"))
        for lang in ("fr", "en"):
            page.goto(f"/login/totp?lang={lang}")
            expect(page.locator("#totp-secret")).to_be_visible()
            _check(page, axe, f"two-step verification setup ({lang})")
        page.get_by_label("6-digit code").fill("000000")
        page.get_by_role("button", name="Verify").click()
        expect(page.get_by_role("alert")).to_contain_text("That code did not work")
        _check(page, axe, "two-step verification, wrong code")
    finally:
        require(False)
        admin.close()
