"""Pictures for the network view, made on the server (no script runs in the browser; the CSP allows none).

* :func:`graph_svg` draws a connected group as inline SVG from networkx layout positions: one shape and
  colour per kind of node (Okabe-Ito colours, distinguishable with the common colour-vision deficiencies),
  a legend, a ``<title>`` on every node (read by screen readers and shown on hover) and links from person
  records to their movement page.  Only presentation attributes are used (no ``style``: the CSP forbids it).
* :func:`movement_chart` is an Altair (Vega-Lite) chart of dated places by province/territory, rendered
  offline by vl-convert to SVG and embedded as a ``data:`` image like the plan report's charts.

The page always shows the same information as a table too, so nothing depends on seeing the picture.
"""

from __future__ import annotations

import base64
import math
from html import escape

import altair as alt
import networkx as nx

from harbour.core import formats
from harbour.core.i18n import N_, gettext
from harbour.sharing.network import FULL, HIT, OWN, SUMMARY, Event

FONT = "DejaVu Sans"
MAX_DRAWN = 220  # nodes; a larger group is listed, not drawn (a hairball helps nobody)
WIDTH, HEIGHT, MARGIN = 960, 620, 40
LEGEND_WIDTH = 290
LABEL_ROOM = 110  # person labels are written to the right of their node

# kind → (fill, shape, label)
KIND_STYLE = {
    "person": ("#0072B2", "circle", N_("Person record")),
    "entity": ("#000000", "ring", N_("Same person (linkage)")),
    "phone": ("#E69F00", "square", N_("Phone")),
    "email": ("#F0E442", "square", N_("E-mail")),
    "address": ("#009E73", "diamond", N_("Address")),
    "handle": ("#CC79A7", "triangle", N_("Online handle or ad")),
    "vehicle": ("#BBBBBB", "hexagon", N_("Vehicle")),
    "occurrence": ("#D55E00", "diamond", N_("Occurrence")),
}
# person records by disclosure level: fill, stroke, dash
LEVEL_STYLE = {
    OWN: ("#0072B2", "#1A1A1A", None, N_("Your agency's record")),
    FULL: ("#56B4E9", "#1A1A1A", None, N_("Another agency's record (full)")),
    SUMMARY: ("#BBD9EE", "#1A1A1A", None, N_("Another agency's record (summary)")),
    HIT: ("#FFFFFF", "#4A5461", "4 3", N_("Another agency holds a matching record")),
}
RADIUS = {"person": 11, "entity": 9}
DEFAULT_RADIUS = 8


def layout(graph: nx.Graph, *, seed: int = 7) -> dict[str, tuple[float, float]]:
    """Node → (x, y) in the SVG's coordinates; deterministic for a given graph (fixed seed, sorted nodes)."""
    ordered = nx.Graph()
    ordered.add_nodes_from(sorted(graph.nodes))
    ordered.add_edges_from(sorted(tuple(sorted(e)) for e in graph.edges))
    n = ordered.number_of_nodes()
    if n == 0:
        return {}
    if n == 1:
        return {next(iter(ordered.nodes)): (WIDTH / 2, HEIGHT / 2)}
    pos = nx.spring_layout(ordered, seed=seed, k=1.6 / math.sqrt(n), iterations=120)
    xs = [p[0] for p in pos.values()]
    ys = [p[1] for p in pos.values()]
    span_x, span_y = (max(xs) - min(xs)) or 1.0, (max(ys) - min(ys)) or 1.0
    return {node: (MARGIN + (x - min(xs)) / span_x * (WIDTH - 2 * MARGIN - LEGEND_WIDTH - LABEL_ROOM),
                   MARGIN + (y - min(ys)) / span_y * (HEIGHT - 2 * MARGIN))
            for node, (x, y) in pos.items()}


