"""Templates (Jinja2 + htmx), language negotiation, security headers and request limits."""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from urllib.parse import urlencode

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, pass_context, select_autoescape
from markupsafe import Markup, escape

from harbour.core import flash as flashes
from harbour.core import formats, i18n, timezones
from harbour.core.security import CSRF_COOKIE, LANG_COOKIE, LoginRequired

PKG = Path(__file__).resolve().parent.parent
DOMAINS = ("hotline", "directory", "sharing", "stats", "plan")


def _template_dirs() -> list[str]:
    dirs = [str(PKG / "web" / "templates")]
    dirs += [str(PKG / d / "templates") for d in DOMAINS if (PKG / d / "templates").is_dir()]
    return dirs


env = Environment(
    loader=FileSystemLoader(_template_dirs()),
    autoescape=select_autoescape(["html", "xml"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
env.install_gettext_callables(  # type: ignore[attr-defined]
    lambda s: i18n.translations(i18n.current_language()).gettext(s),
    lambda s, p, n: i18n.translations(i18n.current_language()).ngettext(s, p, n),
    newstyle=True,
)


@pass_context
def _fmt_dt(ctx, value, what: str = "datetime") -> str:
    """A stored (UTC) time as people read it (``core.formats``): in the page's language and the viewer's zone.

    ``what``: ``datetime`` (date, time and zone, the default), ``seconds`` (the same to the second), ``time``
    (time of day), ``time_seconds``, or ``date``.  Text that is not a time is shown as it is."""
    tz = ctx.get("tz") or timezones.zone(None, "UTC")
    if what.startswith("%"):  # an old strftime-style argument: its nearest equivalent
        what = ("time_seconds" if "%S" in what else "time") if "%Y" not in what and "%d" not in what else (
            "seconds" if "%S" in what else "datetime")
    if what == "date":
        return formats.date_text(value, tz=tz)
    if what in ("time", "time_seconds"):
        return formats.time_text(value, tz, seconds=what == "time_seconds")
    return formats.datetime_text(value, tz, seconds=what == "seconds")


@pass_context
def _fmt_date(ctx, value) -> str:
    """A date (or the date of a stored time in the viewer's zone) in the page's language."""
    return formats.date_text(value, tz=ctx.get("tz") or timezones.zone(None, "UTC"))


_WORD_JOINS = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=_)(?=[^_])")


def _softbreaks(identifier) -> Markup:
    """An identifier (``meansOfControlThreatOfLawEnforcement``, ``hte_exploitation_location``) with a <wbr>
    where its words join, so a narrow table column can wrap it between words instead of widening the page."""
    return Markup("<wbr>").join(escape(part) for part in _WORD_JOINS.split(str(identifier or "")))


def request_zone(request: Request):
    """The time zone this request's pages show and read times in (the user's choice, else the deployment's)."""
    user = getattr(request.state, "web_user", None)
    return timezones.zone(getattr(user, "time_zone", None), request.app.state.settings.time_zone)


def _role_label(role: str | None) -> str:
    from harbour.core.choices import Role

    return Role(role).label if role in Role.codes() else (role or "")


@pass_context
def _flash_message(ctx) -> str:
    """The page layouts' one confirmation (see core.flash): '' when there is none; used up once shown."""
    return flashes.take(ctx.get("request"))


env.filters["dt"] = _fmt_dt
env.globals["flash_message"] = _flash_message
env.filters["softbreaks"] = _softbreaks
env.filters["date"] = _fmt_date
env.filters["language"] = lambda code: formats.language_name(code)
env.filters["tel"] = lambda number: "+1" + "".join(ch for ch in str(number) if ch.isdigit())[-10:]
env.globals["role_label"] = _role_label
env.globals["colon"] = lambda: formats.colon()
env.globals["punct"] = lambda mark: formats.punct(mark)
env.globals["staff_options"] = lambda staff: [(u.id, u.display_name) for u in staff]
env.globals["translate"] = lambda s: i18n.gettext(s) if s else ""
env.globals["zone_label"] = lambda name: i18n.gettext(timezones.label(timezones.zone(None, name)))
env.globals["zone_options"] = lambda: [(code, i18n.gettext(label)) for code, label in timezones.ZONES]


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def csrf_for(request: Request) -> str:
    token = getattr(request.state, "csrf", None)
    if token:
        return token
    return request.cookies.get(CSRF_COOKIE) or request.state.new_csrf


def lang_url(request: Request, lang: str) -> str:
    params = dict(request.query_params)
    params["lang"] = lang
    return request.url.path + "?" + urlencode(params)


def render(request: Request, name: str, context: dict | None = None, *, status_code: int = 200,
           headers: dict | None = None) -> HTMLResponse:
    lang = i18n.current_language()
    ctx = {
        "request": request,
        "lang": lang,
        "other_lang": "fr" if lang == "en" else "en",
        "lang_url": lambda code: lang_url(request, code),
        "csrf_token": csrf_for(request),
        "user": getattr(request.state, "web_user", None),
        "settings": request.app.state.settings,
        "is_htmx": is_htmx(request),
        "tz": request_zone(request),
    }
    ctx["tz_label"] = i18n.gettext(timezones.label(ctx["tz"]))
    ctx.update(context or {})
    html = env.get_template(name).render(ctx)
    return HTMLResponse(html, status_code=status_code, headers=headers)


def render_error(request: Request, status_code: int, message: str) -> HTMLResponse:
    return render(request, "error.html", {"status": status_code, "message": message}, status_code=status_code)


def redirect(url: str, request: Request | None = None, *, flash: flashes.Message | None = None
             ) -> RedirectResponse | HTMLResponse:
    """303 after a POST; htmx gets HX-Redirect so the whole page moves.  ``flash``: the confirmation the next
    page shows once (core.flash; needs ``request``)."""
    if request is not None and is_htmx(request):
        response: RedirectResponse | HTMLResponse = HTMLResponse("", headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    if flash is not None:
        if request is None:
            raise ValueError("a flash message needs the request")
        flashes.set_cookie(request, response, flash)
    return response


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


class BodyLimit:
    """Pure ASGI middleware: bodies over the limit get a JSON 413 and never reach the application.

    A declared Content-Length is checked before anything is read; a body without one (chunked) is
    read here up to the limit and then replayed to the application."""

    UPLOAD_PATHS = ("/api/v1/directory/hsds",)
    UPLOAD_PREFIXES = ("/api/v1/sharing/ingest/", "/api/v1/sharing/pprl/", "/console/sharing/ingest",
                       "/console/sharing/pprl")

    def __init__(self, app, max_bytes: int, max_upload_bytes: int | None = None):
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes or max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        path = scope.get("path") or ""
        upload = path in self.UPLOAD_PATHS or path.startswith(self.UPLOAD_PREFIXES)
        limit = self.max_upload_bytes if upload else self.max_bytes
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > limit:
                return await self._too_large(scope, receive, send)
            return await self.app(scope, receive, send)
        if scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        chunks, seen = [], 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return await self.app(scope, receive, send)  # client went away; let the app see it
            chunks.append(message.get("body", b""))
            seen += len(chunks[-1])
            if seen > limit:
                return await self._too_large(scope, receive, send)
            if not message.get("more_body"):
                break
        body, replayed = b"".join(chunks), False

        async def replay():
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        return await self.app(scope, replay, send)

    @staticmethod
    async def _too_large(scope, receive, send):
        body = {"error": {"code": "too_large", "message": i18n.gettext(i18n.N_("The request is too large."))}}
        await JSONResponse(body, status_code=413)(scope, receive, send)


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def language_and_headers(request: Request, call_next):
        lang = i18n.negotiate(
            request.query_params.get("lang"),
            request.cookies.get(LANG_COOKIE),
            request.headers.get("accept-language"),
        )
        token = i18n.set_language(lang)
        request.state.lang = lang
        request.state.new_csrf = None
        flashes.begin(request)
        if not request.cookies.get(CSRF_COOKIE):
            request.state.new_csrf = secrets.token_urlsafe(32)
        try:
            response = await call_next(request)
        finally:
            i18n.reset_language(token)
        flashes.finish(request, response)
        secure = request.app.state.settings.secure_cookies
        if request.query_params.get("lang") in i18n.LANGUAGES:
            response.set_cookie(LANG_COOKIE, lang, max_age=31536000, httponly=True, samesite="strict",
                                secure=secure)
        if request.state.new_csrf:
            response.set_cookie(CSRF_COOKIE, request.state.new_csrf, httponly=True, samesite="strict",
                                secure=secure)
        response.headers.setdefault("Content-Language", lang)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Permissions-Policy"] = "geolocation=(), camera=(), microphone=()"
        if not request.url.path.startswith("/api/v1/docs"):
            response.headers["Content-Security-Policy"] = CSP
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"
        return response

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": {"code": "not_authenticated", "message": i18n.gettext(
                i18n.N_("Sign in or provide a valid API token."))}}, status_code=401)
        if exc.next_path == "/login/totp":
            return redirect("/login/totp", request)
        params = {"next": exc.next_path}
        if exc.reason:
            params["reason"] = exc.reason
        return redirect("/login?" + urlencode(params), request)


