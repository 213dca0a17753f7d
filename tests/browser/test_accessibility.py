"""Accessibility: axe-core (WCAG 2.0/2.1 A and AA rules and best practices) inside chromium on every public
page and the main console pages, for each role that uses them.  No serious or critical violation is allowed;
every finding of any impact is written to test-artifacts/a11y/axe-results.json.

Before axe runs, every <details> on the page is opened, so the forms folded inside them (record consent,
override, 9-1-1 transfer, decline a referral...) are checked too.  Two checks axe-core no longer makes are
added: no duplicate ids, and every visible form control has a label of its own (a label[for] that points
at a duplicated id names only the first control, which axe counts as labelled).

No axe rule is disabled.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import REPO, _login, format_violations
from tests.browser.pages import PLAN, PUBLIC_PAGES, go_off_duty, go_on_duty

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
# French too, except the two long plan pages: same templates and markup as in English, and
# test_language already checks their French; axe's contrast pass over 95 deliverables takes seconds.
PUBLIC_CASES = [(name, lang) for name in PUBLIC_PAGES for lang in ("en", "fr")
                if not (lang == "fr" and name in ("plan-chart", "plan-report"))]


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


# -- console pages, per role -------------------------------------------------------------------
def _first_href(page, path: str, selector: str) -> str:
    page.goto(path)
    link = page.locator(selector).first
    expect(link).to_be_attached()
    return link.get_attribute("href")


def _case(page) -> str:
    return _first_href(page, "/console/cases?status=open", "main table tbody tr a[href^='/console/cases/']")


def _search(page) -> str:
    return "/console/directory?needs=emergency_shelter&place=Thunder+Bay&radius_km=500"


def _refer_form(page) -> str:
    case = _case(page)
    case_id = case.rsplit("/", 1)[1]
    page.goto(f"/console/directory?case_id={case_id}&needs=emergency_shelter&place=Thunder+Bay&radius_km=500")
    service = page.locator("#results input[name=service_ids]").first.get_attribute("value")
    return f"{case}/referrals/new?service_ids={service}"


Where = str | Callable[[object], str]
CONSOLE: list[tuple[str, str, Where]] = [
    ("demo-advocate", "new contact", "/console/contacts/new"),
    ("demo-advocate", "contacts", "/console/contacts"),
    ("demo-advocate", "contact", lambda p: _first_href(p, "/console/contacts", "#rows tbody tr a")),
    ("demo-advocate", "cases", "/console/cases"),
    ("demo-advocate", "open a case", "/console/cases/new"),
    ("demo-advocate", "case", _case),
    ("demo-advocate", "edit case", lambda p: _case(p) + "/edit"),
    ("demo-advocate", "my tasks", "/console/tasks"),
    ("demo-advocate", "directory search", "/console/directory"),
    ("demo-advocate", "directory results", _search),
    ("demo-advocate", "service", lambda p: _first_href(p, _search(p), "#results li.result h3 a")),
    ("demo-advocate", "organization", lambda p: _first_href(p, _search(p), "#results li.result p a")),
    ("demo-advocate", "refer a case", _refer_form),
    ("demo-advocate", "account", "/account"),
    ("demo-advocate", "live chat", "/console/chat"),
    ("demo-supervisor", "supervisor dashboard", "/console/dashboard"),
    ("demo-supervisor", "vetting", "/console/directory/vetting"),
    ("demo-supervisor", "case (supervisor)", _case),
    ("demo-provider", "provider portal", "/portal"),
    ("demo-provider", "portal referral", lambda p: _first_href(p, "/portal", "main table tbody tr a")),
    ("demo-provider", "portal services", "/portal/services"),
    ("demo-provider", "portal service", lambda p: _first_href(p, "/portal/services", "main a[href^='/portal/services/']")),
    ("demo-coordinator", "plan console", "/console/plan"),
    ("demo-coordinator", "plan review queue", "/console/plan/review"),
    ("demo-coordinator", "plan flags", f"/console/plan/flags?strategy={PLAN}"),
    ("demo-coordinator", "plan deliverable",
     lambda p: _first_href(p, f"/console/plan/flags?strategy={PLAN}", "main a[href*='/deliverables/']")),
    ("demo-coordinator", "plan progress update",
     lambda p: _first_href(p, "/console/plan/review", "main a[href^='/console/plan/progress/']")),
    ("demo-admin", "administration", "/admin"),
]


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
            page.close()
            contexts[username] = context
        return contexts[username].new_page()

    yield get
    for context in contexts.values():
        context.close()


@pytest.mark.parametrize(("username", "label", "where"), CONSOLE, ids=[label for _, label, _ in CONSOLE])
def test_console_page(signed_in, axe, shot, username, label, where):
    page = signed_in(username)
    try:
        path = where if isinstance(where, str) else where(page)
        response = page.goto(path)
        assert response.status == 200, f"{path} answered {response.status}"
        assert "/login" not in page.url
        page.wait_for_load_state("networkidle")  # htmx fragments loaded on page load
        _check(page, axe, f"console {label} ({username})")
        shot(page, "a11y-console-" + re.sub(r"\W+", "-", label), full_page=False)
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
        visitor.get_by_role("button", name="End the chat").click()
    finally:
        go_off_duty(advocate)  # so the closed-chat page can be checked after this
