"""Small synthetic directory for the search, API and console tests (obviously fake names)."""

from __future__ import annotations

from datetime import date, timedelta

from harbour.core.audit import Actor
from harbour.directory import service
from harbour.directory.schemas import CapacityIn, LocationIn, ProviderCreate, ServiceIn, WeeklyHours

TODAY = date.today()
VETTED = dict(vetting="vetted", vetted_by="Test supervisor (fictional)", vetted_on=TODAY - timedelta(days=30),
              vetting_expires_on=TODAY + timedelta(days=335))
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR"]


def provider(db, actor: Actor, name: str, city: str, province: str, lat: float, lon: float, services: list[dict],
             *, vetting: dict | None = None, location_type: str = "physical", indigenous_led: bool = False):
    """create_provider with sensible defaults; each service dict is passed to ServiceIn."""
    data = ProviderCreate(
        name=name, description="Fictional provider for tests", indigenous_led=indigenous_led,
        location=LocationIn(city=city, province=province, latitude=lat, longitude=lon, location_type=location_type,
                            address_1="1 Fictional Street" if location_type != "virtual" else None,
                            postal_code="A1A 1A1" if location_type != "virtual" else None),
        services=[ServiceIn(**s) for s in services],
        **(VETTED if vetting is None else vetting),
    )
    return service.create_provider(db, actor=actor, data=data)


def shelter(name="Emergency beds", **kw) -> dict:
    base = dict(name=name, types=["emergency_shelter"], open_24_7=True, capacity=CapacityIn(available=3, maximum=10))
    base.update(kw)
    return base


def office(name, types, **kw) -> dict:
    base = dict(name=name, types=types, hours=[WeeklyHours(days=WEEKDAYS, opens_at="09:00", closes_at="17:00")])
    base.update(kw)
    return base


def build(db, actor: Actor) -> dict[str, object]:
    """A handful of providers around Thunder Bay, Winnipeg, Montréal, Iqaluit and nationally."""
    orgs = {}
    orgs["tb_fr"] = provider(db, actor, "Maison Fictive Thunder Bay", "Thunder Bay", "ON", 48.40, -89.26,
                             [shelter("Hébergement d'urgence fictif", languages=["fr", "en"],
                                      genders=["women", "gender_diverse"])],
                             location_type="redacted")
    orgs["tb_en"] = provider(db, actor, "Lakehead Test Shelter", "Thunder Bay", "ON", 48.43, -89.22,
                             [shelter("Test shelter beds", languages=["en"],
                                      capacity=CapacityIn(available=0, maximum=8))])
    orgs["near"] = provider(db, actor, "Kakabeka Sample House", "Kakabeka Falls", "ON", 48.40, -89.62,
                            [shelter("Sample overnight beds", languages=["en", "oj"], minimum_age=16, maximum_age=24)],
                            indigenous_led=True)
    orgs["far"] = provider(db, actor, "Dryden Example Shelter", "Dryden", "ON", 49.78, -92.84,
                           [shelter("Example beds", languages=["en", "fr"])])
    orgs["unvetted"] = provider(db, actor, "Pending Example Shelter", "Thunder Bay", "ON", 48.38, -89.25,
                                [shelter("Pending beds", languages=["fr"])], vetting={"vetting": "pending"})
    orgs["expired"] = provider(db, actor, "Expired Example Shelter", "Thunder Bay", "ON", 48.39, -89.24,
                               [shelter("Expired beds", languages=["fr"])],
                               vetting=dict(vetting="vetted", vetted_by="x", vetted_on=TODAY - timedelta(days=800),
                                            vetting_expires_on=TODAY - timedelta(days=1)))
    orgs["wpg"] = provider(db, actor, "Winnipeg Fictional Counselling", "Winnipeg", "MB", 49.89, -97.14,
                           [office("Trauma counselling (test)", ["counselling"], languages=["en", "fr"],
                                   statuses=["citizen", "temporary"]),
                            office("Legal clinic (test)", ["legal_aid"], survivor_types=["labour_trafficking"])])
    orgs["national"] = provider(db, actor, "National Test Helpline", "Ottawa", "ON", 45.42, -75.69,
                                [dict(name="Virtual counselling (test)", types=["counselling", "indigenous_healing"],
                                      areas=["virtual"], open_24_7=True, languages=["en", "fr", "iu"])],
                                location_type="virtual")
    orgs["nu"] = provider(db, actor, "Nunavut Example Legal Line", "Iqaluit", "NU", 63.75, -68.52,
                          [office("Territory-wide legal aid (test)", ["legal_aid"], areas=["NU"], languages=["iu", "en"])])
    return orgs


def supervisor_actor(make_user) -> Actor:
    user = make_user("hotline_supervisor")
    return Actor(user.id, user.username, user.role)
