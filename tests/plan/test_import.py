"""`harbour plan import`: clear row-level errors, all-or-nothing, idempotent, audited; CSV export."""

from __future__ import annotations

import csv
import json

import pytest
import yaml
from sqlalchemy import func, select
from typer.testing import CliRunner

from harbour.core.models import AuditEntry
from harbour.plan import importer
from harbour.plan.importer import PlanImportError
from harbour.plan.models import PlanDeliverable, PlanDeliverableStatusRecord, PlanDepartment, PlanPillar, PlanTask
from tests.plan.conftest import ADMIN, CODE, plan_doc

PLAN_TABLES = (PlanPillar, PlanTask, PlanDeliverable, PlanDeliverableStatusRecord)


def counts(db) -> tuple[int, ...]:
    return tuple(db.execute(select(func.count()).select_from(m)).scalar_one() for m in PLAN_TABLES)


def errors_of(db, doc) -> list[str]:
    with pytest.raises(PlanImportError) as info:
        importer.import_document(db, actor=ADMIN, doc=doc)
    return info.value.errors


def four_tasks_doc() -> dict:
    doc = plan_doc()
    tasks = doc["pillars"][1]["objectives"][0]["tasks"]
    for n in range(2, 5):
        tasks.append({"number": f"2.1{n}", "text": f"Task {n}", "deliverables": [
            {"text": f"Deliverable {n}", "status": "ongoing", "leads": ["PS"]}]})
    return doc


def test_unknown_status_is_reported_with_its_path(db):
    doc = four_tasks_doc()
    doc["pillars"][1]["objectives"][0]["tasks"][3]["deliverables"][0]["status"] = "Done"
    assert errors_of(db, doc) == ["pillars[1].objectives[0].tasks[3].deliverables[0].status: unknown status 'Done'"]
    assert counts(db) == (0, 0, 0, 0)


def test_every_problem_is_listed_at_once(db):
    doc = four_tasks_doc()
    tasks = doc["pillars"][1]["objectives"][0]["tasks"]
    tasks[0]["deliverables"][0]["leads"] = ["NOPE"]
    tasks[1]["deliverables"][0]["end"] = "2013-2015"
    tasks[2]["number"] = "1.11"                      # already used in pillar 0
    del tasks[3]["deliverables"][0]["text"]
    tasks[3]["deliverables"][0]["colour"] = "blue"
    doc["strategy"]["kind"] = "wishlist"
    doc["pillars"][0]["objectives"][0]["tasks"][0]["deliverables"][1]["start"] = "2015-2016"
    doc["pillars"][0]["objectives"][0]["tasks"][0]["deliverables"][1]["end"] = "2014-2015"
    errors = errors_of(db, doc)
    assert "strategy.kind: unknown kind 'wishlist' (use action_plan, strategy or recommendations)" in errors
    assert "pillars[1].objectives[0].tasks[1].deliverables[0].end: '2013-2015' is not a fiscal year like 2013-2014 " \
           "(two consecutive years)" in errors
    assert "pillars[1].objectives[0].tasks[3].deliverables[0].text: required" in errors
    assert "pillars[1].objectives[0].tasks[3].deliverables[0].colour: unknown field" in errors
    assert "pillars[0].objectives[0].tasks[0].deliverables[1]: end fiscal year 2014-2015 is before start 2015-2016" \
        in errors
    assert len(errors) == 5  # shape errors first; cross-row checks run once the shape is right
    doc = four_tasks_doc()
    tasks = doc["pillars"][1]["objectives"][0]["tasks"]
    tasks[0]["deliverables"][0]["leads"] = ["NOPE"]
    tasks[2]["number"] = "1.11"
    assert errors_of(db, doc) == [
        "pillars[1].objectives[0].tasks[0].deliverables[0].leads[0]: unknown department 'NOPE'",
        "pillars[1].objectives[0].tasks[2].number: duplicate task number '1.11'",
    ]


def test_yaml_decimals_syntax_errors_and_wrong_types_are_explained(db, tmp_path):
    path = tmp_path / "plan.yaml"
    text = yaml.safe_dump(plan_doc(), allow_unicode=True, sort_keys=False).replace("number: '1.11'", "number: 1.10")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PlanImportError) as info:
        importer.import_file(db, actor=ADMIN, path=path)
    assert info.value.errors == ['pillars[0].objectives[0].tasks[0].number: write the number in quotes, like "1.10" '
                                 '(unquoted, YAML reads a decimal)']
    path.write_text("strategy: {code: X\npillars: [", encoding="utf-8")
    with pytest.raises(PlanImportError) as info:
        importer.import_file(db, actor=ADMIN, path=path)
    assert info.value.errors[0].startswith(f"{path}:") and "not valid YAML" in info.value.errors[0]
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(PlanImportError) as info:
        importer.import_file(db, actor=ADMIN, path=path)
    assert "must hold a mapping" in info.value.errors[0]
    doc = plan_doc()
    doc["pillars"] = "none"
    doc["strategy"]["code"] = "bad code!"
    assert errors_of(db, doc) == ["strategy.code: 'bad code!' is not a valid strategy code", "pillars: must be a list"]
    assert counts(db) == (0, 0, 0, 0)


def test_json_files_use_the_same_schema(db, tmp_path):
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(plan_doc()), encoding="utf-8")
    result = importer.import_file(db, actor=ADMIN, path=path)
    assert (result.tasks, result.deliverables) == (2, 4)
    path.write_text("{\"strategy\": ", encoding="utf-8")
    with pytest.raises(PlanImportError) as info:
        importer.import_file(db, actor=ADMIN, path=path)
    assert "not valid JSON" in info.value.errors[0]


