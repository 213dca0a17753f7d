"""Pictures for the network view, made on the server (no script runs in the browser; the CSP allows none).

* :func:`graph_svg` draws a connected group as inline SVG from networkx layout positions: one shape and
  colour per kind of node (Okabe-Ito colours, distinguishable with the common colour-vision deficiencies),
  a legend, a ``<title>`` on every node (read by screen readers and shown on hover) and links from person
  records to their movement page.  Only presentation attributes are used (no ``style``: the CSP forbids it).
  Person labels are placed (:func:`place_labels`) where they cover no node, no other label and not the
  legend: beside, above or below their node, further out with a leader line when the space near it is taken.
* :func:`movement_chart` is an Altair (Vega-Lite) chart of dated places by province/territory, rendered
  offline by vl-convert to SVG and embedded as a ``data:`` image like the plan report's charts.

The page always shows the same information as a table too, so nothing depends on seeing the picture.
"""

from __future__ import annotations

import base64
import math
import unicodedata
from dataclasses import dataclass
from html import escape

import altair as alt
import networkx as nx
import numpy as np

from harbour.core import formats
from harbour.core.i18n import N_, gettext
from harbour.sharing.network import FULL, HIT, OWN, SUMMARY, Event

FONT = "DejaVu Sans"
MAX_DRAWN = 220  # nodes; a larger group is listed, not drawn (a hairball helps nobody)
WIDTH, HEIGHT, MARGIN = 960, 620, 40
MAX_HEIGHT = 1300  # a large group's picture grows taller (its labels need room), up to this
NODE_SPACING = 44  # at least this far apart, centre to centre
LEGEND_WIDTH = 290
LABEL_ROOM = 110  # room kept on the right for the labels of the rightmost nodes

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


def height_for(graph: nx.Graph) -> int:
    """The picture's height: taller for a group with many person records, so their labels have room."""
    persons = sum(1 for _n, d in graph.nodes(data=True) if d.get("kind") == "person")
    return int(min(MAX_HEIGHT, max(HEIGHT, HEIGHT + (persons - 16) * 24)))


def layout(graph: nx.Graph, *, seed: int = 7, height: int = HEIGHT) -> dict[str, tuple[float, float]]:
    """Node → (x, y) in the SVG's coordinates; deterministic for a given graph (fixed seed, sorted nodes).
    Spring layout, spread over the drawing area, then nodes closer than :data:`NODE_SPACING` are pushed apart
    (a spring layout happily stacks the members of a tight cluster on top of each other)."""
    ordered = nx.Graph()
    ordered.add_nodes_from(sorted(graph.nodes))
    ordered.add_edges_from(sorted(tuple(sorted(e)) for e in graph.edges))
    n = ordered.number_of_nodes()
    if n == 0:
        return {}
    if n == 1:
        return {next(iter(ordered.nodes)): (WIDTH / 2, height / 2)}
    pos = nx.spring_layout(ordered, seed=seed, k=2.2 / math.sqrt(n), iterations=120)
    nodes = list(pos)
    xy = np.array([pos[node] for node in nodes], dtype=float)
    lo, span = xy.min(axis=0), np.where(np.ptp(xy, axis=0) > 0, np.ptp(xy, axis=0), 1.0)
    box = np.array([WIDTH - 2 * MARGIN - LEGEND_WIDTH - LABEL_ROOM, height - 2 * MARGIN], dtype=float)
    xy = MARGIN + (xy - lo) / span * box
    xy = _spread(xy, box)
    return {node: (float(x), float(y)) for node, (x, y) in zip(nodes, xy, strict=True)}


def _spread(xy, box, rounds: int = 80):
    """Push apart nodes closer than NODE_SPACING, a little each round, keeping them in the drawing area."""
    n = len(xy)
    jitter = np.random.default_rng(7).normal(scale=0.01, size=xy.shape)  # separates nodes at the same spot
    for _ in range(rounds):
        diff = xy[:, None, :] - xy[None, :, :] + jitter[:, None, :] - jitter[None, :, :]
        dist = np.hypot(diff[..., 0], diff[..., 1]) + np.eye(n)
        push = np.clip(NODE_SPACING - dist, 0, None) * (1 - np.eye(n))
        if not push.any():
            break
        xy = xy + (diff / dist[..., None] * (push / 2)[..., None]).sum(axis=1) * 0.5
        xy = np.clip(xy, MARGIN, MARGIN + box)
    return xy


