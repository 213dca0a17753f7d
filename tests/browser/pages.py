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
