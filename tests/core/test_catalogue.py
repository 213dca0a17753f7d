"""Every user-facing string in code and templates has a French translation (Official Languages)."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

SRC = Path(__file__).resolve().parents[2] / "src"
PO = SRC / "harbour" / "locale" / "fr" / "LC_MESSAGES" / "messages.po"
METHODS = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


def _extracted() -> dict[str, str]:
    keywords = dict(DEFAULT_KEYWORDS, N_=None, NP_=((1, "c"), 2))
    found: dict[tuple[str, str | None], str] = {}
    for filename, _lineno, message, _comments, context in extract_from_dir(
        str(SRC), METHODS, options_map=OPTIONS, keywords=keywords
    ):
        key = message[0] if isinstance(message, tuple) else message
        found.setdefault((key, context), filename)
    return found


def test_every_message_has_a_french_translation():
    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="fr")
    missing = []
    for (msgid, context), where in sorted(_extracted().items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        entry = catalog.get(msgid, context=context)
        text = entry.string if entry else None
        if isinstance(text, tuple):
            text = text[0] if all(text) else ""
        if not text or (entry and entry.fuzzy):
            missing.append(f"{where}: {msgid!r}" + (f" (context {context!r})" if context else ""))
    assert not missing, f"{len(missing)} messages lack a French translation:\n" + "\n".join(missing[:40])


def test_placeholders_survive_translation():
    import re

    with PO.open("rb") as fh:
        catalog = read_po(fh, locale="fr")
    bad = []
    for m in catalog:
        if not m.id or not m.string:
            continue
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        wanted = set(re.findall(r"%\(\w+\)s", ids[0]))
        for s in strings:
            if set(re.findall(r"%\(\w+\)s", s)) != wanted and not (len(ids) > 1 and "%(num)s" in wanted):
                bad.append(m.id)
    assert not bad, f"placeholders differ in: {bad[:20]}"


@pytest.mark.parametrize("path", ["/help", "/signs", "/tip", "/login"])
def test_public_pages_render_in_french(client, path):
    page = client.get(path + "?lang=fr")
    assert page.status_code == 200
    assert '<html lang="fr">' in page.text
    assert "Quick exit" not in page.text  # the control itself is translated
