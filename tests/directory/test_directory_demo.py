"""Directory demo data: deterministic, real places across Canada, obviously fake, idempotent."""

from __future__ import annotations

import math
import re
from collections import Counter

from sqlalchemy import func, select

from harbour.core.audit import verify
from harbour.core.choices import Province
from harbour.directory import demo
from harbour.directory.models import (
    Address,
    Attribute,
    Language,
    Location,
    Organization,
    ProviderStaff,
    Service,
    ServiceArea,
    ServiceCapacity,
)
from harbour.directory.service import is_vetted, stable_id, term_id

THUNDER_BAY = (48.38202, -89.25018)


def _km(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dlat, dlon = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dlat / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dlon / 2) ** 2
    return 6371 * 2 * math.asin(math.sqrt(a))


def test_geonames_admin1_codes_map_to_the_right_provinces():
    by_prov = demo.places()
    assert set(by_prov) == set(Province.codes()) and all(by_prov.values())
    for city, prov in [("Thunder Bay", "ON"), ("Montréal", "QC"), ("Whitehorse", "YT"), ("Yellowknife", "NT"),
                       ("Iqaluit", "NU"), ("Moncton", "NB"), ("St. John's", "NL"), ("Halifax", "NS"),
                       ("Charlottetown", "PE"), ("Saskatoon", "SK"), ("Winnipeg", "MB"), ("Calgary", "AB"),
                       ("Vancouver", "BC")]:
        assert any(p.name == city for p in by_prov[prov]), (city, prov)


def test_provider_specs_are_deterministic_fake_and_spread_across_canada():
    a = demo.provider_specs(300, seed=11)
    assert a == demo.provider_specs(300, seed=11)
    assert a != demo.provider_specs(300, seed=12)
    assert len(a) == 300 and len(demo.provider_specs(5, seed=11)) == 5
    assert {s.location.province for s in a} == set(Province)
    for s in a:
        assert demo.is_fake_org_name(s.name), s.name
        assert s.email is None or s.email.endswith("example.org")
        for svc in s.services:
            assert svc.phone is None or re.fullmatch(r"\d{3}-555-01\d\d", svc.phone), svc.phone
            assert svc.email is None or svc.email.endswith(".example.org")
        if s.location.address_1:
            assert "Demo Street" in s.location.address_1 or "rue Démo" in s.location.address_1
            assert "D" in s.location.postal_code[1:]  # Canada Post never uses D: not a real postal code
    types = Counter(t for s in a for svc in s.services for t in svc.types)
    assert types.most_common(2)[0][0] in ("emergency_shelter", "counselling")
    assert set(types) >= {"emergency_shelter", "transition_housing", "counselling", "legal_aid", "immigration",
                          "indigenous_healing", "victim_quick_response", "interpretation", "youth"}
    vetted = sum(s.vetting == "vetted" and s.vetting_expires_on > s.vetted_on for s in a)
    assert 0.75 * len(a) < vetted < len(a)
    langs = Counter(lang for s in a for svc in s.services for lang in svc.languages)
    assert langs["fr"] > 20 and len(langs) > 8
    first = a[0]  # journey 1: a vetted French-speaking 24/7 emergency shelter in Thunder Bay
    assert first.name == demo.ANCHOR_NAME and first.location.city == "Thunder Bay" and first.vetting == "vetted"
    assert first.services[0].open_24_7 and "fr" in first.services[0].languages


def test_1200_specs_keep_territories_and_provinces_proportional():
    specs = demo.provider_specs(1200, seed=2026)
    per = Counter(s.location.province.value for s in specs)
    assert all(per[t] >= 10 for t in ("YT", "NT", "NU"))
    assert per["ON"] > per["QC"] > per["BC"] > per["MB"] > per["PE"]
    assert sum(s.location.location_type == "redacted" for s in specs) >= 15
    north_indigenous = sum(s.indigenous_led for s in specs if s.location.province in ("YT", "NT", "NU"))
    assert north_indigenous / sum(per[t] for t in ("YT", "NT", "NU")) > 0.3


def test_load_directory_demo(db, make_user):
    user = make_user("provider_staff", username=demo.DEMO_PROVIDER_USER)
    counts = demo.load_directory_demo(db, seed=3, providers=150)
    assert counts["providers"] == 150 and counts["provider logins"] == 1
    assert counts["provider services"] >= 150 and counts["national services"] >= 2

    orgs = db.execute(select(Organization)).scalars().all()
    assert len(orgs) == 150 and all(demo.is_fake_org_name(o.name) for o in orgs)
    provinces = set(db.execute(select(Address.state_province)).scalars())
    assert provinces == set(Province.codes())
    vetted = sum(is_vetted(o.vetting) for o in orgs)
    assert vetted >= 0.75 * len(orgs) and vetted < len(orgs)
    assert db.execute(select(func.count()).select_from(Location)
                      .where(Location.location_type == "redacted")).scalar_one() >= 1
    assert db.execute(select(func.count()).select_from(ServiceArea)
                      .where(ServiceArea.name == "national")).scalar_one() >= 2
    caps = db.execute(select(ServiceCapacity)).scalars().all()
    updated = sorted(c.updated for c in caps)
    assert len(caps) > 10 and (updated[-1] - updated[0]).days >= 3  # fresh and stale capacity both

    # demo-provider works for journey 1's shelter: vetted, French-speaking, 24/7, in Thunder Bay
    link = db.get(ProviderStaff, user.id)
    org = db.get(Organization, link.organization_id)
    assert org.name == demo.ANCHOR_NAME and is_vetted(org.vetting)
    loc = org.locations[0]
    assert _km(loc.latitude, loc.longitude, *THUNDER_BAY) < 100
    shelter = next(s for s in org.services if db.get(
        Attribute, stable_id("attribute", s.id, "harbour-services", "emergency_shelter")))
    assert db.get(Attribute, stable_id("attribute", shelter.id, "harbour-features", "open_24_7"))
    assert "fr" in {lang.code for lang in shelter.languages}

    # idempotent: nothing added the second time
    again = demo.load_directory_demo(db, seed=3, providers=150)
    assert not again.get("providers")
    assert db.execute(select(func.count()).select_from(Organization)).scalar_one() == 150
    assert verify(db).ok


def test_journey_one_shelters_near_thunder_bay(db):
    demo.load_directory_demo(db, seed=2026, providers=40)  # no demo-provider user: nothing to link
    assert db.execute(select(func.count()).select_from(ProviderStaff)).scalar_one() == 0
    shelter_term = term_id("harbour-services", "emergency_shelter")
    found = []
    for svc in db.execute(select(Service).join(Attribute, Attribute.link_id == Service.id)
                          .where(Attribute.taxonomy_term_id == shelter_term)).scalars():
        if not is_vetted(svc.organization.vetting):
            continue
        fr = db.execute(select(Language).where(Language.service_id == svc.id, Language.code == "fr")).first()
        loc = svc.at_locations[0].location
        if fr and loc.latitude and _km(loc.latitude, loc.longitude, *THUNDER_BAY) <= 100:
            found.append(svc)
    assert found