def parse_form(model_cls, form, *, lists: tuple[str, ...] = (), datetimes: tuple[str, ...] = (),
               checkboxes: tuple[str, ...] = (), only: tuple[str, ...] | None = None, tz=None):
    """Build a Pydantic model from an HTML form.  Returns (model, None) or (None, {field: message}).

    ``datetimes`` come from <input type="datetime-local"> and are read as wall time in ``tz`` (the page's
    time zone, :func:`request_zone`; UTC if not given); ``lists`` are multi-value fields (checkbox groups);
    ``checkboxes`` are single booleans ("on" or absent).
    """
    from pydantic import ValidationError

    from harbour.core.errors import friendly_message

    data: dict = {}
    names = only or tuple(model_cls.model_fields)
    for name in names:
        if name in lists:
            data[name] = [v for v in form.getlist(name) if v]
        elif name in checkboxes:
            data[name] = form.get(name) == "on"
        elif name in form:
            value = form.get(name)
            if isinstance(value, str) and not value.strip():
                data[name] = None  # browsers send every field; an empty one means "not given" / cleared
                continue
            if name in datetimes and isinstance(value, str):
                try:
                    value = timezones.from_input(value, tz or timezones.zone(None, "UTC"))
                except ValueError:
                    pass  # the model reports it
            data[name] = value
    try:
        return model_cls.model_validate(data), None
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for err in exc.errors():
            loc = err.get("loc") or ("form",)
            errors.setdefault(str(loc[0]), friendly_message(err))
        return None, errors
