"""The pages the browser suite visits (paths on the live server with demo data)."""

from __future__ import annotations

from playwright.sync_api import expect

PLAN = "NAP-2012-2016"  # the shipped 2012-2016 National Action Plan (harbour demo imports it)

# Every public page: each must carry the quick exit, switch language, and pass axe-core.
PUBLIC_PAGES = {
    "help": "/help",
    "tip": "/tip",
    "tip-thanks": "/tip/thanks",
    "signs": "/signs",
    "chat": "/help/chat",  # the live chat's start page
    "plan-index": "/plan",
    "plan-chart": f"/plan/{PLAN}",
    "plan-report": f"/plan/{PLAN}/report/2013-2014",
    "statistics": "/statistics",
    "statistics-standard": "/statistics/standard",
    "login": "/login",
}

# Public pages answered with an error: they carry the public layout and the quick exit too.
ERROR_PAGES = {"not-found": "/no-such-page"}

# Discovering every plan, chart, report and statistics filter from the pages themselves (all <a>s and <option>s).
_LINKS = "(sel) => Array.from(document.querySelectorAll(sel), a => a.getAttribute('href'))"
_OPTIONS = "(sel) => Array.from(document.querySelectorAll(sel), o => o.value)"


def every_public_page(page) -> dict[str, str]:
    """PUBLIC_PAGES plus every page and report a visitor can reach from them, found by following the links
    and filters on the live server (so a plan or report added later is covered without editing this list):

    every plan listed on /plan, each plan's chart page and each fiscal year's progress report linked from it
    (HTML; the PDFs are downloads), and /statistics for every option of its year filter and of its
    province/territory/region filter.  ``page`` is any page on the live server; it is left on /statistics."""
    found = dict(PUBLIC_PAGES)

    def add(name: str, path: str) -> None:
        if path not in found.values():
            found[name] = path

    page.goto("/plan?lang=en")
    plans = [h for h in page.evaluate(_LINKS, "main h2 a[href^='/plan/']") if h]
    assert plans, "no plan listed on /plan"
    for chart in plans:
        code = chart.rsplit("/", 1)[-1]
        add(f"plan-{code}", chart)
        page.goto(f"{chart}?lang=en")
        reports = [h for h in page.evaluate(_LINKS, f"main a[href^='{chart}/report/']") if not h.endswith(".pdf")]
        for report in reports:
            add(f"plan-{code}-report-{report.rsplit('/', 1)[-1]}", report)
    page.goto("/statistics?lang=en")
    for year in page.evaluate(_OPTIONS, "select[name=year] option"):
        if year:  # "" (all years, all of Canada) is /statistics itself
            add(f"statistics-{year}", f"/statistics?year={year}")
    for geo in page.evaluate(_OPTIONS, "select[name=province] option"):
        if geo:
            add(f"statistics-{geo}", f"/statistics?province={geo}")
    return found


def go_on_duty(advocate) -> None:
    """On the advocate's open /console/chat page: tick "I am available for chats" (saved) if it is not."""
    available = advocate.get_by_label("I am available for chats")
    if not available.is_checked():
        available.check()
        advocate.get_by_role("button", name="Save", exact=True).click()
    expect(advocate.get_by_label("I am available for chats")).to_be_checked()


def go_off_duty(advocate) -> None:
    """Untick availability again (from /console/chat), so later tests see the chat as closed."""
    advocate.goto("/console/chat")
    advocate.get_by_label("I am available for chats").uncheck()
    advocate.get_by_role("button", name="Save", exact=True).click()
    expect(advocate.get_by_label("I am available for chats")).not_to_be_checked()
