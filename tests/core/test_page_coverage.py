"""Every page the app serves is checked for accessibility, or left out for a stated reason.

The real-browser accessibility suite (tests/browser/test_accessibility.py) opens the public pages of
tests/browser/pages.py and the console pages of tests/browser/console_pages.py in English and French.  This
test reads the GET routes of the application itself (every router create_app mounts) and fails on a route
that neither list checks nor excludes with a reason, so a new page cannot escape the checks.  It needs no
browser: it runs in the fast suite.
"""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute

from tests.browser import console_pages
from tests.browser.pages import PUBLIC_PAGES


def _get_routes(routes, prefix: str = ""):
    """(path template, route) of every GET API route, through included routers (FastAPI 0.165 keeps an
    included router as one entry holding the original router; older versions copy its routes in)."""
    for route in routes:
        if isinstance(route, APIRoute):
            if "GET" in route.methods:
                yield prefix + route.path
        elif hasattr(route, "original_router"):
            context = getattr(route, "include_context", None)
            yield from _get_routes(route.original_router.routes, prefix + getattr(context, "prefix", ""))


def _page_routes(app) -> set[str]:
    """GET routes that answer a browser: not the JSON API, not files (CSV, PDF, CSS, images)."""
    return {path for path in _get_routes(app.routes)
            if not path.startswith("/api/") and not console_pages.is_file_route(path)}


def _regex(template: str) -> re.Pattern:
    return re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")


def _template_of(routes: set[str], path: str) -> str | None:
    matches = [t for t in routes if _regex(t).match(path.split("?")[0])]
    # a literal route wins over a pattern (/console/sharing/agreements/new over .../{agreement_id})
    return min(matches, key=lambda t: t.count("{"), default=None)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_every_page_route_is_checked_or_excluded_with_a_reason(app):
    routes = _page_routes(app)
    assert "/console/cases/{case_id}" in routes and "/help" in routes  # the enumeration sees the app's routers

    public = {_template_of(routes, path) for path in PUBLIC_PAGES.values()}
    assert None not in public, "a public page in tests/browser/pages.py matches no route of the app"
    console = {check.route for check in console_pages.CONSOLE}
    checked = public | console | set(console_pages.CHECKED_ELSEWHERE)
    excluded = console_pages.EXCLUDED

    missing = sorted(routes - checked - set(excluded))
    assert not missing, (
        "page routes with no accessibility check: add each to tests/browser/console_pages.py (CONSOLE, with the "
        f"demo user who opens it) or to its EXCLUDED with the reason: {missing}")

    stale = sorted((console | set(console_pages.CHECKED_ELSEWHERE) | set(excluded)) - routes)
    assert not stale, f"tests/browser/console_pages.py names routes the app no longer has: {stale}"
    both = sorted(checked & set(excluded))
    assert not both, f"routes both checked and excluded: {both}"
    assert all(reason.strip() for reason in excluded.values())


def test_console_checks_name_demo_users_and_unique_labels():
    from harbour.hotline.demo import DEMO_USERS
    from harbour.plan.demo import LEADS
    from harbour.sharing.demo import MEMBERS

    demo = {u for u, *_ in DEMO_USERS} | {u for u, *_ in LEADS} | {u for u, *_ in MEMBERS}
    users = {check.user for check in console_pages.CONSOLE}
    assert users <= demo, f"not demo users: {users - demo}"
    labels = [check.label for check in console_pages.CONSOLE]
    assert len(labels) == len(set(labels)), "two console checks share a label (screenshots and results would clash)"
    for check in console_pages.CONSOLE:
        if isinstance(check.where, str):
            assert _regex(check.route).match(check.where.split("?")[0]), f"{check.label}: {check.where} is not {check.route}"


def test_file_routes_are_files():
    assert console_pages.is_file_route("/plan/{code}/report/{fiscal_year}.pdf")
    assert console_pages.is_file_route("/statistics/charts/{name}.{fmt}")
    assert not console_pages.is_file_route("/plan/{code}/report/{fiscal_year}")
    assert not console_pages.is_file_route("/console/sharing/agencies/{code}")
