"""The plan API: scopes, the department boundary both ways, review, and bad input → 4xx JSON, never 500."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import func, select

from harbour.core.models import AuditEntry
from harbour.plan.models import PlanDeliverableStatusRecord, PlanProgressEntry
from tests.plan.conftest import CODE

API = "/api/v1/plan"
READ, WRITE = ("plan:read",), ("plan:read", "plan:write")
BODY = {"fiscal_year": "2014-2015", "narrative_en": "Fictional API update.", "proposed_status": "complete"}


@pytest.fixture
def raw(app):
    """A client that returns 500s as responses instead of raising, so the tests can assert on them."""
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@pytest.fixture
def heads(world, token_for):
    return {"rcmp": token_for(world.rcmp, WRITE), "cbsa": token_for(world.cbsa, WRITE),
            "coord": token_for(world.coordinator, WRITE), "outsider": token_for(world.outsider, READ),
            "rcmp_read": token_for(world.rcmp, READ)}


def state(db) -> tuple:
    return (db.execute(select(func.count(PlanProgressEntry.id))).scalar_one(),
            db.execute(select(func.count(PlanDeliverableStatusRecord.id))).scalar_one(),
            db.execute(select(func.count(AuditEntry.id))).scalar_one())


def test_read_endpoints(raw, world, heads):
    h = heads["outsider"]
    assert [s["code"] for s in raw.get(f"{API}/strategies", headers=h).json()] == [CODE]
    chart = raw.get(f"{API}/strategies/{CODE}/chart", params={"fiscal_year": "2013-2014"}, headers=h).json()
    assert [p["code"] for p in chart["pillars"]] == ["prevention", "protection"]
    only = raw.get(f"{API}/strategies/{CODE}/chart", params={"department": "CBSA"}, headers=h).json()
    assert [d["text_en"] for p in only["pillars"] for o in p["objectives"] for t in o["tasks"]
            for d in t["deliverables"]] == ["Fictional CBSA poster"]
    summary = raw.get(f"{API}/strategies/{CODE}/summary", headers=h).json()
    assert summary["total"] == 4
    changes = raw.get(f"{API}/strategies/{CODE}/changes", params={"fiscal_year": "2013-2014"}, headers=h).json()
    assert changes["counts"]["first_reported"] == 4
    detail = raw.get(f"{API}/deliverables/{world.d_rcmp}", headers=h).json()
    assert detail["leads"] == ["RCMP"] and detail["partners"] == ["JUS"] and detail["task"] == "1.11"
    assert {d["code"] for d in raw.get(f"{API}/departments", headers=h).json()} >= {"PS", "RCMP", "CIC"}
    assert raw.get(f"{API}/strategies/{CODE}/flags", headers=h).status_code == 403  # not a lead, not coordinator
    assert raw.get(f"{API}/strategies/{CODE}/flags", headers=heads["coord"]).status_code == 200
    assert raw.get(f"{API}/strategies", headers={}).status_code == 401


def test_department_boundary_both_ways_and_review(raw, db, world, heads):
    r = raw.post(f"{API}/deliverables/{world.d_cbsa}/progress", json=BODY, headers=heads["rcmp"])
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = raw.post(f"{API}/deliverables/{world.d_rcmp}/progress", json=BODY, headers=heads["cbsa"])
    assert r.status_code == 403
    r = raw.post(f"{API}/deliverables/{world.d_rcmp}/progress", json=BODY, headers=heads["rcmp_read"])
    assert r.status_code == 403 and "plan:write" in r.json()["error"]["message"]
    r = raw.post(f"{API}/deliverables/{world.d_rcmp}/progress", json=BODY, headers=heads["rcmp"])
    assert r.status_code == 201, r.text
    entry = r.json()
    assert entry["state"] == "submitted" and entry["department_code"] == "RCMP"
    assert raw.get(f"{API}/progress/{entry['id']}", headers=heads["cbsa"]).status_code == 404
    assert raw.get(f"{API}/progress/{entry['id']}", headers=heads["outsider"]).status_code == 404
    assert raw.post(f"{API}/progress/{entry['id']}/review", json={"decision": "approve"},
                    headers=heads["cbsa"]).status_code == 403
    queue = raw.get(f"{API}/review-queue", headers=heads["coord"]).json()
    assert [e["id"] for e in queue] == [entry["id"]]
    r = raw.post(f"{API}/progress/{entry['id']}/review", json={"decision": "approve", "note": "Thanks."},
                 headers=heads["coord"])
    assert r.status_code == 200 and r.json()["state"] == "approved"
    again = raw.post(f"{API}/progress/{entry['id']}/review", json={"decision": "approve"}, headers=heads["coord"])
    assert again.status_code == 409
    public = raw.get(f"{API}/progress/{entry['id']}", headers=heads["outsider"]).json()
    assert "author_id" not in public and "reviewer_note" not in public and public["narrative_en"] == BODY["narrative_en"]
    chart = raw.get(f"{API}/strategies/{CODE}/chart", headers=heads["outsider"]).json()
    latest = chart["pillars"][0]["objectives"][0]["tasks"][0]["deliverables"][0]["latest_update"]
    assert latest["narrative_en"] == BODY["narrative_en"] and latest["entry_date"]
    changes = raw.get(f"{API}/strategies/{CODE}/changes", params={"fiscal_year": "2014-2015"},
                      headers=heads["outsider"]).json()
    assert changes["counts"] == {"changed": 1, "first_reported": 0, "updates": 1}
    assert raw.get(f"{API}/strategies/{CODE}/flags", headers=heads["rcmp"]).status_code == 200
    detail = raw.get(f"{API}/deliverables/{world.d_rcmp}", headers=heads["outsider"]).json()
    assert detail["status"] == "complete" and [h["fiscal_year"] for h in detail["status_history"]] == \
        ["2013-2014", "2014-2015"]


def test_draft_edit_submit_through_the_api(raw, world, heads):
    r = raw.post(f"{API}/deliverables/{world.d_rcmp}/progress", json={**BODY, "submit": False}, headers=heads["rcmp"])
    entry = r.json()["id"]
    assert raw.patch(f"{API}/progress/{entry}", json={"narrative_fr": "Mise à jour fictive."},
                     headers=heads["cbsa"]).status_code == 404
    r = raw.patch(f"{API}/progress/{entry}", json={"narrative_fr": "Mise à jour fictive."}, headers=heads["rcmp"])
    assert r.status_code == 200 and r.json()["narrative_fr"] == "Mise à jour fictive."
    assert raw.post(f"{API}/progress/{entry}/submit", headers=heads["rcmp"]).json()["state"] == "submitted"
    assert raw.patch(f"{API}/progress/{entry}", json={"narrative_en": "late"}, headers=heads["rcmp"]).status_code == 409


BAD = [
    ("post", "/deliverables/{d}/progress", {"fiscal_year": "2014-2016", "narrative_en": "x"}, 422),
    ("post", "/deliverables/{d}/progress", {"fiscal_year": "14-15", "narrative_en": "x"}, 422),
    ("post", "/deliverables/{d}/progress", {"fiscal_year": "2014-2015"}, 422),
    ("post", "/deliverables/{d}/progress", {**BODY, "proposed_status": "Done"}, 422),
    ("post", "/deliverables/{d}/progress", {**BODY, "evidence_links": ["javascript:alert(1)"]}, 422),
    ("post", "/deliverables/{d}/progress", {**BODY, "evidence_links": "https://example.org"}, 422),
    ("post", "/deliverables/{d}/progress", {**BODY, "colour": "blue"}, 422),
    ("post", "/deliverables/{d}/progress", {**BODY, "entry_date": "2999-01-01"}, 422),
    ("post", "/deliverables/{d}/progress", {**BODY, "narrative_en": "a\x00b"}, 422),
    ("post", "/deliverables/{d}/progress", {**BODY, "narrative_en": "x" * 10_001}, 422),
    ("post", "/deliverables/{d}/progress", {**BODY, "department": "not a code!"}, 422),
    ("post", "/deliverables/{d}/progress", {**BODY, "fiscal_year": "2199-2200"}, 422),
    ("post", "/deliverables/{d}/progress", {**BODY, "fiscal_year": "1990-1991"}, 422),
    ("post", "/deliverables/{d}/progress", [1, 2], 422),
    ("post", "/deliverables/99999999/progress", BODY, 404),
    ("post", "/deliverables/99999999999999/progress", BODY, 422),
    ("post", "/deliverables/0/progress", BODY, 422),
    ("post", "/progress/99999/review", {"decision": "approve"}, 404),
    ("post", "/progress/1/review", {"decision": "maybe"}, 422),
    ("get", "/strategies/NO-SUCH", None, 404),
    ("get", "/strategies/bad code!/chart", None, 422),
    ("get", f"/strategies/{CODE}/chart?fiscal_year=2013", None, 422),
    ("get", f"/strategies/{CODE}/chart?status=done", None, 422),
    ("get", f"/strategies/{CODE}/chart?department=<script>", None, 422),
    ("get", f"/strategies/{CODE}/changes", None, 422),
    ("get", f"/strategies/{CODE}/changes?fiscal_year=2013-2015", None, 422),
    ("get", "/progress?state=nope", None, 422),
    ("get", "/progress?limit=100000", None, 422),
    ("put", "/indicators/1/values/2013-2014", {"target": "lots"}, 422),
    ("put", "/indicators/99/values/2013-2014", {"target": 5}, 404),
    ("put", "/indicators/1/values/2013", {"target": 5}, 422),
]


@pytest.mark.parametrize("method,path,body,status", BAD)
def test_bad_input_is_a_4xx_json_error_and_changes_nothing(raw, db, world, heads, method, path, body, status):
    before = state(db)
    r = raw.request(method.upper(), API + path.format(d=world.d_rcmp), json=body,
                    headers=heads["coord"] if "/review" in path or "/indicators" in path else heads["rcmp"])
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert set(r.json()["error"]) >= {"code", "message"}
    db.expire_all()
    assert state(db) == before


def test_malformed_json_body(raw, world, heads):
    r = raw.post(f"{API}/deliverables/{world.d_rcmp}/progress", content=b"{not json",
                 headers={**heads["rcmp"], "content-type": "application/json"})
    assert r.status_code == 422 and r.json()["error"]["code"] == "invalid"
    r = raw.post(f"{API}/deliverables/{world.d_rcmp}/progress",
                 content=b'{"fiscal_year": "2014-2015", "narrative_en": "lone \\ud800 surrogate"}',
                 headers={**heads["rcmp"], "content-type": "application/json"})
    assert r.status_code == 422


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner,
                                                                                         max_size=3), max_leaves=8)
bodies = st.fixed_dictionaries({}, optional={
    "fiscal_year": st.one_of(st.just("2014-2015"), st.text(max_size=12), json_values),
    "narrative_en": st.one_of(st.text(max_size=40), json_values),
    "evidence_links": st.one_of(st.lists(st.text(max_size=30), max_size=3), json_values),
    "proposed_status": st.one_of(st.sampled_from(["complete", "ongoing", "Done", ""]), json_values),
    "entry_date": st.one_of(st.dates().map(str), json_values),
    "department": st.one_of(st.sampled_from(["RCMP", "CBSA", "", "JUS"]), json_values),
    "submit": json_values,
})


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=bodies)
def test_fuzzed_progress_bodies_never_500(raw, world, heads, body):
    r = raw.post(f"{API}/deliverables/{world.d_rcmp}/progress", json=body, headers=heads["rcmp"])
    assert r.status_code in (201, 403, 422), r.text
    assert "error" in r.json() or r.status_code == 201


def test_patch_with_nulls_never_500(raw, world, heads):
    entry = raw.post(f"{API}/deliverables/{world.d_rcmp}/progress", json={**BODY, "submit": False},
                     headers=heads["rcmp"]).json()["id"]
    for body in ({"fiscal_year": None}, {"entry_date": None}, {"proposed_status": None}, {"evidence_links": None},
                 {"narrative_en": None, "narrative_fr": None}, {"fiscal_year": True}, {"narrative_en": 5}):
        r = raw.patch(f"{API}/progress/{entry}", json=body, headers=heads["rcmp"])
        assert r.status_code in (200, 422), (body, r.text)
    r = raw.get(f"{API}/progress/{entry}", headers=heads["rcmp"]).json()
    assert r["fiscal_year"] == "2014-2015" and r["narrative_en"] == BODY["narrative_en"]


def test_indicators_import_and_coordinator_updates(raw, db, make_user, token_for):
    from harbour.plan import importer
    from tests.plan.conftest import ADMIN, plan_doc

    doc = plan_doc()
    doc["indicators"] = [{"code": "fictional-sessions", "name": {"en": "Awareness sessions", "fr": "Séances"},
                          "unit": "sessions", "objective": "1.1",
                          "values": [{"fiscal_year": "2013-2014", "target": 10, "actual": 7}]}]
    importer.import_document(db, actor=ADMIN, doc=doc)
    coord, lead = make_user("plan_coordinator"), make_user("plan_coordinator")
    from harbour.plan import service

    service.add_member(db, actor=ADMIN, user_id=lead.id, department_code="RCMP")
    h = token_for(coord, WRITE)
    rows = raw.get(f"{API}/strategies/{CODE}/indicators", headers=h).json()
    assert rows[0]["values"] == [{"fiscal_year": "2013-2014", "target": 10.0, "actual": 7.0}]
    ind = rows[0]["id"]
    r = raw.put(f"{API}/indicators/{ind}/values/2014-2015", json={"target": 12, "actual": 12}, headers=h)
    assert r.status_code == 200 and r.json() == {"fiscal_year": "2014-2015", "target": 12.0, "actual": 12.0}
    r = raw.put(f"{API}/indicators/{ind}/values/2014-2015", json={"actual": 11}, headers=token_for(lead, WRITE))
    assert r.status_code == 403  # department leads report progress; the coordinator records indicators
    assert raw.put(f"{API}/indicators/{ind}/values/2014-2015", json={"actual": 1e300 * 10},
                   headers=h).status_code == 422
    again = importer.import_document(db, actor=ADMIN, doc=doc)
    assert (again.created, again.updated) == (0, 0)
    entries = db.execute(select(AuditEntry).where(AuditEntry.record_type == "plan_indicator")).scalars().all()
    assert [e.detail["fiscal_year"] for e in entries] == ["2014-2015"]


def _fuzz(operation, headers) -> None:
    from hypothesis import given as sgiven
    from hypothesis import settings as ssettings
    from schemathesis.checks import not_a_server_error

    @sgiven(case=operation.as_strategy())
    @ssettings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck), database=None,
               derandomize=True)
    def fuzz(case):
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    fuzz()


@pytest.mark.slow
def test_schemathesis_plan_operations_with_a_loaded_plan(app, world, token_for):
    """Every plan operation, fuzzed from the OpenAPI document with real ids in play, as a lead and as the coordinator."""
    import schemathesis

    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [r.ok() for r in schema.get_all_operations() if r.ok().path.startswith(API)]
    assert len(operations) >= 15
    for user in (world.rcmp, world.coordinator):
        headers = token_for(user, WRITE)
        for operation in operations:
            _fuzz(operation, headers)
