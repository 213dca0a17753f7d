"""Real-browser tests: Playwright driving Debian's chromium against a live Harbour server.

Fixtures (all tests under tests/browser/ may use them):

- ``live_server`` (session): base URL of a real uvicorn server in a subprocess on a free loopback
  port, against a temporary SQLite database migrated with ``harbour db upgrade`` and loaded with the
  modules' demo loaders (tests/browser/seed.py: fixed seed, synthetic data; the time each part took is in
  the server log), with its own key file.
  Torn down at the end.  HARBOUR_TEST_LIVE_URL=http://... reuses a server you already run instead.
- ``browser`` (session): headless chromium from ``/usr/bin/chromium`` (never downloaded).  Without
  it the browser suite is skipped, saying why; under ``CI`` it fails instead.
- ``page`` (function): a fresh context (locale en-CA, ``base_url`` = the live server) and page.
  ``new_page(**context_options)`` makes more (e.g. a visitor and an advocate side by side).
  Every context aborts requests that leave the live server (and records them in
  ``context.external_requests``): the suite never touches the network.
- ``shot(page, name)``: full-page PNG in ``test-artifacts/screenshots/<name>.png``.
- ``HARBOUR_CHAT_START_LIMIT`` is raised on the live server: every visitor in the suite shares 127.0.0.1.
- ``login(page, username)``: signs a demo user in through the real login form
  (demo passwords are ``<username>-pass``).  Overrides the TestClient ``login`` of tests/conftest.py here.
- ``axe(page, label="")``: runs axe-core (tests/browser/node_modules, installed by ``make axe``)
  inside the page; fails on any serious or critical violation with readable details and returns
  every violation found.  ``axe.run(page)`` only returns them.

Every test in this folder is put in the xdist group "browser" (so ``-n 2 --dist loadgroup`` runs them
all on one worker with one server) and marked ``slow``.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = os.environ.get("HARBOUR_TEST_CHROMIUM", "/usr/bin/chromium")
AXE_JS = HERE / "node_modules" / "axe-core" / "axe.min.js"
HARBOUR = Path(sys.executable).with_name("harbour")

# Demo data: small enough to load quickly, big enough for every journey (demo-provider's
# vetted Thunder Bay shelter is always among the providers) and for every console page the accessibility
# suite checks (the sharing network, a small statistics history).  Synthetic, fixed seed.
DEMO_ARGS = ["--seed", "2026", "--contacts", "40", "--providers", "150", "--history-cases", "300"]  # see seed.py
AXE_BLOCKING = ("serious", "critical")


def pytest_itemcollected(item):
    """One xdist group (one worker, one live server) for the whole browser suite; all of it is slow.

    Marked as each item is collected: xdist reads the group in its own pytest_collection_modifyitems,
    which may run before a conftest's."""
    if HERE in Path(str(item.fspath)).resolve().parents:
        item.add_marker(pytest.mark.xdist_group("browser"))
        item.add_marker(pytest.mark.slow)


def _missing(reason: str):
    if os.environ.get("CI"):
        pytest.fail(reason + " (CI must run the browser tests: .ci/run installs it)", pytrace=False)
    pytest.skip(reason)


# -- live server -------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(args: list[str], env: dict, log: Path) -> None:
    with log.open("ab") as out:
        done = subprocess.run(args, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=600, cwd=str(REPO))
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args[:3])} failed ({done.returncode}); see {log}:\n{log.read_text()[-3000:]}")


def _wait_until_up(url: str, proc: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the live server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url + "/help", timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the live server did not answer within {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="session")
def live_server_env(tmp_path_factory) -> dict:
    """The environment the live server runs with (database URL, key file, base URL); seeded once."""
    root = tmp_path_factory.mktemp("live")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARBOUR_")}
    env.update({
        "HARBOUR_DATABASE_URL": f"sqlite:///{root / 'harbour.db'}",
        "HARBOUR_KEY_FILE": str(root / "keys" / "harbour-keys.json"),
        "HARBOUR_BASE_URL": f"http://127.0.0.1:{port}",
        "HARBOUR_PORT": str(port),
        "HARBOUR_LOG": str(root / "server.log"),
        "PYTHONUNBUFFERED": "1",
        # Every visitor in the suite comes from 127.0.0.1: let more than the default 3 chats start per window
        # (the accessibility, journey and phone-layout tests start theirs; tests/security/test_proxy_and_limits.py
        # tests the limit itself).
        "HARBOUR_CHAT_START_LIMIT": "100",
    })
    log = Path(env["HARBOUR_LOG"])
    _run([str(HARBOUR), "db", "upgrade"], env, log)
    _run([sys.executable, "-m", "tests.browser.seed", *DEMO_ARGS], env, log)
    return env


@pytest.fixture(scope="session")
def live_server(request) -> str:
    """Base URL (http://127.0.0.1:PORT) of a real Harbour server with demo data."""
    if os.environ.get("HARBOUR_TEST_LIVE_URL"):  # developers: reuse a server already running with demo data
        yield os.environ["HARBOUR_TEST_LIVE_URL"].rstrip("/")
        return
    env = request.getfixturevalue("live_server_env")
    base = env["HARBOUR_BASE_URL"]
    log = Path(env["HARBOUR_LOG"])
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "harbour.app:create_app", "--factory", "--host", "127.0.0.1",
             "--port", env["HARBOUR_PORT"], "--log-level", "warning", "--no-access-log"],
            env=env, stdout=out, stderr=subprocess.STDOUT, cwd=str(REPO))
    try:
        _wait_until_up(base, proc, log)
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


