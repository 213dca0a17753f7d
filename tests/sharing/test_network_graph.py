"""The network graph on small hand-built inputs (no database): groups, provinces, hidden records, movement.

Every person here is fictional (``DEMO`` names, 555-01XX phone numbers)."""

from __future__ import annotations

from datetime import date

import networkx as nx
import pytest

from harbour.sharing import network as net
from harbour.sharing import network_svg
from harbour.sharing.network import (
    FULL,
    HIT,
    OWN,
    SUMMARY,
    AddressView,
    HandleView,
    OccurrenceView,
    PersonView,
    VehicleView,
)


def person(agency, rid, level=OWN, **kw) -> PersonView:
    return PersonView(agency=agency, agency_name=f"{agency} (fictional)", record_id=rid, level=level, **kw)


def hand_built() -> list[PersonView]:
    """Three groups:
    A: ON record and QC record share a phone (written differently), the QC one shares a plate with an
       AB-plated vehicle → ON, QC, AB.
    B: two ON records at the same address (postal code spaced differently) → ON only.
    C: a lone NS record with a city-only address → NS only, and no address node.
    """
    return [
        person("TPS", "A1", name="DEMO Ann Fictional", phones=("416-555-0101",),
               addresses=(AddressView("1 Demo St", "Toronto", "ON", "M5V 1A1"),)),
        person("SPVM", "A2", FULL, name="DEMO Anne Fictive", phones=("+1 (416) 555 0101",),
               occurrences=(OccurrenceView("OC-9", date(2024, 6, 1), "QC", "Montréal", ("CC-286.2",)),),
               vehicles=(VehicleView("dem 001", "AB"),)),
        person("EPS", "A3", SUMMARY, name="DEMO Driver", vehicles=(VehicleView("DEM-001", "AB"),)),
        person("TPS", "B1", name="DEMO Bo", addresses=(AddressView("9 Fake Ave", "Ottawa", "ON", "K1A0B1"),)),
        person("TPS", "B2", name="DEMO Cy", addresses=(AddressView("9 fake ave.", "Ottawa", "ON", "k1a 0b1"),)),
        person("HRP", "C1", name="DEMO Lone", addresses=(AddressView(None, "Halifax", "NS", None),)),
    ]


def test_multi_province_groups_are_found_on_a_hand_built_graph():
    graph = net.build_graph(hand_built())
    found = net.groups(graph)
    assert len(found) == 3
    by_persons = {tuple(g.persons): g for g in found}
    a = by_persons[("person:EPS:A3", "person:SPVM:A2", "person:TPS:A1")]
    assert a.provinces == ["AB", "ON", "QC"] and a.multi_province
    assert a.agencies == ["EPS", "SPVM", "TPS"]
    assert by_persons[("person:TPS:B1", "person:TPS:B2")].provinces == ["ON"]
    assert by_persons[("person:HRP:C1",)].provinces == ["NS"]
    multi = net.multi_province_groups(graph)
    assert [g.persons for g in multi] == [a.persons]
    assert found[0] is not None and found[0].id == a.id  # widest first


def test_groups_match_networkx_components_and_ids_are_stable():
    graph = net.build_graph(hand_built())
    assert sorted(len(g.nodes) for g in net.groups(graph)) == sorted(len(c) for c in nx.connected_components(graph))
    again = net.build_graph(list(reversed(hand_built())))
    assert {g.id for g in net.groups(graph)} == {g.id for g in net.groups(again)}
    gid = net.multi_province_groups(graph)[0].id
    assert net.find_group(graph, gid).persons == net.multi_province_groups(graph)[0].persons
    assert net.find_group(graph, "g000000000000") is None
    assert net.group_of(graph, "person:TPS:B2").persons == ["person:TPS:B1", "person:TPS:B2"]
    assert net.group_of(graph, "person:XX:none") is None


def test_the_same_phone_written_differently_is_one_node_and_city_only_addresses_join_nothing():
    graph = net.build_graph(hand_built())
    phones = [n for n, d in graph.nodes(data=True) if d["kind"] == "phone"]
    assert phones == ["phone:+14165550101"]
    assert graph.degree("phone:+14165550101") == 2
    addresses = [n for n, d in graph.nodes(data=True) if d["kind"] == "address"]
    assert len(addresses) == 2  # Toronto and the shared Ottawa one; Halifax (city only) is not an address
    assert not any("halifax" in n.lower() for n in graph.nodes)


def test_a_hit_only_record_joins_only_through_its_entity_and_brings_only_its_agencys_province():
    people = [
        person("TPS", "X1", name="DEMO Own", entity_id="E1", jurisdiction="ON", phones=("416-555-0111",)),
        # the same phone as the viewer's record, but only a hit: no phone edge may reveal that
        person("VPD", "X2", HIT, entity_id="E1", jurisdiction="BC", phones=("416-555-0111",),
               addresses=(AddressView("5 Hidden Rd", "Regina", "SK", "S4P 0A1"),)),
        person("WPS", "X3", HIT, entity_id="E9", jurisdiction="MB", phones=("416-555-0111",)),
    ]
    graph = net.build_graph(people)
    assert set(graph.neighbors("person:VPD:X2")) == {"entity:E1"}
    assert graph.degree("phone:+14165550111") == 1
    assert "person:WPS:X3" in graph and graph.degree("person:WPS:X3") == 0  # E9 has one visible member: no node
    assert "entity:E9" not in graph
    assert not any("hidden" in n.lower() or "regina" in str(d).lower() for n, d in graph.nodes(data=True))
    group = net.group_of(graph, "person:TPS:X1")
    assert group.provinces == ["BC", "ON"]  # SK (the hidden address) is not the viewer's to see
    assert graph.nodes["person:VPD:X2"]["label"] == "VPD (fictional)"


