"""The Annual Report on Progress of a plan for one fiscal year: HTML, PDF, chart images and CSV.

Built only from approved information (``reporting.chart(..., approved_only=True)`` and the views
derived from it): the status as of the fiscal year, approved progress updates, the flags, and what
changed since the year before.  Updates that are drafts, waiting for review or returned never
appear.  One language per document: plan texts come from their ``_fr`` fields in French (the
English text, marked ``lang="en"``, where a French one is missing), interface strings from the
catalogue (the language is set with ``core.i18n.set_language`` while rendering).

* :func:`collect` gathers the data (language-neutral) and a fingerprint of it;
* :func:`figures` builds the charts (Altair → Vega-Lite → SVG with vl-convert, PNG on demand);
* :func:`render_html` renders the self-contained document (inline CSS, charts as ``data:`` SVG
  images, no external request), :func:`render_pdf` turns it into PDF with WeasyPrint, which may
  fetch ``data:`` URLs only;
* :func:`write_report` writes every file for the command line; :func:`web_report` and
  :func:`web_pdf` serve the public pages, cached in memory by fingerprint, so a new approval
  produces a new report and repeated requests cost nothing.

Every generation writes an audit entry (system actor, ids and counts only).
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import json
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.choices import Role
from harbour.core.i18n import N_, gettext, reset_language, set_language
from harbour.core.web import env
from harbour.plan import charts, reporting, service, wording
from harbour.plan.choices import (
    BADGE_CLASS,
    Flag,
    StrategyKind,
    check_fiscal_year,
    previous_fiscal_year,
)

# A system actor; the administrator role lets it read every department's flags (approved data only).
REPORT_ACTOR = Actor(None, "system:plan-report", Role.admin.value)
LANGUAGE_NAMES = {"en": "English", "fr": "Français"}
FIRST_REPORTED_LISTED = 20  # more deliverables first reported than this: counts by status instead of a list
CACHE_SIZE = 16


# -- data ------------------------------------------------------------------------------------
@dataclass
class ReportData:
    strategy: dict
    fiscal_year: str
    previous_fiscal_year: str
    chart: dict
    summary: dict
    changes: dict
    flags: list[dict]
    departments: dict[str, dict]
    fingerprint: str = ""


def collect(db: Session, strategy_code: str, fiscal_year: str) -> ReportData:
    """Everything the report shows, approved information only.  Raises NotFound / ValidationFailed."""
    fiscal_year = reporting.fiscal_year_or_422(fiscal_year)
    if fiscal_year is None:
        raise ValueError("a fiscal year is required")
    grouped = reporting.chart(db, strategy_code, fiscal_year, approved_only=True)
    data = ReportData(
        strategy=grouped["strategy"], fiscal_year=fiscal_year, previous_fiscal_year=previous_fiscal_year(fiscal_year),
        chart=grouped, summary=reporting.status_summary(db, strategy_code, fiscal_year, approved_only=True),
        changes=reporting.changes_since(db, strategy_code, fiscal_year),
        flags=service.flags(db, actor=REPORT_ACTOR, strategy_code=strategy_code, fiscal_year=fiscal_year),
        departments={d.code: {"name_en": d.name_en, "name_fr": d.name_fr} for d in service.list_departments(db)},
    )
    blob = json.dumps([data.chart, data.summary, data.changes, data.flags, data.departments],
                      sort_keys=True, default=str, separators=(",", ":"))
    data.fingerprint = hashlib.sha256(blob.encode()).hexdigest()
    return data


def file_stem(strategy_code: str, fiscal_year: str, lang: str) -> str:
    return f"report-{strategy_code}-{fiscal_year}-{lang}"


def _record(db: Session, data: ReportData, *, formats: list[str], languages: list[str]) -> None:
    audit(db, REPORT_ACTOR, "generate", "plan_report", data.strategy["code"],
          detail={"fiscal_year": data.fiscal_year, "formats": formats, "languages": languages,
                  "deliverables": data.summary["total"], "fingerprint": data.fingerprint[:16]})


# -- language helpers ------------------------------------------------------------------------------
def _picker(lang: str):
    """pick(obj, field) → (text, its language): the report's language first, else the other one."""
    other = "en" if lang == "fr" else "fr"

    def pick(obj: dict, name: str) -> tuple[str, str]:
        for code in (lang, other):
            value = obj.get(f"{name}_{code}")
            if value:
                return value, code
        return "", lang

    return pick


