"""Every signed-in page the accessibility suite checks, and every page route it deliberately leaves out.

``CONSOLE`` lists (route, demo user, label, where): ``route`` is the path template exactly as the app's router
declares it, ``where`` a path or a function that finds one on the live server (following the links a user
would follow).  Each route is opened by the demo user whose work it is; a route whose page differs by role
(the supervisor's case page, the data steward's decision form, the administrator's sharing overview...) is
listed again for that role.  ``EXCLUDED`` gives the reason for every GET route that is not a page to check.
tests/core/test_page_coverage.py fails when the app has a GET route in neither, so a new page cannot
escape the checks.

No Playwright import here (the coverage test reads this module without a browser); ``where`` functions get
a Playwright page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

PLAN = "NAP-2012-2016"  # the shipped 2012-2016 National Action Plan (also in pages.py)
SEARCH = "/console/directory?needs=emergency_shelter&place=Thunder+Bay&radius_km=500"

Where = str | Callable[[object], str]


def first_href(page, path: str, selector: str) -> str:
    """Open ``path`` and return the href of the first element matching ``selector`` (it must exist)."""
    page.goto(path)
    link = page.locator(selector).first
    link.wait_for(state="attached")
    return link.get_attribute("href")


def _case(page) -> str:
    return first_href(page, "/console/cases?status=open", "main table tbody tr a[href^='/console/cases/']")


def _refer_form(page) -> str:
    case = _case(page)
    page.goto(f"/console/directory?case_id={case.rsplit('/', 1)[1]}&needs=emergency_shelter&place=Thunder+Bay"
              "&radius_km=500")
    service = page.locator("#results input[name=service_ids]").first
    service.wait_for(state="attached")
    return f"{case}/referrals/new?service_ids={service.get_attribute('value')}"


def _link_in_row(path: str, row_text: str, link: str = "a") -> Callable[[object], str]:
    return lambda page: first_href(page, path, f"main tr:has-text('{row_text}') {link}")


def _network_group(page) -> str:
    return first_href(page, "/console/sharing/network?show=all", "main a[href^='/console/sharing/network/groups/']")


@dataclass(frozen=True)
class Check:
    route: str
    user: str
    label: str
    where: Where

    @property
    def id(self) -> str:
        return self.label.replace(" ", "-").replace("(", "").replace(")", "")


def _c(route: str, user: str, label: str, where: Where | None = None) -> Check:
    return Check(route, user, label, where if where is not None else route)


ADVOCATE, SUPERVISOR, PROVIDER = "demo-advocate", "demo-supervisor", "demo-provider"
COORDINATOR, LEAD, ADMIN = "demo-coordinator", "demo-lead-ps", "demo-admin"
ANALYST, STEWARD, RESEARCHER = "demo-analyst", "demo-steward", "demo-researcher"  # Toronto analyst, Montréal steward

CONSOLE: list[Check] = [
    # hotline
    _c("/console/contacts/new", ADVOCATE, "new contact"),
    _c("/console/contacts", ADVOCATE, "contacts"),
    _c("/console/contacts/{contact_id}", ADVOCATE, "contact",
       lambda p: first_href(p, "/console/contacts", "#rows tbody tr a")),
    _c("/console/contacts/{contact_id}/edit", ADVOCATE, "edit contact",
       lambda p: first_href(p, "/console/contacts", "#rows tbody tr a") + "/edit"),
    _c("/console/cases", ADVOCATE, "cases"),
    _c("/console/cases/new", ADVOCATE, "open a case"),
    _c("/console/cases/{case_id}", ADVOCATE, "case", _case),
    _c("/console/cases/{case_id}", SUPERVISOR, "case (supervisor)", _case),
    _c("/console/cases/{case_id}/edit", ADVOCATE, "edit case", lambda p: _case(p) + "/edit"),
    _c("/console/tasks", ADVOCATE, "my tasks"),
    _c("/console/dashboard", SUPERVISOR, "supervisor dashboard"),
    _c("/console/chat", ADVOCATE, "live chat"),  # in use (queue, conversation): test_live_chat_in_use
    # directory and referrals
    _c("/console/directory", ADVOCATE, "directory search"),
    _c("/console/directory", ADVOCATE, "directory results", SEARCH),
    _c("/console/directory/services/{service_id}", ADVOCATE, "service",
       lambda p: first_href(p, SEARCH, "#results li.result h3 a")),
    _c("/console/directory/services/{service_id}", SUPERVISOR, "service (supervisor)",
       lambda p: first_href(p, SEARCH, "#results li.result h3 a")),
    _c("/console/directory/organizations/{organization_id}", ADVOCATE, "organization",
       lambda p: first_href(p, SEARCH, "#results li.result p a")),
    _c("/console/directory/vetting", SUPERVISOR, "vetting"),
    _c("/console/cases/{case_id}/referrals/new", ADVOCATE, "refer a case", _refer_form),
    _c("/portal", PROVIDER, "provider portal"),
    _c("/portal/referrals/{referral_id}", PROVIDER, "portal referral",
       lambda p: first_href(p, "/portal", "main table tbody tr a")),
    _c("/portal/services", PROVIDER, "portal services"),
    _c("/portal/services/{service_id}", PROVIDER, "portal service",
       lambda p: first_href(p, "/portal/services", "main a[href^='/portal/services/']")),
    # action plan
    _c("/console/plan", COORDINATOR, "plan console"),
    _c("/console/plan", LEAD, "plan console (department lead)"),
    _c("/console/plan/review", COORDINATOR, "plan review queue"),
    _c("/console/plan/flags", COORDINATOR, "plan flags", f"/console/plan/flags?strategy={PLAN}"),
    _c("/console/plan/deliverables/{deliverable_id}", COORDINATOR, "plan deliverable",
       lambda p: first_href(p, f"/console/plan/flags?strategy={PLAN}", "main a[href*='/deliverables/']")),
    _c("/console/plan/deliverables/{deliverable_id}", LEAD, "plan deliverable (department lead)",
       lambda p: first_href(p, "/console/plan", "main a[href^='/console/plan/deliverables/']")),
    _c("/console/plan/progress/{entry_id}", COORDINATOR, "plan progress update",
       lambda p: first_href(p, "/console/plan/review", "main a[href^='/console/plan/progress/']")),
    _c("/console/plan/progress/{entry_id}", LEAD, "plan returned update (department lead)",
       _link_in_row("/console/plan", "Returned", "a[href^='/console/plan/progress/']")),
    # statistics
    _c("/console/statistics", RESEARCHER, "statistics (exact)"),
    _c("/console/statistics", ADMIN, "statistics (administrator)"),
    # information sharing: the Toronto analyst's side, the Montréal steward's decision, the administrator's
    _c("/console/sharing", ANALYST, "sharing overview"),
    _c("/console/sharing", ADMIN, "sharing overview (administrator)"),
    _c("/console/sharing/hits", ANALYST, "sharing hits"),
    _c("/console/sharing/hits/{hit_id}", ANALYST, "sharing hit",
       lambda p: first_href(p, "/console/sharing/hits", "main a[href^='/console/sharing/hits/']")),
    _c("/console/sharing/requests", ANALYST, "disclosure requests"),
    _c("/console/sharing/requests/{request_id}", ANALYST, "disclosure request (approved)",
       _link_in_row("/console/sharing/requests", "Approved", "a[href^='/console/sharing/requests/']")),
    _c("/console/sharing/requests/{request_id}", STEWARD, "disclosure request (steward deciding)",
       _link_in_row("/console/sharing/requests", "Waiting for the data steward", "a[href^='/console/sharing/requests/']")),
    _c("/console/sharing/records", ANALYST, "sharing records"),
    _c("/console/sharing/records/{category}/{record_id}", ANALYST, "sharing record",
       lambda p: first_href(p, "/console/sharing/records", "main a[href^='/console/sharing/records/person/']")),
    _c("/console/sharing/ingest", ANALYST, "upload records"),
    _c("/console/sharing/batches/{batch_id}", ANALYST, "upload batch",
       lambda p: first_href(p, "/console/sharing/ingest", "main a[href^='/console/sharing/batches/']")),
    _c("/console/sharing/pprl", ANALYST, "encoded linkage"),
    _c("/console/sharing/network", ANALYST, "sharing network", "/console/sharing/network?show=all"),
    _c("/console/sharing/network/groups/{gid}", ANALYST, "sharing network group", _network_group),
    _c("/console/sharing/network/persons/{person_id}", ANALYST, "sharing network person",
       lambda p: first_href(p, _network_group(p), "main a[href^='/console/sharing/network/persons/']")),
    _c("/console/sharing/agreements", ANALYST, "agreements"),
    _c("/console/sharing/agreements/{agreement_id}", ANALYST, "agreement",
       lambda p: first_href(p, "/console/sharing/agreements", "main a[href^='/console/sharing/agreements/']")),
    _c("/console/sharing/agreements/{agreement_id}", ADMIN, "agreement (administrator)",
       lambda p: first_href(p, "/console/sharing/agreements",
                            "main a[href^='/console/sharing/agreements/']:not([href$='/new'])")),
    _c("/console/sharing/agreements/new", ADMIN, "new agreement"),
    _c("/console/sharing/agencies", ADMIN, "agencies"),
    _c("/console/sharing/agencies/{code}", ADMIN, "agency",
       lambda p: first_href(p, "/console/sharing/agencies", "main a[href^='/console/sharing/agencies/']")),
    # account and administration
    _c("/account", ADVOCATE, "account"),
    _c("/admin", ADMIN, "administration"),
]

# Checked by a dedicated test in test_accessibility.py (they need a state the list above cannot reach).
CHECKED_ELSEWHERE: dict[str, str] = {
    "/login/totp": "test_two_step_sign_in (a role that requires two-step verification)",
    "/help/chat/room": "test_live_chat_in_use (a visitor waiting, then talking)",
    "/console/chat/transcripts/{transcript_id}": "test_live_chat_in_use (the chat saved to a case)",
}

# GET routes that are not pages of their own, with the reason.
EXCLUDED: dict[str, str] = {
    "/": "redirects to /help",
    "/console": "redirects to the signed-in user's landing page (checked under its own route)",
    "/console/chat/queue": "htmx fragment of /console/chat (checked inside it, queue empty and waiting)",
    "/console/chat/count": "htmx fragment of the console header (a number; checked inside every console page)",
    "/console/chat/case/{case_id}/transcripts": "htmx fragment of the case page (checked inside it after a chat)",
    "/healthz": "JSON health probe",
    "/readyz": "JSON readiness probe",
    "/metrics": "Prometheus text",
    "/statistics/releases/{reference}/{name}": "a released open-data file (CSV, JSON; the zip is {reference}.zip)",
}


def is_file_route(path: str) -> bool:
    """Downloads and assets (CSV, PDF, CSS, chart images...): files, not pages for axe-core."""
    last = path.rsplit("/", 1)[-1]
    return "." in last  # "report.css", "{fiscal_year}.pdf", "chart.csv", "{name}.{fmt}"
