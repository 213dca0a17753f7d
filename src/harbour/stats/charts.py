"""Dashboard and report charts: Altair (Vega-Lite) rendered offline by vl-convert as SVG (pages, reports) and
PNG (downloads).  Same conventions as the plan report: a title, axis titles, the count written at the end of
every bar, Okabe-Ito colours, no tooltip needed.  A withheld count (disclosure control) is drawn as no bar
with "x" written in its place, and the subtitle says why.

:func:`figures` turns one dashboard view (:func:`harbour.stats.dashboards.view`) into the figure list;
nothing here reads the store or the database.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

import altair as alt

from harbour.core.i18n import N_, gettext
from harbour.plan import charts as plan_charts
from harbour.plan.charts import FONT, OUTLINE, _configure, number
from harbour.stats.choices import ALL, geo_label
from harbour.stats.tables import BY_KEY

WIDTH = 470
COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442"]
WITHHELD = "x"


@dataclass
class Figure:
    key: str
    title: str
    subtitle: str
    spec: dict
    rows: list[tuple[str, int | None]]
    total: int | None = None
    _svg: str | None = field(default=None, repr=False)

    @property
    def svg(self) -> str:
        if self._svg is None:
            self._svg = plan_charts.svg(self.spec)
        return self._svg

    @property
    def data_uri(self) -> str:
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg.encode()).decode()

    def png(self, scale: float = 2) -> bytes:
        return plan_charts.png(self.spec, scale)

    @property
    def description(self) -> str:
        parts = [f"{label}: {WITHHELD if n is None else number(n)}" for label, n in self.rows]
        return "; ".join(parts) + "."


def _text(n: int | None) -> str:
    return WITHHELD if n is None else number(n)


def bar_chart(rows: list[tuple[str, int | None]], *, title: str, subtitle: str, axis_title: str,
              colour: str = COLOURS[0]) -> dict:
    """Horizontal bars, one per row, count written at the end ("x" where withheld)."""
    data = [{"label": label, "n": n or 0, "text": _text(n)} for label, n in rows]
    order = [r["label"] for r in data]
    top = max([r["n"] for r in data] + [1]) * 1.18
    base = alt.Chart(alt.Data(values=data))
    bars = base.mark_bar(stroke=OUTLINE, strokeWidth=0.75, height=18, color=colour).encode(
        y=alt.Y("label:N", sort=order, title=None, axis=alt.Axis(labelLimit=240, ticks=False, labelPadding=6)),
        x=alt.X("n:Q", title=axis_title, scale=alt.Scale(domain=[0, top], nice=False),
                axis=alt.Axis(tickMinStep=1, format="d")))
    text = base.mark_text(align="left", dx=5, fontSize=12, color="#1A1A1A").encode(
        y=alt.Y("label:N", sort=order), x="n:Q", text="text:N")
    chart = (bars + text).properties(width=WIDTH, height=alt.Step(26), title=alt.Title(title, subtitle=subtitle))
    return _configure(chart).to_dict(validate=False)


def grouped_years(series: list[tuple[str, list[tuple[str, int | None]]]], *, title: str, subtitle: str,
                  axis_title: str) -> dict:
    """Vertical bars by year, one colour per series, counts on top."""
    data = [{"year": y, "series": name, "n": n or 0, "text": _text(n)} for name, points in series for y, n in points]
    names = [name for name, _p in series]
    top = max([d["n"] for d in data] + [1]) * 1.15
    colour = alt.Color("series:N", title=None, scale=alt.Scale(domain=names, range=COLOURS[:len(names)]),
                       legend=alt.Legend(orient="bottom", direction="horizontal"))
    base = alt.Chart(alt.Data(values=data))
    bars = base.mark_bar(stroke=OUTLINE, strokeWidth=0.75).encode(
        x=alt.X("year:N", title=gettext(N_("Year")), axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("series:N", sort=names),
        y=alt.Y("n:Q", title=axis_title, scale=alt.Scale(domain=[0, top], nice=False),
                axis=alt.Axis(tickMinStep=1, format="d")), color=colour)
    text = base.mark_text(dy=-6, fontSize=11, color="#1A1A1A").encode(
        x="year:N", xOffset=alt.XOffset("series:N", sort=names), y="n:Q", text="text:N")
    chart = (bars + text).properties(width=WIDTH, height=240, title=alt.Title(title, subtitle=subtitle))
    return _configure(chart).to_dict(validate=False)


def _filter_phrase(view: dict) -> str:
    year = gettext(N_("all years")) if view["year"] == ALL else view["year"]
    return f"{geo_label(view['geo'])}, {year}"


def _subtitle(view: dict, extra: str = "") -> str:
    parts = [_filter_phrase(view)]
    if view["public"]:
        parts.append(gettext(N_("x = withheld (fewer than 10, or would reveal one)")))
    if extra:
        parts.append(extra)
    return " · ".join(parts)


# (figure key, table key, title, axis title, extra subtitle)
CATEGORY_FIGURES = (
    ("exploitation", "exploitation", N_("Situations by type of exploitation"), N_("Situations"),
     N_("A situation may involve more than one type.")),
    ("age", "age", N_("Situations by age band"), N_("Situations"), ""),
    ("gender", "gender", N_("Situations by gender"), N_("Situations"), ""),
    ("nationality", "nationality", N_("Domestic and foreign nationals"), N_("Situations"), ""),
    ("control", "control", N_("Means of control"), N_("Situations"), N_("A situation may involve several.")),
    ("recruitment", "recruitment", N_("Recruitment"), N_("Situations"), N_("A situation may involve several.")),
    ("referral_service", "referral_service", N_("Referrals by service type"), N_("Referrals"), ""),
    ("referral_status", "referral_status", N_("Referrals by status"), N_("Referrals"), ""),
    ("referral_outcome", "referral_outcome", N_("Referrals by outcome"), N_("Referrals"), ""),
    ("unmet_need", "unmet_need", N_("Unmet needs by need (service gaps)"), N_("Searches that found no service"), ""),
    ("first_referral", "first_referral", N_("Hotline response: time from first contact to first referral"),
     N_("Situations"), ""),
    ("provider_response", "provider_response", N_("Provider response time to referrals"), N_("Referrals"), ""),
    ("offence", "offence", N_("Agency occurrences by offence"), N_("Offences recorded"),
     N_("From agencies sharing through Harbour.")),
)


def figures(view: dict) -> list[Figure]:
    """Every dashboard chart for one view, labels in the current language."""
    t = view["tables"]
    out: list[Figure] = []
    sit = t["situations"]
    if view["years"]:
        series = [(gettext(N_("Hotline contacts")), t["contacts"]["by_year"]),
                  (gettext(N_("Situations (cases with statistics consent)")), sit["by_year"])]
        title = gettext(N_("Trafficking situations by year"))
        out.append(Figure("by_year", title, _subtitle({**view, "year": ALL}), grouped_years(
            [series[1]], title=title, subtitle=_subtitle({**view, "year": ALL}), axis_title=gettext(N_("Situations"))),
            sit["by_year"], sit["total"]))
        title = gettext(N_("Hotline contacts and cases by year"))
        out.append(Figure("contacts_cases", title, _subtitle({**view, "year": ALL}), grouped_years(
            series, title=title, subtitle=_subtitle({**view, "year": ALL}), axis_title=gettext(N_("Number"))),
            [(f"{name} {y}", n) for name, pts in series for y, n in pts]))
    rows = [(geo_label(g), n) for g, n in sit["by_geo"]]
    title = gettext(N_("Situations by province or territory"))
    out.append(Figure("by_geo", title, _subtitle(view), bar_chart(
        rows, title=title, subtitle=_subtitle(view), axis_title=gettext(N_("Situations"))), rows, sit["total"]))
    unmet = t["unmet_needs"]
    rows = [(geo_label(g), n) for g, n in unmet["by_geo"]]
    title = gettext(N_("Unmet needs by province or territory (service gaps)"))
    out.append(Figure("unmet_geo", title, _subtitle(view), bar_chart(
        rows, title=title, subtitle=_subtitle(view), axis_title=gettext(N_("Searches that found no service")),
        colour=COLOURS[5]), rows, unmet["total"]))
    for i, (fkey, tkey, title_key, axis_key, extra_key) in enumerate(CATEGORY_FIGURES):
        table = t[tkey]
        if tkey == "offence" and not table["total"]:
            continue
        labels = BY_KEY[tkey].labels()
        rows = [(labels[c], n) for c, n in table["rows"]]
        title = gettext(title_key)
        sub = _subtitle(view, gettext(extra_key) if extra_key else "")
        out.append(Figure(fkey, title, sub, bar_chart(rows, title=title, subtitle=sub, axis_title=gettext(axis_key),
                                                      colour=COLOURS[(i + 1) % len(COLOURS)]), rows, table["total"]))
    return out


__all__ = ["FONT", "Figure", "figures"]
