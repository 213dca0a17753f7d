"""The sharing demo's synthetic people (no database): fixed seed, obviously fake, valid for ingest, and shaped
so that linkage and the network have something to find."""

from __future__ import annotations

import re
from collections import defaultdict

from harbour.sharing import demo_people
from harbour.sharing.schemas import HandleIn, LocationIn, OccurrenceIn, PersonIn, VehicleIn


def test_the_same_seed_gives_the_same_people_and_another_seed_other_names():
    a, b = demo_people.generate(7), demo_people.generate(7)
    assert [r.canonical() for r in a] == [r.canonical() for r in b]
    c = demo_people.generate(8)
    assert [r.surname for r in a] != [r.surname for r in c]
    assert 200 <= len(a) <= 400
    assert {r.agency for r in a} == {x.code for x in demo_people.AGENCIES}


def test_everything_is_obviously_fictional():
    records = demo_people.generate()
    assert all(a.name.endswith("(fictional)") or "(fictional" in a.name for a in demo_people.AGENCIES)
    assert all("fictif" in a.name_fr or "fictive" in a.name_fr for a in demo_people.AGENCIES)
    for r in records:
        assert r.record_id.startswith("DEMO-")
        assert r.phone is None or re.fullmatch(r"\d{3}-555-01\d\d", r.phone)
        assert r.email is None or r.email.endswith("@example.com")
        for v in r.vehicles:
            assert v["plate"].startswith("DEMO ")
        for o in r.occurrences:
            assert "fictional" in o.summary


def test_phones_are_never_shared_by_accident():
    """Only the rings share a phone on purpose (the labour ring's employer number); any other shared number
    would invent a connection in the network."""
    holders = defaultdict(set)
    for r in demo_people.generate():
        if r.phone:
            holders[r.phone].add(r.identity.split("-")[0] if r.identity.startswith("ring") else r.identity)
    shared = {p: ids for p, ids in holders.items() if len(ids) > 1}
    assert len(shared) == 1
    (ids,) = shared.values()
    assert "ring2" in ids and any(i.startswith("traveller") for i in ids)


def test_travellers_appear_in_several_agencies_and_provinces_with_variations():
    by_identity = defaultdict(list)
    for r in demo_people.generate():
        by_identity[r.identity].append(r)
    travellers = {k: v for k, v in by_identity.items() if k.startswith("traveller-")}
    assert len(travellers) == len(demo_people.TRAVELLERS)
    for key, recs in travellers.items():
        assert len({r.agency for r in recs}) >= 3, key
        assert len({o.jurisdiction for r in recs for o in r.occurrences}) >= 2, key
        assert len({(r.given_name, r.surname, r.date_of_birth, r.phone, r.email) for r in recs}) == len(recs), key


def test_every_row_is_valid_for_ingest():
    from harbour.sharing.demo import _rows

    rows = _rows(demo_people.generate())
    schemas = {"person": PersonIn, "handle": HandleIn, "vehicle": VehicleIn, "location": LocationIn,
               "occurrence": OccurrenceIn}
    for record_type, schema in schemas.items():
        assert rows[record_type], record_type
        for row in rows[record_type]:
            schema.model_validate(row)
    ids = [r["record_id"] for r in rows["person"]]
    assert len(ids) == len(set(ids))
