"""HSDS 3.0 packages: lossless round trip, all-or-nothing validation, idempotent re-import, redaction, CLI."""

from __future__ import annotations

import csv
import io
import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select

from harbour.core.audit import Actor
from harbour.core.db import utcnow
from harbour.core.models import AuditEntry
from harbour.directory import hsds
from harbour.directory import models as m
from harbour.directory import service as svc
from harbour.directory.schemas import ProviderCreate

ADMIN = Actor(None, "system:tests", "admin")
DATA = Path(__file__).parent / "data"
STREET = "77 Hidden Demo Lane"  # the confidential shelter's street: never in a redacted export
SECRET_POSTAL = "P0D 0D7"


def _providers(db) -> dict[str, str]:
    """Providers using every feature create_provider has, plus rows for the tables it does not write."""
    today = utcnow().date()
    shelter = svc.create_provider(db, actor=ADMIN, data=ProviderCreate(
        name="DEMO Hidden Harbour Shelter (fictional)", description="Fictional confidential shelter.",
        email="shelter@example.org", website="https://hidden-harbour.example.org", indigenous_led=True,
        location={"name": "DEMO confidential site", "location_type": "redacted", "address_1": STREET,
                  "city": "Thunder Bay", "province": "ON", "postal_code": SECRET_POSTAL, "latitude": 48.38217,
                  "longitude": -89.25011, "wheelchair_accessible": True},
        services=[
            {"name": "DEMO Emergency beds (fictional)", "types": ["emergency_shelter"], "languages": ["en", "fr"],
             "open_24_7": True, "capacity": {"available": 3, "maximum": 12}, "genders": ["women"],
             "statuses": ["temporary", "no_status"], "survivor_types": ["sex_trafficking"], "minimum_age": 18,
             "phone": "807-555-0110", "eligibility_description": "Women 18+, \"all\" statuses,\nno ID needed."},
            {"name": "DEMO Counselling line (fictional)", "types": ["counselling", "youth"], "minimum_age": 12,
             "maximum_age": 24, "hours": [{"days": ["MO", "WE"], "opens_at": "09:30", "closes_at": "17:00"},
                                          {"days": ["SA"], "opens_at": "10:00", "closes_at": "14:00"}],
             "areas": ["national", "virtual"], "email": "line@example.org", "url": "https://line.example.org",
             "interpretation_services": "Interprètes sur demande (fictif)"},
        ],
        vetting="vetted", vetted_by="DEMO vetting team", vetted_on=today - timedelta(days=100),
        vetting_expires_on=today + timedelta(days=20)))
    clinic = svc.create_provider(db, actor=ADMIN, data=ProviderCreate(
        name="DEMO Avalon Legal Clinic (fictional)",
        location={"address_1": "5 Demo Street", "city": "St. John's", "province": "NL", "postal_code": "A0D 0D1",
                  "latitude": 47.5615, "longitude": -52.7126},
        services=[{"name": "DEMO Legal aid (fictional)", "types": ["legal_aid", "immigration"],
                   "languages": ["en", "es"], "hours": [{"days": ["TU"], "opens_at": "08:00", "closes_at": "12:00"}],
                   "capacity": {"available": 0, "unit": "appointment"}, "status": "temporarily closed"}],
        vetting="pending"))
    virtual = svc.create_provider(db, actor=ADMIN, data=ProviderCreate(
        name="DEMO National Line (fictional)",
        location={"location_type": "virtual", "city": "Ottawa", "province": "ON"},
        services=[{"name": "DEMO Virtual counselling (fictional)", "types": ["counselling"], "open_24_7": True,
                   "areas": ["national", "virtual"], "languages": ["en", "fr", "ar"]}],
        vetting="vetted", vetted_on=today - timedelta(days=10), vetting_expires_on=today + timedelta(days=700)))
    # tables create_provider does not write: a contact with a phone that has its own language
    service_id = shelter.services[0].id
    db.add(m.ProviderContact(id="c0ffee00-0000-4000-8000-000000000001", organization_id=shelter.id,
                             service_id=service_id, name="DEMO Intake Desk (fictional)", title="Intake",
                             email="intake@example.org"))
    db.flush()
    db.add(m.Phone(id="c0ffee00-0000-4000-8000-000000000002", contact_id="c0ffee00-0000-4000-8000-000000000001",
                   number="807-555-0111", extension=204.0, type="text", description="Texts answered"))
    db.flush()
    db.add(m.Language(id="c0ffee00-0000-4000-8000-000000000003", phone_id="c0ffee00-0000-4000-8000-000000000002",
                      code="oj", name="Anishinaabemowin", note="Some evenings"))
    db.commit()
    return {"shelter": shelter.id, "clinic": clinic.id, "virtual": virtual.id}


