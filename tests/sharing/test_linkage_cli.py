"""`harbour link csv` / `harbour link train`: output, and clear errors (no traceback) for bad input."""

from __future__ import annotations

import csv

import pytest
from typer.testing import CliRunner

from harbour.cli import app
from harbour.sharing.normalise import CANONICAL_COLUMNS

runner = CliRunner()
HEADER = ",".join(CANONICAL_COLUMNS)
GOOD = [
    "1,SYN-TOR,Robert,,Tremblay,1985-03-07,M,(416) 555-0101,,12 King Street,Toronto,ON,M5V 2T6",
    "A7,SYN-MTL,Bob,,Tremblay,1985-07-03,M,416-555-0101,,,Montréal,QC,",
    "1,SYN-MTL,Alice,,Nguyen,1990-04-12,F,514 555 0144,,,Montréal,QC,",
    "2,SYN-TOR,Robert,,Tremblay,1952-01-30,M,416 555 0777,,,Toronto,ON,",
]


def _write(tmp_path, lines, name="in.csv"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_link_csv_writes_record_id_entity_id(tmp_path):
    src, out = _write(tmp_path, [HEADER, *GOOD]), tmp_path / "clusters.csv"
    result = runner.invoke(app, ["link", "csv", str(src), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "4 records -> 3 entities" in result.output
    with out.open() as fh:
        rows = list(csv.reader(fh))
    assert rows[0][:2] == ["record_id", "entity_id"]
    body = {(r[2], r[0]): r[1] for r in rows[1:]}
    assert len(body) == 4  # record id "1" exists at two agencies: kept apart by the agency column
    assert body[("SYN-TOR", "1")] == body[("SYN-MTL", "A7")]
    assert body[("SYN-MTL", "1")] != body[("SYN-TOR", "1")] != body[("SYN-TOR", "2")]
    assert [r[0] for r in rows[1:]] == ["1", "A7", "1", "2"]  # input order


def _fails(args, *needles):
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    for needle in needles:
        assert needle in result.output
    return result


def test_missing_file(tmp_path):
    _fails(["link", "csv", str(tmp_path / "nope.csv"), "--out", str(tmp_path / "o.csv")], "no such file")


def test_wrong_columns(tmp_path):
    src = _write(tmp_path, ["record_id,agency,name", "1,A,Ann"])
    _fails(["link", "csv", str(src), "--out", str(tmp_path / "o.csv")], "lacks column(s)", "given_name")


def test_bad_dates_are_reported_by_line_without_the_value(tmp_path):
    src = _write(tmp_path, [HEADER, GOOD[0], "9,SYN-TOR,Ann,,Lee,1985-02-30,F,,,,,,", GOOD[2]])
    result = _fails(["link", "csv", str(src), "--out", str(tmp_path / "o.csv")], "YYYY-MM-DD", "line 3")
    assert "1985-02-30" not in result.output
    assert not (tmp_path / "o.csv").exists()


def test_blank_and_duplicate_keys(tmp_path):
    src = _write(tmp_path, [HEADER, GOOD[0], ",SYN-TOR,Ann,,Lee,1985-02-03,F,,,,,,"])
    _fails(["link", "csv", str(src), "--out", str(tmp_path / "o.csv")], "record_id and an agency")
    src = _write(tmp_path, [HEADER, GOOD[0], GOOD[0]], "dup.csv")
    _fails(["link", "csv", str(src), "--out", str(tmp_path / "o.csv")], "unique within an agency")


def test_empty_file_and_bad_model_and_threshold(tmp_path):
    _fails(["link", "csv", str(_write(tmp_path, [""])), "--out", str(tmp_path / "o.csv")], "empty")
    src = _write(tmp_path, [HEADER, *GOOD], "good.csv")
    bad_model = tmp_path / "model.json"
    bad_model.write_text("{}")
    _fails(["link", "csv", str(src), "--out", str(tmp_path / "o.csv"), "--model", str(bad_model)],
           "not a linkage model")
    _fails(["link", "csv", str(src), "--out", str(tmp_path / "o.csv"), "--threshold", "1.5"], "--threshold")


@pytest.mark.slow
def test_train_then_link_with_the_trained_model(tmp_path):
    from harbour.sharing import synthetic

    data = synthetic.generate(3000, seed=11)
    src = tmp_path / "people.csv"
    data.rows.to_csv(src, index=False)
    model = tmp_path / "model.json"
    result = runner.invoke(app, ["link", "train", str(src), "--out", str(model)])
    assert result.exit_code == 0, result.output
    assert "trained on 3000 records" in result.output
    out = tmp_path / "clusters.csv"
    result = runner.invoke(app, ["link", "csv", str(src), "--out", str(out), "--model", str(model)])
    assert result.exit_code == 0, result.output
    assert sum(1 for _ in out.open()) == 3001
