"""Statistics pages: the public dashboard (/statistics), the internal one (/console/statistics), the data
dictionary (/statistics/standard) and chart downloads (SVG/PNG).  Thin: the service decides who sees what;
charts are pre-rendered SVG images (no script, so the Content-Security-Policy holds), cached per store
content, filter, audience and language."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response

from harbour.core import flash
from harbour.core.errors import NotFound
from harbour.core.i18n import N_, current_language, gettext
from harbour.core.security import DbSession, WebUser, verify_csrf
from harbour.core.web import env, redirect, render
from harbour.stats import charts, service, standard, store
from harbour.stats.choices import ALL, PROVINCES, REGION_MEMBERS, UNKNOWN, Audience, geo_label

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
env.globals["can_see_statistics"] = service.can_see_internal  # the console menu's link (display only)
STATIC = Path(__file__).resolve().parent / "static"
Year = Annotated[str | None, Query(max_length=4)]
Geo = Annotated[str | None, Query(alias="province", max_length=7)]
STORE_REBUILT = flash.message("stats.store_rebuilt", N_("Statistics rebuilt from the latest records."))

_figures: OrderedDict[tuple, list[charts.Figure]] = OrderedDict()
_figures_lock = threading.Lock()
_render_lock = threading.Lock()  # one chart set rendered at a time: bounded CPU whatever the traffic


def figures_for(data: dict) -> list[charts.Figure]:
    ck = (data["fingerprint"], data["year"], data["geo"], data["audience"], current_language())
    with _figures_lock:
        if ck in _figures:
            _figures.move_to_end(ck)
            return _figures[ck]
    with _render_lock:
        figs = charts.figures(data)
        for f in figs:
            f.svg  # noqa: B018 - render now, inside the lock
    with _figures_lock:
        _figures[ck] = figs
        while len(_figures) > 64:
            _figures.popitem(last=False)
    return figs


def geo_options() -> list[tuple[str, list[tuple[str, str]]]]:
    return [(gettext(N_("All of Canada")), [(ALL, geo_label(ALL))]),
            (gettext(N_("Regions")), [(r, geo_label(r)) for r in REGION_MEMBERS]),
            (gettext(N_("Provinces and territories")), [(p, geo_label(p)) for p in PROVINCES]
             + [(UNKNOWN, geo_label(UNKNOWN))])]


def _context(request: Request, data: dict, action: str) -> dict:
    manifest = store.read_manifest(service.root(request.app.state.settings)) or {}
    t = data["tables"]
    return {"data": data, "figures": figures_for(data), "geo_options": geo_options(), "action": action,
            "geo_name": geo_label(data["geo"]), "built_at": (manifest.get("built_at") or "")[:16].replace("T", " "),
            "kpis": [(gettext(N_("Trafficking situations")), t["situations"]["total"]),
                     (gettext(N_("Hotline contacts")), t["contacts"]["total"]),
                     (gettext(N_("Referrals")), t["referrals"]["total"]),
                     (gettext(N_("Unmet needs")), t["unmet_needs"]["total"])],
            "number": charts.number, "query": f"year={data['year'] if data['year'] != ALL else ''}"
                                              f"&province={data['geo'] if data['geo'] != ALL else ''}"}


@router.get("/statistics/static/stats.css")
def stats_css():
    return FileResponse(STATIC / "stats.css", media_type="text/css")


@router.get("/statistics")
def public_dashboard(request: Request, db: DbSession, year: Year = None, geo: Geo = None):
    service.ensure_store(db, request.app.state.settings)
    data = service.dashboard(request.app.state.settings, actor=None, year=year, geo=geo)
    return render(request, "stats/public.html", _context(request, data, "/statistics") | {"active": "statistics"})


@router.get("/console/statistics")
def internal_dashboard(request: Request, db: DbSession, who: WebUser, year: Year = None, geo: Geo = None):
    service.ensure_store(db, request.app.state.settings)
    data = service.dashboard(request.app.state.settings, actor=who.actor, year=year, geo=geo,
                             audience=Audience.internal)
    ctx = _context(request, data, "/console/statistics") | {"active": "statistics",
                                                            "can_rebuild": service.can_rebuild(who.role)}
    return render(request, "stats/internal.html", ctx)


@router.post("/console/statistics/rebuild")
def rebuild(request: Request, db: DbSession, who: WebUser):
    service.build_store(db, request.app.state.settings, actor=who.actor)
    return redirect("/console/statistics", request, flash=STORE_REBUILT)


@router.get("/statistics/standard")
def data_standard(request: Request):
    return render(request, "stats/standard.html", {"standard": standard.dictionary(), "active": "statistics"})


@router.get("/statistics/charts/{name}.{fmt}")
def chart_file(request: Request, db: DbSession, name: str, fmt: str, year: Year = None, geo: Geo = None):
    if fmt not in ("svg", "png"):
        raise NotFound()
    service.ensure_store(db, request.app.state.settings)
    data = service.dashboard(request.app.state.settings, actor=None, year=year, geo=geo)
    fig = next((f for f in figures_for(data) if f.key == name), None)
    if fig is None:
        raise NotFound()
    filename = f"harbour-{name}-{data['geo']}-{data['year']}.{fmt}".replace("*", "all")
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'}
    if fmt == "svg":
        return Response(fig.svg, media_type="image/svg+xml", headers=headers)
    return Response(fig.png(), media_type="image/png", headers=headers)