def _wipe(db) -> None:
    for table in reversed(hsds.ORDER):
        db.execute(delete(hsds.MODELS[table]))
    db.commit()
    db.expunge_all()


def _count(db) -> int:
    return sum(db.execute(select(func.count()).select_from(hsds.MODELS[t])).scalar_one() for t in hsds.ORDER)


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def _table(folder: Path, table: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((folder / f"{table}.csv").read_text("utf-8"), newline="")))


def _write(folder: Path, table: str, rows: list[dict[str, str]], header: list[str] | None = None) -> None:
    if header is None:
        header = list(rows[0])
    buf = io.StringIO(newline="")
    w = csv.DictWriter(buf, fieldnames=header, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    (folder / f"{table}.csv").write_text(buf.getvalue(), "utf-8", newline="")


# -- round trip -----------------------------------------------------------------------------
def test_every_stored_column_is_an_hsds_column_in_spec_order():
    for table, model in hsds.MODELS.items():
        stored = [c.name for c in model.__table__.columns if c.name != "updated_at"]
        exported = [c.name for c in hsds.TABLES[table]]
        assert sorted(stored) == sorted(exported), table
        spec = [c for c in hsds.HSDS_COLUMNS[table] if c in exported]
        assert exported == spec, table


def test_round_trip_is_lossless(db, tmp_path):
    _providers(db)
    a, b = tmp_path / "a", tmp_path / "b"
    report = hsds.export_package(db, a)
    assert report.counts["organization"] == 3 and report.counts["service_capacity"] == 2
    assert report.counts["contact"] == 1 and report.counts[hsds.VETTING] == 3
    before = _count(db)

    _wipe(db)
    assert _count(db) == 0
    imported = hsds.import_package(db, a, actor=ADMIN)
    assert imported.source == "csv" and sum(imported.created.values()) == before
    assert not imported.warnings
    hsds.export_package(db, b)

    files_a, files_b = _files(a), _files(b)
    assert sorted(files_a) == sorted([f"{t}.csv" for t in hsds.ORDER] + ["datapackage.json", "hsds.json"])
    for name in files_a:
        assert files_a[name] == files_b[name], f"{name} changed in the round trip"

    raw = files_a["service.csv"].decode()
    assert "\r" not in raw and ",18," in raw and "18.0" not in raw
    assert b"-3.5" in files_a["schedule.csv"] and b"-3:30" not in files_a["schedule.csv"]
    assert b"03:30" in files_a["schedule.csv"]  # Newfoundland's half-hour offset survives
    org = db.execute(select(m.Organization).where(m.Organization.name.like("DEMO Hidden%"))).scalar_one()
    assert org.vetting.status == "vetted" and org.vetting.vetted_by == "DEMO vetting team"
    loc = org.locations[0]
    assert loc.location_type == "redacted" and loc.addresses[0].address_1 == STREET
    assert loc.latitude == 48.38217


def test_hsds_json_alone_imports_back_to_the_same_json(db, tmp_path):
    _providers(db)
    a, only_json, b = tmp_path / "a", tmp_path / "json", tmp_path / "b"
    hsds.export_package(db, a)
    only_json.mkdir()
    shutil.copy(a / "hsds.json", only_json / "hsds.json")
    services = json.loads((a / "hsds.json").read_text("utf-8"))
    assert len(services) == 4 and all("organization" in s and s["service_at_locations"] for s in services)
    shelter = next(s for s in services if s["name"].startswith("DEMO Emergency"))
    assert shelter["capacities"][0]["unit"]["name"] == "bed" and shelter["capacities"][0]["available"] == 3
    assert shelter["organization"]["harbour_vetting"]["status"] == "vetted"
    assert {a["taxonomy_term"]["code"] for a in shelter["attributes"]} >= {"emergency_shelter", "women", "open_24_7"}
    assert shelter["minimum_age"] == 18 and isinstance(shelter["minimum_age"], int)

    _wipe(db)
    report = hsds.import_package(db, only_json, actor=ADMIN)
    assert report.source == "json" and report.created["service"] == 4
    hsds.export_package(db, b)
    assert (b / "hsds.json").read_bytes() == (a / "hsds.json").read_bytes()
    assert (b / "service.csv").read_bytes() == (a / "service.csv").read_bytes()
    assert (b / "address.csv").read_bytes() == (a / "address.csv").read_bytes()


def test_reimport_is_idempotent_and_audited_once_per_import(db, tmp_path):
    _providers(db)
    hsds.export_package(db, tmp_path / "a")
    _wipe(db)
    first = hsds.import_package(db, tmp_path / "a", actor=ADMIN)
    rows = _count(db)
    second = hsds.import_package(db, tmp_path / "a", actor=ADMIN)
    assert _count(db) == rows
    assert sum(second.created.values()) == 0 and sum(second.updated.values()) == 0
    assert sum(second.unchanged.values()) == sum(first.created.values())
    entries = db.execute(select(AuditEntry).where(AuditEntry.record_type == "hsds_package")).scalars().all()
    assert len(entries) == 2 and entries[0].detail["created"] == rows and entries[1].detail["unchanged"] == rows

    # a changed cell updates that row only
    orgs = _table(tmp_path / "a", "organization")
    orgs[0]["alternate_name"] = "DEMO renamed (fictional)"
    _write(tmp_path / "a", "organization", orgs)
    third = hsds.import_package(db, tmp_path / "a", actor=ADMIN)
    assert third.updated["organization"] == 1 and sum(third.updated.values()) == 1


def test_sample_package_from_another_system_imports_with_warnings(db):
    report = hsds.import_package(db, DATA / "hsds_sample", actor=ADMIN)
    assert report.created["organization"] == 2 and report.created["service"] == 2
    assert report.created["phone"] == 2 and report.created["attribute"] == 1
    text = " ".join(report.warnings)
    assert "favourite_colour" in text and "tax_status" in text and "wait_time" in text and "funding.csv" in text
    service = db.get(m.Service, "b1000000-0000-4000-8000-000000000001")
    assert service.minimum_age == 16 and "\n" in service.description
    assert db.get(m.Schedule, "91000000-0000-4000-8000-000000000002").timezone == -5
    assert db.get(m.Phone, "f1000000-0000-4000-8000-000000000002").extension == 12
    assert db.get(m.Organization, "a1000000-0000-4000-8000-000000000001").year_incorporated == 1999
    again = hsds.import_package(db, DATA / "hsds_sample", actor=ADMIN)
    assert sum(again.created.values()) == 0 and sum(again.updated.values()) == 0


# -- invalid packages --------------------------------------------------------------------------
def _bad_enum(folder):
    rows = _table(folder, "service")
    rows[1]["status"] = "open-ish"
    _write(folder, "service", rows)
    return "service", 3, "status", "open-ish"


def _missing_column(folder):
    rows = _table(folder, "organization")
    _write(folder, "organization", rows, [c for c in rows[0] if c != "name"])
    return "organization", 1, "name", None


def _duplicate_id(folder):
    rows = _table(folder, "language")
    _write(folder, "language", [*rows, dict(rows[0], code="de")])
    return "language", len(rows) + 2, "id", None


def _dangling_fk(folder):
    rows = _table(folder, "service_capacity")  # the last HSDS table: earlier tables are all valid
    rows[0]["service_id"] = "deadbeef-0000-4000-8000-00000000dead"
    _write(folder, "service_capacity", rows)
    return "service_capacity", 2, "service_id", "deadbeef"


def _bad_latitude(folder):
    rows = _table(folder, "location")
    rows[0]["latitude"] = "95.123"
    _write(folder, "location", rows)
    return "location", 2, "latitude", "95.123"


def _not_utf8(folder):
    text = (folder / "organization.csv").read_text("utf-8").replace("DEMO Avalon", "DEMO Avalon Montr\u00e9al")
    (folder / "organization.csv").write_bytes(text.encode("latin-1"))
    line = next(i for i, ln in enumerate(text.split("\n"), start=1) if "Montr" in ln)
    return "organization", line, None, None


def _bad_number_and_date(folder):
    rows = _table(folder, hsds.VETTING)
    rows[0]["expires_on"] = "next spring"
    _write(folder, hsds.VETTING, rows)
    rows = _table(folder, "service")
    rows[0]["minimum_age"] = "eighteen"
    _write(folder, "service", rows)
    return hsds.VETTING, 2, "expires_on", "next spring"


def _unknown_link(folder):
    rows = _table(folder, "attribute")
    rows[0]["link_id"] = "0badf00d-0000-4000-8000-000000000000"
    _write(folder, "attribute", rows)
    return "attribute", 2, "link_id", "0badf00d"


def _control_character(folder):
    rows = _table(folder, "phone")
    rows[-1]["description"] = "ring\x07ring"
    _write(folder, "phone", rows)
    return "phone", len(rows) + 1, "description", "ring"


@pytest.mark.parametrize("mutate", [_bad_enum, _missing_column, _duplicate_id, _dangling_fk, _bad_latitude,
                                    _not_utf8, _bad_number_and_date, _unknown_link, _control_character])
def test_invalid_package_is_refused_with_row_errors_and_nothing_imported(db, tmp_path, mutate):
    _providers(db)
    folder = tmp_path / "pkg"
    hsds.export_package(db, folder)
    _wipe(db)
    entries_before = db.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    table, row, column, secret = mutate(folder)

    with pytest.raises(hsds.PackageInvalid) as info:
        hsds.import_package(db, folder, actor=ADMIN)
    errors = info.value.errors
    assert any(e.table == table and e.row == row and e.column == column for e in errors), [str(e) for e in errors]
    assert info.value.status_code == 422 and info.value.fields
    if secret:
        assert all(secret not in str(e) for e in errors)  # never echo the cell
        assert secret not in json.dumps(info.value.as_json())
    assert _count(db) == 0
    assert db.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == entries_before


def test_errors_in_several_rows_are_all_reported(db, tmp_path):
    _providers(db)
    folder = tmp_path / "pkg"
    hsds.export_package(db, folder)
    rows = _table(folder, "location")
    for r in rows:
        r["longitude"] = "-200"
    rows[0]["location_type"] = "secret"
    _write(folder, "location", rows)
    addresses = _table(folder, "address")
    addresses[0]["country"] = "Canada"
    _write(folder, "address", addresses)
    with pytest.raises(hsds.PackageInvalid) as info:
        hsds.import_package(db, folder, actor=ADMIN)
    found = {(e.table, e.row, e.column) for e in info.value.errors}
    assert {("location", n, "longitude") for n in range(2, len(rows) + 2)} <= found
    assert ("location", 2, "location_type") in found and ("address", 2, "country") in found
    assert "location:2:longitude: Longitude must be between -180 and 180." in [str(e) for e in info.value.errors]


def test_oversized_file_and_field_refused(db, tmp_path):
    _providers(db)
    folder = tmp_path / "pkg"
    hsds.export_package(db, folder)
    _wipe(db)
    with pytest.raises(hsds.PackageInvalid) as info:
        hsds.import_package(db, folder, actor=ADMIN, max_file_bytes=500)
    assert any(e.row is None and "larger than the limit" in e.text() for e in info.value.errors)

    rows = _table(folder, "organization")
    rows[0]["name"] = "DEMO " + "x" * 400
    rows[1]["description"] = "y" * (hsds.TEXT_MAX + 1)
    _write(folder, "organization", rows)
    with pytest.raises(hsds.PackageInvalid) as info:
        hsds.import_package(db, folder, actor=ADMIN)
    found = {(e.table, e.row, e.column) for e in info.value.errors}
    assert {("organization", 2, "name"), ("organization", 3, "description")} <= found
    assert _count(db) == 0


def test_empty_folder_bad_json_and_wrong_role(db, tmp_path, make_user):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(hsds.PackageInvalid) as info:
        hsds.import_package(db, empty, actor=ADMIN)
    assert "no HSDS tables" in info.value.errors[0].text()
    (empty / "hsds.json").write_text('{"services": 3}', "utf-8")
    with pytest.raises(hsds.PackageInvalid) as info:
        hsds.import_package(db, empty, actor=ADMIN)
    assert "list of services" in info.value.errors[0].text()
    (empty / "hsds.json").write_text('[{"id": "x", "name": "DEMO (fictional)", "organization": 5}]', "utf-8")
    with pytest.raises(hsds.PackageInvalid) as info:
        hsds.import_package(db, empty, actor=ADMIN)
    assert [(e.table, e.row) for e in info.value.errors] == [("organization", 1)]
    (empty / "hsds.json").write_text('[{"id": "x", "name": "DEMO (fictional)", "languages": [{"id": "y"}]}]', "utf-8")
    with pytest.raises(hsds.PackageInvalid) as info:
        hsds.import_package(db, empty, actor=ADMIN)
    assert {(e.table, e.column) for e in info.value.errors} == {("service", "organization_id"), ("service", "status")}

    from harbour.core.errors import Forbidden

    advocate = make_user("hotline_advocate")
    with pytest.raises(Forbidden):
        hsds.import_package(db, DATA / "hsds_sample", actor=Actor(advocate.id, advocate.username, advocate.role))
    assert _count(db) == 0


def test_unknown_columns_warn_but_import(db, tmp_path):
    _providers(db)
    folder = tmp_path / "pkg"
    hsds.export_package(db, folder)
    rows = _table(folder, "service")
    for r in rows:
        r["fees"] = "none"
        r["x_internal_code"] = "42"
    _write(folder, "service", rows)
    (folder / "notes.csv").write_text("id\n1\n", "utf-8")
    _wipe(db)
    report = hsds.import_package(db, folder, actor=ADMIN)
    assert report.created["service"] == 4
    text = " | ".join(report.warnings)
    assert "'fees' is HSDS but not stored" in text and "x_internal_code" in text and "notes.csv" in text


# -- datapackage and redaction ------------------------------------------------------------------
def test_datapackage_descriptor(db, tmp_path):
    _providers(db)
    hsds.export_package(db, tmp_path)
    desc = json.loads((tmp_path / "datapackage.json").read_text("utf-8"))
    assert desc["profile"] == "tabular-data-package" and desc["name"]
    by_name = {r["name"]: r for r in desc["resources"]}
    assert set(by_name) == set(hsds.ORDER)
    assert by_name["service"]["path"] == "service.csv" and by_name["service"]["schema"]["primaryKey"] == "id"
    assert {"fields": "organization_id", "reference": {"resource": "organization", "fields": "id"}} in \
        by_name["service"]["schema"]["foreignKeys"]
    fields = {f["name"]: f for f in by_name["location"]["schema"]["fields"]}
    assert fields["latitude"]["type"] == "number" and "redacted" in fields["location_type"]["constraints"]["enum"]
    assert by_name[hsds.VETTING]["schema"]["primaryKey"] == "organization_id"
    assert "extension" in by_name[hsds.VETTING]["description"]
    for res in desc["resources"]:  # every header matches its declared fields
        header = (tmp_path / res["path"]).read_text("utf-8").split("\n", 1)[0].split(",")
        assert header == [f["name"] for f in res["schema"]["fields"]]


def test_redacted_export_hides_confidential_addresses(db, tmp_path):
    ids = _providers(db)
    hsds.export_package(db, tmp_path / "full")
    hsds.export_package(db, tmp_path / "red", redact=True)
    assert STREET.encode() in (tmp_path / "full" / "address.csv").read_bytes()
    for name, content in _files(tmp_path / "red").items():
        assert STREET.encode() not in content and SECRET_POSTAL.encode() not in content, name
        assert b"DEMO vetting team" not in content, name
    loc = next(r for r in _table(tmp_path / "red", "location") if r["organization_id"] == ids["shelter"])
    assert loc["latitude"] == "48.4" and loc["longitude"] == "-89.3"
    addr = next(r for r in _table(tmp_path / "red", "address") if r["location_id"] == loc["id"])
    assert addr["address_1"] == "" and addr["postal_code"] == "" and addr["city"] == "Thunder Bay"
    other = next(r for r in _table(tmp_path / "red", "address") if r["city"] == "St. John's")
    assert other["address_1"] == "5 Demo Street" and other["postal_code"] == "A0D 0D1"
    # the redacted package is itself a valid package
    _wipe(db)
    hsds.import_package(db, tmp_path / "red", actor=ADMIN)
    assert db.get(m.Location, loc["id"]).addresses[0].address_1 == ""


# -- command line -------------------------------------------------------------------------------
@pytest.fixture
def cli_env(settings, monkeypatch):
    from harbour.core.config import get_settings

    monkeypatch.setenv("HARBOUR_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HARBOUR_KEY_FILE", str(settings.key_file))
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_cli_export_import_and_exit_codes(db, tmp_path, cli_env):
    from typer.testing import CliRunner

    from harbour.cli import app as cli

    _providers(db)
    runner = CliRunner()
    result = runner.invoke(cli, ["directory", "export-hsds", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "exported" in result.output and "organization: 3" in result.output
    result = runner.invoke(cli, ["directory", "export-hsds", str(tmp_path / "red"), "--redact"])
    assert result.exit_code == 0 and "(redacted)" in result.output
    assert STREET not in (tmp_path / "red" / "address.csv").read_text("utf-8")

    result = runner.invoke(cli, ["directory", "import-hsds", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "0 created" in result.output and "unchanged" in result.output

    rows = _table(tmp_path / "out", "service")
    for r in rows:
        r["status"] = "maybe"
    _write(tmp_path / "out", "service", rows)
    result = runner.invoke(cli, ["directory", "import-hsds", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "service:2:status: Not one of the allowed values" in result.output
    assert "maybe" not in result.output

    result = runner.invoke(cli, ["directory", "import-hsds", str(tmp_path / "nowhere")])
    assert result.exit_code == 2


def test_cli_vetting_due(db, cli_env):
    from typer.testing import CliRunner

    from harbour.cli import app as cli

    _providers(db)
    runner = CliRunner()
    result = runner.invoke(cli, ["directory", "vetting-due"])
    assert result.exit_code == 0, result.output
    assert "DEMO Hidden Harbour Shelter" in result.output and "expires in 20 days" in result.output
    assert "DEMO National Line" not in result.output and "1 provider(s)" in result.output
    result = runner.invoke(cli, ["directory", "vetting-due", "--days", "5"])
    assert result.exit_code == 0 and "no vetting expires within 5 days" in result.output
