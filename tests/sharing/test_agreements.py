"""The access gate and agreements: every status, date, purpose, category, direction and level, both ways.

This is the isolation matrix the service layer enforces on SQLite and PostgreSQL alike (the PostgreSQL
row-level security test in test_rls.py runs the same cases through a non-superuser role).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from tests.conftest import actor_of
from tests.sharing.conftest import ADMIN, ingest_people, make_agreement, person_row

from harbour.core.errors import Forbidden, NotFound, ValidationFailed
from harbour.core.models import AuditEntry
from harbour.sharing import access, agreements, records
from harbour.sharing.schemas import AgreementStatusBody

TODAY = date.today()


def _ids(world):
    return world.agency["SPVM"].id, world.agency["TPS"].id


def _allowed(db, world, *, category="person", purpose="investigation"):
    viewer, owner = _ids(world)
    return access.level(db, viewer, owner, category, purpose)


CASES = [
    # (description, agreement kwargs, status change, expected level for SPVM reading TPS persons for investigation)
    ("active", {}, None, "summary"),
    ("draft", {"activate": False}, None, None),
    ("suspended", {}, "suspended", None),
    ("revoked", {}, "revoked", None),
    ("expired yesterday", {"ends_on": TODAY - timedelta(days=1)}, None, None),
    ("ends today", {"ends_on": TODAY}, None, "summary"),
    ("starts tomorrow", {"starts_on": TODAY + timedelta(days=1)}, None, None),
    ("purpose not listed", {"purposes": ("victim_protection",)}, None, None),
    ("category not listed", {"categories": ("occurrence",)}, None, None),
    ("owner does not provide", {"parties": (("TPS", False, True), ("SPVM", True, True))}, None, None),
    ("viewer does not receive", {"parties": (("TPS", True, True), ("SPVM", True, False))}, None, None),
    ("other parties only", {"parties": (("TPS", True, True), ("CBSA", True, True))}, None, None),
    ("hit level", {"level": "hit"}, None, "hit"),
    ("full level", {"level": "full"}, None, "full"),
]


@pytest.mark.parametrize("name,kwargs,change,expected", CASES, ids=[c[0] for c in CASES])
def test_gate_matrix(db, world, name, kwargs, change, expected):
    agreement = make_agreement(db, **kwargs)
    if change:
        agreements.set_status(db, actor=ADMIN, agreement_id=agreement.id,
                              data=AgreementStatusBody(status=change, reason="fictional reason"))
        db.commit()
    got = _allowed(db, world)
    assert (got.value if got else None) == expected
    viewer, owner = _ids(world)
    if expected is None:
        with pytest.raises(Forbidden):
            access.require(db, viewer, owner, "person", "investigation")
    else:
        assert access.require(db, viewer, owner, "person", "investigation").value == expected


def test_gate_both_ways_and_third_agency(db, world):
    make_agreement(db, parties=(("TPS", True, False), ("SPVM", False, True)))  # TPS gives, SPVM receives
    spvm, tps, cbsa = world.agency["SPVM"].id, world.agency["TPS"].id, world.agency["CBSA"].id
    assert access.level(db, spvm, tps, "person", "investigation") is not None
    assert access.level(db, tps, spvm, "person", "investigation") is None
    assert access.level(db, cbsa, tps, "person", "investigation") is None
    assert access.level(db, tps, tps, "person", "investigation").value == "full"  # own records


def test_best_of_several_agreements_and_minimum(db, world):
    make_agreement(db, reference="MOU-HIT", level="hit")
    make_agreement(db, reference="MOU-FULL", level="full", purposes=("prosecution",))
    viewer, owner = _ids(world)
    assert access.level(db, viewer, owner, "person", "investigation").value == "hit"
    assert access.level(db, viewer, owner, "person", "prosecution").value == "full"
    with pytest.raises(Forbidden):
        access.require(db, viewer, owner, "person", "investigation", minimum="summary")


def test_unknown_purpose_or_category_is_invalid(db, world):
    viewer, owner = _ids(world)
    with pytest.raises(ValidationFailed):
        access.require(db, viewer, owner, "person", "curiosity")
    with pytest.raises(ValidationFailed):
        access.require(db, viewer, owner, "bank_accounts", "investigation")


def test_revoking_cuts_access_at_once(db, world):
    agreement = make_agreement(db, level="full")
    ingest_people(db, world.analyst["TPS"], [person_row("TPS", "T-1")])
    spvm = actor_of(world.analyst["SPVM"])
    got = records.other_record(db, actor=spvm, agency_code="TPS", category="person", record_id="T-1",
                               purpose="investigation")
    db.commit()
    assert got["level"] == "full" and got["fields"]["surname"] == "Testperson"
    agreements.set_status(db, actor=ADMIN, agreement_id=agreement.id,
                          data=AgreementStatusBody(status="revoked", reason="fictional breach"))
    db.commit()
    with pytest.raises(Forbidden):
        records.other_record(db, actor=spvm, agency_code="TPS", category="person", record_id="T-1",
                             purpose="investigation")
    db.rollback()


def test_levels_decide_what_another_agency_sees(db, world):
    ingest_people(db, world.analyst["TPS"], [person_row("TPS", "T-1")])
    spvm = actor_of(world.analyst["SPVM"])

    def read():
        out = records.other_record(db, actor=spvm, agency_code="TPS", category="person", record_id="T-1",
                                   purpose="investigation")
        db.commit()
        return out

    with pytest.raises(Forbidden):  # no agreement: refused before anything is looked up
        read()
    db.rollback()
    agreement = make_agreement(db, reference="MOU-H", level="hit")
    assert read() == {"agency": "TPS", "category": "person", "level": "hit", "holds_record": True, "fields": {}}
    with pytest.raises(NotFound):  # hit/no-hit: "no" for a record it does not hold
        records.other_record(db, actor=spvm, agency_code="TPS", category="person", record_id="T-404",
                             purpose="investigation")
    db.rollback()
    agreements.set_status(db, actor=ADMIN, agreement_id=agreement.id,
                          data=AgreementStatusBody(status="suspended", reason="fictional"))
    make_agreement(db, reference="MOU-S", level="summary")
    summary = read()["fields"]
    assert summary["year_of_birth"] == "1990" and summary["cities"] == ["Toronto"]
    assert "surname" not in summary and "date_of_birth" not in summary and "phones" not in summary
    make_agreement(db, reference="MOU-F", level="full")
    full = read()["fields"]
    assert full["surname"] == "Testperson" and full["phones"] == ["+14165550142"]


def test_every_cross_agency_access_is_audited_with_its_purpose(db, world):
    make_agreement(db, level="summary", purposes=("investigation", "victim_protection"))
    ingest_people(db, world.analyst["TPS"], [person_row("TPS", "T-1")])
    spvm = actor_of(world.analyst["SPVM"])
    records.other_record(db, actor=spvm, agency_code="TPS", category="person", record_id="T-1",
                         purpose="victim_protection")
    db.commit()
    entry = db.execute(select(AuditEntry).where(AuditEntry.action == "read", AuditEntry.actor_id == spvm.id)
                       ).scalars().all()[-1]
    assert entry.purpose == "victim_protection"
    assert entry.detail["owner_agency"] == world.agency["TPS"].id and entry.detail["level"] == "summary"


def test_own_records_only_in_lists_and_details(db, world):
    ingest_people(db, world.analyst["TPS"], [person_row("TPS", "T-1")])
    ingest_people(db, world.analyst["SPVM"], [person_row("SPVM", "S-1")])
    make_agreement(db, level="full")  # even with a full agreement, lists stay per agency
    rows, total = records.list_own(db, actor=actor_of(world.analyst["SPVM"]))
    assert [r.record_id for r in rows] == ["S-1"] and total == 1
    with pytest.raises(NotFound):
        records.own_record(db, actor=actor_of(world.analyst["SPVM"]), category="person", record_id="T-1")
    assert records.own_record(db, actor=actor_of(world.analyst["TPS"]), category="person",
                              record_id="T-1")["fields"]["surname"] == "Testperson"


def test_agreement_management_is_for_administrators(db, world):
    with pytest.raises(Forbidden):
        agreements.create_agreement(db, actor=actor_of(world.steward["TPS"]), data=_data())
    agreement = make_agreement(db)
    with pytest.raises(Forbidden):
        agreements.set_status(db, actor=actor_of(world.steward["TPS"]), agreement_id=agreement.id,
                              data=AgreementStatusBody(status="revoked", reason="x"))
    # parties see it; a third agency and people without an agency do not
    assert [a.id for a in agreements.list_agreements(db, actor=actor_of(world.analyst["SPVM"]))] == [agreement.id]
    assert agreements.list_agreements(db, actor=actor_of(world.analyst["CBSA"])) == []
    with pytest.raises(NotFound):
        agreements.get_agreement(db, actor=actor_of(world.analyst["CBSA"]), agreement_id=agreement.id)
    with pytest.raises(Forbidden):
        agreements.list_agreements(db, actor=actor_of(world.loner))


def test_status_transitions(db, world):
    agreement = make_agreement(db, activate=False)
    with pytest.raises(ValidationFailed):  # a reason is needed to suspend or revoke
        agreements.set_status(db, actor=ADMIN, agreement_id=agreement.id, data=AgreementStatusBody(status="revoked"))
    with pytest.raises(ValidationFailed):  # draft cannot be suspended
        agreements.set_status(db, actor=ADMIN, agreement_id=agreement.id,
                              data=AgreementStatusBody(status="suspended", reason="x"))
    for status in ("active", "suspended", "active", "revoked"):
        agreements.set_status(db, actor=ADMIN, agreement_id=agreement.id,
                              data=AgreementStatusBody(status=status, reason="fictional"))
    with pytest.raises(ValidationFailed):  # revoked is final
        agreements.set_status(db, actor=ADMIN, agreement_id=agreement.id, data=AgreementStatusBody(status="active"))
    assert access.effective_status(agreement) == "revoked"


def _data():
    from harbour.sharing.schemas import AgreementCreate

    return AgreementCreate(reference="MOU-Z", title="Fictional", legal_basis="Fictional s. 2",
                           parties=[{"agency": "TPS"}, {"agency": "SPVM"}], categories=["person"],
                           purposes=["investigation"], disclosure_level="hit", starts_on=TODAY)
