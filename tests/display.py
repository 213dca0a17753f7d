"""Checks on what a page shows people (not its markup): raw ISO times, raw codes, French spacing."""

from __future__ import annotations

import re
from html import unescape

ISO_TIME = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")
ISO_DATE = re.compile(r"(?<![\d-])\d{4}-\d{2}-\d{2}(?![\d-])")


def visible_text(html: str) -> str:
    """The text a person reads: no tags, attributes, scripts, styles or templates; entities decoded."""
    html = re.sub(r"(?is)<(script|style|template|head)\b.*?</\1>", " ", html)
    html = re.sub(r"(?s)<!--.*?-->", " ", html)
    html = re.sub(r"(?s)<[^>]+>", " ", html)
    return re.sub(r"[ \t\r\n]+", " ", unescape(html))  # no-break spaces stay: they are part of what is read


def raw_times(html: str, *, dates: bool = True) -> list[str]:
    """ISO 8601 times (and, with ``dates``, ISO dates) a person would read on the page."""
    text = visible_text(html)
    found = [m.group(0) for m in ISO_TIME.finditer(text)]
    if dates:
        found += [m.group(0) for m in ISO_DATE.finditer(ISO_TIME.sub(" ", text))]
    return found