# -- browser -----------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def playwright_driver():
    if not os.path.exists(CHROMIUM):
        _missing(f"browser tests need Debian's chromium at {CHROMIUM} (apt-get install -y chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - a dev dependency
        _missing("browser tests need the playwright Python package (pip install -e '.[dev]')")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
def browser(playwright_driver):
    """Headless Debian chromium (never a downloaded browser build)."""
    from playwright.sync_api import expect

    expect.set_options(timeout=10_000)  # a shared 2-core machine can be slow; assertions still must come true
    b = playwright_driver.chromium.launch(executable_path=CHROMIUM, headless=True,
                                          args=["--no-sandbox", "--disable-dev-shm-usage"])
    yield b
    b.close()


def _contain(context, base: str) -> None:
    """Abort (and record) every request that would leave the live server: no network in tests."""
    context.external_requests = []
    pattern = re.compile(r"^(?!" + re.escape(base) + r"(/|$))(https?|wss?)://")

    def refuse(route):
        context.external_requests.append(route.request.url)
        route.abort("blockedbyclient")

    context.route(pattern, refuse)


@pytest.fixture
def new_page(browser, live_server):
    """Factory: new_page(**context_options) -> a page in its own fresh context (closed after the test)."""
    contexts = []

    def make(**options):
        opts = {"locale": "en-CA", "base_url": live_server, "viewport": {"width": 1280, "height": 900}}
        opts.update(options)
        context = browser.new_context(**opts)
        context.set_default_timeout(15_000)
        context.set_default_navigation_timeout(60_000)  # some pages build reports or statistics on first view
        _contain(context, live_server)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page):
    return new_page()


# -- helpers -----------------------------------------------------------------------------------
def _save_shot(page, name: str, *, full_page: bool = True, **options) -> Path:
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "page"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{safe}.png"
    page.screenshot(path=str(path), full_page=full_page, **options)
    return path


@pytest.fixture
def shot():
    """shot(page, name, full_page=True, **options): save a screenshot as test-artifacts/screenshots/<name>.png
    (options go to Playwright's page.screenshot, e.g. scale="css" for one image pixel per CSS pixel)."""
    return _save_shot


def _login(page, username: str, password: str | None = None, next_path: str | None = None):
    """Sign in through the real form; returns the page (now on the user's landing page)."""
    page.goto("/login" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password or f"{username}-pass")
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if "/login" in page.url.split("?")[0]:
        raise AssertionError(f"sign-in as {username} failed: {page.locator('main').inner_text()[:300]}")
    return page


@pytest.fixture
def login():
    """login(page, username): sign a demo user in through the real login form."""
    return _login


# -- axe-core ----------------------------------------------------------------------------------
def _ensure_axe() -> str:
    if not AXE_JS.exists():
        npm = shutil.which("npm")
        if npm:  # the same step as `make axe`, for runs that did not go through make
            subprocess.run([npm, "ci", "--prefix", str(HERE), "--no-audit", "--no-fund", "--loglevel", "error"],
                           check=False, timeout=300, capture_output=True)
    if not AXE_JS.exists():
        _missing(f"accessibility tests need axe-core at {AXE_JS.relative_to(REPO)} (make axe: npm ci in tests/browser)")
    return AXE_JS.read_text(encoding="utf-8")


def format_violations(violations: list[dict], label: str = "") -> str:
    lines = []
    for v in violations:
        lines.append(f"[{v.get('impact')}] {v['id']}: {v['help']} ({v.get('helpUrl', '')})" + (f" on {label}" if label else ""))
        for node in v.get("nodes", [])[:8]:
            target = " ".join(str(t) for t in node.get("target", []))
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            lines.append(f"    {target}: {summary[:300]}")
            lines.append(f"      {node.get('html', '')[:200]}")
        if len(v.get("nodes", [])) > 8:
            lines.append(f"    ... and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


class Axe:
    """Runs axe-core inside the page (WCAG 2.0/2.1 A and AA rules plus best practices)."""

    def __init__(self, source: str):
        self.source = source

    def run(self, page, *, context: str | None = None, disable: tuple[str, ...] = ()) -> list[dict]:
        # page.evaluate goes through the DevTools protocol, which the page's CSP does not govern;
        # the page keeps its real CSP (no bypass_csp), so what is tested is what users get.
        if not page.evaluate("() => typeof window.axe !== 'undefined'"):
            page.evaluate(self.source)
        options = {"resultTypes": ["violations"],
                   "rules": {rule: {"enabled": False} for rule in disable}}
        result = page.evaluate("([ctx, opts]) => window.axe.run(ctx || document, opts)", [context, options])
        return result["violations"]

    def __call__(self, page, label: str = "", **kw) -> list[dict]:
        violations = self.run(page, **kw)
        blocking = [v for v in violations if v.get("impact") in AXE_BLOCKING]
        assert not blocking, "axe-core found serious or critical violations:\n" + format_violations(
            blocking, label or page.url)
        return violations


@pytest.fixture(scope="session")
def axe_source() -> str:
    return _ensure_axe()


@pytest.fixture
def axe(axe_source) -> Axe:
    """axe(page, label=""): no serious or critical violations (fails with details); returns all violations."""
    return Axe(axe_source)

