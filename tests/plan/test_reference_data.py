"""The shipped reference plans reproduce their sources: every task and deliverable of the 2013-2014 Annex A,
every recommendation and action item of the open letter, in English with a French text for each."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from harbour.core.config import REPO_ROOT
from harbour.plan import importer, reporting
from harbour.plan.models import PlanDeliverable, PlanStrategy, PlanTask
from tests.plan.conftest import ADMIN

DATA = Path(__file__).resolve().parent / "data"
SEEDS = REPO_ROOT.parent / "shared" / "seeds"
ANNEX_FILE = importer.DATA_DIR / "nap-2012-2016-annex-a-2013-2014.yaml"
LETTER_FILE = importer.DATA_DIR / "open-letter-recommendations.yaml"
TASK_RE = re.compile(r"^(\d\.\d{2,3}) ", re.M)


def annex_a_text() -> str:
    """Annex A of seed 002 (the seed itself when present, else the copy kept beside these tests)."""
    seed = SEEDS / "002_5f393e1fe8ca7f1c.txt"
    if seed.exists():
        text = seed.read_text(encoding="utf-8")
        return text[text.index("\nAnnex A\n") + 1:text.index("\nAnnex B")]
    return (DATA / "annex_a_2013_2014.txt").read_text(encoding="utf-8")


def seed_rows(text: str) -> list[tuple[str, str, str, str]]:
    """(task number, deliverable text, printed status, printed lead) for every row of the flattened chart.

    Each row is: its text ending in " |" (or the text, then a lone "|" where the printed cell held a list
    that the flattening lost), "Start: ... |", the status, the lead; a task line "1.11 ... |" opens a task.
    """
    lines, rows, task = text.splitlines(), [], None
    for i, line in enumerate(lines):
        m = re.match(r"^(\d\.\d{2,3}) .* \|$", line)
        if m:
            task = m.group(1)
        elif line.startswith("Start"):
            body = lines[i - 2] if lines[i - 1] == "|" else lines[i - 1].removesuffix("|").strip()
            rows.append((task, body, lines[i + 1].removesuffix("|").strip(), lines[i + 2].removesuffix("|").strip()))
    return rows


def test_the_test_copy_of_annex_a_matches_the_seed():
    seed = SEEDS / "002_5f393e1fe8ca7f1c.txt"
    if not seed.exists():
        pytest.skip("seeds folder not present beside the repository")
    assert annex_a_text().strip() == (DATA / "annex_a_2013_2014.txt").read_text(encoding="utf-8").strip()


def test_seed_parser_finds_every_row():
    text = annex_a_text()
    rows = seed_rows(text)
    assert len(rows) == len(re.findall(r"^Start", text, re.M)) == 95
    assert sorted({r[0] for r in rows}) == sorted(set(TASK_RE.findall(text)))


def test_imported_annex_a_has_every_task_number_of_the_seed(db):
    result = importer.import_file(db, actor=ADMIN, path=ANNEX_FILE)
    seed_numbers = set(TASK_RE.findall(annex_a_text()))
    assert len(seed_numbers) == 18  # 1.11 ... 4.14
    strategy = db.execute(select(PlanStrategy).where(PlanStrategy.code == "NAP-2012-2016")).scalar_one()
    imported = set(db.execute(select(PlanTask.number).where(PlanTask.strategy_id == strategy.id)).scalars())
    assert imported == seed_numbers
    assert result.tasks == 18 and result.deliverables == 95


def test_imported_annex_a_reproduces_every_deliverable_row(db):
    importer.import_file(db, actor=ADMIN, path=ANNEX_FILE)
    grouped = reporting.chart(db, "NAP-2012-2016", "2013-2014")
    ours = [(t["number"], d["text_en"], d["status_text"], d["lead_text"] or ", ".join(d["leads"]))
            for _p, _o, t, d in reporting.iter_deliverables(grouped)]
    assert ours == seed_rows(annex_a_text())  # text, status and lead cells as printed, row for row, in order
    objectives = [(o["number"], o["text_en"]) for p in grouped["pillars"] for o in p["objectives"]]
    assert objectives == re.findall(r"^Objective (\d\.\d): (.*)$", annex_a_text(), re.M)
    assert [p["name_en"] for p in grouped["pillars"]] == [
        "Prevention", "Protection and Assistance for Victims", "Detection, Investigation and Prosecution of Traffickers",
        "Partnership and Knowledge (Domestic and International)"]


def test_annex_a_statuses_follow_the_printed_cells(db):
    importer.import_file(db, actor=ADMIN, path=ANNEX_FILE)
    for d in db.execute(select(PlanDeliverable)).scalars():
        printed = {p.lower().replace(" ", "_") for p in re.findall(r"Complete|Ongoing|In [Pp]rogress|On track",
                                                                    d.status_text)}
        printed = {"complete" if p.startswith("complete") else p for p in printed}
        assert d.status in printed, (d.task.number, d.ref, d.status, d.status_text)
        if len(printed) == 1:
            assert d.status == printed.pop()
        assert d.status_fiscal_year == "2013-2014"
        assert d.text_fr and d.text_fr != d.text_en
    summary = reporting.status_summary(db, "NAP-2012-2016", "2013-2014")
    assert summary["total"] == 95
    assert sum(summary["by_status"].values()) == 95 and summary["by_status"]["not_reported"] == 0


def test_open_letter_recommendations_reproduce_seed_004(db):
    result = importer.import_file(db, actor=ADMIN, path=LETTER_FILE)
    assert (result.tasks, result.deliverables) == (19, 19)
    grouped = reporting.chart(db, "CCEHT-OPEN-LETTER")
    assert grouped["strategy"]["kind"] == "recommendations"
    seed = SEEDS / "004_c6ca73869395f2f4.txt"
    letter = (seed.read_text(encoding="utf-8") if seed.exists() else None)
    items = [(o, t, d) for _p, o, t, d in reporting.iter_deliverables(grouped)]
    assert [t["number"] for _o, t, _d in items] == [f"1.{i}" for i in range(1, 10)] + \
        [f"2.{i}" for i in range(1, 6)] + [f"3.{i}" for i in range(1, 6)]
    for o, t, d in items:
        assert d["status"] == "not_started" and not d["narrative_en"] and d["latest_update"] is None
        assert d["leads"] == ["PS"] and t["text_fr"] and o["text_fr"]
        if letter is not None:
            assert t["text_en"] in letter and o["text_en"] in letter
    if letter is not None:
        bullets = [line.strip()[1:].strip() for line in letter.splitlines() if line.strip().startswith("•")]
        assert bullets == [t["text_en"] for _o, t, _d in items]
    partners = {t["number"]: d["partners"] for _o, t, d in items if d["partners"]}
    assert partners["1.5"] == ["CIC", "CBSA", "RCMP", "ESDC", "IRB"]  # IRCC resolves to CIC
    assert partners["2.1"] == ["ESDC"] and partners["1.9"] == ["FINTRAC"]


def test_every_shipped_file_validates_and_reimports_unchanged(db):
    for path in importer.shipped_files():
        first = importer.import_file(db, actor=ADMIN, path=path)
        again = importer.import_file(db, actor=ADMIN, path=path)
        assert first.created > 0 and (again.created, again.updated) == (0, 0), path.name
    assert db.execute(select(func.count(PlanStrategy.id))).scalar_one() == 2