# -- figures ----------------------------------------------------------------------------------------
@dataclass
class Figure:
    key: str
    title: str
    description: str
    spec: dict
    svg: str
    table: dict | None = None
    _png: bytes | None = field(default=None, repr=False)

    @property
    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()

    def png(self) -> bytes:
        if self._png is None:
            self._png = charts.png(self.spec)
        return self._png


def _status_sentence(counts: dict[str, int], labels: dict[str, str]) -> str:
    return ", ".join(f"{labels[s]} ({charts.number(counts[s])})" for s in charts.STATUS_ORDER if counts.get(s))


def _status_table(rows: list[tuple[str | None, str, dict[str, int]]], labels: dict[str, str]) -> dict:
    present = [s for s in charts.STATUS_ORDER if any(c.get(s) for _k, _n, c in rows)]
    return {"statuses": [(s, labels[s]) for s in present],
            "rows": [{"key": k, "name": n, "counts": [c.get(s, 0) for s in present],
                      "total": sum(c.get(s, 0) for s in present)} for k, n, c in rows]}


def figures(data: ReportData, lang: str) -> list[Figure]:
    """The report's three charts in ``lang``."""
    token = set_language(lang)
    try:
        return _figures(data, lang)
    finally:
        reset_language(token)


def _figures(data: ReportData, lang: str) -> list[Figure]:
    pick = _picker(lang)
    labels = charts.status_labels()
    fy, summary = data.fiscal_year, data.summary
    out = []
    title = gettext(N_("Deliverables by status, fiscal year %(fy)s"), fy=fy)
    spec = charts.status_chart(summary, title=title)
    out.append(Figure("status", title, gettext(N_("%(total)s deliverables: %(detail)s."), total=summary["total"],
                                              detail=_status_sentence(summary["by_status"], labels) or "0"),
                      spec, charts.svg(spec)))
    pillars = [(p["code"], pick(p, "name")[0], p["by_status"]) for p in summary["by_pillar"]]
    title = gettext(N_("Status by pillar, fiscal year %(fy)s"), fy=fy)
    spec = charts.stacked_chart([(name, counts) for _c, name, counts in pillars], title=title,
                                axis_title=gettext(N_("Number of deliverables")))
    desc = " ".join(gettext(N_("%(pillar)s: %(detail)s."), pillar=name, detail=_status_sentence(counts, labels))
                    for _c, name, counts in pillars)
    out.append(Figure("pillars", title, desc, spec, charts.svg(spec),
                      _status_table([(None, name, counts) for _c, name, counts in pillars], labels)))
    depts = sorted(summary["by_department"].items(), key=lambda kv: (-sum(kv[1].values()), kv[0]))
    names = {code: pick(d, "name")[0] for code, d in data.departments.items()}
    title = gettext(N_("Deliverables by lead department, fiscal year %(fy)s"), fy=fy)
    spec = charts.stacked_chart([(code, counts) for code, counts in depts], title=title, wrap=12,
                                axis_title=gettext(N_("Number of deliverables")),
                                subtitle=gettext(N_("A deliverable with several lead departments counts once for each.")))
    desc = " ".join(gettext(N_("%(pillar)s: %(detail)s."), pillar=code, detail=_status_sentence(counts, labels))
                    for code, counts in depts)
    out.append(Figure("departments", title, desc, spec, charts.svg(spec),
                      _status_table([(code, names.get(code, code), counts) for code, counts in depts], labels)))
    return out


# -- rendering ---------------------------------------------------------------------------------
def css_context() -> dict:
    return {"status_colours": charts.STATUS_COLOURS, "font": charts.FONT}


