"""The pages the browser suite visits (paths on the live server with demo data)."""

from __future__ import annotations

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
