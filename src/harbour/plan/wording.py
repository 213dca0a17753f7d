"""The printed chart's own words in the reader's language: a deliverable's timeline cell and its published
status cell.

Imported charts keep their cells as printed, in English (``timeline``: "Start: Start 2014/15";
``status_text``: "Complete Complete Complete").  Those are the chart's words, not Harbour's, but a French page
must not show them in English: what they say is a start year and a status per part, which Harbour can write
in either language.  Text that is neither stays as printed, marked as English.
"""

from __future__ import annotations

import re

from harbour.core.i18n import N_, current_language, gettext
from harbour.plan.choices import DeliverableStatus

_YEAR = re.compile(r"\b(\d{4})\s*[/-]\s*(\d{2}|\d{4})\b")
_START_ONLY = re.compile(r"^(?:start\s*:?\s*)+(?P<years>(?:\d{4}\s*[/-]\s*\d{2,4}[\s,;]*)+)$", re.I)
_STATUS = re.compile(r"on track for (?P<fy>\d{4}\s*[/-]\s*\d{2,4})|in progress|not started|completed?|ongoing|"
                     r"delayed|on track", re.I)
_STATUS_CODES = {"in progress": "in_progress", "not started": "not_started", "complete": "complete",
                 "completed": "complete", "ongoing": "ongoing", "delayed": "delayed", "on track": "on_track"}


def _get(obj, name: str):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def fiscal_year(text: str) -> str:
    """A printed short fiscal year ("2014/15", "2011-12") as Harbour writes it ("2014-2015")."""
    m = _YEAR.search(text)
    if not m:
        return text
    first = int(m.group(1))
    return f"{first}-{first + 1}"


def timeline_lines(d) -> list[tuple[str, str | None]]:
    """The timeline cell of a deliverable as lines of ``(text, lang)`` in the page's language (``lang`` is set
    when a line stays in the printed English).  Start and end years when known; else the printed cell, read
    for its start years; else "—"."""
    start, end, printed = _get(d, "start_fiscal_year"), _get(d, "end_fiscal_year"), _get(d, "timeline")
    lines: list[tuple[str, str | None]] = []
    if start:
        lines.append((f"{gettext(N_('Start:'))} {start}", None))
    if end:
        lines.append((f"{gettext(N_('End:'))} {end}", None))
    if lines or not printed:
        return lines or [("—", None)]
    m = _START_ONLY.match(printed.strip())
    if m:
        years = [fiscal_year(y.group(0)) for y in _YEAR.finditer(m.group("years"))]
        return [(f"{gettext(N_('Start:'))} {', '.join(dict.fromkeys(years))}", None)]
    return [(printed, None if current_language() == "en" else "en")]


def published_status(d, labels: dict[str, str] | None = None) -> tuple[str, str | None] | None:
    """The status cell as printed, in the page's language: ``(text, lang)``, or None when it says nothing the
    status itself does not ("Completed" for a complete deliverable).  Each printed status becomes Harbour's
    word for it ("Complete Ongoing" → « Terminé / En continu »); text that is not a status stays as printed."""
    printed = (_get(d, "status_text") or "").strip()
    if not printed:
        return None
    labels = labels or dict(DeliverableStatus.options())
    words, rest = [], printed
    for m in _STATUS.finditer(printed):
        code = "on_track" if m.group("fy") else _STATUS_CODES[m.group(0).lower()]
        label = labels.get(code, code)
        if m.group("fy"):
            label = gettext(N_("%(status)s for %(fy)s"), status=label, fy=fiscal_year(m.group("fy")))
        words.append(label)
        rest = rest.replace(m.group(0), " ", 1)
    if rest.strip(" ,;/") or not words:
        return None if printed.lower() == labels.get(_get(d, "status"), "").lower() else (
            printed, None if current_language() == "en" else "en")
    text = " / ".join(words)
    if text.lower() == labels.get(_get(d, "status"), "").lower():
        return None
    return text, None
