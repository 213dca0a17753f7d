"""Statistics pages: the public dashboard (/statistics) with its open-data downloads, the internal one
(/console/statistics), the data dictionary (/statistics/standard), chart downloads (SVG/PNG) and the files of
published releases (/statistics/releases/<reference>.zip and /statistics/releases/<reference>/<file>, served as
kept and verified by the service).  Thin: the service decides who sees what; charts are pre-rendered SVG images
(no script, so the Content-Security-Policy holds), cached per store content, filter, audience and language."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path
from typing import Annotated

from babel.dates import format_date
from babel.numbers import format_decimal
from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, Response

from harbour.core import flash
from harbour.core.errors import NotFound
from harbour.core.i18n import N_, current_language, gettext
from harbour.core.security import DbSession, WebUser, verify_csrf
from harbour.core.web import env, redirect, render
from harbour.stats import charts, package, service, standard, store
from harbour.stats.choices import ALL, PROVINCES, REGION_MEMBERS, UNKNOWN, Audience, ReleaseMode, geo_label
from harbour.stats.models import Release
from harbour.stats.tables import TABLES

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
env.globals["can_see_statistics"] = service.can_see_internal  # the console menu's link (display only)
STATIC = Path(__file__).resolve().parent / "static"
Year = Annotated[str | None, Query(max_length=4)]
Geo = Annotated[str | None, Query(alias="province", max_length=7)]
Reference = Annotated[str, PathParam(max_length=40)]
FileName = Annotated[str, PathParam(max_length=80)]
MEDIA_TYPES = {".csv": "text/csv; charset=utf-8", ".json": "application/json", ".zip": "application/zip"}
FILE_TITLES = {f"{t.key}.csv": t.title for t in TABLES} | {
    package.DICTIONARY: N_("Data dictionary (English and French)"),
    package.SYNTHETIC: N_("Synthetic microdata: one row per synthetic situation"),
    package.QUALITY: N_("Quality of the synthetic microdata, column by column"),
    "release.json": N_("Every table with its labels (JSON)"),
    "datapackage.json": N_("Data package description (Frictionless Data, JSON)"),
}
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


def _locale() -> str:
    return f"{current_language()}_CA"


def file_size(n: int) -> str:
    """A file's size in words a reader expects (kB / ko, MB / Mo), in the page's language."""
    if n < 1000:
        return gettext(N_("%(size)s bytes"), size=format_decimal(n, locale=_locale()))
    if n < 1_000_000:
        return gettext(N_("%(size)s kB"), size=format_decimal(round(n / 1000, 1), locale=_locale()))
    return gettext(N_("%(size)s MB"), size=format_decimal(round(n / 1_000_000, 1), locale=_locale()))


def release_card(rel: Release) -> dict:
    """What the downloads section shows of one release (links, sizes and labels in the page's language)."""
    base = f"/statistics/releases/{rel.reference}"
    archive = package.archive_name(rel.reference)
    method = ReleaseMode(rel.mode).label
    if rel.mode == ReleaseMode.dp:
        method = gettext(N_("%(method)s (epsilon %(epsilon)s)"), method=method,
                         epsilon=format_decimal(rel.epsilon, locale=_locale()))
    files = [{"name": name, "href": f"{base}/{name}", "title": gettext(FILE_TITLES.get(name, name)),
              "size": file_size(rel.checksums[name]["bytes"])} for name in rel.files if name != archive]
    return {"reference": rel.reference, "mode": rel.mode, "method": method,
            "date": format_date(rel.created_at, format="long", locale=_locale()),
            "iso_date": rel.created_at.date().isoformat(), "years": ", ".join(str(y) for y in rel.years),
            "geography": gettext(N_("Canada: every province, territory and region")) if rel.geography == ALL
            else geo_label(rel.geography),
            "zip": {"href": f"{base}.zip", "size": file_size(rel.checksums[archive]["bytes"])},
            "synthetic": next((f for f in files if f["name"] == package.SYNTHETIC), None), "files": files}


@router.get("/statistics")
def public_dashboard(request: Request, db: DbSession, year: Year = None, geo: Geo = None):
    service.ensure_store(db, request.app.state.settings)
    data = service.dashboard(request.app.state.settings, actor=None, year=year, geo=geo)
    releases = [release_card(r) for r in service.public_releases(db, year=data["year"], geo=data["geo"])]
    ctx = _context(request, data, "/statistics") | {"active": "statistics", "releases": releases,
                                                     "filtered": data["year"] != ALL or data["geo"] != ALL}
    return render(request, "stats/public.html", ctx)


def _download(db, request: Request, reference: str, name: str) -> Response:
    content = service.release_file(db, request.app.state.settings, reference=reference, name=name)
    suffix = name[name.rfind("."):] if "." in name else ""
    filename = name if suffix == ".zip" else f"harbour-{reference.lower()}-{name}"
    return Response(content, media_type=MEDIA_TYPES.get(suffix, "application/octet-stream"),
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "public, max-age=3600"})


@router.get("/statistics/releases/{reference}.zip")
def release_archive(request: Request, db: DbSession, reference: Reference):
    return _download(db, request, reference, package.archive_name(reference))


@router.get("/statistics/releases/{reference}/{name}")
def release_file(request: Request, db: DbSession, reference: Reference, name: FileName):
    return _download(db, request, reference, name)


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