def _shape(kind: str, x: float, y: float, r: float, fill: str, stroke: str, dash: str | None) -> str:
    extra = f' stroke-dasharray="{dash}"' if dash else ""
    common = f'fill="{fill}" stroke="{stroke}" stroke-width="1.5"{extra}'
    if kind == "circle":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" {common}/>'
    if kind == "ring":
        return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{r}" fill="#FFFFFF" stroke="{fill}" stroke-width="3"/>'
    if kind == "square":
        return f'<rect x="{x - r:.1f}" y="{y - r:.1f}" width="{2 * r}" height="{2 * r}" {common}/>'
    if kind == "diamond":
        pts = [(x, y - r * 1.25), (x + r * 1.25, y), (x, y + r * 1.25), (x - r * 1.25, y)]
    elif kind == "triangle":
        pts = [(x, y - r * 1.3), (x + r * 1.2, y + r * 0.9), (x - r * 1.2, y + r * 0.9)]
    else:  # hexagon
        pts = [(x + r * 1.15 * math.cos(math.pi / 3 * i), y + r * 1.15 * math.sin(math.pi / 3 * i)) for i in range(6)]
    points = " ".join(f"{px:.1f},{py:.1f}" for px, py in pts)
    return f'<polygon points="{points}" {common}/>'


def _node_svg(node: str, data: dict, x: float, y: float, href) -> str:
    kind = data["kind"]
    fill, shape, _label = KIND_STYLE[kind]
    stroke, dash = "#1A1A1A", None
    if kind == "person":
        fill, stroke, dash, _ = LEVEL_STYLE[data["level"]]
    elif kind == "entity":
        shape = "ring"
    r = RADIUS.get(kind, DEFAULT_RADIUS)
    title = _node_title(data)
    body = f"<title>{escape(title)}</title>" + _shape(shape, x, y, r, fill, stroke, dash)
    if kind == "person":
        short = data["label"] if len(data["label"]) <= 26 else data["label"][:25] + "…"
        body += (f'<text x="{x + r + 3:.1f}" y="{y + 4:.1f}" font-size="11" font-family="{FONT}" '
                 f'fill="#1A1A1A">{escape(short)}</text>')
    link = href(node, data) if href else None
    if link:
        return f'<a href="{escape(link)}">{body}</a>'
    return f'<g role="img" aria-label="{escape(title)}">{body}</g>'


def _node_title(data: dict) -> str:
    kind = data["kind"]
    name = gettext(KIND_STYLE[kind][2])
    if kind == "person":
        name = gettext(LEVEL_STYLE[data["level"]][3])
        text = formats.labelled(name, data["label"])
        if data["level"] != OWN:
            text += f" — {data['agency_name']}"
    elif kind == "entity":
        text = name
    else:
        text = formats.labelled(name, data["label"])
    if data.get("provinces"):
        text += f" [{', '.join(sorted(data['provinces']))}]"
    return text


def graph_svg(graph: nx.Graph, *, title: str, href=None) -> str | None:
    """Inline SVG of ``graph`` (a connected group), or None when it is too large to draw legibly.
    ``href(node, data)`` may return a link for a node."""
    if graph.number_of_nodes() > MAX_DRAWN:
        return None
    pos = layout(graph)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" '
             f'role="group" aria-label="{escape(title)}" class="network-graph">',
             f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#FFFFFF" stroke="#D3D8DE"/>']
    for a, b in sorted(tuple(sorted(e)) for e in graph.edges):
        (x1, y1), (x2, y2) = pos[a], pos[b]
        dashed = ' stroke-dasharray="5 4"' if graph.edges[a, b].get("kind") in ("same_entity", "match") else ""
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#6B7785" '
                     f'stroke-width="1.2"{dashed}/>')
    for node in sorted(graph.nodes, key=lambda n: (graph.nodes[n]["kind"] == "person", n)):
        x, y = pos[node]
        parts.append(_node_svg(node, graph.nodes[node], x, y, href))
    parts.append(_legend(graph))
    parts.append("</svg>")
    return "".join(parts)


