"""English/French with Babel catalogues.

Strings are marked with ``_()`` (translate now, in the request's language) or
``N_()`` (mark for the catalogue, translate later with ``_()`` when shown); ``NP_(context, message)`` marks
one with a context (``msgctxt``) where French needs another word for the same English one.
The French catalogue is ``src/harbour/locale/fr/LC_MESSAGES/messages.po``; it is
compiled in memory at start-up, so no binary .mo file is committed.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("en", "fr")
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"

_lang: ContextVar[str] = ContextVar("harbour_lang", default=DEFAULT_LANGUAGE)


@lru_cache
def translations(lang: str) -> NullTranslations:
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if lang == DEFAULT_LANGUAGE or not po.exists():
        return NullTranslations()
    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


def set_language(lang: str):
    return _lang.set(lang if lang in LANGUAGES else DEFAULT_LANGUAGE)


def reset_language(token) -> None:
    _lang.reset(token)


def current_language() -> str:
    return _lang.get()


def gettext(message: str, **params) -> str:
    context = getattr(message, "context", None)
    if context:  # marked with NP_: the same English word, a different French one (gender, number)
        text = translations(current_language()).pgettext(context, message)
    else:
        text = translations(current_language()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params) -> str:
    text = translations(current_language()).ngettext(singular, plural, n)
    params.setdefault("num", n)
    return text % params


_ = gettext


def N_(message: str) -> str:
    """Mark a string for the catalogue without translating it yet."""
    return message


class _InContext(str):
    """An English message that needs a context to be translated (``msgctxt`` in the catalogue)."""

    context: str = ""


def NP_(context: str, message: str) -> str:
    """Mark a string with a context (``msgctxt``) for the catalogue; :func:`gettext` translates it in that
    context.  For one English word that French writes differently by what it describes: "Closed" is
    « Fermé » for a case but « Fermée » for a hit (une concordance)."""
    marked = _InContext(message)
    marked.context = context
    return marked


def negotiate(query_lang: str | None, cookie_lang: str | None, accept_language: str | None) -> str:
    """?lang= beats the toggle cookie, which beats the browser's Accept-Language."""
    for candidate in (query_lang, cookie_lang):
        if candidate in LANGUAGES:
            return candidate
    if accept_language:
        ranked = []
        for part in accept_language.split(","):
            bits = part.strip().split(";q=")
            code = bits[0].strip().lower()[:2]
            try:
                q = float(bits[1]) if len(bits) > 1 else 1.0
            except ValueError:
                q = 0.0
            ranked.append((q, code))
        for _q, code in sorted(ranked, key=lambda t: -t[0]):
            if code in LANGUAGES:
                return code
    return DEFAULT_LANGUAGE
