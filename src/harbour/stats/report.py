"""The annual data report for one year: HTML (self-contained) and PDF (WeasyPrint), charts as SVG and PNG and
the numbers behind them as CSV.  Every number is disclosure-controlled: the report is a projection of the
public, protected universe (:mod:`harbour.stats.dashboards`), exactly what the public dashboard shows for the
same year, so the report adds nothing an attacker could difference against it."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from harbour.core.audit import record as audit
from harbour.core.config import Settings
from harbour.core.i18n import reset_language, set_language
from harbour.core.web import env
from harbour.plan.report import render_pdf
from harbour.stats import charts, dashboards, service, standard
from harbour.stats.choices import ALL, PROVINCES, REGION_MEMBERS, UNKNOWN, geo_label


def collect(settings: Settings, year: int) -> dict:
    u = dashboards.universe(service.root(settings))
    y, _g = dashboards.check_filters(u, year, ALL)
    view = dashboards.view(u, year=y, geo=ALL, public=True)
    view["fingerprint"], view["audience"] = u.fingerprint, "public"
    places = list(PROVINCES) + [UNKNOWN] + list(REGION_MEMBERS) + [ALL]
    by_place = []
    for g in places:
        row = {"code": g}
        for source in ("situations", "contacts", "referrals", "unmet_needs"):
            row[source] = u.get(dashboards.total_key(source, y, g), public=True)
        by_place.append(row)
    previous = str(int(y) - 1)
    prev_total = u.get(dashboards.total_key("situations", previous, ALL), True) if previous in u.years else None
    return {"year": y, "view": view, "by_place": by_place, "previous_year": previous, "previous_total": prev_total}


def render_html(data: dict, lang: str) -> tuple[str, list[charts.Figure]]:
    token = set_language(lang)
    try:
        figs = charts.figures(data["view"])
        html = env.get_template("stats/report.html").render(
            lang=lang, data=data, figures=figs, number=charts.number, geo_label=geo_label,
            generated=date.today().isoformat(), standard=standard.dictionary(), font=charts.FONT,
            tables=data["view"]["tables"])
        return html, figs
    finally:
        reset_language(token)


def numbers_csv(data: dict) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["year", "table", "geography", "category", "count"])
    for key, t in data["view"]["tables"].items():
        w.writerow([data["year"], key, ALL, ALL, "" if t["total"] is None else t["total"]])
        for code, n in t["rows"]:
            w.writerow([data["year"], key, ALL, code, "" if n is None else n])
    for row in data["by_place"]:
        for source in ("situations", "contacts", "referrals", "unmet_needs"):
            w.writerow([data["year"], source, row["code"], ALL, "" if row[source] is None else row[source]])
    return buf.getvalue()


def write_report(db: Session, settings: Settings, *, year: int, out_dir: Path,
                 langs: tuple[str, ...] = ("en", "fr")) -> list[Path]:
    data = collect(settings, year)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def put(name: str, content: str | bytes) -> None:
        path = out_dir / name
        path.write_text(content, encoding="utf-8") if isinstance(content, str) else path.write_bytes(content)
        written.append(path)

    for lang in langs:
        html, figs = render_html(data, lang)
        stem = f"statistics-report-{data['year']}-{lang}"
        put(f"{stem}.html", html)
        put(f"{stem}.pdf", render_pdf(html))
        for f in figs:
            put(f"{stem}-{f.key}.svg", f.svg)
            put(f"{stem}-{f.key}.png", f.png())
    put(f"statistics-report-{data['year']}-numbers.csv", numbers_csv(data))
    audit(db, service.CLI_ACTOR, "generate", "stats_report", None,
          detail={"year": data["year"], "languages": list(langs), "fingerprint": data["view"]["fingerprint"][:16]})
    db.commit()
    return written
