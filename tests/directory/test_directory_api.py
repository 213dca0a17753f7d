"""Directory API: search (good and bad input), detail endpoints, confidential addresses, provider isolation,
role boundaries and scopes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from harbour.directory import service as directory
from harbour.directory.models import ServiceCapacity, UnmetNeed
from tests.directory.search_data import TODAY, build, supervisor_actor

READ = ("directory:read",)
WRITE = ("directory:read", "directory:write")
SEARCH = "/api/v1/directory/search"


@pytest.fixture
def world(db, make_user):
    actor = supervisor_actor(make_user)
    return actor, build(db, actor)


@pytest.fixture
def staff_of(db, make_user, world):
    """A provider-staff user linked to one of the world's organisations."""
    actor, orgs = world

    def _staff(key: str):
        user = make_user("provider_staff")
        directory.link_staff(db, actor=actor, user_id=user.id, organization_id=orgs[key].id)
        return user

    return _staff


def _advocate(make_user, token_for, scopes=READ):
    return token_for(make_user("hotline_advocate"), scopes)


# -- search --------------------------------------------------------------------------
def test_search_api(client, world, make_user, token_for):
    headers = _advocate(make_user, token_for)
    r = client.get(SEARCH, params={"needs": ["emergency_shelter", "counselling"], "place": "Thunder Bay",
                                   "language": "fr", "after_hours": "true"}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["place"]["label"] == "Thunder Bay, Ontario"
    first = body["results"][0]
    assert first["service_name"] == "Hébergement d'urgence fictif"
    assert first["distance_km"] < 5 and "Serves in French" in first["reasons"]
    national = [h for h in body["results"] if h["distance_km"] is None]
    assert national and national[0]["reasons"][1] == "Available nationally (virtual)"
    names = {h["service_name"] for h in body["results"]}
    assert not {"Pending beds", "Expired beds"} & names


def test_search_api_in_french(client, world, make_user, token_for):
    headers = _advocate(make_user, token_for)
    r = client.get(SEARCH, params={"needs": "emergency_shelter", "place": "Montreal", "radius_km": 5000,
                                   "lang": "fr"}, headers=headers)
    assert r.status_code == 200 and r.headers["content-language"] == "fr"
    assert r.json()["place"]["name"] == "Montréal"


BAD_SEARCHES = [
    {"needs": "emergency_shelter", "place": "Atlantis Falls"},
    {"needs": "emergency_shelter", "place": "Toronto", "radius_km": "0"},
    {"needs": "emergency_shelter", "place": "Toronto", "radius_km": "100000"},
    {"needs": "emergency_shelter", "place": "Toronto", "radius_km": "lots"},
    {"needs": "not_a_service", "place": "Toronto"},
    {"place": "Toronto"},
    {"needs": "emergency_shelter"},
    {"needs": "emergency_shelter", "place": "Toronto", "limit": "100000"},
    {"needs": "emergency_shelter", "place": "Toronto", "gender": "robots"},
    {"needs": "emergency_shelter", "place": "Toronto", "age": "-1"},
    {"needs": "emergency_shelter", "place": "Toronto", "language": "French!"},
    {"needs": "emergency_shelter", "place": "Toronto", "province": "ZZ"},
    {"needs": "emergency_shelter", "latitude": "45.4"},
    {"needs": "emergency_shelter", "latitude": "0", "longitude": "0"},
    {"needs": "emergency_shelter", "place": "x" * 5000},
    {"needs": "emergency_shelter", "place": "Toronto\x00"},
    {"needs": "emergency_shelter", "place": "Toronto", "unexpected": "1"},
    {"needs": "emergency_shelter", "place": "Toronto", "open_now": "maybe"},
]


def test_search_bad_input_is_4xx_json(client, world, make_user, token_for, db):
    headers = _advocate(make_user, token_for)
    for params in BAD_SEARCHES:
        r = client.get(SEARCH, params=params, headers=headers)
        assert r.status_code == 422, (params, r.status_code, r.text)
        error = r.json()["error"]
        assert error["code"] == "invalid" and error["message"]
        assert "Atlantis" not in r.text  # never echoes what was typed
    assert db.execute(select(func.count()).select_from(UnmetNeed)).scalar_one() == 0


def test_unknown_place_names_the_field(client, world, make_user, token_for):
    r = client.get(SEARCH, params={"needs": "legal_aid", "place": "Nowhere Creek"},
                   headers=_advocate(make_user, token_for))
    assert r.status_code == 422 and r.json()["error"]["fields"][0]["field"] == "place"


def test_search_roles_and_scopes(client, world, make_user, token_for, staff_of):
    params = {"needs": "emergency_shelter", "place": "Thunder Bay"}
    assert client.get(SEARCH, params=params).status_code == 401
    no_scope = token_for(make_user("hotline_advocate"), ("hotline:read",))
    assert client.get(SEARCH, params=params, headers=no_scope).status_code == 403
    for role in ("researcher", "agency_analyst", "plan_coordinator"):
        r = client.get(SEARCH, params=params, headers=token_for(make_user(role), READ))
        assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    staff = token_for(staff_of("tb_en"), READ)
    assert client.get(SEARCH, params=params, headers=staff).status_code == 403
    assert client.get(SEARCH, params=params, headers=token_for(make_user("admin"), READ)).status_code == 200


def test_search_records_unmet_need(client, world, make_user, token_for, db):
    r = client.get(SEARCH, params={"needs": "tattoo_removal", "place": "Whitehorse"},
                   headers=_advocate(make_user, token_for))
    assert r.status_code == 200 and r.json()["total"] == 0 and r.json()["unmet_need_recorded"]
    row = db.execute(select(UnmetNeed)).scalar_one()
    assert row.province == "YT" and row.needs == ["tattoo_removal"]
    supervisor = token_for(make_user("hotline_supervisor"), READ)
    summary = client.get("/api/v1/directory/unmet-needs", headers=supervisor).json()
    assert summary["total"] == 1
    assert summary["by_need_and_province"] == [{"need": "tattoo_removal", "province": "YT", "count": 1}]
    advocate = _advocate(make_user, token_for)
    assert client.get("/api/v1/directory/unmet-needs", headers=advocate).status_code == 403
    assert client.get("/api/v1/directory/unmet-needs?since_days=0", headers=supervisor).status_code == 422


# -- details and confidential addresses ----------------------------------------------------
def test_service_and_organization_details(client, world, make_user, token_for):
    _actor, orgs = world
    headers = _advocate(make_user, token_for)
    svc = orgs["wpg"].services[0]
    r = client.get(f"/api/v1/directory/services/{svc.id}", headers=headers)
    assert r.status_code == 200
    body = r.json()
    assert body["organization_name"] == "Winnipeg Fictional Counselling" and body["vetting"]["current"]
    assert body["hours"] and body["locations"][0]["address"]["city"] == "Winnipeg"
    r = client.get(f"/api/v1/directory/organizations/{orgs['wpg'].id}", headers=headers)
    assert r.status_code == 200 and len(r.json()["services"]) == 2
    assert client.get("/api/v1/directory/services/no-such-id", headers=headers).status_code == 404
    assert client.get("/api/v1/directory/services/" + "x" * 37, headers=headers).status_code == 422
    assert client.get("/api/v1/directory/organizations/bad%20id", headers=headers).status_code == 422


def test_confidential_address_only_for_hotline_and_own_staff(client, world, make_user, token_for, staff_of):
    _actor, orgs = world
    org = orgs["tb_fr"]  # a redacted (confidential) location
    path = f"/api/v1/directory/organizations/{org.id}"
    hotline = client.get(path, headers=_advocate(make_user, token_for)).json()
    assert hotline["locations"][0]["confidential"] and hotline["locations"][0]["address"]["address_1"]
    own = client.get(path, headers=token_for(staff_of("tb_fr"), READ)).json()
    assert own["locations"][0]["address"]["address_1"] == "1 Fictional Street"
    other = token_for(staff_of("tb_en"), READ)
    r = client.get(path, headers=other)
    assert r.status_code == 404 and "Fictional Street" not in r.text  # other providers: not even its existence
    r = client.get(f"/api/v1/directory/services/{org.services[0].id}", headers=other)
    assert r.status_code == 404


# -- updates: provider isolation both ways ------------------------------------------------
def test_capacity_update_isolation(client, world, make_user, token_for, staff_of, db):
    _actor, orgs = world
    own_svc, other_svc = orgs["tb_en"].services[0].id, orgs["tb_fr"].services[0].id
    staff = token_for(staff_of("tb_en"), WRITE)
    r = client.put(f"/api/v1/directory/services/{own_svc}/capacity", json={"available": 4, "maximum": 8},
                   headers=staff)
    assert r.status_code == 200 and r.json()["available"] == 4
    before = db.execute(select(ServiceCapacity.available).where(ServiceCapacity.service_id == other_svc)).scalar_one()
    r = client.put(f"/api/v1/directory/services/{other_svc}/capacity", json={"available": 0}, headers=staff)
    assert r.status_code == 404
    db.expire_all()
    assert db.execute(select(ServiceCapacity.available)
                      .where(ServiceCapacity.service_id == other_svc)).scalar_one() == before
    # and the other way round: the other provider cannot touch ours
    other = token_for(staff_of("tb_fr"), WRITE)
    assert client.put(f"/api/v1/directory/services/{own_svc}/capacity", json={"available": 0},
                      headers=other).status_code == 404
    # bad bodies
    for body in ({"available": -1}, {"available": 9, "maximum": 2}, {"available": "x"}, {"available": 1, "x": 1}, []):
        assert client.put(f"/api/v1/directory/services/{own_svc}/capacity", json=body,
                          headers=staff).status_code == 422
    # read-only token
    assert client.put(f"/api/v1/directory/services/{own_svc}/capacity", json={"available": 1},
                      headers=token_for(staff_of("tb_en"), READ)).status_code == 403
    # the capacity change is visible in the next search
    hits = client.get(SEARCH, params={"needs": "emergency_shelter", "place": "Thunder Bay"},
                      headers=_advocate(make_user, token_for)).json()["results"]
    assert next(h for h in hits if h["service_id"] == own_svc)["capacity"]["available"] == 4


def test_details_update_isolation(client, world, make_user, token_for, staff_of):
    _actor, orgs = world
    own_svc, other_svc = orgs["tb_en"].services[0].id, orgs["tb_fr"].services[0].id
    staff = token_for(staff_of("tb_en"), WRITE)
    r = client.patch(f"/api/v1/directory/services/{own_svc}", headers=staff,
                     json={"phone": "807-555-0142", "hours": [{"days": ["MO"], "opens_at": "09:00",
                                                               "closes_at": "17:00"}], "open_24_7": False})
    assert r.status_code == 200, r.text
    assert r.json()["phones"] == ["807-555-0142"] and not r.json()["open_24_7"]
    assert client.patch(f"/api/v1/directory/services/{other_svc}", json={"phone": "807-555-0199"},
                        headers=staff).status_code == 404
    other = token_for(staff_of("tb_fr"), WRITE)
    assert client.patch(f"/api/v1/directory/services/{own_svc}", json={"phone": "807-555-0199"},
                        headers=other).status_code == 404
    assert client.patch(f"/api/v1/directory/services/{own_svc}", json={"hours": [{"days": ["XX"]}]},
                        headers=staff).status_code == 422


def test_write_roles(client, world, make_user, token_for):
    _actor, orgs = world
    svc = orgs["tb_en"].services[0].id
    for role in ("researcher", "agency_analyst"):
        headers = token_for(make_user(role), WRITE)
        assert client.put(f"/api/v1/directory/services/{svc}/capacity", json={"available": 1},
                          headers=headers).status_code == 403
        assert client.patch(f"/api/v1/directory/services/{svc}", json={"phone": "807-555-0100"},
                            headers=headers).status_code == 403
        assert client.get(f"/api/v1/directory/services/{svc}",
                          headers=token_for(make_user(role), READ)).status_code == 403
    # the hotline may update capacity for a provider on the phone
    r = client.put(f"/api/v1/directory/services/{svc}/capacity", json={"available": 2},
                   headers=_advocate(make_user, token_for, WRITE))
    assert r.status_code == 200


def test_vetting_api(client, world, make_user, token_for):
    _actor, orgs = world
    supervisor = token_for(make_user("hotline_supervisor"), WRITE)
    due = client.get("/api/v1/directory/vetting/due?within_days=30", headers=supervisor).json()
    assert [r["organization_name"] for r in due["due"]] == ["Expired Example Shelter"] and due["due"][0]["expired"]
    assert "Pending Example Shelter" in [r["organization_name"] for r in due["not_vetted"]]
    path = f"/api/v1/directory/organizations/{orgs['unvetted'].id}/vetting"
    body = {"status": "vetted", "vetted_by": "Test supervisor (fictional)", "vetted_on": TODAY.isoformat(),
            "expires_on": (TODAY + timedelta(days=365)).isoformat()}
    r = client.put(path, json=body, headers=supervisor)
    assert r.status_code == 200 and r.json()["current"]
    hits = client.get(SEARCH, params={"needs": "emergency_shelter", "place": "Thunder Bay"},
                      headers=supervisor).json()["results"]
    assert "Pending beds" in {h["service_name"] for h in hits}
    # advocates cannot decide vetting or see the list; bad bodies are 422
    advocate = _advocate(make_user, token_for, WRITE)
    assert client.put(path, json=body, headers=advocate).status_code == 403
    assert client.get("/api/v1/directory/vetting/due", headers=advocate).status_code == 403
    assert client.put(path, json={"status": "vetted"}, headers=supervisor).status_code == 422
    assert client.put(path, json={**body, "expires_on": "2001-01-01"}, headers=supervisor).status_code == 422
    assert client.put("/api/v1/directory/organizations/nope/vetting", json=body, headers=supervisor).status_code == 404
    assert client.get("/api/v1/directory/vetting/due?within_days=9999", headers=supervisor).status_code == 422
