"""Charts for the annual report: Altair (Vega-Lite) specs rendered offline by vl-convert as SVG and PNG.

Every chart is readable on paper, without a tooltip: a title, axis titles, the count written on
each bar segment (and the total at the end of each bar), and a legend that names every colour.
Colours are the Okabe-Ito palette (distinguishable with the common colour-vision deficiencies),
with a dark outline on every bar, and each label's text colour is chosen for at least 4.5:1
contrast on its fill.  Labels are translated by the caller's language (``core.i18n``).

Nothing here reads the database: the inputs are ``reporting.status_summary()`` dictionaries.
"""

from __future__ import annotations

import textwrap

import altair as alt

from harbour.core.i18n import N_, current_language, gettext
from harbour.plan.choices import DeliverableStatus
from harbour.plan.reporting import NOT_REPORTED

FONT = "DejaVu Sans"  # Debian's fonts-dejavu-core: the same glyphs in SVG, PNG and the PDF
WIDTH = 470  # plot width in CSS pixels: fits a Letter or A4 page with the axis labels
STATUS_ORDER = ["complete", "on_track", "ongoing", "in_progress", "delayed", "not_started", NOT_REPORTED]
# status → (fill, text colour on that fill)
STATUS_COLOURS = {
    "complete": ("#009E73", "#000000"),
    "on_track": ("#0072B2", "#FFFFFF"),
    "ongoing": ("#56B4E9", "#000000"),
    "in_progress": ("#F0E442", "#000000"),
    "delayed": ("#D55E00", "#000000"),
    "not_started": ("#CC79A7", "#000000"),
    NOT_REPORTED: ("#BBBBBB", "#000000"),
}
OUTLINE = "#1A1A1A"
MIN_LABEL_PX = 16  # segments narrower than this carry no count (the table beside the chart has it)


def status_labels() -> dict[str, str]:
    """Status code → label in the current language, including "not reported"."""
    return dict(DeliverableStatus.options()) | {NOT_REPORTED: gettext(N_("Not reported"))}


def number(n: int) -> str:
    return f"{n:,}".replace(",", "\u00a0" if current_language() == "fr" else ",")


def percent(part: int, whole: int) -> str:
    value = round(100 * part / whole) if whole else 0
    return f"{value}\u00a0%" if current_language() == "fr" else f"{value}%"


def _wrap(label: str, width: int = 30) -> str:
    return "\n".join(textwrap.wrap(label, width)) or label


