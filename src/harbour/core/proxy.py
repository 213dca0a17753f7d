"""Behind a reverse proxy: whose forwarded headers are believed, and HSTS on https deployments.

The rules this module enforces:

- ``X-Forwarded-For`` and ``X-Forwarded-Proto`` are believed only from a peer listed in
  ``HARBOUR_TRUSTED_PROXIES`` (addresses or CIDR networks; empty, the default: from nobody).  The client is then
  the rightmost address of ``X-Forwarded-For`` that is not itself a trusted proxy, so addresses a client
  writes into the header itself (the leftmost ones) are never taken for its own.  The work is done by uvicorn's
  own ``ProxyHeadersMiddleware``, installed in the application rather than in the server, so tests with
  ``TestClient`` run exactly what production runs (``harbour serve`` starts uvicorn with ``proxy_headers=False``).
- On an https deployment (``HARBOUR_BASE_URL`` starts with ``https://``) every HTTP response carries
  ``Strict-Transport-Security``; a plain-http deployment never sends it (a browser would refuse the site over
  http for two years).

``install`` must be the last middleware added in ``create_app`` so that it wraps every other layer: request
logs, rate limits and error pages all see the real client and scheme, and the 413 of ``BodyLimit`` carries
HSTS too.
"""

from __future__ import annotations

from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from harbour.core.config import Settings

HSTS = (b"strict-transport-security", b"max-age=63072000; includeSubDomains")


class StrictTransport:
    """Pure ASGI: adds HSTS to every HTTP response start (not websockets, which have no such header)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_hsts(message):
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != HSTS[0]]
                message = {**message, "headers": [*headers, HSTS]}
            await send(message)

        return await self.app(scope, receive, send_with_hsts)


def start_warning(settings: Settings) -> str | None:
    """What ``harbour serve`` warns about: an https deployment (so TLS ends at a proxy; ``harbour serve`` speaks
    plain http) that trusts no proxy, where every visitor would look like the proxy and share one counter."""
    if settings.is_https and not settings.trusted_proxy_list:
        return ("warning: HARBOUR_BASE_URL is https but HARBOUR_TRUSTED_PROXIES is empty: behind a reverse proxy "
                "every visitor looks like the proxy (one shared tip and chat-start limit, one chat block). Set it "
                "to the proxy's address, e.g. HARBOUR_TRUSTED_PROXIES=127.0.0.1")
    return None


def install(app: FastAPI, settings: Settings) -> None:
    """Add HSTS (https deployments only), then the forwarded-header rule outside it (outermost)."""
    if settings.is_https:
        app.add_middleware(StrictTransport)
    app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxy_list)