# -- label placement -------------------------------------------------------------------------------------
LABEL_SIZE = 11
LABEL_CHARS = 26  # a longer name is cut with "…" (the node's <title> and the table below carry it whole)
# Advance widths of DejaVu Sans (the font the SVG names) for ASCII 32-126, in thousandths of an em.  Measured
# once from the font; browsers that substitute another sans-serif draw narrower, never wider.
_WIDTHS = (318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636,
           636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775,
           752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390,
           337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612,
           635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838)
ASCENT, DESCENT = 0.93, 0.24  # of the font size, above and below the baseline
GAP = 3  # between a node and its label, and around every label
Box = tuple[float, float, float, float]  # x0, y0, x1, y1


@dataclass(frozen=True)
class Label:
    text: str
    x: float
    y: float  # baseline
    anchor: str  # start | middle | end
    box: Box
    leader: tuple[tuple[float, float], tuple[float, float]] | None = None


def text_width(text: str, size: float = LABEL_SIZE) -> float:
    total = 0
    for ch in text:
        code = ord(unicodedata.normalize("NFKD", ch)[:1] or " ")
        total += _WIDTHS[code - 32] if 32 <= code <= 126 else 1000
    return total * size / 1000


def _extent(kind: str, r: float) -> float:
    """Half the width of a node's shape (diamonds, triangles and hexagons reach past their radius)."""
    shape = KIND_STYLE[kind][1] if kind not in ("person", "entity") else "circle"
    return r * {"diamond": 1.25, "triangle": 1.3, "hexagon": 1.15}.get(shape, 1.0) + 1.5  # + the stroke


def _candidates(x: float, y: float, e: float, w: float):
    """Where a label of width ``w`` may go around a node at (x, y) of half-width ``e``: nearest first, then
    further out.  Yields (text x, baseline y, anchor, box, distance)."""
    up, down = ASCENT * LABEL_SIZE, DESCENT * LABEL_SIZE
    for d in (0, 6, 14, 26, 42, 62, 86, 110, 140):
        side = e + GAP + d
        spots = [
            (x + side, y + (up - down) / 2, "start"),  # right, centred on the node
            (x - side, y + (up - down) / 2, "end"),  # left
            (x, y - side - down, "middle"),  # above
            (x, y + side + up, "middle"),  # below
            (x + e * 0.7 + d, y - e - GAP - down - d * 0.6, "start"),  # above right
            (x + e * 0.7 + d, y + e + GAP + up + d * 0.6, "start"),  # below right
            (x - e * 0.7 - d, y - e - GAP - down - d * 0.6, "end"),  # above left
            (x - e * 0.7 - d, y + e + GAP + up + d * 0.6, "end"),  # below left
        ]
        if d:  # further out: straight above and below, shifted sideways
            spots += [(x + e, y - side - down, "start"), (x - e, y - side - down, "end"),
                      (x + e, y + side + up, "start"), (x - e, y + side + up, "end")]
        for tx, ty, anchor in spots:
            x0 = tx if anchor == "start" else tx - w if anchor == "end" else tx - w / 2
            yield tx, ty, anchor, (x0, ty - up, x0 + w, ty + down), d