def test_import_is_all_or_nothing_even_when_writing_fails(db, monkeypatch):
    importer.import_document(db, actor=ADMIN, doc=plan_doc())
    before = counts(db)
    audit_before = db.execute(select(func.count(AuditEntry.id))).scalar_one()
    doc = plan_doc()
    doc["pillars"][0]["objectives"][0]["tasks"].append(
        {"number": "1.12", "text": "New task", "deliverables": [{"text": "New", "leads": ["PS"]}]})
    doc["pillars"][0]["name"]["en"] = "Prevention (renamed)"

    calls = {"n": 0}
    original = importer._import_status

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise RuntimeError("disk full (simulated)")
        return original(*args, **kwargs)

    monkeypatch.setattr(importer, "_import_status", failing)
    with pytest.raises(RuntimeError):
        importer.import_document(db, actor=ADMIN, doc=doc)
    assert counts(db) == before
    assert db.execute(select(PlanPillar.name_en).where(PlanPillar.code == "prevention")).scalar_one() == "Prevention"
    assert db.execute(select(func.count(AuditEntry.id))).scalar_one() == audit_before


def test_reimport_is_idempotent_and_updates_in_place(db):
    first = importer.import_document(db, actor=ADMIN, doc=plan_doc())
    assert (first.created, first.updated) == (11, 0)  # strategy, 2 pillars, 2 objectives, 2 tasks, 4 deliverables
    snapshot = counts(db)
    again = importer.import_document(db, actor=ADMIN, doc=plan_doc())
    assert (again.created, again.updated, again.unchanged, again.departments_changed) == (0, 0, 11, 0)
    assert counts(db) == snapshot
    doc = plan_doc()
    d = doc["pillars"][0]["objectives"][0]["tasks"][0]["deliverables"][0]
    d["text"]["en"] = "Fictional RCMP toolkit, second edition"
    d["status"] = "complete"
    changed = importer.import_document(db, actor=ADMIN, doc=doc)
    assert (changed.created, changed.updated) == (0, 1)
    assert counts(db) == snapshot
    row = db.execute(select(PlanDeliverable).where(PlanDeliverable.text_en.like("%second edition"))).scalar_one()
    assert (row.status, row.status_fiscal_year) == ("complete", "2013-2014")
    imports = db.execute(select(AuditEntry).where(AuditEntry.action == "import")).scalars().all()
    assert [e.detail["created"] for e in imports] == [11, 0, 0] and all(e.detail["code"] == CODE for e in imports)
    # rows left out of a later file are kept, and reported
    doc["pillars"] = doc["pillars"][:1]
    partial = importer.import_document(db, actor=ADMIN, doc=doc)
    assert "pillar protection" in partial.not_in_file and "task 2.11" in partial.not_in_file
    assert counts(db) == snapshot


def test_department_aliases_and_file_departments(db):
    doc = plan_doc()
    doc["departments"] = [{"code": "FICT", "name": {"en": "Fictional Agency", "fr": "Agence fictive"},
                           "aliases": ["FA"]}]
    deliverables = doc["pillars"][0]["objectives"][0]["tasks"][0]["deliverables"]
    deliverables[0]["partners"] = ["IRCC", "wage", "FA"]
    importer.import_document(db, actor=ADMIN, doc=doc)
    row = db.execute(select(PlanDeliverable).where(PlanDeliverable.text_en == "Fictional RCMP toolkit")).scalar_one()
    assert row.partner_departments == ["CIC", "SWC", "FICT"]
    assert db.get(PlanDepartment, "FICT").name_fr == "Agence fictive"


@pytest.fixture
def cli(app, monkeypatch):
    """The real `harbour` command, on the test database."""
    import harbour.cli

    monkeypatch.setattr(harbour.cli, "_sessionmaker", lambda: app.state.sessionmaker)
    runner = CliRunner()
    return lambda *args: runner.invoke(harbour.cli.app, list(args))


def test_cli_import_export_and_errors(cli, db, tmp_path):
    bad = tmp_path / "bad.yaml"
    doc = four_tasks_doc()
    doc["pillars"][1]["objectives"][0]["tasks"][3]["deliverables"][0]["status"] = "Done"
    bad.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    r = cli("plan", "import", str(bad))
    assert r.exit_code == 2
    assert "pillars[1].objectives[0].tasks[3].deliverables[0].status: unknown status 'Done'" in r.output
    assert counts(db) == (0, 0, 0, 0)

    r = cli("plan", "import", "--shipped")
    assert r.exit_code == 0, r.output
    assert "strategy NAP-2012-2016: 18 tasks, 95 deliverables" in r.output
    r = cli("plan", "import", "--shipped")
    assert r.exit_code == 0 and "0 rows created, 0 updated" in r.output

    out = tmp_path / "nap.csv"
    r = cli("plan", "export", "--strategy", "NAP-2012-2016", "--fiscal-year", "2013-2014", "--out", str(out))
    assert r.exit_code == 0, r.output
    with out.open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 95 and {r["task"] for r in rows} >= {"1.11", "4.14"}
    assert rows[0]["deliverable_fr"] and rows[0]["status"] == "ongoing" and rows[0]["fiscal_year"] == "2013-2014"
    r = cli("plan", "export", "--strategy", "NOPE", "--out", str(out))
    assert r.exit_code == 2
    r = cli("plan", "list")
    assert "NAP-2012-2016" in r.output and "CCEHT-OPEN-LETTER" in r.output


def test_csv_cells_never_start_a_formula(db):
    from harbour.plan.reporting import _cell

    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)" and _cell("+1") == "'+1" and _cell("ok") == "ok"
    assert _cell(["PS", "RCMP"]) == "PS; RCMP" and _cell(None) == "" and _cell(True) == "yes"
