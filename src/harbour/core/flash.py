"""Flash messages: after a form is sent and the browser is redirected, the next page says what happened, once.

Rules this module enforces:

* A confirmation is a *registered message* — a code and a catalogue text, declared where the action lives
  (``CASE_SAVED = flash.message("hotline.case_saved", N_("Case saved."))``).  Never free text and never a
  placeholder, so it can carry nothing anyone typed and no personal data.
* It travels to the next page in a short-lived cookie holding only the code and an HMAC of it (the key
  ring's index key, domain ``flash``); a cookie that is forged, altered or names no registered message is
  ignored.  HttpOnly, SameSite=Strict, two minutes at most.
* It is translated when shown, in the language of the page that shows it, and shown by the page layouts
  (``console_base.html``, ``public_base.html``) in their ``role="status"`` region (``id="flash"``).
  Only a page that renders that region uses it up (its response deletes the cookie): htmx fragments and
  redirects leave it for the page.
* ``now(request, message)`` shows a message on the page this request renders (an htmx swap that answers in
  place; the region is swapped with ``hx-select-oob="#flash:innerHTML"``).
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass

from fastapi import Request

from harbour.core import crypto
from harbour.core.i18n import gettext

COOKIE = "harbour_flash"
MAX_AGE = 120  # seconds: long enough for a redirect on a slow connection, short enough to be forgotten
_CODE = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$")


@dataclass(frozen=True)
class Message:
    code: str
    text: str  # the catalogue's message id (English); translated when shown

    def __str__(self) -> str:
        return gettext(self.text)


_registry: dict[str, Message] = {}


def message(code: str, text: str) -> Message:
    """Declare a confirmation (once, at import).  ``text`` is a plain catalogue message: no placeholders."""
    if not _CODE.match(code):
        raise ValueError(f"flash code {code!r} must look like 'domain.what_happened'")
    if "%(" in text:
        raise ValueError(f"flash message {code!r} must not carry placeholders")
    known = _registry.get(code)
    if known is not None and known.text != text:
        raise ValueError(f"flash code {code!r} is already declared with another text")
    _registry[code] = Message(code, text)
    return _registry[code]


def registered() -> list[Message]:
    return sorted(_registry.values(), key=lambda m: m.code)


def _signature(code: str) -> str:
    return crypto.keyring().blind_index(code, domain="flash")[:32]


def cookie_value(msg: Message) -> str:
    return f"{msg.code}.{_signature(msg.code)}"


def _from_cookie(raw: str | None) -> Message | None:
    if not raw or len(raw) > 200 or "." not in raw:
        return None
    code, _, signature = raw.rpartition(".")
    msg = _registry.get(code)
    if msg is None or not hmac.compare_digest(signature, _signature(code)):
        return None
    return msg


def set_cookie(request: Request, response, msg: Message) -> None:
    """Carry ``msg`` to the next page this browser loads."""
    response.set_cookie(COOKIE, cookie_value(msg), max_age=MAX_AGE, path="/", httponly=True, samesite="strict",
                        secure=request.app.state.settings.secure_cookies)


def now(request: Request, msg: Message) -> None:
    """Show ``msg`` on the page this request renders."""
    request.state.flash = msg


# -- the request's side (core.web's middleware and templates call these) -----------------------------------
def begin(request: Request) -> None:
    """Before the route runs: the confirmation waiting in this browser's cookie, if any."""
    request.state.flash = _from_cookie(request.cookies.get(COOKIE))
    request.state.flash_shown = False


def take(request: Request | None) -> str:
    """The confirmation to show on this page ('' if none), translated; marks it as used up."""
    if request is None:
        return ""
    msg = getattr(request.state, "flash", None)
    if msg is None:
        return ""
    request.state.flash = None
    request.state.flash_shown = True
    return str(msg)


def finish(request: Request, response) -> None:
    """After the route: a confirmation the page showed is deleted from the browser (unless the response
    carries a new one)."""
    if not getattr(request.state, "flash_shown", False) or COOKIE not in request.cookies:
        return
    if any(h.startswith(COOKIE + "=") for h in response.headers.getlist("set-cookie")):
        return
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict",
                           secure=request.app.state.settings.secure_cookies)