def place_labels(graph: nx.Graph, pos: dict[str, tuple[float, float]], *,
                 avoid: list[Box] = (), height: int = HEIGHT) -> dict[str, Label]:
    """A label for every person node, covering no node, no other label and nothing in ``avoid`` (the
    legend), inside the picture.  The most crowded nodes choose first; a label that cannot sit next to its
    node goes further out with a leader line; if nothing is free at all, the spot that covers least is used."""
    nodes = []
    for node, data in graph.nodes(data=True):
        r = RADIUS.get(data["kind"], DEFAULT_RADIUS)
        e = _extent(data["kind"], r)
        x, y = pos[node]
        nodes.append((node, data, x, y, e))
    obstacles = np.array([(x - e - 1, y - e - 1, x + e + 1, y + e + 1) for _n, _d, x, y, e in nodes]
                         + [tuple(b) for b in avoid], dtype=float).reshape(-1, 4)
    placed: dict[str, Label] = {}

    def crowd(item) -> int:
        _n, _d, x, y, _e = item
        return sum(1 for _m, _dd, ox, oy, _oe in nodes if abs(ox - x) < 120 and abs(oy - y) < 40)

    people = sorted((n for n in nodes if n[1]["kind"] == "person"), key=lambda n: (-crowd(n), n[0]))
    for node, data, x, y, e in people:
        full = data["label"]
        text = full if len(full) <= LABEL_CHARS else full[:LABEL_CHARS - 1] + "…"
        spots = list(_candidates(x, y, e, text_width(text)))
        boxes = np.array([spot[3] for spot in spots]) + np.array([-1.0, -1.0, 1.0, 1.0])
        # the area each candidate covers of every node, label and the legend (0: free), all at once
        w = np.minimum(boxes[:, None, 2], obstacles[None, :, 2]) - np.maximum(boxes[:, None, 0], obstacles[None, :, 0])
        h = np.minimum(boxes[:, None, 3], obstacles[None, :, 3]) - np.maximum(boxes[:, None, 1], obstacles[None, :, 1])
        cost = (np.clip(w, 0, None) * np.clip(h, 0, None)).sum(axis=1)
        outside = (boxes[:, 0] < 2) | (boxes[:, 1] < 2) | (boxes[:, 2] > WIDTH - 2) | (boxes[:, 3] > height - 2)
        cost = cost + outside * 1e6
        free = np.flatnonzero(cost == 0)
        tx, ty, anchor, box, d = spots[int(free[0]) if free.size else int(np.argmin(cost))]
        leader = None
        if d >= 14:  # far from its node: a thin line says whose label it is
            cx, cy = min(max(x, box[0]), box[2]), min(max(y, box[1]), box[3])
            length = math.hypot(cx - x, cy - y) or 1.0
            leader = ((x + (cx - x) / length * e, y + (cy - y) / length * e), (cx, cy))
        placed[node] = Label(text, tx, ty, anchor, box, leader)
        obstacles = np.vstack([obstacles, (box[0] - GAP / 2, box[1] - GAP / 2, box[2] + GAP / 2, box[3] + GAP / 2)])
    return placed


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


def _node_svg(node: str, data: dict, x: float, y: float, href, label: Label | None = None) -> str:
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
    if label is not None:
        if label.leader:
            (x1, y1), (x2, y2) = label.leader
            body += (f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#4A5461" '
                     f'stroke-width="0.8"/>')
        body += (f'<text x="{label.x:.1f}" y="{label.y:.1f}" text-anchor="{label.anchor}" font-size="{LABEL_SIZE}" '
                 f'font-family="{FONT}" fill="#1A1A1A" stroke="#FFFFFF" stroke-width="3" stroke-linejoin="round" '
                 f'paint-order="stroke">{escape(label.text)}</text>')
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
    height = height_for(graph)
    pos = layout(graph, height=height)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="100%" '
             f'role="group" aria-label="{escape(title)}" class="network-graph">',
             f'<rect x="0" y="0" width="{WIDTH}" height="{height}" fill="#FFFFFF" stroke="#D3D8DE"/>']
    for a, b in sorted(tuple(sorted(e)) for e in graph.edges):
        (x1, y1), (x2, y2) = pos[a], pos[b]
        dashed = ' stroke-dasharray="5 4"' if graph.edges[a, b].get("kind") in ("same_entity", "match") else ""
        parts.append(f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#6B7785" '
                     f'stroke-width="1.2"{dashed}/>')
    legend, legend_box = _legend(graph)
    labels = place_labels(graph, pos, avoid=[legend_box], height=height)
    for node in sorted(graph.nodes, key=lambda n: (graph.nodes[n]["kind"] == "person", n)):
        x, y = pos[node]
        parts.append(_node_svg(node, graph.nodes[node], x, y, href, labels.get(node)))
    parts.append(legend)
    parts.append("</svg>")
    return "".join(parts)


def _legend(graph: nx.Graph) -> tuple[str, Box]:
    """The legend's SVG and the box it covers (labels keep out of it)."""
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
    widest = max([text_width(gettext(N_("Legend")), 12)] + [
        text_width(gettext(LEVEL_STYLE[lv][3]), 11) for lv in levels] + [
        text_width(gettext(KIND_STYLE[k][2]), 11) for k in kinds])
    return "".join(rows), (x0 - 4, MARGIN - 14, x0 + 22 + widest + 4, y + 6)


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
