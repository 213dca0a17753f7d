"""Department updates, the coordinator's review, flags and the annual-report views (service layer)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from harbour.core.audit import verify
from harbour.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from harbour.core.models import AuditEntry
from harbour.plan import reporting, service
from harbour.plan.schemas import ProgressCreate, ProgressUpdate, ReviewBody
from tests.conftest import actor_of
from tests.plan.conftest import ADMIN, CODE

FY = "2014-2015"


def update(**kw) -> ProgressCreate:
    return ProgressCreate(**{"fiscal_year": FY, "narrative_en": "Fictional progress narrative.", **kw})


def approve(db, coordinator, entry_id, note=None):
    return service.review_progress(db, actor=actor_of(coordinator), entry_id=entry_id,
                                   data=ReviewBody(decision="approve", note=note))


def audit_actions(db, record_type="plan_progress") -> list[str]:
    return [e.action for e in db.execute(select(AuditEntry).where(AuditEntry.record_type == record_type)
                                         .order_by(AuditEntry.seq)).scalars()]


def test_a_lead_writes_only_on_their_own_departments_items(db, world):
    rcmp, cbsa, jus = actor_of(world.rcmp), actor_of(world.cbsa), actor_of(world.jus)
    own = service.create_progress(db, actor=rcmp, deliverable_id=world.d_rcmp, data=update())
    assert (own.department_code, own.state) == ("RCMP", "submitted")
    with pytest.raises(Forbidden):  # RCMP on a CBSA deliverable
        service.create_progress(db, actor=rcmp, deliverable_id=world.d_cbsa, data=update())
    with pytest.raises(Forbidden):  # and CBSA on an RCMP deliverable
        service.create_progress(db, actor=cbsa, deliverable_id=world.d_rcmp, data=update())
    with pytest.raises(Forbidden):  # naming a department you do not speak for does not help
        service.create_progress(db, actor=cbsa, deliverable_id=world.d_rcmp, data=update(department="RCMP"))
    partner = service.create_progress(db, actor=jus, deliverable_id=world.d_rcmp, data=update())
    assert partner.department_code == "JUS"  # a partner department may report too
    with pytest.raises(Forbidden):  # a coordinator without a department writes nothing
        service.create_progress(db, actor=actor_of(world.coordinator), deliverable_id=world.d_rcmp, data=update())
    with pytest.raises(NotFound):
        service.create_progress(db, actor=rcmp, deliverable_id=999_999, data=update())
    assert audit_actions(db) == ["create", "create"]


def test_drafts_belong_to_their_department(db, world):
    rcmp, cbsa, coord = actor_of(world.rcmp), actor_of(world.cbsa), actor_of(world.coordinator)
    draft = service.create_progress(db, actor=rcmp, deliverable_id=world.d_rcmp, data=update(submit=False))
    assert draft.state == "draft"
    for outsider in (cbsa, coord, actor_of(world.jus)):  # JUS partners on the deliverable but did not write it
        with pytest.raises(NotFound):
            service.get_progress(db, actor=outsider, entry_id=draft.id)
    with pytest.raises(NotFound):
        service.update_progress(db, actor=cbsa, entry_id=draft.id, data=ProgressUpdate(narrative_en="Changed"))
    with pytest.raises(NotFound):
        service.submit_progress(db, actor=cbsa, entry_id=draft.id)
    service.update_progress(db, actor=rcmp, entry_id=draft.id,
                            data=ProgressUpdate(narrative_fr="Texte fictif.", proposed_status="complete",
                                                evidence_links=["https://example.org/report-fictional"]))
    with pytest.raises(ValidationFailed):
        service.update_progress(db, actor=rcmp, entry_id=draft.id,
                                data=ProgressUpdate(narrative_en=None, narrative_fr=None))
    with pytest.raises(NotFound):  # a draft cannot be reviewed: the coordinator does not even see it
        service.review_progress(db, actor=coord, entry_id=draft.id, data=ReviewBody(decision="approve"))
    submitted = service.submit_progress(db, actor=rcmp, entry_id=draft.id)
    assert submitted.state == "submitted" and submitted.submitted_at is not None
    assert service.get_progress(db, actor=coord, entry_id=draft.id).proposed_status == "complete"
    with pytest.raises(Conflict):  # no changes once sent for review
        service.update_progress(db, actor=rcmp, entry_id=draft.id, data=ProgressUpdate(narrative_en="Later"))
    assert audit_actions(db) == ["create", "update", "submit"]


def test_review_publishes_status_only_on_approval(db, world):
    rcmp, coord = actor_of(world.rcmp), actor_of(world.coordinator)
    returned = service.create_progress(db, actor=rcmp, deliverable_id=world.d_rcmp,
                                       data=update(proposed_status="complete", narrative_en="Returned narrative"))
    with pytest.raises(ValidationFailed):  # returning needs a note
        service.review_progress(db, actor=coord, entry_id=returned.id, data=ReviewBody(decision="reject"))
    service.review_progress(db, actor=coord, entry_id=returned.id,
                            data=ReviewBody(decision="reject", note="Add the number of sessions held."))
    d = service.get_deliverable(db, world.d_rcmp)
    db.refresh(d)
    assert d.status == "ongoing" and d.status_fiscal_year == "2013-2014"
    with pytest.raises(Conflict):
        approve(db, world.coordinator, returned.id)

    good = service.create_progress(db, actor=rcmp, deliverable_id=world.d_rcmp,
                                   data=update(proposed_status="complete", narrative_en="Approved narrative"))
    assert reporting.chart(db, CODE)["pillars"][0]["objectives"][0]["tasks"][0]["deliverables"][0]["status"] == \
        "ongoing"
    approve(db, world.coordinator, good.id)
    db.refresh(d)
    assert (d.status, d.status_fiscal_year) == ("complete", FY)
    item = reporting.chart(db, CODE)["pillars"][0]["objectives"][0]["tasks"][0]["deliverables"][0]
    assert item["status"] == "complete" and item["latest_update"]["narrative_en"] == "Approved narrative"
    # the earlier year's chart is unchanged: statuses are per fiscal year
    old = reporting.chart(db, CODE, "2013-2014")["pillars"][0]["objectives"][0]["tasks"][0]["deliverables"][0]
    assert old["status"] == "ongoing" and old["latest_update"] is None
    assert audit_actions(db) == ["create", "reject", "create", "approve"]
    assert [(e.detail["from"], e.detail["to"]) for e in db.execute(
        select(AuditEntry).where(AuditEntry.record_type == "plan_deliverable")).scalars()] == [("ongoing", "complete")]
    assert verify(db).ok


def test_who_may_review(db, world, make_user):
    rcmp = actor_of(world.rcmp)
    entry = service.create_progress(db, actor=rcmp, deliverable_id=world.d_rcmp, data=update())
    for lead in (world.rcmp, world.jus, world.cbsa):  # the author, a partner's lead, an unrelated department's lead
        with pytest.raises(Forbidden):  # department leads never review, even with the coordinator role
            service.review_progress(db, actor=actor_of(lead), entry_id=entry.id, data=ReviewBody(decision="approve"))
    for other in (world.outsider, make_user("admin")):  # nor researchers, nor administrators
        with pytest.raises(Forbidden):
            service.review_progress(db, actor=actor_of(other), entry_id=entry.id, data=ReviewBody(decision="approve"))
    with pytest.raises(Forbidden):
        service.review_queue(db, actor=actor_of(world.cbsa))
    approved = approve(db, world.coordinator, entry.id)
    assert approved.state == "approved" and approved.reviewer_id == world.coordinator.id


def test_memberships_are_granted_by_administrators_only(db, world):
    with pytest.raises(Forbidden):
        service.add_member(db, actor=actor_of(world.rcmp), user_id=world.rcmp.id, department_code="CBSA")
    with pytest.raises(Forbidden):
        service.add_member(db, actor=actor_of(world.coordinator), user_id=world.coordinator.id,
                           department_code="CBSA")
    link = service.add_member(db, actor=ADMIN, user_id=world.outsider.id, department_code="IRCC")
    assert link.department_code == "CIC"  # aliases resolve
    with pytest.raises(ValidationFailed):
        service.add_member(db, actor=ADMIN, user_id=world.outsider.id, department_code="NOPE")
    assert service.remove_member(db, actor=ADMIN, user_id=world.outsider.id, department_code="CIC")
    assert audit_actions(db, "plan_department_member")[-2:] == ["grant", "revoke"]


def test_visibility_of_updates(db, world):
    rcmp, cbsa, coord = actor_of(world.rcmp), actor_of(world.cbsa), actor_of(world.coordinator)
    waiting = service.create_progress(db, actor=rcmp, deliverable_id=world.d_rcmp, data=update())
    published = service.create_progress(db, actor=rcmp, deliverable_id=world.d_rcmp, data=update())
    approve(db, world.coordinator, published.id)
    outsider = actor_of(world.outsider)
    assert [e.id for e in service.list_progress(db, actor=outsider)[0]] == [published.id]
    draft = service.create_progress(db, actor=rcmp, deliverable_id=world.d_rcmp, data=update(submit=False))
    assert {e.id for e in service.list_progress(db, actor=cbsa)[0]} == {published.id}
    assert {e.id for e in service.list_progress(db, actor=rcmp)[0]} == {waiting.id, published.id, draft.id}
    with pytest.raises(NotFound):
        service.get_progress(db, actor=cbsa, entry_id=waiting.id)
    assert {e.id for e in service.list_progress(db, actor=coord)[0]} == {waiting.id, published.id}
    assert [e.id for e in service.review_queue(db, actor=coord)] == [waiting.id]
    with pytest.raises(NotFound):
        service.get_progress(db, actor=outsider, entry_id=waiting.id)
    assert service.get_progress(db, actor=outsider, entry_id=published.id).state == "approved"


def test_bad_years_and_links_are_refused(db, world):
    rcmp = actor_of(world.rcmp)
    with pytest.raises(ValidationFailed):  # before the plan started
        service.create_progress(db, actor=rcmp, deliverable_id=world.d_rcmp, data=update(fiscal_year="2010-2011"))
    with pytest.raises(ValidationFailed):  # a fiscal year that has not begun
        service.create_progress(db, actor=rcmp, deliverable_id=world.d_rcmp, data=update(fiscal_year="2199-2200"))
    with pytest.raises(ValueError):
        update(fiscal_year="2014-2016")
    with pytest.raises(ValueError):
        update(evidence_links=["javascript:alert(1)"])
    with pytest.raises(ValueError):
        ProgressCreate(fiscal_year=FY)  # no narrative in either language


def test_flags_overdue_and_no_update(db, world):
    coord = actor_of(world.coordinator)
    by_task = {(r["task"], r["deliverable"]["ref"]): r["flags"] for r in
               service.flags(db, actor=coord, strategy_code=CODE, fiscal_year="2015-2016")}
    assert by_task == {("1.11", "1"): ["no_update"], ("1.11", "2"): ["no_update"],
                       ("2.11", "1"): ["overdue", "no_update"]}  # 2.11/2 is complete: never flagged
    # in the published year itself nothing lacks an update, and nothing is overdue yet
    assert service.flags(db, actor=coord, strategy_code=CODE, fiscal_year="2013-2014") == []
    # an approved update in the year clears "no update"; a submitted one does not
    entry = service.create_progress(db, actor=actor_of(world.rcmp), deliverable_id=world.d_rcmp,
                                    data=update(fiscal_year="2015-2016"))
    assert ("1.11", "1") in {(r["task"], r["deliverable"]["ref"]) for r in
                             service.flags(db, actor=coord, strategy_code=CODE, fiscal_year="2015-2016")}
    approve(db, world.coordinator, entry.id)
    flagged = {(r["task"], r["deliverable"]["ref"]) for r in
               service.flags(db, actor=coord, strategy_code=CODE, fiscal_year="2015-2016")}
    assert ("1.11", "1") not in flagged and ("2.11", "1") in flagged
    # a department lead sees only their departments' flags; others may not look
    cbsa_flags = service.flags(db, actor=actor_of(world.cbsa), strategy_code=CODE, fiscal_year="2015-2016")
    assert [(r["task"], r["deliverable"]["ref"]) for r in cbsa_flags] == [("1.11", "2")]
    with pytest.raises(Forbidden):
        service.flags(db, actor=actor_of(world.outsider), strategy_code=CODE)
    with pytest.raises(ValidationFailed):
        service.flags(db, actor=coord, strategy_code=CODE, fiscal_year="2015-2017")


def test_overdue_clears_when_completion_is_approved(db, world, make_user):
    ps = make_user("plan_coordinator")
    service.add_member(db, actor=ADMIN, user_id=ps.id, department_code="PS")
    entry = service.create_progress(db, actor=actor_of(ps), deliverable_id=world.d_overdue,
                                    data=update(fiscal_year="2015-2016", proposed_status="complete"))
    approve(db, world.coordinator, entry.id)
    assert not [r for r in service.flags(db, actor=actor_of(world.coordinator), strategy_code=CODE,
                                         fiscal_year="2016-2017") if r["deliverable"]["id"] == world.d_overdue]


def test_summary_and_changes_since_for_the_annual_report(db, world):
    summary = reporting.status_summary(db, CODE, "2013-2014")
    assert summary["total"] == 4
    assert {k: v for k, v in summary["by_status"].items() if v} == {"ongoing": 2, "in_progress": 1, "complete": 1}
    assert [p["total"] for p in summary["by_pillar"]] == [2, 2]
    assert summary["by_department"]["RCMP"]["ongoing"] == 1
    assert reporting.status_summary(db, CODE, "2012-2013")["by_status"]["not_reported"] == 4

    entry = service.create_progress(db, actor=actor_of(world.cbsa), deliverable_id=world.d_cbsa,
                                    data=update(proposed_status="complete", narrative_en="Posters printed."))
    approve(db, world.coordinator, entry.id)
    changes = reporting.changes_since(db, CODE, FY)
    assert changes["previous_fiscal_year"] == "2013-2014"
    assert [(c["task"], c["ref"], c["from_status"], c["to_status"]) for c in changes["changed"]] == [
        ("1.11", "2", "in_progress", "complete")]
    assert [u["update"]["narrative_en"] for u in changes["updates"]] == ["Posters printed."]
    first = reporting.changes_since(db, CODE, "2013-2014")
    assert first["counts"] == {"changed": 0, "first_reported": 4, "updates": 0}
    with pytest.raises(ValidationFailed):
        reporting.changes_since(db, CODE, "2013")
    with pytest.raises(NotFound):
        reporting.chart(db, "NO-SUCH-PLAN")


def test_chart_filters_and_pending_for_the_coordinator(db, world):
    entry = service.create_progress(db, actor=actor_of(world.rcmp), deliverable_id=world.d_rcmp, data=update())
    public = reporting.chart(db, CODE)
    assert all("pending" not in d for *_x, d in reporting.iter_deliverables(public))
    console = reporting.chart(db, CODE, approved_only=False)
    pending = {d["id"]: [p["id"] for p in d["pending"]] for *_x, d in reporting.iter_deliverables(console)}
    assert pending[world.d_rcmp] == [entry.id]
    only_ps = reporting.chart(db, CODE, department="PS")
    assert [p["code"] for p in only_ps["pillars"]] == ["protection"]
    assert [d["id"] for *_x, d in reporting.iter_deliverables(reporting.chart(db, CODE, status="in_progress"))] == \
        [world.d_cbsa]
    assert [d["id"] for *_x, d in reporting.iter_deliverables(reporting.chart(db, CODE, overdue_only=True))] == \
        [world.d_overdue]
