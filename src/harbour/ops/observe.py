"""Request ids, the access log and JSON logging.

The rule this module enforces: **every request can be traced, and no log line carries personal data.**

* Each HTTP request and WebSocket gets a request id: the incoming ``X-Request-ID`` if it is well formed (only
  ``[A-Za-z0-9._-]``, at most 64 characters), otherwise a new uuid4 hex.  It is returned as ``X-Request-ID``
  on every HTTP response (errors, 404, 413, redirects, static files, 500s), held in a context variable while
  the request runs, and written on every log line the request causes.
* One JSON line per HTTP request on the ``harbour.access`` logger: time (UTC), request id, method, route
  *template* (``/console/cases/{case_id}``, never the path: path values may be personal), status, duration
  and the signed-in user's numeric id.  Never a query string, a body, a name, a phone number or a client
  address.
* Every log line (Harbour's, uvicorn's, libraries') is one JSON object (:class:`JsonFormatter`), configured by
  ``harbour serve`` (:func:`log_config`).  Tracebacks are one line too, with the exception messages scrubbed
  of the values databases and validators put in them (PostgreSQL's ``DETAIL:`` lines, SQLAlchemy's
  ``[parameters: …]``, Pydantic's ``input_value``).
"""

from __future__ import annotations

import json
import logging
import re
import traceback
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from time import perf_counter

HEADER = b"x-request-id"
_WELL_FORMED = re.compile(r"[A-Za-z0-9._-]{1,64}")
UNMATCHED = "unmatched"  # the one route label for paths no route serves

request_id_var: ContextVar[str | None] = ContextVar("harbour_request_id", default=None)
access_log = logging.getLogger("harbour.access")
error_log = logging.getLogger("harbour.errors")


def current_request_id() -> str | None:
    return request_id_var.get()


def accept_request_id(raw: bytes | str | None) -> str:
    """The caller's id if well formed, else a new one (anything else could inject into logs)."""
    if isinstance(raw, bytes):
        try:
            raw = raw.decode("ascii")
        except UnicodeDecodeError:
            raw = None
    if raw and _WELL_FORMED.fullmatch(raw):
        return raw
    return uuid.uuid4().hex


def route_template(scope) -> str:
    """The route's template for a served request (``/static/{path}`` for static files), else ``unmatched``."""
    route = scope.get("route")
    if route is None:
        return UNMATCHED
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not path:
        return UNMATCHED
    if type(route).__name__ == "Mount":
        return path.rstrip("/") + "/{path}"
    return path


def _routes(app) -> list:
    """Every route of the application, flattened out of included routers (read once per application)."""
    state = getattr(app, "state", None)
    found = getattr(state, "observe_routes", None)
    if found is None:
        found = []

        def walk(routes) -> None:
            for route in routes:
                if hasattr(route, "path_regex"):
                    found.append(route)
                elif hasattr(getattr(route, "original_router", None), "routes"):  # FastAPI's included routers
                    walk(route.original_router.routes)

        walk(getattr(app, "routes", ()))
        if state is not None:
            state.observe_routes = found
    return found


def _resolve_route(scope) -> None:
    """For a request answered before routing (the 413 of ``BodyLimit``), find the route it was meant for."""
    from starlette.routing import Match

    for route in _routes(scope.get("app")):
        try:
            match, child = route.matches(scope)
        except Exception:  # noqa: BLE001 - a label is not worth an error
            continue
        if match is not Match.NONE:
            scope["route"] = child.get("route", route)
            return


def user_id_of(scope) -> int | None:
    """The signed-in user's numeric id, as the security dependencies left it on the request's state."""
    state = scope.get("state") or {}
    if state.get("user_id") is not None:
        return state["user_id"]
    user = state.get("web_user")
    return getattr(user, "id", None)