def context(data: ReportData, lang: str, figs: list[Figure], *, web: bool = False) -> dict:
    """Template variables for plan/report.html and plan/report_page.html (language already set)."""
    pick = _picker(lang)
    strategy = data.strategy
    fy = data.fiscal_year
    labels = charts.status_labels()
    changes = data.changes
    by_dept: dict[str, dict[str, int]] = {}
    for row in data.flags:
        for lead in row["deliverable"]["leads"]:
            for f in row["flags"]:
                by_dept.setdefault(lead, {}).setdefault(f, 0)
                by_dept[lead][f] += 1
    first_counts: dict[str, int] = {}
    for row in changes["first_reported"]:
        first_counts[row["to_status"]] = first_counts.get(row["to_status"], 0) + 1
    return {
        "lang": lang, "web": web, "language_name": LANGUAGE_NAMES[lang], "pick": pick,
        "strategy": strategy, "title": pick(strategy, "title")[0], "fiscal_year": fy,
        "fy_start": fy[:4], "fy_end": fy[5:], "previous_fiscal_year": data.previous_fiscal_year,
        "kind_label": dict(StrategyKind.options()).get(strategy["kind"], strategy["kind"]),
        "generated": date.today().isoformat(), "chart": data.chart, "summary": data.summary,
        "changes": changes, "flags": data.flags, "departments": data.departments, "figures": figs,
        "first_listed": len(changes["first_reported"]) <= FIRST_REPORTED_LISTED,
        "first_counts": [(s, labels[s], first_counts[s]) for s in charts.STATUS_ORDER if first_counts.get(s)],
        "status_label": labels | {None: labels[reporting.NOT_REPORTED]},
        "status_order": [(s, labels[s]) for s in charts.STATUS_ORDER
                         if s != reporting.NOT_REPORTED or data.summary["by_status"].get(s)],
        "flag_label": dict(Flag.options()), "flag_kinds": Flag.options(),
        "flags_by_department": sorted(by_dept.items()), "badge": BADGE_CLASS, "number": charts.number,
        "percent": charts.percent,
        "timeline_lines": wording.timeline_lines, "published_status": wording.published_status,
        "pdf_url": f"/plan/{strategy['code']}/report/{fy}.pdf?lang={lang}",
        "csv_url": f"/plan/{strategy['code']}/chart.csv?fiscal_year={fy}",
        **css_context(),
    }


def render_html(data: ReportData, lang: str, figs: list[Figure] | None = None) -> str:
    """The self-contained report document in one language (inline CSS, inline chart images)."""
    token = set_language(lang)
    try:
        figs = figs if figs is not None else figures(data, lang)
        return env.get_template("plan/report.html").render(context(data, lang, figs))
    finally:
        reset_language(token)


def render_css() -> str:
    return env.get_template("plan/report_css.html").render(css_context())


def render_pdf(html: str) -> bytes:
    """PDF (tagged, for screen readers) from the report HTML; only ``data:`` URLs may be fetched."""
    import weasyprint
    from weasyprint.urls import URLFetcher

    fetcher = URLFetcher(allowed_protocols=("data",))
    return weasyprint.HTML(string=html, base_url=".", url_fetcher=fetcher).write_pdf(pdf_tags=True)


