"""The analytic store: consent decides who enters, nothing identifying leaves the database, incremental refresh
gives the same store as a full rebuild, and sharing occurrences join whether or not there are any."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from harbour.core.db import utcnow
from harbour.hotline import consent as consent_svc
from harbour.hotline import service as hotline
from harbour.hotline.schemas import CaseCreate, ConsentCreate, ConsentRevoke, ContactCreate
from harbour.stats import service, store
from tests.conftest import actor_of
from tests.stats.conftest import ADMIN

ALIAS = "DEMO Zorblatt Quenby (fictional)"
NOTE = "Unique-note-text-that-must-never-reach-the-store"


def _case(db, advocate, *, days_ago: float, consent: bool, province="MB", expires=None):
    actor = actor_of(advocate)
    contact, _ = hotline.create_contact(db, actor=actor, data=ContactCreate(
        channel="phone", received_at=utcnow() - timedelta(days=days_ago), province=province,
        classification="potential_case", caller_name=ALIAS, summary=NOTE))
    case = hotline.open_case(db, actor=actor, data=CaseCreate(
        contact_ids=[contact.id], gender="woman", age_band="18-24", citizenship="temporary_worker",
        exploitation_types=["labour"], control_means=["debt", "withholds_documents"], recruitment=["job_offer"],
        needs=["legal"], province=province, survivor_alias=ALIAS, notes=NOTE))
    given = utcnow() - timedelta(days=days_ago)
    c = None
    if consent:
        c = consent_svc.record_consent(db, actor=actor, case_id=case.id, data=ConsentCreate(
            purpose="statistics", method="verbal", given_at=given, expires_at=expires))
    db.commit()
    return case, c


def _rows(root: Path, table: str) -> list[tuple]:
    con = store.connect(root)
    try:
        return sorted(con.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
    finally:
        con.close()


def test_only_consenting_cases_enter_and_nothing_identifying(db, settings, make_user):
    advocate = make_user("hotline_advocate")
    _case(db, advocate, days_ago=400, consent=True)
    _case(db, advocate, days_ago=10, consent=False)
    result = service.build_store(db, settings, actor=ADMIN)
    assert result.rows["situations"] == 1
    assert result.rows["contacts"] == 2  # contacts carry no person attribute: all are counted
    row = dict(zip(store.connect(settings.stats_dir).execute("SELECT * FROM situations").fetchdf().columns,
                   _rows(settings.stats_dir, "situations")[0], strict=True))
    assert row["yearOfRegistration"] == (utcnow() - timedelta(days=400)).year  # dated by the first contact
    assert row["isForcedLabour"] and row["meansOfControlDebtBondage"] and row["recruitmentJobOffer"]
    assert row["nationality"] == "foreign" and row["majorityStatus"] == "adult"
    for path in Path(settings.stats_dir).rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            assert ALIAS.encode() not in blob and NOTE.encode() not in blob and b"Zorblatt" not in blob


def test_revoked_or_expired_consent_leaves_the_store(db, settings, make_user):
    advocate = make_user("hotline_advocate")
    _case(db, advocate, days_ago=30, consent=True)
    _, c = _case(db, advocate, days_ago=20, consent=True)
    _case(db, advocate, days_ago=20, consent=True, expires=utcnow() + timedelta(days=1))
    assert service.build_store(db, settings, actor=ADMIN).rows["situations"] == 3
    consent_svc.revoke_consent(db, actor=actor_of(advocate), consent_id=c.id,
                               data=ConsentRevoke(reason="Withdrawn (test)."))
    db.commit()
    assert service.build_store(db, settings, actor=ADMIN).rows["situations"] == 2
    later = service.build_store(db, settings, actor=ADMIN, now=utcnow() + timedelta(days=2))
    assert later.rows["situations"] == 1  # the expiring consent lapsed


def test_incremental_refresh_equals_full_rebuild(db, settings, make_user, history, tmp_path):
    advocate = make_user("hotline_advocate")
    first = service.build_store(db, settings, actor=ADMIN)
    assert first.mode == "full" and first.rows["situations"] > 100
    again = service.build_store(db, settings, actor=ADMIN)
    assert again.mode == "unchanged" and again.rewritten == []
    # a little changes: one new consenting case this year, one revoked consent in an older year
    _case(db, advocate, days_ago=1, consent=True)
    from sqlalchemy import select

    from harbour.hotline.models import Case, Consent
    old = db.execute(select(Consent).join(Case).where(Consent.purpose == "statistics", Case.reference.like("HIST-%"))
                     .order_by(Consent.id)).scalars().first()
    old_year = min(c.received_at for c in old.case.contacts).year
    consent_svc.revoke_consent(db, actor=actor_of(advocate), consent_id=old.id, data=ConsentRevoke(reason="Test."))
    db.commit()
    inc = service.build_store(db, settings, actor=ADMIN)
    assert inc.mode == "incremental"
    assert f"situations/year={old_year}" in inc.rewritten and f"situations/year={utcnow().year}" in inc.rewritten
    assert len(inc.rewritten) < len(first.rewritten)  # untouched years were not rewritten
    full_root = tmp_path / "full"
    full = store.build(db, full_root, full=True)
    assert full.fingerprint == inc.fingerprint
    for table in ("situations", "contacts", "referrals", "unmet_needs", "occurrences"):
        assert _rows(Path(settings.stats_dir), table) == _rows(full_root, table), table


def test_occurrences_join_when_the_sharing_module_has_some(db, settings):
    from harbour.sharing.models import Agency, Occurrence

    assert service.build_store(db, settings, actor=ADMIN).rows["occurrences"] == 0  # empty sharing tables
    agency = Agency(code="TST-PS", name="Fictional Test Police Service", kind="police", province="ON", active=True)
    db.add(agency)
    db.flush()
    for i, codes in enumerate([["CC-279.01", "CC-286.2"], ["IRPA-118"], []]):
        db.add(Occurrence(agency_id=agency.id, record_id=f"OCC-{i}", source_system="test", content_hash="0" * 64,
                          occurred_on=date(2025, 3, 1 + i), jurisdiction="ON", offence_codes=codes))
    db.commit()
    result = service.build_store(db, settings, actor=ADMIN)
    assert result.rows["occurrences"] == 4  # one row per offence code; none recorded → "unspecified"
    rows = store.connect(settings.stats_dir).execute(
        "SELECT offence, count(*) FROM occurrences GROUP BY 1 ORDER BY 1").fetchall()
    assert rows == [("CC-279.01", 1), ("CC-286.2", 1), ("IRPA-118", 1), ("unspecified", 1)]


def test_only_administrators_rebuild(db, settings, make_user):
    from harbour.core.errors import Forbidden

    with pytest.raises(Forbidden):
        service.build_store(db, settings, actor=actor_of(make_user("researcher")))
    assert service.build_store(db, settings, actor=actor_of(make_user("admin"))).mode == "full"


def test_year_of_first_contact_not_case_creation(db, settings, make_user):
    advocate = make_user("hotline_advocate")
    case, _ = _case(db, advocate, days_ago=0, consent=True)
    early, _ = hotline.create_contact(db, actor=actor_of(advocate), data=ContactCreate(
        channel="text", received_at=datetime(2021, 6, 1, tzinfo=UTC), case_id=case.id))
    db.commit()
    service.build_store(db, settings, actor=ADMIN)
    years = store.connect(settings.stats_dir).execute("SELECT yearOfRegistration FROM situations").fetchall()
    assert years == [(2021,)]


def test_store_location_follows_the_database_unless_set():
    from harbour.core.config import Settings

    assert service.root(Settings(database_url="sqlite:////srv/h/harbour.db")) == Path("/srv/h/stats")
    a = service.root(Settings(database_url="postgresql+psycopg://app@db1/harbour"))
    b = service.root(Settings(database_url="postgresql+psycopg://app@db2/harbour"))
    assert a != b and a.parent == b.parent  # two databases never share a store
    assert service.root(Settings(database_url="sqlite:////srv/h/harbour.db", stats_dir="/data/s")) == Path("/data/s")
