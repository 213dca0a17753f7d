"""create_app(): one FastAPI application mounting every domain's routers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from harbour import __version__
from harbour.core import crypto, errors, web
from harbour.core.config import Settings, get_settings
from harbour.core.db import make_engine, make_sessionmaker

STATIC = Path(__file__).resolve().parent / "web" / "static"


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    crypto.configure(settings.key_file)
    app = FastAPI(
        title="Harbour API",
        version=__version__,
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        description="Harbour's JSON API. Authenticate with `Authorization: Bearer <token>`; "
        "tokens carry scopes. Errors are JSON: `{\"error\": {\"code\", \"message\", \"fields\"}}`.",
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings.database_url)
    app.state.sessionmaker = make_sessionmaker(app.state.engine)

    errors.install(app)
    web.install(app)
    app.add_middleware(web.BodyLimit, max_bytes=settings.max_body_bytes, max_upload_bytes=settings.max_upload_bytes)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    from harbour.directory import api as directory_api
    from harbour.directory import api_referrals as referrals_api
    from harbour.directory import views as directory_views
    from harbour.directory import views_referrals as referrals_views
    from harbour.hotline import api as hotline_api
    from harbour.hotline import views as hotline_views
    from harbour.hotline.chat import views as chat_views
    from harbour.hotline.chat import ws as chat_ws
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
                   sharing_views, sharing_network_views, sharing_network_api):
        app.include_router(module.router)
    return app