def test_an_entity_node_needs_two_visible_members_and_joins_records_across_agencies():
    people = [person("TPS", "1", name="DEMO A", entity_id="E", jurisdiction="ON"),
              person("SQ", "2", FULL, name="DEMO A", entity_id="E", jurisdiction="QC")]
    graph = net.build_graph(people)
    assert set(graph.neighbors("entity:E")) == {"person:TPS:1", "person:SQ:2"}
    assert net.multi_province_groups(graph)[0].provinces == ["ON", "QC"]
    alone = net.build_graph(people[:1])
    assert "entity:E" not in alone


def test_handles_ads_and_vehicles_connect_records():
    people = [person("TPS", "1", name="DEMO A", handles=(HandleView("DemoAds", "@Demo_Rose"),)),
              person("CBSA", "2", FULL, name="DEMO B", handles=(HandleView("demoads", "demo_rose"),),
                     vehicles=(VehicleView("DEMO 42", "QC", "fictional grey van"),))]
    graph = net.build_graph(people)
    assert nx.has_path(graph, "person:TPS:1", "person:CBSA:2")
    assert graph.nodes["vehicle:QC:DEMO42"]["provinces"] == {"QC"}


def test_unknown_levels_are_refused():
    with pytest.raises(ValueError):
        net.build_graph([person("TPS", "1", "everything")])


def test_timeline_orders_dated_places_and_finds_movements_and_skips_hidden_records():
    people = [
        person("TPS", "1", entity_id="E", addresses=(AddressView("1 Demo St", "Toronto", "ON", "M5V1A1",
                                                                 since=date(2023, 1, 5)),),
               occurrences=(OccurrenceView("T-1", date(2023, 3, 1), "ON", "Toronto", ("CC-279.01",)),)),
        person("SPVM", "2", FULL, entity_id="E",
               occurrences=(OccurrenceView("M-7", date(2023, 8, 9), "QC", "Montréal", ("CC-286.3",)),)),
        person("HRP", "3", SUMMARY, entity_id="E", recorded_on=date(2024, 2, 2), jurisdiction="NS"),
        person("VPD", "4", HIT, entity_id="E", recorded_on=date(2022, 1, 1), jurisdiction="BC",
               occurrences=(OccurrenceView("V-1", date(2022, 1, 1), "BC", "Vancouver"),)),
    ]
    events = net.timeline(people)
    assert [(e.on.isoformat(), e.province, e.kind) for e in events] == [
        ("2023-01-05", "ON", "address"), ("2023-03-01", "ON", "occurrence"), ("2023-08-09", "QC", "occurrence"),
        ("2024-02-02", "NS", "record")]
    assert [(a.province, b.province) for a, b in net.movements(events)] == [("ON", "QC"), ("QC", "NS")]
    assert all(e.agency != "VPD" for e in events)


def test_graph_svg_draws_every_node_with_a_title_and_never_an_inline_style():
    graph = net.build_graph(hand_built())
    group = net.multi_province_groups(graph)[0]
    svg = network_svg.graph_svg(graph.subgraph(group.nodes), title="Group",
                                href=lambda n, d: f"/x/{d['agency']}" if d["kind"] == "person" else None)
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert "style=" not in svg and "<script" not in svg
    assert svg.count("<title>") == len(group.nodes)
    assert 'href="/x/TPS"' in svg and "DEMO Ann Fictional" in svg
    big = nx.path_graph(network_svg.MAX_DRAWN + 1)
    nx.set_node_attributes(big, "phone", "kind")
    assert network_svg.graph_svg(big, title="too big") is None


def test_movement_chart_is_an_offline_svg_data_uri():
    events = net.timeline([person("TPS", "1", occurrences=(
        OccurrenceView("T-1", date(2023, 3, 1), "ON", "Toronto"), OccurrenceView("T-2", date(2023, 5, 1), "QC",
                                                                                  "Gatineau")))])
    uri = network_svg.movement_chart(events, title="Movement")
    assert uri.startswith("data:image/svg+xml;base64,")
    import base64

    svg = base64.b64decode(uri.split(",", 1)[1]).decode()
    assert ">ON</text>" in svg and ">QC</text>" in svg and "Gatineau" in svg
    assert network_svg.movement_chart([], title="none") is None


def test_a_matched_hit_or_summary_record_joins_the_viewers_record_never_the_attribute():
    people = [
        person("TPS", "1", name="DEMO Own", phones=("416-555-0120",), jurisdiction="ON"),
        person("SPVM", "2", HIT, jurisdiction="QC", matched=("phone:+14165550120",)),
        person("SQ", "3", SUMMARY, jurisdiction="QC", matched=("phone:+14165550120", "phone:+15145550199")),
    ]
    graph = net.build_graph(people)
    assert set(graph.neighbors("person:SPVM:2")) == {"person:TPS:1"}
    assert set(graph.neighbors("person:SQ:3")) == {"person:TPS:1"}  # a node the viewer lacks adds nothing
    assert set(graph.neighbors("phone:+14165550120")) == {"person:TPS:1"}
    assert "phone:+15145550199" not in graph
    assert net.group_of(graph, "person:TPS:1").provinces == ["ON", "QC"]
