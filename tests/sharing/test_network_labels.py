"""Network graph labels (issue 13): a person's label covers no node, no other label and not the legend, and
stays inside the picture, next to its node or joined to it by a leader line.

The geometry is read back from the SVG itself and the text measured with the real DejaVu Sans the picture
names (Pillow), not with the drawing code's own estimate.  Every person here is fictional."""

from __future__ import annotations

import random
import re
import xml.etree.ElementTree as ET

import pytest

from harbour.sharing import network as net
from harbour.sharing import network_svg
from harbour.sharing.network import FULL, HIT, OWN, SUMMARY, AddressView, PersonView, VehicleView

SVG = "{http://www.w3.org/2000/svg}"
LEVELS = (OWN, FULL, SUMMARY, HIT)


@pytest.fixture(scope="module")
def font():
    ImageFont = pytest.importorskip("PIL.ImageFont")
    try:
        return ImageFont.truetype("DejaVuSans.ttf", network_svg.LABEL_SIZE)
    except OSError:
        pytest.skip("DejaVu Sans is not installed (Debian: fonts-dejavu-core)")


def person(agency, rid, level=OWN, **kw) -> PersonView:
    return PersonView(agency=agency, agency_name=f"{agency} (fictional)", record_id=rid, level=level, **kw)


def dense_group() -> list[PersonView]:
    """14 records around two phones and five addresses: the picture that had labels across nodes."""
    return [person(["TPS", "SPVM", "EPS", "WPS"][i % 4], f"R{i}", LEVELS[i % 3],
                   name=f"DEMO Person Number {i} Fictional", phones=("416-555-0101" if i % 2 else "416-555-0102",),
                   addresses=(AddressView(f"{i // 3} Demo St", "Toronto", "ON", "M5V 1A1"),)) for i in range(14)]


def star_group() -> list[PersonView]:
    """24 records that share one phone number (a hub with a ring of named records)."""
    return [person("TPS" if i % 2 else "SPVM", f"S{i}", OWN if i % 2 else FULL,
                   name=f"DEMO Wwwwmmmm Quite-Long-Name {i}", phones=("416-555-0199",), jurisdiction="ON")
            for i in range(24)]


def random_group(seed: int) -> list[PersonView]:
    """40 records joined at random through phones, addresses and plates (one connected group mostly)."""
    rng = random.Random(seed)
    people = []
    for i in range(40):
        people.append(person(rng.choice(["TPS", "SPVM", "VPD"]), f"X{i}", rng.choice(LEVELS[:3]),
                             name=f"DEMO {rng.choice(['Ann', 'Bo', 'Élodie', 'Maximilian'])} Fictive {i}",
                             phones=(f"416-555-01{rng.randrange(12):02d}",),
                             addresses=(AddressView(f"{rng.randrange(10)} Fake Ave", "Ottawa", "ON", "K1A0B1"),)
                             if rng.random() < 0.5 else (),
                             vehicles=(VehicleView(f"DEM-{rng.randrange(6):03d}", "ON"),) if rng.random() < 0.3 else ()))
    return people


def _shape_box(el) -> tuple[float, float, float, float] | None:
    tag = el.tag.removeprefix(SVG)
    pad = float(el.get("stroke-width", "1")) / 2
    if tag == "circle":
        cx, cy, r = (float(el.get(k)) for k in ("cx", "cy", "r"))
        return cx - r - pad, cy - r - pad, cx + r + pad, cy + r + pad
    if tag == "rect":
        x, y, w, h = (float(el.get(k)) for k in ("x", "y", "width", "height"))
        return x - pad, y - pad, x + w + pad, y + h + pad
    if tag == "polygon":
        pts = [tuple(map(float, p.split(","))) for p in el.get("points").split()]
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        return min(xs) - pad, min(ys) - pad, max(xs) + pad, max(ys) + pad
    return None


def _text_box(el, font) -> tuple[float, float, float, float]:
    x, y = float(el.get("x")), float(el.get("y"))
    left, top, right, bottom = font.getbbox(el.text, anchor="ls")  # the glyphs' ink, from the baseline start
    width = font.getlength(el.text)
    shift = {"start": 0, "middle": width / 2, "end": width}[el.get("text-anchor", "start")]
    return x - shift + left, y + top, x - shift + max(right, width), y + bottom


