"""Keyed CLK encodings and anonlink matching; document validation; frequency-attack hardening."""

from __future__ import annotations

import base64
import copy
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from harbour.cli import app
from harbour.sharing import pprl, synthetic
from harbour.sharing.normalise import CANONICAL_COLUMNS, prepare

SECRET = b"synthetic-shared-secret-for-tests-only"
runner = CliRunner()


@pytest.fixture(scope="module")
def people():
    data = synthetic.generate(600, seed=5)
    rows = data.rows
    return rows, data


def _split(rows):
    a = rows[rows["agency"].isin(synthetic.AGENCIES[:6])]
    b = rows[~rows["agency"].isin(synthetic.AGENCIES[:6])]
    return a, b


def test_document_holds_no_names(people):
    rows, _ = people
    doc = pprl.encode_rows(rows.head(50), SECRET, agency="SYN-TOR")
    text = json.dumps(doc)
    for name in rows.head(50)["surname"]:
        assert not name or name not in text
    assert doc["format"] == "harbour-clk/1" and pprl.validate_document(doc) == []
    assert len(base64.b64decode(doc["records"][0]["clk"])) == 2048 // 8  # balanced: 2 x 1024 bits
    assert SECRET.decode() not in text


def test_encoding_is_keyed_and_deterministic(people):
    rows, _ = people
    one = pprl.encode_rows(rows.head(5), SECRET, agency="X")
    assert pprl.encode_rows(rows.head(5), SECRET, agency="X") == one
    other = pprl.encode_rows(rows.head(5), b"another-secret-of-enough-length", agency="X")
    assert other["records"][0]["clk"] != one["records"][0]["clk"]
    assert other["schema"]["key_fingerprint"] != one["schema"]["key_fingerprint"]


def test_match_finds_the_same_people_across_agencies(people):
    rows, data = people
    a, b = _split(rows)
    doc_a = pprl.encode_rows(a.assign(agency="A"), SECRET, agency="A")
    doc_b = pprl.encode_rows(b.assign(agency="B"), SECRET, agency="B")
    person = dict(zip(rows["record_id"], data.person, strict=True))
    found = pprl.match(doc_a, doc_b)
    assert found and all(0 < m.score <= 1 for m in found)
    correct = sum(person[m.record_id_a] == person[m.record_id_b] for m in found)
    assert correct / len(found) >= 0.85  # heavy synthetic errors (moves, new phones) on top of CLK noise
    # one-to-one: no record used twice
    assert len({m.record_id_a for m in found}) == len(found) == len({m.record_id_b for m in found})


def test_different_secrets_or_schemas_are_refused(people):
    rows, _ = people
    doc_a = pprl.encode_rows(rows.head(20), SECRET, agency="A")
    doc_b = pprl.encode_rows(rows.head(20), b"another-secret-of-enough-length", agency="B")
    with pytest.raises(pprl.PprlError, match="different secrets"):
        pprl.match(doc_a, doc_b)
    doc_c = pprl.encode_rows(rows.head(20), SECRET, agency="C", hardening="xor-fold")
    with pytest.raises(pprl.PprlError, match="different schemas"):
        pprl.match(doc_a, doc_c)


@pytest.mark.parametrize(("mutate", "needle"), [
    (lambda d: d.update(format="clkhash"), "format"),
    (lambda d: d["schema"].pop("key_fingerprint"), "shared secret"),
    (lambda d: d.pop("agency"), "agency"),
    (lambda d: d["records"][0].update(clk="!!not base64!!"), "base64"),
    (lambda d: d["records"][0].update(clk=base64.b64encode(b"short").decode()), "bits"),
    (lambda d: d["records"][1].update(record_id=d["records"][0]["record_id"]), "duplicate"),
    (lambda d: d.update(records="nope"), "list"),
    (lambda d: d["schema"].update(hardening={"method": "rot13"}), "hardening"),
])
def test_validate_document_problems(people, mutate, needle):
    rows, _ = people
    doc = copy.deepcopy(pprl.encode_rows(rows.head(3), SECRET, agency="A"))
    mutate(doc)
    problems = pprl.validate_document(doc)
    assert problems and any(needle in p for p in problems)
    with pytest.raises(pprl.PprlError):
        pprl.match(doc, doc)


