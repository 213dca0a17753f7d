"""Directory search: places, ranking and reasons, vetting, eligibility, hours, remote places, unmet needs."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from harbour.core.audit import Actor
from harbour.core.errors import Forbidden, ValidationFailed
from harbour.core.models import AuditEntry
from harbour.directory import places, search_index
from harbour.directory import service as directory
from harbour.directory.models import UnmetNeed
from harbour.directory.schemas import CapacityUpdate, ServiceDetailsUpdate, VettingUpdate, WeeklyHours
from harbour.directory.search import SearchQuery, search
from tests.conftest import actor_of
from tests.directory.search_data import TODAY, build, office, provider, shelter, supervisor_actor


# -- places (no database) ----------------------------------------------------------
@pytest.mark.parametrize(("text", "name", "province"), [
    ("Thunder Bay", "Thunder Bay", "ON"),
    ("thunder bay, ON", "Thunder Bay", "ON"),
    ("Montreal", "Montréal", "QC"),
    ("MONTRÉAL", "Montréal", "QC"),
    ("Saint-Jean-sur-Richelieu", "Saint-Jean-sur-Richelieu", "QC"),
    ("St. John's", "St. John's", "NL"),
    ("saint johns", "St. John's", "NL"),
    ("Quebec City", "Québec", "QC"),
    ("Québec, QC", "Québec", "QC"),
    ("Richmond, ON", "Richmond", "ON"),
    ("Richmond QC", "Richmond", "QC"),
    ("Iqaluit", "Iqaluit", "NU"),
])
def test_place_resolution(text, name, province):
    place = places.resolve(text)
    assert (place.name, place.province, place.province_wide) == (name, province, False)


def test_ambiguous_place_picks_most_populous_and_reports_alternatives():
    place = places.resolve("Richmond")
    assert place.province == "BC"
    assert {t.province for t in place.alternatives} >= {"ON", "QC"}
    assert places.resolve("Richmond", "QC").province == "QC"
    assert places.resolve("Richmond", "QC").alternatives == ()


def test_bare_province_is_province_wide_with_centroid():
    for text, code in (("Ontario", "ON"), ("QC", "QC"), ("Colombie-Britannique", "BC"), ("nunavut", "NU")):
        place = places.resolve(text)
        assert place.province_wide and place.province == code
    on = places.province_place("ON")
    assert 42 < on.latitude < 50 and -90 < on.longitude < -74  # population pulls it to the south


def test_unknown_place_is_a_422_naming_the_field():
    for text in ("Atlantis Falls", "", "x" * 300):
        with pytest.raises(ValidationFailed) as err:
            places.resolve(text)
        assert err.value.status_code == 422 and "place" in err.value.fields
        assert "Atlantis" not in err.value.text()  # never echoes what was typed
    with pytest.raises(ValidationFailed):
        places.resolve("Thunder Bay", "QC")  # a province that does not have it


def test_haversine_and_admin1_mapping():
    assert places.haversine_km(43.65, -79.38, 45.50, -73.57) == pytest.approx(504, abs=5)
    provinces = {t.province for t in places.gazetteer().towns}
    assert provinces == set(places.ADMIN1_TO_PROVINCE.values())  # all 13, nothing else


def test_schedules_compile_to_utc_windows():
    # Mon–Fri 09:00–17:00 at UTC-06:00 is 15:00–23:00 UTC
    windows, shown, after, all_week = search_index.compile_hours([("MO,TU,WE,TH,FR", "09:00-06:00", "17:00-06:00",
                                                                   -6, "WEEKLY")], "MB")
    assert windows[0] == (15 * 60, 23 * 60) and not after and not all_week
    assert shown[0].opens == "09:00" and shown[0].closes == "17:00"
    # overnight on Sunday wraps into Monday; no offset in the text: the timezone column, then the province
    windows, _, after, _ = search_index.compile_hours([("SU", "20:00", "08:00", None, "WEEKLY")], "ON")
    assert after and windows == ((60, 13 * 60),)  # Sunday 20:00 EST = Monday 01:00 UTC, until 13:00 UTC
    _, _, _, all_week = search_index.compile_hours([("MO,TU,WE,TH,FR,SA,SU", "00:00-05:00", "23:59-05:00", -5,
                                                     "WEEKLY")], "ON")
    assert all_week
    assert search_index.parse_time("9:30Z") == (570, 0) and search_index.parse_time("bogus") is None


# -- search --------------------------------------------------------------------------
@pytest.fixture
def world(db, make_user):
    actor = supervisor_actor(make_user)
    orgs = build(db, actor)
    return actor, orgs


def _ids(result):
    return [r.service_name for r in result.results]


def test_ranking_and_reasons(db, world):
    actor, _orgs = world
    result = search(db, actor=actor, query=SearchQuery(needs=["emergency_shelter"], place="Thunder Bay",
                                                       language="fr", after_hours=True))
    names = _ids(result)
    assert names[:3] == ["Hébergement d'urgence fictif", "Sample overnight beds", "Test shelter beds"]
    assert "Example beds" not in names  # Dryden is ~300 km away
    top = result.results[0]
    assert top.distance_km is not None and top.distance_km < 5
    assert top.reasons[0] == "Offers emergency shelter"
    assert any(r.endswith("km away") for r in top.reasons)
    assert any(r.startswith("3 beds available, updated") for r in top.reasons)
    assert "Serves in French" in top.reasons and "Open 24/7" in top.reasons
    full = result.results[2]
    assert any(r.startswith("No beds available") for r in full.reasons)
    assert "Does not list French" in full.reasons
    assert result.place.label == "Thunder Bay, Ontario" and not result.unmet_need_recorded
    assert [r.score for r in result.results] == sorted((r.score for r in result.results), reverse=True)


def test_unvetted_and_expired_never_appear(db, world):
    actor, orgs = world
    result = search(db, actor=actor, query=SearchQuery(needs=["emergency_shelter"], place="Thunder Bay",
                                                       radius_km=5000, language="fr"))
    names = _ids(result)
    assert "Pending beds" not in names and "Expired beds" not in names
    # vetting them makes them appear in the very next search; suspending removes them
    directory.set_vetting(db, actor=actor, organization_id=orgs["unvetted"].id,
                          data=VettingUpdate(status="vetted", vetted_by="x", vetted_on=TODAY,
                                             expires_on=TODAY + timedelta(days=365)))
    directory.set_vetting(db, actor=actor, organization_id=orgs["tb_fr"].id, data=VettingUpdate(status="suspended"))
    names = _ids(search(db, actor=actor, query=SearchQuery(needs=["emergency_shelter"], place="Thunder Bay")))
    assert "Pending beds" in names and "Hébergement d'urgence fictif" not in names


def test_vetting_expiry_is_checked_at_search_time(db, world):
    actor, _orgs = world
    query = SearchQuery(needs=["emergency_shelter"], place="Thunder Bay")
    later = datetime.combine(TODAY + timedelta(days=400), datetime.min.time(), UTC)
    assert search(db, actor=actor, query=query).total >= 3
    assert search(db, actor=actor, query=query, now=later, record_unmet=False).total == 0  # all expired by then


def test_capacity_update_shows_in_next_search(db, world):
    actor, orgs = world
    query = SearchQuery(needs=["emergency_shelter"], place="Thunder Bay")
    before = search(db, actor=actor, query=query)
    svc_id = orgs["tb_en"].services[0].id
    assert _ids(before)[-1] == "Test shelter beds"
    directory.update_capacity(db, actor=actor, service_id=svc_id, data=CapacityUpdate(available=6, maximum=8))
    after = search(db, actor=actor, query=query)
    hit = next(r for r in after.results if r.service_id == svc_id)
    assert hit.capacity.available == 6 and any(r.startswith("6 beds available") for r in hit.reasons)
    assert _ids(after).index("Test shelter beds") < _ids(before).index("Test shelter beds")


def test_hours_change_and_new_provider_show_in_next_search(db, world):
    actor, orgs = world
    monday_noon_wpg = _next_weekday(0, hour=18)  # 12:00 in Winnipeg (UTC-6)
    query = SearchQuery(needs=["counselling"], place="Winnipeg", open_now=True, include_virtual=False)
    assert _ids(search(db, actor=actor, query=query, now=monday_noon_wpg)) == ["Trauma counselling (test)"]
    svc_id = next(s.id for s in orgs["wpg"].services if s.name.startswith("Trauma"))
    directory.update_service_details(db, actor=actor, service_id=svc_id, data=ServiceDetailsUpdate(
        hours=[WeeklyHours(days=["SA"], opens_at="10:00", closes_at="14:00")]))
    result = search(db, actor=actor, query=query, now=monday_noon_wpg, record_unmet=False)
    assert result.total == 0
    provider(db, actor, "Brand New Test Counselling", "Winnipeg", "MB", 49.90, -97.10,
             [office("New counselling (test)", ["counselling"])])
    assert _ids(search(db, actor=actor, query=query, now=monday_noon_wpg)) == ["New counselling (test)"]


def _next_weekday(weekday: int, hour: int) -> datetime:
    day = TODAY + timedelta(days=(weekday - TODAY.weekday()) % 7 or 7)
    return datetime(day.year, day.month, day.day, hour, 0, tzinfo=UTC)


def test_open_now_and_after_hours(db, world):
    actor, _orgs = world
    query = SearchQuery(needs=["counselling"], place="Winnipeg", open_now=True)
    open_time = _next_weekday(0, hour=16)  # Monday 10:00 in Winnipeg
    closed_time = _next_weekday(0, hour=2)  # Sunday 20:00 in Winnipeg
    saturday = _next_weekday(5, hour=18)
    assert _ids(search(db, actor=actor, query=query, now=open_time)) == ["Trauma counselling (test)",
                                                                        "Virtual counselling (test)"]
    assert _ids(search(db, actor=actor, query=query, now=closed_time)) == ["Virtual counselling (test)"]
    assert _ids(search(db, actor=actor, query=query, now=saturday)) == ["Virtual counselling (test)"]
    hit = search(db, actor=actor, query=query.model_copy(update={"open_now": False}), now=open_time).results[0]
    assert "Open now" in hit.reasons and hit.hours == ["Mon–Fri 09:00–17:00"]
    after = search(db, actor=actor, query=SearchQuery(needs=["counselling"], place="Winnipeg", after_hours=True),
                   now=open_time)
    assert _ids(after) == ["Virtual counselling (test)"]


def test_eligibility_filters(db, world):
    actor, _orgs = world

    def names(**kw):
        return _ids(search(db, actor=actor, query=SearchQuery(**kw), record_unmet=False))

    base = dict(needs=["emergency_shelter"], place="Thunder Bay")
    assert "Sample overnight beds" in names(**base, age=18)
    assert "Sample overnight beds" not in names(**base, age=30)
    assert "Sample overnight beds" not in names(**base, age=15)
    assert "Hébergement d'urgence fictif" in names(**base, gender="women")
    assert "Hébergement d'urgence fictif" not in names(**base, gender="men")
    assert "Test shelter beds" in names(**base, gender="men")  # no gender listed: everyone
    wpg = dict(needs=["counselling", "legal_aid"], place="Winnipeg", include_virtual=False)
    assert "Trauma counselling (test)" in names(**wpg, status="temporary")
    assert "Trauma counselling (test)" not in names(**wpg, status="refugee_claimant")
    assert "Legal clinic (test)" in names(**wpg, survivor_type="labour_trafficking")
    assert "Legal clinic (test)" not in names(**wpg, survivor_type="sex_trafficking")
    assert names(**base, indigenous_led=True) == ["Sample overnight beds"]


def test_virtual_national_and_territory_wide_for_remote_places(db, world):
    actor, _orgs = world
    result = search(db, actor=actor, query=SearchQuery(needs=["indigenous_healing"], place="Iqaluit"))
    assert _ids(result) == ["Virtual counselling (test)"]
    hit = result.results[0]
    assert hit.distance_km is None and hit.national and "Available nationally (virtual)" in hit.reasons
    assert result.place.northern and result.notes  # says nothing is based nearby
    # Rankin Inlet is ~1,100 km from Iqaluit: the territory-wide legal service still serves it
    far = search(db, actor=actor, query=SearchQuery(needs=["legal_aid"], place="Rankin Inlet"))
    assert _ids(far) == ["Territory-wide legal aid (test)"]
    assert far.results[0].distance_km is None and "Serves all of Nunavut" in far.results[0].reasons
    # province only: every service based in or serving the territory
    whole = search(db, actor=actor, query=SearchQuery(needs=["legal_aid"], province="NU"))
    assert whole.place.province_wide and _ids(whole) == ["Territory-wide legal aid (test)"]
    # coordinates instead of a name
    near = search(db, actor=actor, query=SearchQuery(needs=["emergency_shelter"], latitude=48.38, longitude=-89.25))
    assert near.place.name == "Thunder Bay" and near.total >= 3
    # without virtual services, Iqaluit has nothing: an unmet need
    none = search(db, actor=actor, query=SearchQuery(needs=["indigenous_healing"], place="Iqaluit",
                                                     include_virtual=False))
    assert none.total == 0 and none.unmet_need_recorded


def test_unmet_need_recorded_without_personal_data(db, world, make_user):
    _actor, _orgs = world
    advocate = make_user("hotline_advocate")
    audit_before = db.execute(select(func.count()).select_from(AuditEntry)).scalar_one()
    query = SearchQuery(needs=["immigration"], place="montreal", language="es", age=19, gender="women")
    result = search(db, actor=actor_of(advocate), query=query)
    assert result.total == 0 and result.unmet_need_recorded and result.notes
    rows = db.execute(select(UnmetNeed)).scalars().all()
    assert len(rows) == 1
    row = rows[0]
    assert row.needs == ["immigration"] and row.province == "QC" and row.place == "Montréal"
    assert (row.latitude, row.longitude, row.radius_km, row.language) == (45.5, -73.6, 100.0, "es")
    assert row.filters == {"reason": "no_results", "age_band": "18-24", "gender": "women"}
    assert not {"actor_id", "user_id", "case_id"} & set(UnmetNeed.__table__.columns.keys())
    # the same fruitless search again is the same gap, not a second one; record_unmet=False records nothing
    search(db, actor=actor_of(advocate), query=query)
    search(db, actor=actor_of(advocate), query=query.model_copy(update={"needs": ["tattoo_removal"]}),
           record_unmet=False)
    assert db.execute(select(func.count()).select_from(UnmetNeed)).scalar_one() == 1
    # searching is not an audited read of a personal record
    assert db.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == audit_before


def test_language_nobody_offers_is_an_unmet_need(db, world):
    actor, _orgs = world
    result = search(db, actor=actor, query=SearchQuery(needs=["emergency_shelter"], place="Thunder Bay",
                                                       language="so"))
    assert result.total >= 3 and result.unmet_need_recorded
    assert db.execute(select(UnmetNeed.filters)).scalar_one()["reason"] == "no_language"


def test_roles(db, world, make_user):
    _actor, orgs = world
    staff = make_user("provider_staff")
    directory.link_staff(db, actor=_actor, user_id=staff.id, organization_id=orgs["tb_en"].id)
    query = SearchQuery(needs=["emergency_shelter"], place="Thunder Bay")
    for user in (staff, make_user("researcher"), make_user("agency_analyst")):
        with pytest.raises(Forbidden):
            search(db, actor=actor_of(user), query=query)
    assert search(db, actor=actor_of(make_user("admin")), query=query).total >= 3
    assert db.execute(select(func.count()).select_from(UnmetNeed)).scalar_one() == 0


def test_query_validation():
    with pytest.raises(ValueError):
        SearchQuery(needs=[], place="Toronto")
    with pytest.raises(ValueError):
        SearchQuery(needs=["counselling"])
    with pytest.raises(ValueError):
        SearchQuery(needs=["counselling"], latitude=45.0)
    with pytest.raises(ValueError):
        SearchQuery(needs=["counselling"], place="Toronto", radius_km=0)
    with pytest.raises(ValueError):
        SearchQuery(needs=["counselling"], place="Toronto", radius_km=100_000)
    with pytest.raises(ValueError):
        SearchQuery(needs=["counselling"], place="Toronto", limit=51)
    with pytest.raises(ValueError):
        SearchQuery(needs=["counselling"], latitude=10.0, longitude=-75.0)  # not in Canada
    assert SearchQuery(needs=["counselling", "counselling"], province="ON").needs == ["counselling"]


def test_index_is_reused_and_refreshed_in_part(db, world):
    actor, orgs = world
    query = SearchQuery(needs=["emergency_shelter"], place="Thunder Bay")
    search(db, actor=actor, query=query)
    first = search_index.get_index(db)
    assert search_index.get_index(db) is first  # nothing changed: same object
    directory.update_capacity(db, actor=actor, service_id=orgs["tb_en"].services[0].id,
                              data=CapacityUpdate(available=1))
    second = search_index.get_index(db)
    assert second is not first and len(second.entries) == len(first.entries)
    untouched = orgs["tb_fr"].services[0].id
    assert second.entries[untouched] is first.entries[untouched]  # only the changed service was reloaded
    search_index.invalidate(db)
    assert search_index.get_index(db) is not second


def test_unvetted_provider_with_no_dates_is_never_indexed(db, make_user):
    actor = supervisor_actor(make_user)
    provider(db, actor, "Vetted Without Expiry (test)", "Halifax", "NS", 44.65, -63.58, [shelter()],
             vetting={"vetting": "vetted", "vetted_on": date(2024, 1, 1)})
    result = search(db, actor=actor, query=SearchQuery(needs=["emergency_shelter"], place="Halifax"))
    assert result.total == 0


def test_actor_without_role_is_refused(db):
    with pytest.raises(Forbidden):
        search(db, actor=Actor(None, "system:x"), query=SearchQuery(needs=["other"], province="ON"))


def test_unmet_need_from_coordinates_keeps_no_precise_point(db, world):
    actor, _orgs = world
    far_north = SearchQuery(needs=["tattoo_removal"], latitude=80.123, longitude=-80.456)  # no town within 150 km
    assert search(db, actor=actor, query=far_north).unmet_need_recorded
    near_town = SearchQuery(needs=["tattoo_removal"], latitude=48.3912, longitude=-89.2437)
    assert search(db, actor=actor, query=near_town).place.name == "Thunder Bay"
    rows = {r.place: r for r in db.execute(select(UnmetNeed)).scalars()}
    assert rows[None].latitude == 80.1 and rows[None].longitude == -80.5 and rows[None].province is None
    assert rows["Thunder Bay"].province == "ON" and rows["Thunder Bay"].latitude == 48.4
