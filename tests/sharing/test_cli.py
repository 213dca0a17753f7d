"""`harbour sharing ...` and `harbour db create-app-role` commands."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.sharing.conftest import PERSON_HEADER
from typer.testing import CliRunner

from harbour.sharing.models import Agency, Agreement, Person


@pytest.fixture
def cli(settings, monkeypatch):
    import harbour.cli as root
    import harbour.core.cli as commands  # harbour db, harbour keys

    monkeypatch.setattr(root, "get_settings", lambda: settings)
    monkeypatch.setattr(commands, "get_settings", lambda: settings)
    runner = CliRunner()
    return lambda *args: runner.invoke(root.app, list(args))


def test_agencies_agreements_and_ingest(cli, db, world, tmp_path):
    r = cli("sharing", "agencies", "add", "OPP", "--name", "Fictional Provincial Police", "--kind",
            "provincial_police", "--province", "ON", "--contact-email", "desk@opp.example.org")
    assert r.exit_code == 0, r.output
    assert cli("sharing", "agencies", "add", "opp lower", "--name", "x", "--kind", "ngo").exit_code == 2
    assert cli("sharing", "agencies", "add-member", "OPP", "analyst-cbsa").exit_code == 0
    assert "OPP" in cli("sharing", "agencies", "list").output
    r = cli("sharing", "agreements", "add", "MOU-CLI", "--title", "Fictional", "--legal-basis", "Fictional s. 5",
            "--party", "TPS", "--party", "OPP:receives", "--category", "person", "--purpose", "investigation",
            "--level", "hit", "--activate")
    assert r.exit_code == 0, r.output
    db.expire_all()
    agreement = db.execute(select(Agreement)).scalar_one()
    assert agreement.status == "active" and {p.agency.code: p.provides for p in agreement.parties} == {
        "TPS": True, "OPP": False}
    assert "MOU-CLI" in cli("sharing", "agreements", "list").output
    assert cli("sharing", "agreements", "status", str(agreement.id), "revoked").exit_code == 2  # needs a reason
    assert cli("sharing", "agreements", "status", str(agreement.id), "revoked", "--reason", "x").exit_code == 0
    path = tmp_path / "people.csv"
    path.write_text(PERSON_HEADER + "T-1,TPS,Alexa,,Testperson,1990-04-12,F,,,,,,\nT-2,TPS,,,,31-12-1990,,,,,,,\n")
    r = cli("sharing", "ingest", str(path), "--agency", "TPS", "--source", "RMS", "--no-link")
    assert r.exit_code == 1 and "row 3 (T-2): date_of_birth" in r.output  # refused rows: exit 1, reported
    r = cli("sharing", "ingest", str(path), "--agency", "TPS", "--source", "RMS", "--no-link", "--user",
            "analyst-spvm")
    assert "agency" in r.output  # a member of another agency: rows for TPS refused
    db.expire_all()
    assert [p.record_id for p in db.execute(select(Person)).scalars()] == ["T-1"]
    assert cli("sharing", "ingest", str(path), "--agency", "NOPE", "--no-link").exit_code == 2
    assert db.execute(select(Agency).where(Agency.code == "OPP")).scalar_one().contact_email == "desk@opp.example.org"


def test_create_app_role_refuses_sqlite_and_bad_names(cli, backend):
    if backend[0] == "sqlite":
        r = cli("db", "create-app-role", "harbour_app")
        assert r.exit_code == 2 and "PostgreSQL" in r.output
    assert cli("db", "create-app-role", "Robert'); DROP TABLE").exit_code == 2
