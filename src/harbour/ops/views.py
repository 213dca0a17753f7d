"""The operator's endpoints: ``/healthz`` (liveness), ``/readyz`` (readiness), ``/metrics`` (Prometheus).

None signs anyone in or writes an audit row.  ``/metrics`` answers only a loopback client that did not come
through a proxy, or a caller with ``Authorization: Bearer <HARBOUR_METRICS_TOKEN>``; anyone else gets the
site's ordinary 404, so it does not reveal that the endpoint exists.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
from contextlib import asynccontextmanager

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from harbour.ops import health, metrics

log = logging.getLogger("harbour.health")
POOL_SAMPLE_SECONDS = 5.0
FORWARDED = (b"forwarded", b"x-forwarded-for", b"x-real-ip")


async def _sample_pool(app) -> None:
    while True:
        with contextlib.suppress(Exception):
            metrics.sample_pool(app.state.engine)
        await asyncio.sleep(POOL_SAMPLE_SECONDS)


@asynccontextmanager
async def lifespan(app):
    """Each worker: forget dead workers' gauges, report its pool every few seconds, leave the sum on exit."""
    metrics.worker_started()
    task = asyncio.create_task(_sample_pool(app), name="harbour-metrics-pool")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        with contextlib.suppress(Exception):
            metrics.worker_stopped()


router = APIRouter(include_in_schema=False, lifespan=lifespan)


@router.api_route("/healthz", methods=["GET", "HEAD"])
async def healthz() -> JSONResponse:
    """The process is up and serving (no database access)."""
    return JSONResponse({"status": "ok"})


async def _readiness(app) -> dict[str, str]:
    """One check at a time per worker: probes that arrive meanwhile share its answer (a database that hangs
    cannot pile up blocked threads)."""
    task = getattr(app.state, "readiness_task", None)
    if task is None or task.done():
        task = app.state.readiness_task = asyncio.ensure_future(run_in_threadpool(health.check, app.state.engine))
    try:
        return await asyncio.wait_for(asyncio.shield(task), health.TIMEOUT_SECONDS)
    except TimeoutError:
        return {"database": f"no answer within {health.TIMEOUT_SECONDS:g} s", "schema": health.NOT_CHECKED,
                "keys": health.NOT_CHECKED}


@router.api_route("/readyz", methods=["GET", "HEAD"])
async def readyz(request: Request) -> JSONResponse:
    """200 when the database answers, the schema is at the code's head and the key ring opens the database;
    otherwise 503 naming each check's result."""
    checks = await _readiness(request.app)
    ready = health.is_ready(checks)
    if getattr(request.app.state, "last_ready", None) != ready:
        request.app.state.last_ready = ready
        if not ready:
            log.warning("not ready: %s", "; ".join(f"{k}: {v}" for k, v in checks.items()),
                        extra={"fields": {"checks": checks}})
        else:
            log.info("ready")
    return JSONResponse({"status": "ok" if ready else "unavailable", "checks": checks},
                        status_code=200 if ready else 503)


def _loopback(request: Request) -> bool:
    """A client on this machine that did not come through a proxy (a proxied request carries the proxy's
    forwarding headers, whatever address it arrives from)."""
    if request.client is None or any(k in FORWARDED for k, _v in request.scope.get("headers") or ()):
        return False
    try:
        return ipaddress.ip_address(request.client.host).is_loopback
    except ValueError:
        return False


def _token_ok(request: Request) -> bool:
    expected = request.app.state.settings.metrics_token
    sent = request.headers.get("authorization", "")
    if expected is None or not sent[:7].lower() == "bearer ":
        return False
    return hmac.compare_digest(sent[7:].strip().encode(), expected.get_secret_value().encode())


@router.get("/metrics")
def prometheus_metrics(request: Request) -> Response:
    """Prometheus exposition (text format, or OpenMetrics if the scraper asks)."""
    if not (_loopback(request) or _token_ok(request)):
        raise StarletteHTTPException(status_code=404)
    body, content_type = metrics.exposition(request.app, request.headers.get("accept"))
    return Response(body, media_type=content_type)
