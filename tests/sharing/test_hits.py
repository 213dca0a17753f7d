"""Hits and the disclosure workflow, both ways: who gets a hit, what it reveals, who may ask, who decides,
what is disclosed, and that every step is audited with its purpose."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from tests.conftest import actor_of
from tests.sharing.conftest import ADMIN, ingest_people, make_agreement, person_row

from harbour.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from harbour.core.models import AuditEntry
from harbour.sharing import agreements, hits, linking
from harbour.sharing.models import Hit
from harbour.sharing.schemas import AgreementStatusBody


def _match(db, world, a=("TPS", "T-1"), b=("SPVM", "S-1")):
    """A stored cross-agency match (as linkage would produce) and the hits it deserves."""
    match, _ = linking.store_match(db, method="splink", key_a=(world.agency[a[0]].id, a[1]),
                                   key_b=(world.agency[b[0]].id, b[1]), probability=0.999, weight=12.5,
                                   agreed=("surname", "date_of_birth"), model_version="test")
    delivered = hits.deliver(db, match)
    db.commit()
    return match, delivered


@pytest.fixture
def people(db, world):
    ingest_people(db, world.analyst["TPS"], [person_row("TPS", "T-1")])
    ingest_people(db, world.analyst["SPVM"], [person_row("SPVM", "S-1", city="Montreal", province="QC",
                                                         phone="514-555-0199")])


def _inbox(db, world, code):
    return hits.inbox(db, actor=actor_of(world.analyst[code]))


def test_both_sides_get_a_hit_that_reveals_only_agency_and_contact(db, world, people):
    make_agreement(db, level="full")
    _match(db, world)
    tps, spvm = _inbox(db, world, "TPS"), _inbox(db, world, "SPVM")
    assert [h.record_id for h in tps] == ["T-1"] and [h.record_id for h in spvm] == ["S-1"]
    view = hits.hit_view(spvm[0])
    assert view["other_agency"]["code"] == "TPS" and view["other_agency"]["contact_email"] == "desk@tps.example.org"
    assert "T-1" not in str(view) and "Testperson" not in str(view)  # not the other record, not its fields
    assert hits.inbox(db, actor=actor_of(world.analyst["CBSA"])) == []


def test_no_agreement_no_hit_until_one_is_signed(db, world, people):
    _, delivered = _match(db, world)
    assert delivered == [] and _inbox(db, world, "TPS") == [] and _inbox(db, world, "SPVM") == []
    # one-way agreement: only the receiving side gets a hit
    make_agreement(db, parties=(("TPS", True, False), ("SPVM", False, True)))
    assert [h.record_id for h in _inbox(db, world, "SPVM")] == ["S-1"]
    assert _inbox(db, world, "TPS") == []


def test_revoked_agreement_hides_hits_at_once(db, world, people):
    agreement = make_agreement(db)
    _match(db, world)
    hit_id = _inbox(db, world, "SPVM")[0].id
    agreements.set_status(db, actor=ADMIN, agreement_id=agreement.id,
                          data=AgreementStatusBody(status="suspended", reason="fictional audit"))
    db.commit()
    assert _inbox(db, world, "SPVM") == []
    with pytest.raises(NotFound):
        hits.get_hit(db, actor=actor_of(world.analyst["SPVM"]), hit_id=hit_id)


def _request(db, world, level="summary", purpose="investigation"):
    hit = _inbox(db, world, "SPVM")[0]
    req = hits.request_disclosure(db, actor=actor_of(world.analyst["SPVM"]), hit_id=hit.id, purpose=purpose,
                                  level=level, justification="Fictional: same person in a joint file")
    db.commit()
    return req


def test_disclosure_workflow_summary_approved(db, world, people):
    make_agreement(db, level="full")
    _match(db, world)
    req = _request(db, world, level="full")
    # nothing is disclosed before the decision
    with pytest.raises(Conflict):
        hits.disclosure(db, actor=actor_of(world.analyst["SPVM"]), request_id=req.id)
    db.rollback()
    # only the owner's data steward decides: not its analyst, not the requester's steward
    for user in (world.analyst["TPS"], world.steward["SPVM"], world.steward["CBSA"]):
        with pytest.raises((Forbidden, NotFound)):
            hits.decide(db, actor=actor_of(user), request_id=req.id, decision="approve")
        db.rollback()
    queue = hits.requests_for(db, actor=actor_of(world.steward["TPS"]), direction="incoming", status="pending")
    assert [r.id for r in queue] == [req.id]
    assert hits.owner_record_id(db, queue[0]) == "T-1"
    hits.decide(db, actor=actor_of(world.steward["TPS"]), request_id=req.id, decision="approve", level="summary",
                note="Call the desk first.")
    db.commit()
    out = hits.disclosure(db, actor=actor_of(world.analyst["SPVM"]), request_id=req.id)
    db.commit()
    assert out["level"] == "summary" and out["note"] == "Call the desk first."
    assert out["fields"]["record_id"] == "T-1" and out["fields"]["year_of_birth"] == "1990"
    assert "surname" not in out["fields"] and "phones" not in out["fields"]
    with pytest.raises(Conflict):  # decided once
        hits.decide(db, actor=actor_of(world.steward["TPS"]), request_id=req.id, decision="deny")
    db.rollback()
    actions = {(e.action, e.purpose) for e in db.execute(select(AuditEntry)).scalars()}
    assert {("request_disclosure", "investigation"), ("decide_disclosure", "investigation"),
            ("disclose", "investigation"), ("read", "investigation")} <= actions
    disclosed = db.execute(select(AuditEntry).where(AuditEntry.action == "disclose")).scalar_one()
    assert "year_of_birth" in disclosed.detail["fields"] and "surname" not in disclosed.detail["fields"]


def test_full_disclosure_and_its_end_when_the_agreement_is_revoked(db, world, people):
    agreement = make_agreement(db, level="full")
    _match(db, world)
    req = _request(db, world, level="full")
    hits.decide(db, actor=actor_of(world.steward["TPS"]), request_id=req.id, decision="approve")
    db.commit()
    out = hits.disclosure(db, actor=actor_of(world.analyst["SPVM"]), request_id=req.id)
    db.commit()
    assert out["fields"]["surname"] == "Testperson" and out["fields"]["phones"] == ["+14165550142"]
    agreements.set_status(db, actor=ADMIN, agreement_id=agreement.id,
                          data=AgreementStatusBody(status="revoked", reason="fictional"))
    db.commit()
    with pytest.raises((Forbidden, NotFound)):
        hits.disclosure(db, actor=actor_of(world.analyst["SPVM"]), request_id=req.id)
    db.rollback()


def test_requests_limited_by_the_agreement(db, world, people):
    make_agreement(db, level="summary", purposes=("investigation",))
    _match(db, world)
    hit = _inbox(db, world, "SPVM")[0]
    spvm = actor_of(world.analyst["SPVM"])
    with pytest.raises(Forbidden):  # more than the agreement allows
        hits.request_disclosure(db, actor=spvm, hit_id=hit.id, purpose="investigation", level="full",
                                justification="Fictional")
    with pytest.raises(Forbidden):  # a purpose it does not list
        hits.request_disclosure(db, actor=spvm, hit_id=hit.id, purpose="prosecution", level="summary",
                                justification="Fictional")
    with pytest.raises(NotFound):  # another agency's hit
        hits.request_disclosure(db, actor=actor_of(world.analyst["CBSA"]), hit_id=hit.id, purpose="investigation",
                                level="summary", justification="Fictional")
    db.rollback()
    req = _request(db, world)
    with pytest.raises(Conflict):  # one pending request per hit
        _request(db, world)
    db.rollback()
    with pytest.raises(ValidationFailed):  # a steward may grant less, never more
        hits.decide(db, actor=actor_of(world.steward["TPS"]), request_id=req.id, decision="approve", level="full")
    db.rollback()


def test_denied_request_discloses_nothing_and_withdrawal(db, world, people):
    make_agreement(db, level="full")
    _match(db, world)
    req = _request(db, world)
    hits.decide(db, actor=actor_of(world.steward["TPS"]), request_id=req.id, decision="deny", note="Not now.")
    db.commit()
    with pytest.raises(Conflict):
        hits.disclosure(db, actor=actor_of(world.analyst["SPVM"]), request_id=req.id)
    db.rollback()
    req2 = _request(db, world)
    with pytest.raises(Forbidden):  # only the requesting agency withdraws
        hits.withdraw(db, actor=actor_of(world.analyst["TPS"]), request_id=req2.id)
    db.rollback()
    assert hits.withdraw(db, actor=actor_of(world.analyst["SPVM"]), request_id=req2.id).status == "withdrawn"


def test_owner_side_hit_and_marking(db, world, people):
    make_agreement(db)
    _match(db, world)
    hit = _inbox(db, world, "TPS")[0]
    hits.mark(db, actor=actor_of(world.analyst["TPS"]), hit_id=hit.id, status="seen")
    db.commit()
    assert db.get(Hit, hit.id).seen_at is not None
    with pytest.raises(NotFound):
        hits.mark(db, actor=actor_of(world.analyst["SPVM"]), hit_id=hit.id, status="closed")


def _relink(db):
    result = linking.relink(db, actor=ADMIN)
    db.commit()
    return result


def test_a_corrected_record_that_no_longer_matches_withdraws_its_hits_and_disclosures(db, world, people):
    """Linkage, not history, decides: after S-1 is corrected to a different (fictional) person, the relink
    retracts the match; both hits are withdrawn, a waiting request is withdrawn, an approved disclosure is no
    longer shown (it would show the corrected record), and nothing more can be asked.  Correcting it back
    brings the hits back as new."""
    make_agreement(db, level="full")
    first = _relink(db)
    assert first["cross_agency"] == 1 and first["retracted"] == 0
    spvm_hit = _inbox(db, world, "SPVM")[0]
    approved = _request(db, world)
    hits.decide(db, actor=actor_of(world.steward["TPS"]), request_id=approved.id, decision="approve")
    db.commit()
    assert hits.disclosure(db, actor=actor_of(world.analyst["SPVM"]), request_id=approved.id)["fields"]
    hits.mark(db, actor=actor_of(world.analyst["TPS"]), hit_id=_inbox(db, world, "TPS")[0].id, status="seen")
    waiting = hits.request_disclosure(db, actor=actor_of(world.analyst["TPS"]),
                                      hit_id=_inbox(db, world, "TPS")[0].id, purpose="investigation",
                                      level="summary", justification="Fictional: checking a joint file")
    db.commit()

    ingest_people(db, world.analyst["SPVM"], [person_row("SPVM", "S-1", given="Zebulon", surname="Otherfictive",
                                                         dob="1971-11-30", phone="514-555-0123", city="Gatineau",
                                                         province="QC")])
    second = _relink(db)
    assert (second["retracted"], second["hits_withdrawn"], second["cross_agency"]) == (1, 2, 0)
    assert {h.status for h in db.execute(select(Hit)).scalars()} == {"withdrawn"}
    assert [h.status for h in _inbox(db, world, "SPVM")] == ["withdrawn"]  # shown, labelled, not hidden
    db.expire_all()
    assert hits.get_request(db, actor=actor_of(world.analyst["TPS"]), request_id=waiting.id).status == "withdrawn"
    for who, request_id in ((world.analyst["SPVM"], approved.id), (world.steward["TPS"], approved.id)):
        with pytest.raises(Conflict, match="no longer match"):
            hits.disclosure(db, actor=actor_of(who), request_id=request_id)
        db.rollback()
    with pytest.raises(Conflict, match="withdrawn"):
        hits.request_disclosure(db, actor=actor_of(world.analyst["SPVM"]), hit_id=spvm_hit.id,
                                purpose="investigation", level="summary", justification="Fictional")
    db.rollback()
    with pytest.raises(Conflict, match="withdrawn"):
        hits.mark(db, actor=actor_of(world.analyst["SPVM"]), hit_id=spvm_hit.id, status="new")
    db.rollback()
    with pytest.raises(Conflict):  # the withdrawn request is not the steward's to decide any more
        hits.decide(db, actor=actor_of(world.steward["SPVM"]), request_id=waiting.id, decision="approve")
    db.rollback()
    assert _relink(db)["retracted"] == 0  # idempotent: nothing new to retract

    ingest_people(db, world.analyst["SPVM"], [person_row("SPVM", "S-1", city="Montreal", province="QC",
                                                         phone="514-555-0199")])
    back = _relink(db)
    assert (back["reinstated"], back["cross_agency"]) == (1, 1)
    assert {(h.status, h.seen_at) for h in db.execute(select(Hit)).scalars()} == {("new", None)}
    assert hits.disclosure(db, actor=actor_of(world.analyst["SPVM"]), request_id=approved.id)["fields"]


def test_refresh_audits_only_the_hits_it_delivers(db, world, people):
    from harbour.core.models import AuditEntry as Entry
    from harbour.sharing.hits import Deliverer

    _match(db, world)  # no agreement yet: no hit
    make_agreement(db, activate=False)
    from harbour.sharing.models import Agreement

    agreement = db.execute(select(Agreement)).scalar_one()
    agreement.status = "active"
    db.flush()
    deliverer = Deliverer(db)
    deliverer.by_agency = {world.agency["SPVM"].id: 5}  # as if a relink had delivered five already
    assert linking.refresh_hits(db, deliverer) == 2
    entry = db.execute(select(Entry).where(Entry.action == "hit").order_by(Entry.id.desc())).scalars().first()
    assert entry.detail["hits_by_agency"] == {str(world.agency["TPS"].id): 1, str(world.agency["SPVM"].id): 1}
