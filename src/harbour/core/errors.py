"""Domain errors and how they become responses (JSON under /api, pages elsewhere).

Messages are catalogue keys translated when the response is built; they never
carry personal data or echo the submitted values.  An unexpected error becomes a
500 that shows the request id to quote to support (the same id is on the logged
traceback), never the error itself.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from harbour.core import i18n
from harbour.core.i18n import N_, gettext


class HarbourError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None, **params):
        super().__init__(message)
        self.message = message
        self.params = params
        self.fields = fields or {}

    def text(self) -> str:
        return gettext(self.message, **self.params)

    def as_json(self) -> dict:
        body = {"code": self.code, "message": self.text()}
        if self.fields:
            body["fields"] = [{"field": f, "message": gettext(m)} for f, m in self.fields.items()]
        return {"error": body}


class ValidationFailed(HarbourError):
    status_code = 422
    code = "invalid"


class NotFound(HarbourError):
    status_code = 404
    code = "not_found"

    def __init__(self, message: str = N_("Not found."), **kw):
        super().__init__(message, **kw)


class Forbidden(HarbourError):
    status_code = 403
    code = "forbidden"

    def __init__(self, message: str = N_("You do not have permission to do this."), **kw):
        super().__init__(message, **kw)


class NotAuthenticated(HarbourError):
    status_code = 401
    code = "not_authenticated"

    def __init__(self, message: str = N_("Sign in or provide a valid API token."), **kw):
        super().__init__(message, **kw)


class Conflict(HarbourError):
    status_code = 409
    code = "conflict"


class Gone(HarbourError):
    """What was published here is not available as it was published (missing or altered): never a wrong copy."""

    status_code = 410
    code = "gone"


class ConsentRequired(HarbourError):
    status_code = 409
    code = "consent_required"


class TooLarge(HarbourError):
    status_code = 413
    code = "too_large"


_FRIENDLY = {
    "missing": N_("This field is required."),
    "string_too_long": N_("This is too long."),
    "string_too_short": N_("This is too short."),
    "enum": N_("Choose one of the listed options."),
    "literal_error": N_("Choose one of the listed options."),
    "int_parsing": N_("Enter a whole number."),
    "greater_than_equal": N_("The number is too small."),
    "less_than_equal": N_("The number is too large."),
    "datetime_from_date_parsing": N_("Enter a date and time."),
    "datetime_parsing": N_("Enter a date and time."),
    "timezone_aware": N_("Enter a date and time."),
    "value_error": N_("This value is not valid."),
    "json_invalid": N_("The body is not valid JSON."),
    "model_attributes_type": N_("The body must be a JSON object."),
    "dict_type": N_("The body must be a JSON object."),
    "list_type": N_("This must be a list."),
    "bool_parsing": N_("Enter true or false."),
    "int_from_float": N_("Enter a whole number."),
    "string_type": N_("This must be text."),
    "int_type": N_("Enter a whole number."),
    "missing_argument": N_("This field is required."),
    "extra_forbidden": N_("Unexpected field."),
    "string_pattern_mismatch": N_("Use the expected format."),
}


def friendly_message(err: dict) -> str:
    """A translated, value-free message for one Pydantic error."""
    return gettext(_FRIENDLY.get(err.get("type", ""), N_("This value is not valid.")))


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _validation_messages(exc: RequestValidationError) -> list[dict]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path", "form")]
        out.append({"field": ".".join(loc) or "body", "message": friendly_message(err),
                    "detail": err.get("msg", "invalid value")})
    return out  # "input" is dropped on purpose: it may hold personal data


def install(app: FastAPI) -> None:
    from harbour.core.web import render_error  # late import: web depends on errors

    app.add_middleware(ServerErrors)  # first added: innermost of the application's middleware

    @app.exception_handler(HarbourError)
    async def _harbour_error(request: Request, exc: HarbourError):
        if _is_api(request):
            return JSONResponse(exc.as_json(), status_code=exc.status_code)
        return render_error(request, exc.status_code, exc.text())

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        fields = _validation_messages(exc)
        message = gettext(N_("The request is not valid; nothing was changed."))
        if _is_api(request):
            return JSONResponse(
                {"error": {"code": "invalid", "message": message, "fields": fields}}, status_code=422
            )
        detail = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return render_error(request, 422, f"{message} {detail}")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        messages = {
            404: N_("Not found."),
            405: N_("This method is not allowed here."),
            413: N_("The request is too large."),
        }
        message = gettext(messages.get(exc.status_code, N_("The request could not be handled.")))
        if _is_api(request):
            code = "too_large" if exc.status_code == 413 else f"http_{exc.status_code}"
            return JSONResponse({"error": {"code": code, "message": message}},
                                status_code=exc.status_code, headers=getattr(exc, "headers", None))
        return render_error(request, exc.status_code, message)


SERVER_ERROR = N_("Something went wrong on our side and your request could not be completed. Please try again "
                  "in a moment. If it keeps happening, contact support and quote this request's reference.")


def server_error_response(request: Request, request_id: str | None) -> Response:
    """The 500 for an unexpected error: JSON ``{"error": {"code": "server_error", "message", "request_id"}}``
    under /api, else the error page (in the request's language) with the request id as the reference."""
    from harbour.core.security import LANG_COOKIE

    token = i18n.set_language(i18n.negotiate(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE),
                                             request.headers.get("accept-language")))
    try:
        message = gettext(SERVER_ERROR)
        if _is_api(request):
            return JSONResponse({"error": {"code": "server_error", "message": message, "request_id": request_id}},
                                status_code=500)
        try:
            from harbour.core.web import render

            # the public layout: the console's may need the database, which may be what failed
            return render(request, "error.html", {"status": 500, "message": message, "user": None},
                          status_code=500)
        except Exception:  # noqa: BLE001 - the page itself failed: plain words and the reference
            from html import escape

            return HTMLResponse(f"<!doctype html><title>500</title><p>{escape(message)}</p>"
                                f"<p>{escape(gettext(N_('Reference for support:')))} <code>{escape(request_id or '')}"
                                f"</code></p>", status_code=500)
    finally:
        i18n.reset_language(token)


class ServerErrors:
    """Pure ASGI middleware, inside the language and security-header middleware (so the 500 page gets both):
    an exception no handler answered is logged once, as one line with the request id and its traceback, and
    answered with :func:`server_error_response`.  Once a response has begun it can only be re-raised (the
    request-context middleware logs it)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def watch(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception as exc:
            if started:
                raise
            from starlette.requests import Request as StarletteRequest

            from harbour.ops.observe import log_exception

            log_exception(scope, exc)
            request_id = (scope.get("state") or {}).get("request_id")
            await server_error_response(StarletteRequest(scope), request_id)(scope, receive, send)