def test_validate_non_object():
    assert pprl.validate_document([1, 2]) == ["the document must be a JSON object"]


def test_short_secret_refused():
    with pytest.raises(pprl.PprlError):
        pprl.encode_rows([{"record_id": "1", "given_name": "Ann"}], b"short", agency="A")


def _bits(rows, hardening):
    return pprl.encode_matrix(prepare(rows), SECRET, pprl.schema(hardening, secret=SECRET))


def test_balanced_filters_all_have_the_same_weight(people):
    rows, _ = people
    plain = _bits(rows, "none")
    balanced = _bits(rows, "balanced")
    assert plain.sum(axis=1).std() > 5  # plain filters betray how much was encoded (name length, fields)
    assert set(balanced.sum(axis=1)) == {1024}  # balanced: every filter has exactly half its bits set


def test_xor_folding_and_blip_flatten_bit_frequencies(people):
    rows, _ = people
    plain = np.abs(_bits(rows, "none").mean(axis=0) - 0.5).mean()
    folded = np.abs(_bits(rows, "xor-fold").mean(axis=0) - 0.5).mean()
    blip = np.abs(_bits(rows, "blip").mean(axis=0) - 0.5).mean()
    assert folded < plain * 0.8
    assert blip < plain


def test_frequent_name_is_not_a_fixed_bit_pattern(people):
    """The same frequent token sets the same bits in plain filters; after XOR-folding it does not."""
    rows, _ = people
    same = rows.head(40).assign(given_name="Marie")
    plain = _bits(same, "none")
    folded = _bits(same, "xor-fold")
    assert (plain.min(axis=0) == 1).sum() >= 18  # bits every "marie" filter shares
    assert (folded.min(axis=0) == 1).sum() < (plain.min(axis=0) == 1).sum()


# ------------------------------------------------------------------------------------------ CLI
def _csv(tmp_path, rows, name):
    path = tmp_path / name
    rows[CANONICAL_COLUMNS].to_csv(path, index=False)
    return path


def test_cli_encode_and_link(tmp_path, people):
    rows, _ = people
    a, b = _split(rows)
    key = tmp_path / "KEY"
    key.write_text("a-synthetic-secret-shared-by-agencies\n")
    for name, frame in (("a", a.assign(agency="A")), ("b", b.assign(agency="B"))):
        result = runner.invoke(app, ["pprl", "encode", str(_csv(tmp_path, frame, f"{name}.csv")),
                                     "--secret-file", str(key), "--out", str(tmp_path / f"{name}.json")])
        assert result.exit_code == 0, result.output
    out = tmp_path / "pairs.csv"
    result = runner.invoke(app, ["link", "pprl", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--out",
                                 str(out)])
    assert result.exit_code == 0, result.output
    lines = out.read_text().splitlines()
    assert lines[0].startswith("record_id_a,record_id_b") and len(lines) > 10


def _fails(args, needle):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and needle in result.output


def test_cli_errors(tmp_path, people):
    rows, _ = people
    src = _csv(tmp_path, rows.head(10), "in.csv")
    short = tmp_path / "short"
    short.write_text("abc")
    _fails(["pprl", "encode", str(src), "--secret-file", str(tmp_path / "nokey"), "--out", str(tmp_path / "o")],
           "no such secret file")
    _fails(["pprl", "encode", str(src), "--secret-file", str(short), "--out", str(tmp_path / "o")], "too short")
    key = tmp_path / "KEY"
    key.write_text("a-synthetic-secret-shared-by-agencies")
    _fails(["pprl", "encode", str(src), "--secret-file", str(key), "--out", str(tmp_path / "o")], "--agency")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    _fails(["link", "pprl", str(bad), str(bad), "--out", str(tmp_path / "p.csv")], "not a JSON document")
    wrong = tmp_path / "wrong.json"
    wrong.write_text(json.dumps({"format": "harbour-clk/1", "records": [{"record_id": "1", "clk": "***"}]}))
    _fails(["link", "pprl", str(wrong), str(wrong), "--out", str(tmp_path / "p.csv")], "base64")
    _fails(["link", "pprl", str(tmp_path / "none.json"), str(wrong), "--out", str(tmp_path / "p.csv")],
           "no such file")
