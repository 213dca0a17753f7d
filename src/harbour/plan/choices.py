"""Plan vocabularies: strategy kinds, deliverable statuses, review states, fiscal years.

Fiscal years are Government of Canada fiscal years (1 April to 31 March), written
``"2013-2014"``: four digits, a hyphen, the next year.  Short forms seen in printed
charts ("2013/14", "2013-14") are kept verbatim in the ``timeline`` text only.
"""

from __future__ import annotations

import re
from datetime import date

from harbour.core.choices import Choice
from harbour.core.i18n import N_


class StrategyKind(Choice):
    action_plan = "action_plan", N_("Action plan")
    strategy = "strategy", N_("National strategy")
    recommendations = "recommendations", N_("Recommendations")


class DeliverableStatus(Choice):
    not_started = "not_started", N_("Not started")
    in_progress = "in_progress", N_("In progress")
    on_track = "on_track", N_("On track")
    ongoing = "ongoing", N_("Ongoing")
    complete = "complete", N_("Complete")
    delayed = "delayed", N_("Delayed")


class ReviewState(Choice):
    draft = "draft", N_("Draft")
    submitted = "submitted", N_("Submitted for review")
    approved = "approved", N_("Approved")
    rejected = "rejected", N_("Returned")


class ReviewDecision(Choice):
    approve = "approve", N_("Approve and publish")
    reject = "reject", N_("Return to the department")


class Flag(Choice):
    overdue = "overdue", N_("Overdue")
    no_update = "no_update", N_("No approved update this fiscal year")


class StatusSource(Choice):
    imported = "import", N_("Published chart")
    progress = "progress", N_("Approved update")


# Existing stylesheet classes, so a badge has a colour as well as its (always present) text label.
BADGE_CLASS = {
    "not_started": "status-closed",
    "in_progress": "status-open",
    "on_track": "status-open",
    "ongoing": "status-referred",
    "complete": "risk-low",
    "delayed": "risk-high",
    None: "status-closed",
}

FISCAL_YEAR_RE = re.compile(r"^(\d{4})-(\d{4})$")
FISCAL_YEAR_PATTERN = r"^\d{4}-\d{4}$"
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"
NUMBER_PATTERN = r"^\d{1,3}(\.\d{1,3}){0,3}$"
DEPARTMENT_PATTERN = r"^[A-Za-z][A-Za-z0-9-]{1,19}$"


def check_fiscal_year(value: str) -> str:
    """Return ``value`` if it is a fiscal year like 2013-2014 (consecutive years), else raise ValueError."""
    m = FISCAL_YEAR_RE.match(value or "")
    if not m:
        raise ValueError(f"fiscal year {value!r} must look like 2013-2014")
    first, second = int(m.group(1)), int(m.group(2))
    if second != first + 1:
        raise ValueError(f"fiscal year {value!r} must span two consecutive years, like 2013-2014")
    if not 1900 <= first <= 2199:
        raise ValueError(f"fiscal year {value!r} is out of range")
    return value


def is_fiscal_year(value: str | None) -> bool:
    try:
        check_fiscal_year(value or "")
        return True
    except ValueError:
        return False


def fiscal_year_of(day: date) -> str:
    """The fiscal year a date falls in (fiscal years start on 1 April)."""
    first = day.year if day.month >= 4 else day.year - 1
    return f"{first}-{first + 1}"


def fiscal_year_start(fy: str) -> int:
    return int(check_fiscal_year(fy)[:4])


def previous_fiscal_year(fy: str) -> str:
    first = fiscal_year_start(fy) - 1
    return f"{first}-{first + 1}"


def next_fiscal_year(fy: str) -> str:
    first = fiscal_year_start(fy) + 1
    return f"{first}-{first + 1}"