def _gap(a, b) -> float:
    """How far apart two boxes are (0 when they touch or overlap)."""
    return max(0.0, a[0] - b[2], b[0] - a[2]) + max(0.0, a[1] - b[3], b[1] - a[3])


def _dot(point):
    return point[0], point[1], point[0], point[1]


def _hit(a, b) -> bool:
    return min(a[2], b[2]) > max(a[0], b[0]) and min(a[3], b[3]) > max(a[1], b[1])


def geometry(svg: str, font):
    """(node shapes, labels (text, box, their node's box, leader line), legend boxes, picture size), read
    from the SVG."""
    root = ET.fromstring(svg)
    _x, _y, width, height = map(float, root.get("viewBox").split())
    shapes, labels, legend = [], [], []
    for item in root:
        tag = item.tag.removeprefix(SVG)
        if tag == "g" and item.get("aria-hidden") == "true":  # the legend
            for el in item:
                box = _shape_box(el) if el.tag != f"{SVG}text" else _text_box(el, font)
                legend.append(box)
            continue
        if tag not in ("a", "g"):
            continue
        node_boxes = [b for b in (_shape_box(el) for el in item) if b]
        assert len(node_boxes) == 1, ET.tostring(item)[:200]
        box = node_boxes[0]
        shapes.append(box)
        leader = next(((float(el.get("x1")), float(el.get("y1")), float(el.get("x2")), float(el.get("y2")))
                       for el in item.iter(f"{SVG}line")), None)
        for el in item.iter(f"{SVG}text"):
            labels.append((el.text, _text_box(el, font), box, leader))
    return shapes, labels, legend, (width, height)


CASES = {
    "hand-built": lambda: [
        person("TPS", "A1", name="DEMO Ann Fictional", phones=("416-555-0101",), jurisdiction="ON"),
        person("SPVM", "A2", FULL, name="DEMO Anne Fictive", phones=("+1 (416) 555 0101",), jurisdiction="QC",
               vehicles=(VehicleView("dem 001", "AB"),)),
        person("EPS", "A3", SUMMARY, name="DEMO Driver", vehicles=(VehicleView("DEM-001", "AB"),))],
    "dense": dense_group,
    "star": star_group,
    "random-1": lambda: random_group(1),
    "random-7": lambda: random_group(7),
}


@pytest.mark.parametrize("case", list(CASES))
def test_labels_cover_no_node_no_label_and_not_the_legend(case, font):
    graph = net.build_graph(CASES[case]())
    group = max(net.groups(graph), key=lambda g: len(g.nodes))
    sub = graph.subgraph(group.nodes)
    svg = network_svg.graph_svg(sub, title="Group")
    shapes, labels, legend, (width, height) = geometry(svg, font)
    persons = [n for n in sub.nodes if sub.nodes[n]["kind"] == "person"]
    assert len(labels) == len(persons) >= 3  # one label per person record
    problems = []
    for i, (text, box, node, leader) in enumerate(labels):
        problems += [f"{text!r} covers a node" for shape in shapes if _hit(box, shape)]
        problems += [f"{text!r} covers {other!r}" for other, obox, _n, _l in labels[i + 1:] if _hit(box, obox)]
        problems += [f"{text!r} covers the legend" for lbox in legend if _hit(box, lbox)]
        if not (0 <= box[0] and box[2] <= width and 0 <= box[1] and box[3] <= height):
            problems.append(f"{text!r} leaves the picture: {box}")
        if _gap(box, node) > 20 and not (leader and _gap(_dot(leader[:2]), node) < 1
                                         and _gap(_dot(leader[2:]), box) < 4):
            problems.append(f"{text!r} is away from its node with no line to it")
    assert not problems, f"{case}: {len(problems)} label problems: {problems[:10]}"


def test_long_names_are_cut_and_labels_stay_legible():
    graph = net.build_graph(star_group())
    svg = network_svg.graph_svg(graph, title="Group")
    texts = re.findall(r"<text [^>]*paint-order=\"stroke\"[^>]*>([^<]+)</text>", svg)
    assert texts and all(len(t) <= network_svg.LABEL_CHARS for t in texts)
    assert all(t.endswith("…") for t in texts)  # "DEMO Wwwwmmmm Quite-Long-Name 12" is longer than that
    assert "style=" not in svg  # presentation attributes only (the CSP)