def _configure(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (chart.configure(font=FONT, background="white")
            .configure_title(fontSize=15, anchor="start", offset=12, subtitleFontSize=12, subtitleColor="#333333")
            .configure_axis(labelFontSize=12, titleFontSize=12, labelColor="#1A1A1A", titleColor="#1A1A1A",
                            gridColor="#DDDDDD", domainColor="#555555", tickColor="#555555")
            .configure_legend(labelFontSize=12, titleFontSize=12, symbolStrokeColor=OUTLINE, symbolStrokeWidth=0.75,
                              symbolType="square", symbolSize=160, labelLimit=260)
            .configure_view(stroke=None))


def _present(counts: list[dict[str, int]]) -> list[str]:
    """The statuses that occur in any of the count dictionaries, in display order."""
    return [s for s in STATUS_ORDER if any(c.get(s) for c in counts)]


def status_chart(summary: dict, *, title: str, subtitle: str | None = None) -> dict:
    """One horizontal bar per status (every status, zero included): count and share written at the end."""
    labels = status_labels()
    total = summary["total"]
    statuses = [s for s in STATUS_ORDER if s != NOT_REPORTED or summary["by_status"].get(NOT_REPORTED)]
    rows = [{"status": labels[s], "n": summary["by_status"].get(s, 0), "fill": STATUS_COLOURS[s][0],
             "text": f"{number(summary['by_status'].get(s, 0))} ({percent(summary['by_status'].get(s, 0), total)})"}
            for s in statuses]
    order = [labels[s] for s in statuses]
    base = alt.Chart(alt.Data(values=rows))
    bars = base.mark_bar(stroke=OUTLINE, strokeWidth=0.75, height=20).encode(
        y=alt.Y("status:N", sort=order, title=None, axis=alt.Axis(labelLimit=200, ticks=False, labelPadding=6)),
        x=alt.X("n:Q", title=gettext(N_("Number of deliverables")),
                scale=alt.Scale(domain=[0, max(1, max(r["n"] for r in rows)) * 1.22], nice=False),
                axis=alt.Axis(tickMinStep=1, format="d")),
        color=alt.Color("fill:N", scale=None),
    )
    text = base.mark_text(align="left", dx=5, fontSize=12, color="#1A1A1A").encode(
        y=alt.Y("status:N", sort=order), x="n:Q", text="text:N")
    chart = (bars + text).properties(width=WIDTH, height=alt.Step(30),
                                     title=alt.Title(title, subtitle=subtitle or alt.Undefined))
    return _configure(chart).to_dict()


def stacked_chart(groups: list[tuple[str, dict[str, int]]], *, title: str, axis_title: str,
                  subtitle: str | None = None, wrap: int = 30) -> dict:
    """Horizontal stacked bars: one bar per group (label, counts by status), one segment per status.

    The count is written inside every segment wide enough to hold it and the total after each bar;
    the legend names each status.  Stacking is computed here so labels sit at segment centres.
    """
    labels = status_labels()
    statuses = _present([c for _g, c in groups]) or ["not_started"]
    totals = [sum(c.get(s, 0) for s in statuses) for _g, c in groups]
    top = max(totals + [1]) * 1.12
    px_per_unit = WIDTH / top
    segments, texts, ends = [], [], []
    order = []
    for (group, counts), total in zip(groups, totals, strict=True):
        name = _wrap(group, wrap)
        order.append(name)
        x = 0
        for s in statuses:
            n = counts.get(s, 0)
            if not n:
                continue
            segments.append({"group": name, "status": labels[s], "x0": x, "x1": x + n, "n": n})
            if n * px_per_unit >= MIN_LABEL_PX:
                texts.append({"group": name, "mid": x + n / 2, "label": number(n), "ink": STATUS_COLOURS[s][1]})
            x += n
        ends.append({"group": name, "total": total, "label": number(total)})
    y = alt.Y("group:N", sort=order, title=None, scale=alt.Scale(paddingInner=0.3),
              axis=alt.Axis(labelExpr="split(datum.label, '\\n')", labelLimit=260, ticks=False, labelPadding=6,
                            labelLineHeight=14))
    colour = alt.Color("status:N", title=gettext(N_("Status")),
                       scale=alt.Scale(domain=[labels[s] for s in statuses],
                                       range=[STATUS_COLOURS[s][0] for s in statuses]),
                       legend=alt.Legend(orient="bottom", direction="horizontal", columns=4))
    bars = alt.Chart(alt.Data(values=segments)).mark_bar(stroke=OUTLINE, strokeWidth=0.75).encode(
        y=y, x=alt.X("x0:Q", title=axis_title, scale=alt.Scale(domain=[0, top], nice=False),
                     axis=alt.Axis(tickMinStep=1, format="d")),
        x2="x1:Q", color=colour)
    inside = alt.Chart(alt.Data(values=texts)).mark_text(fontSize=11, fontWeight="bold").encode(
        y=alt.Y("group:N", sort=order), x="mid:Q", text="label:N", color=alt.Color("ink:N", scale=None))
    after = alt.Chart(alt.Data(values=ends)).mark_text(align="left", dx=5, fontSize=12, color="#1A1A1A").encode(
        y=alt.Y("group:N", sort=order), x="total:Q", text="label:N")
    lines = max((name.count("\n") + 1 for name in order), default=1)
    chart = alt.layer(bars, inside, after).properties(
        width=WIDTH, height=alt.Step(10 + 14 * lines), title=alt.Title(title, subtitle=subtitle or alt.Undefined))
    return _configure(chart).resolve_scale(color="independent").to_dict()


def svg(spec: dict) -> str:
    import vl_convert

    return vl_convert.vegalite_to_svg(spec)


def png(spec: dict, scale: float = 2) -> bytes:
    import vl_convert

    return vl_convert.vegalite_to_png(spec, scale=scale)