_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class RequestContext:
    """Pure ASGI middleware, outside every other middleware of Harbour's (the proxy-headers middleware, if any,
    runs before it): request id, access log, request metrics, and a last-resort 500 for an exception raised
    outside the application's own error handling (``core.errors.ServerErrors`` catches the rest)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        rid = accept_request_id(next((v for k, v in scope.get("headers") or () if k == HEADER), None))
        scope.setdefault("state", {})["request_id"] = rid
        token = request_id_var.set(rid)
        try:
            if kind == "websocket":
                return await self.app(scope, receive, send)
            return await self._http(scope, receive, send, rid)
        finally:
            request_id_var.reset(token)

    async def _http(self, scope, receive, send, rid: str) -> None:
        from harbour.ops import metrics

        start = perf_counter()
        status: list[int] = []
        raw_id = rid.encode()

        async def send_with_id(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
                headers = [(k, v) for k, v in message.get("headers") or () if k.lower() != HEADER]
                headers.append((HEADER, raw_id))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            log_exception(scope, exc)
            if status:
                raise  # the response has begun: nothing to replace it with; the server closes the connection
            from starlette.requests import Request

            from harbour.core.errors import server_error_response

            await server_error_response(Request(scope), rid)(scope, receive, send_with_id)
        finally:
            elapsed = perf_counter() - start
            code = status[0] if status else 500  # no response at all: the server answers 500
            if "route" not in scope and code != 404:
                _resolve_route(scope)
            route = route_template(scope)
            method = scope.get("method", "GET")
            method = method if method in _METHODS else "OTHER"
            metrics.observe_request(method, route, code, elapsed)
            access_log.info("%s %s %s", method, route, code, extra={"fields": {
                "method": method, "route": route, "status": code, "duration_ms": round(elapsed * 1000, 2),
                "user_id": user_id_of(scope)}})


def log_exception(scope, exc: BaseException) -> None:
    """The traceback of an unhandled error, as one log line carrying the request id (the 500 page shows it)."""
    method = scope.get("method", "")
    error_log.error("unhandled error in %s %s", method, route_template(scope), exc_info=exc,
                    extra={"fields": {"method": method, "route": route_template(scope)}})


# -- scrubbing ----------------------------------------------------------------------------------------------
_VALUE_LINES = ("DETAIL:", "CONTEXT:", "[parameters:", "[SQL parameters:")
_PYDANTIC_INPUT = re.compile(r"input_value=.*?, input_type=")


def safe_message(exc: BaseException) -> str:
    """``str(exc)`` without the values that databases and validators quote: PostgreSQL's DETAIL and CONTEXT
    lines (``Key (username)=(…) already exists``, ``Failing row contains (…)``), SQLAlchemy's bound parameters
    and Pydantic's ``input_value``."""
    from sqlalchemy.exc import StatementError

    hidden = None
    if isinstance(exc, StatementError):
        hidden, exc.hide_parameters = exc.hide_parameters, True
    try:
        text = str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__ must not lose the log line
        text = "<message could not be shown>"
    finally:
        if hidden is not None:
            exc.hide_parameters = hidden
    lines = [line for line in text.splitlines() if not line.lstrip().startswith(_VALUE_LINES)]
    return _PYDANTIC_INPUT.sub("input_type=", "\n".join(lines))


def format_exception(exc: BaseException) -> str:
    """A traceback in Python's usual layout (frames and source lines), with each message :func:`safe_message`."""
    parts: list[str] = []
    seen: set[int] = set()

    def walk(e: BaseException) -> None:
        if id(e) in seen:
            return
        seen.add(id(e))
        if e.__cause__ is not None:
            walk(e.__cause__)
            parts.append("\nThe above exception was the direct cause of the following exception:\n\n")
        elif e.__context__ is not None and not e.__suppress_context__:
            walk(e.__context__)
            parts.append("\nDuring handling of the above exception, another exception occurred:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(e.__traceback__))
        name = type(e).__qualname__ if type(e).__module__ == "builtins" else \
            f"{type(e).__module__}.{type(e).__qualname__}"
        parts.append(f"{name}: {safe_message(e)}\n")
        for sub in getattr(e, "exceptions", None) or ():  # exception groups
            if isinstance(sub, BaseException):
                walk(sub)

    walk(exc)
    return "".join(parts)


# -- JSON logging -------------------------------------------------------------------------------------------
class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record, and drops the client address and query string from
    uvicorn's WebSocket handshake lines (``('203.0.113.9', 5123) - "WebSocket /help/chat/ws?…" [accepted]``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = request_id_var.get()
        if record.name.startswith("uvicorn") and isinstance(record.msg, str) \
                and record.msg.startswith('%s - "WebSocket %s"') and isinstance(record.args, tuple) \
                and len(record.args) >= 2:
            path = str(record.args[1]).split("?", 1)[0]
            record.msg = "WebSocket %s" + record.msg[len('%s - "WebSocket %s"'):]
            record.args = (path, *record.args[2:])
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id, pid, the record's
    ``fields`` (``extra={"fields": {...}}``) and, for an error, its scrubbed traceback."""

    def format(self, record: logging.LogRecord) -> str:
        out = {
            "time": datetime.fromtimestamp(record.created, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "level": record.levelname,
            "logger": record.name,
            "message": _message(record),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
            "pid": record.process,  # which worker
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            out.update(fields)
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            out["error"] = f"{type(exc).__module__}.{type(exc).__qualname__}"
            out["traceback"] = format_exception(exc)
        if record.stack_info:
            out["stack"] = record.stack_info
        return json.dumps(out, ensure_ascii=False, default=str)


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # noqa: BLE001 - a bad format string must not lose the line
        return str(record.msg)


def log_config(level: str = "INFO") -> dict:
    """``logging.config.dictConfig`` for ``harbour serve`` (passed to uvicorn, applied in every worker): every
    line JSON on stderr; ``level`` for everything but the access log, which always writes its line."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": "harbour.ops.observe.RequestIdFilter"}},
        "formatters": {"json": {"()": "harbour.ops.observe.JsonFormatter"}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr", "formatter": "json",
                                "filters": ["request_id"]}},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.error": {"level": level},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},  # ours replaces it
            "harbour.access": {"level": "INFO"},
        },
        "root": {"handlers": ["stderr"], "level": level},
    }