def _legend(graph: nx.Graph) -> str:
    x0, y = WIDTH - LEGEND_WIDTH, MARGIN
    rows = [f'<g aria-hidden="true"><text x="{x0}" y="{y}" font-size="12" font-weight="bold" '
            f'font-family="{FONT}" fill="#1A1A1A">{escape(gettext(N_("Legend")))}</text>']
    levels = [lvl for lvl in (OWN, FULL, SUMMARY, HIT)
              if any(d.get("level") == lvl for _n, d in graph.nodes(data=True))]
    kinds = [k for k in KIND_STYLE if k != "person" and any(d["kind"] == k for _n, d in graph.nodes(data=True))]
    for level in levels:
        y += 22
        fill, stroke, dash, label = LEVEL_STYLE[level]
        rows.append(_shape("circle", x0 + 8, y - 4, 7, fill, stroke, dash))
        rows.append(f'<text x="{x0 + 22}" y="{y}" font-size="11" font-family="{FONT}" fill="#1A1A1A">'
                    f'{escape(gettext(label))}</text>')
    for kind in kinds:
        y += 22
        fill, shape, label = KIND_STYLE[kind]
        rows.append(_shape(shape, x0 + 8, y - 4, 6, fill, "#1A1A1A", None))
        rows.append(f'<text x="{x0 + 22}" y="{y}" font-size="11" font-family="{FONT}" fill="#1A1A1A">'
                    f'{escape(gettext(label))}</text>')
    rows.append("</g>")
    return "".join(rows)


# -- movement chart -----------------------------------------------------------------------------------
KIND_LABELS = {"occurrence": N_("Occurrence"), "address": N_("Address"), "record": N_("Record date")}


def movement_spec(events: list[Event], *, title: str) -> dict | None:
    """Vega-Lite spec: one point per dated place (x: date, y: province/territory), joined in date order,
    shape by kind, colour by holding agency.  None when fewer than one placed event."""
    placed = [e for e in events if e.province]
    if not placed:
        return None
    rows = [{"on": e.on.isoformat(), "province": e.province, "agency": e.agency_name,
             "kind": gettext(KIND_LABELS[e.kind]), "order": i, "city": e.city or ""}
            for i, e in enumerate(placed)]
    order = []
    for e in placed:  # provinces top to bottom in the order first visited
        if e.province not in order:
            order.append(e.province)
    base = alt.Chart(alt.Data(values=rows))
    y = alt.Y("province:N", sort=order, title=gettext(N_("Province or territory")))
    x = alt.X("on:T", title=gettext(N_("Date")), axis=alt.Axis(format="%Y-%m-%d", labelAngle=-30))
    line = base.mark_line(color="#6B7785", strokeDash=[4, 3]).encode(x=x, y=y, order="order:Q")
    points = base.mark_point(size=130, filled=True, stroke="#1A1A1A", strokeWidth=0.8, opacity=1).encode(
        x=x, y=y,
        color=alt.Color("agency:N", title=gettext(N_("Agency")),
                        scale=alt.Scale(range=["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9",
                                               "#F0E442", "#000000"])),
        shape=alt.Shape("kind:N", title=gettext(N_("What"))))
    labels = base.mark_text(dy=-12, fontSize=10, color="#1A1A1A").encode(x=x, y=y, text="city:N")
    chart = (line + points + labels).properties(width=620, height=alt.Step(46), title=title)
    chart = (chart.configure(font=FONT, background="white")
             .configure_title(fontSize=14, anchor="start")
             .configure_axis(labelFontSize=11, titleFontSize=12, labelColor="#1A1A1A", titleColor="#1A1A1A",
                             gridColor="#DDDDDD")
             .configure_legend(labelFontSize=11, titleFontSize=12, labelLimit=260)
             .configure_view(stroke=None))
    return chart.to_dict()


def movement_chart(events: list[Event], *, title: str) -> str | None:
    """The movement chart as a ``data:image/svg+xml`` URI (allowed by the CSP's img-src), or None."""
    spec = movement_spec(events, title=title)
    if spec is None:
        return None
    import vl_convert

    svg = vl_convert.vegalite_to_svg(spec)
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