def figures_csv(data: ReportData) -> str:
    """The numbers behind the charts (language-neutral codes): figure, group, status, count."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["strategy", "fiscal_year", "figure", "group", "status", "deliverables"])
    code, fy, s = data.strategy["code"], data.fiscal_year, data.summary
    for status in charts.STATUS_ORDER:
        w.writerow([code, fy, "status", "all", status, s["by_status"].get(status, 0)])
    for p in s["by_pillar"]:
        for status in charts.STATUS_ORDER:
            w.writerow([code, fy, "pillars", p["code"], status, p["by_status"].get(status, 0)])
    for dept, counts in s["by_department"].items():
        for status in charts.STATUS_ORDER:
            w.writerow([code, fy, "departments", dept, status, counts.get(status, 0)])
    return buf.getvalue()


# -- the command line -----------------------------------------------------------------------------------
def write_report(db: Session, *, strategy_code: str, fiscal_year: str, out_dir: Path,
                 langs: tuple[str, ...] = ("en", "fr")) -> list[Path]:
    """Write, for each language, report-<code>-<fy>-<lang>.html and .pdf and the charts (.svg, .png), plus
    the chart as CSV (both languages) and the figures' numbers as CSV.  Returns the paths written."""
    check_fiscal_year(fiscal_year)
    data = collect(db, strategy_code, fiscal_year)
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []

    def put(name: str, content: str | bytes) -> None:
        path = out_dir / name
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)
        written.append(path)

    for lang in langs:
        figs, _new = _figures_cached(data, lang)
        html = render_html(data, lang, figs)
        stem = file_stem(strategy_code, fiscal_year, lang)
        put(f"{stem}.html", html)
        put(f"{stem}.pdf", _pdf_cached(data, lang, figs, html)[0])
        for fig in figs:
            put(f"{stem}-{fig.key}.svg", fig.svg)
            put(f"{stem}-{fig.key}.png", fig.png())
    buf = io.StringIO()
    reporting.write_csv(data.chart, buf)
    put(f"report-{strategy_code}-{fiscal_year}-chart.csv", buf.getvalue())
    put(f"report-{strategy_code}-{fiscal_year}-figures.csv", figures_csv(data))
    _record(db, data, formats=["html", "pdf", "svg", "png", "csv"], languages=list(langs))
    db.commit()
    return written


# -- cache (in memory, by content: a new approval changes the fingerprint, so the report) ----------
class _Cache:
    def __init__(self, size: int):
        self.size, self.items, self.lock = size, OrderedDict(), threading.Lock()

    def get(self, key):
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        return None

    def put(self, key, value) -> None:
        with self.lock:
            self.items[key] = value
            self.items.move_to_end(key)
            while len(self.items) > self.size:
                self.items.popitem(last=False)

    def clear(self) -> None:
        with self.lock:
            self.items.clear()


cache = _Cache(CACHE_SIZE)
_generating = threading.Lock()  # one report generated at a time: bounded CPU whatever the traffic


def _key(kind: str, data: ReportData, lang: str) -> tuple:
    return (kind, data.strategy["code"], data.fiscal_year, lang, data.fingerprint)


def _figures_cached(data: ReportData, lang: str) -> tuple[list[Figure], bool]:
    """(figures, whether they were generated now)."""
    figs = cache.get(_key("figures", data, lang))
    if figs is not None:
        return figs, False
    with _generating:
        figs = cache.get(_key("figures", data, lang))
        if figs is not None:
            return figs, False
        figs = figures(data, lang)
        cache.put(_key("figures", data, lang), figs)
        return figs, True


def _pdf_cached(data: ReportData, lang: str, figs: list[Figure], html: str | None = None) -> tuple[bytes, bool]:
    pdf = cache.get(_key("pdf", data, lang))
    if pdf is not None:
        return pdf, False
    with _generating:
        pdf = cache.get(_key("pdf", data, lang))
        if pdf is not None:
            return pdf, False
        pdf = render_pdf(html or render_html(data, lang, figs))
        cache.put(_key("pdf", data, lang), pdf)
        return pdf, True


# -- the web ------------------------------------------------------------------------------------------
def web_figures(db: Session, data: ReportData, lang: str) -> list[Figure]:
    """The charts for the public report page (generated once per content and language, audited then)."""
    figs, new = _figures_cached(data, lang)
    if new:
        _record(db, data, formats=["html"], languages=[lang])
        db.commit()
    return figs


def web_pdf(db: Session, data: ReportData, lang: str) -> bytes:
    """The PDF for the public download (generated once per content and language, audited then)."""
    pdf, new = _pdf_cached(data, lang, web_figures(db, data, lang))
    if new:
        _record(db, data, formats=["pdf"], languages=[lang])
        db.commit()
    return pdf
