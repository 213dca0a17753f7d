"""create_app(): one FastAPI application mounting every domain's routers."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool

from harbour import __version__
from harbour.core import errors, keycheck, proxy, web
from harbour.core.config import Settings, get_settings
from harbour.core.db import make_engine, make_sessionmaker
from harbour.ops.observe import RequestContext

STATIC = Path(__file__).resolve().parent / "web" / "static"


@asynccontextmanager
async def lifespan(app: FastAPI):
    """While serving, this worker reports its keys (key rotation waits on every live worker)."""
    from harbour.core.workers import Presence

    presence = Presence(app.state.engine, kind="server", interval=app.state.settings.key_heartbeat_seconds)
    await run_in_threadpool(presence.start)
    try:
        yield
    finally:
        await run_in_threadpool(presence.stop)


def create_app(settings: Settings | None = None) -> FastAPI:
    """The application; stops with ``KeyRingError`` (nothing written) if the key file does not open the
    database."""
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    try:
        keycheck.open_ring(settings.key_file, engine=engine)
    except keycheck.KeyRingError:
        engine.dispose()
        raise
    app = FastAPI(
        lifespan=lifespan,
        title="Harbour API",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        description="Harbour's JSON API. Authenticate with `Authorization: Bearer <token>`; "
        "tokens carry scopes. Errors are JSON: `{\"error\": {\"code\", \"message\", \"fields\"}}`.",
    )
    app.state.settings = settings
    app.state.engine = engine
    app.state.sessionmaker = make_sessionmaker(app.state.engine)

    errors.install(app)
    web.install(app)
    app.add_middleware(web.BodyLimit, max_bytes=settings.max_body_bytes, max_upload_bytes=settings.max_upload_bytes)
    # request id, access log, request metrics: outside the others (a middleware added later runs before it;
    # the proxy-headers middleware must, so the client address is the real one)
    app.add_middleware(RequestContext)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    from harbour.directory import api as directory_api
    from harbour.directory import api_referrals as referrals_api
    from harbour.directory import views as directory_views
    from harbour.directory import views_referrals as referrals_views
    from harbour.hotline import api as hotline_api
    from harbour.hotline import views as hotline_views
    from harbour.hotline.chat import views as chat_views
    from harbour.hotline.chat import ws as chat_ws
    from harbour.ops import views as ops_views
    from harbour.plan import api as plan_api
    from harbour.plan import views as plan_views
    from harbour.sharing import api as sharing_api
    from harbour.sharing import api_network as sharing_network_api
    from harbour.sharing import views as sharing_views
    from harbour.sharing import views_network as sharing_network_views
    from harbour.stats import api as stats_api
    from harbour.stats import views as stats_views
    from harbour.web import views as site_views

    for module in (site_views, hotline_views, hotline_api, directory_views, referrals_views, referrals_api,
                   directory_api, plan_views, plan_api, chat_views, chat_ws, stats_views, stats_api, sharing_api,
                   sharing_views, sharing_network_views, sharing_network_api, ops_views):
        app.include_router(module.router)
    proxy.install(app, settings)  # keep last: outermost, so every layer sees the real client (core/proxy.py)
    return app
