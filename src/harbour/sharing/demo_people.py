"""Synthetic people for the sharing demo: agencies' records, some of the same (fictional) person across provinces.

Pure generation (no database): :func:`generate` returns, for every demo agency, its person records with
their phones, online handles/ads, vehicles, dated locations and occurrences.  Everything is synthetic and
obviously fake: names come from Faker (en_CA/fr_CA) with a fixed seed, phone numbers are in the fictional
555-01XX range (each given to one person only, so no false connections appear), e-mails use example.com
(RFC 2606), plates start with ``DEMO``/``DMO``, record numbers start with ``DEMO-`` and every occurrence
summary says it is fictional.

Besides ~20 local people per police service (and fewer for the other agencies), the demo has:

* travellers — fictional people recorded by several agencies in different provinces, each time written a
  little differently (nickname, French/English variant, typo, swapped names, missing or day/month-swapped
  date of birth, new phone, new address), with dated occurrences that trace their movement;
* three rings that connect different people through a shared phone, online ad handle, vehicle or address
  (sex trafficking ON → QC → NS, labour trafficking BC → AB → MB, and a prairie ring reported to the hotline).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from faker import Faker

from harbour.sharing.nicknames import variants_of


@dataclass(frozen=True)
class DemoAgency:
    code: str
    name: str
    name_fr: str
    kind: str
    province: str | None
    cities: tuple[str, ...]
    local_people: int


AGENCIES: tuple[DemoAgency, ...] = (
    DemoAgency("DEMO-TPS", "Demo Toronto Police Service (fictional)", "Service de police démo de Toronto (fictif)",
               "municipal_police", "ON", ("Toronto",), 24),
    DemoAgency("DEMO-SPVM", "Demo Montréal Police Service (fictional)", "Service de police démo de Montréal (fictif)",
               "municipal_police", "QC", ("Montréal",), 24),
    DemoAgency("DEMO-VPD", "Demo Vancouver Police Department (fictional)",
               "Service de police démo de Vancouver (fictif)", "municipal_police", "BC", ("Vancouver",), 22),
    DemoAgency("DEMO-WPS", "Demo Winnipeg Police Service (fictional)", "Service de police démo de Winnipeg (fictif)",
               "municipal_police", "MB", ("Winnipeg",), 20),
    DemoAgency("DEMO-HRP", "Demo Halifax Regional Police (fictional)", "Police régionale démo d'Halifax (fictive)",
               "municipal_police", "NS", ("Halifax", "Dartmouth"), 18),
    DemoAgency("DEMO-OPF", "Demo Ontario Provincial Force (fictional)", "Force provinciale démo de l'Ontario (fictive)",
               "provincial_police", "ON", ("Thunder Bay", "Sudbury", "Kingston", "Barrie", "Timmins"), 22),
    DemoAgency("DEMO-QPF", "Demo Québec Provincial Force (fictional)", "Sûreté provinciale démo du Québec (fictive)",
               "provincial_police", "QC", ("Gatineau", "Sherbrooke", "Trois-Rivières", "Rimouski"), 22),
    DemoAgency("DEMO-NPF", "Demo National Police Force (fictional)", "Police nationale démo (fictive)",
               "national_police", None, ("Calgary", "Regina", "Whitehorse", "Moncton", "Edmonton"), 20),
    DemoAgency("DEMO-BSA", "Demo Border Services Agency (fictional)", "Agence démo des services frontaliers (fictive)",
               "cbsa", None, ("Surrey", "Windsor", "Lacolle", "Fort Erie"), 12),
    DemoAgency("DEMO-IMM", "Demo Immigration Department (fictional)", "Ministère démo de l'Immigration (fictif)",
               "ircc", None, ("Ottawa", "Vancouver", "Edmonton"), 10),
    DemoAgency("DEMO-FIU", "Demo Financial Intelligence Unit (fictional)",
               "Unité démo du renseignement financier (fictive)", "fintrac", None, ("Ottawa", "Toronto"), 8),
    DemoAgency("DEMO-LAB", "Demo Federal Labour Inspectorate (fictional)", "Inspection fédérale démo du travail (fictive)",
               "labour_inspection", None, ("Abbotsford", "Red Deer", "Brandon", "Leamington"), 10),
    DemoAgency("DEMO-CROWN", "Demo Ontario Crown Office (fictional)", "Bureau démo de la Couronne de l'Ontario (fictif)",
               "crown", "ON", ("Toronto", "Ottawa"), 6),
    DemoAgency("DEMO-NGO", "Demo Safe Passage Network (fictional NGO)", "Réseau démo Passage sûr (OSBL fictif)",
               "ngo", "MB", ("Winnipeg", "Brandon"), 8),
    DemoAgency("DEMO-HOTLINE", "Demo National Hotline (fictional)", "Ligne d'urgence nationale démo (fictive)",
               "hotline", None, ("Toronto",), 6),
)
AGENCY = {a.code: a for a in AGENCIES}

CITY_PROVINCE = {
    "Toronto": "ON", "Thunder Bay": "ON", "Sudbury": "ON", "Kingston": "ON", "Barrie": "ON", "Timmins": "ON",
    "Ottawa": "ON", "Windsor": "ON", "Fort Erie": "ON", "Leamington": "ON", "Montréal": "QC", "Gatineau": "QC",
    "Sherbrooke": "QC", "Trois-Rivières": "QC", "Rimouski": "QC", "Lacolle": "QC", "Vancouver": "BC",
    "Surrey": "BC", "Abbotsford": "BC", "Winnipeg": "MB", "Brandon": "MB", "Halifax": "NS", "Dartmouth": "NS",
    "Calgary": "AB", "Edmonton": "AB", "Red Deer": "AB", "Regina": "SK", "Saskatoon": "SK", "Whitehorse": "YT",
    "Moncton": "NB", "Saint John": "NB",
}
AREA_CODES = {"ON": ("416", "647", "613", "807", "705"), "QC": ("514", "438", "819", "418"), "BC": ("604", "778"),
              "AB": ("403", "780"), "MB": ("204",), "SK": ("306",), "NS": ("902",), "NB": ("506",), "YT": ("867",)}
PLATFORMS = ("DemoAds (fictional)", "DemoChat (fictional)", "DemoGram (fictional)")
VEHICLES = (("Toyota", "Sienna", "grey"), ("Honda", "Civic", "black"), ("Ford", "Transit", "white"),
            ("Dodge", "Caravan", "blue"), ("Nissan", "Altima", "silver"), ("Chevrolet", "Express", "white"))
LOCAL_OFFENCES = (("CC-286.1",), ("CC-286.2",), ("CC-286.4",), ("CC-279.01",), ("CC-279.02",), ("CC-279.03",),
                  ("CC-286.3", "CC-286.2"))
ROLES = ("suspect", "victim", "witness", "other")
# travellers' given names: ones with nicknames or French/English variants, so records differ realistically
TRAVELLER_GIVEN = {"M": ("Robert", "William", "Michael", "Joseph", "Anthony", "Alexander", "Nicholas", "Richard"),
                   "F": ("Catherine", "Elizabeth", "Margaret", "Mary", "Alexandra", "Nicole", "Frances", "Louise")}


@dataclass
class DemoOccurrence:
    record_id: str
    occurred_on: date
    jurisdiction: str
    city: str
    offence_codes: list[str]
    role: str
    summary: str


@dataclass
class DemoRecord:
    """One agency's person record (canonical columns) and what the agency holds about that person."""

    agency: str
    record_id: str
    given_name: str | None
    middle_name: str | None
    surname: str | None
    date_of_birth: str | None
    sex: str | None
    phone: str | None
    email: str | None
    street_address: str | None
    city: str | None
    province: str | None
    postal_code: str | None
    aliases: list[dict] = field(default_factory=list)
    handles: list[dict] = field(default_factory=list)  # platform, handle, ad_url, first_seen
    vehicles: list[dict] = field(default_factory=list)  # plate, plate_province, make, model, colour, year
    locations: list[dict] = field(default_factory=list)  # kind, street_address, city, province, postal_code, first_seen
    occurrences: list[DemoOccurrence] = field(default_factory=list)
    identity: str | None = None  # the synthetic person behind it (for tests: which records are truly the same)

    def canonical(self) -> dict:
        return {k: getattr(self, k) for k in ("record_id", "agency", "given_name", "middle_name", "surname",
                                               "date_of_birth", "sex", "phone", "email", "street_address", "city",
                                               "province", "postal_code")}


@dataclass
class _Identity:
    key: str
    given: str
    surname: str
    sex: str
    dob: date
    phone: str
    email: str
    french: bool


class _Gen:
    def __init__(self, seed: int):
        self.rng = random.Random(seed)
        self.fake_en = Faker("en_CA")
        self.fake_fr = Faker("fr_CA")
        self.fake_en.seed_instance(seed)
        self.fake_fr.seed_instance(seed + 1)
        self.phone_pool = {p: [f"{a}-555-01{n:02d}" for a in codes for n in range(100)]
                           for p, codes in AREA_CODES.items()}
        for pool in self.phone_pool.values():
            self.rng.shuffle(pool)
        self.counters: dict[str, int] = {}
        self.plates = 0

    # -- small pieces ---------------------------------------------------------------------------------
    def phone(self, province: str) -> str:
        pool = self.phone_pool.get(province) or self.phone_pool["ON"]
        return pool.pop()

    def next_id(self, agency: str, prefix: str = "P") -> str:
        self.counters[agency + prefix] = self.counters.get(agency + prefix, 0) + 1
        short = agency.removeprefix("DEMO-")
        return f"DEMO-{short}-{prefix}{self.counters[agency + prefix]:04d}"

    def plate(self, province: str) -> dict:
        self.plates += 1
        make, model, colour = self.rng.choice(VEHICLES)
        return {"plate": f"DEMO {self.plates:03d}", "plate_province": province, "make": make, "model": model,
                "colour": colour, "year": self.rng.randint(2008, 2023)}

    def address(self, city: str, french: bool) -> dict:
        fake = self.fake_fr if french else self.fake_en
        province = CITY_PROVINCE[city]
        return {"street_address": fake.street_address(), "city": city, "province": province,
                "postal_code": self.fake_en.postcode_in_province(province)}

    def identity(self, key: str, province: str, *, sex: str | None = None, age: tuple[int, int] = (18, 55)) -> _Identity:
        french = province == "QC" or (province in ("ON", "NB") and self.rng.random() < 0.2)
        fake = self.fake_fr if french else self.fake_en
        sex = sex or self.rng.choice("FFM")
        given = fake.first_name_female() if sex == "F" else fake.first_name_male()
        surname = fake.last_name()
        dob = date(2025, 1, 1) - timedelta(days=self.rng.randint(age[0] * 365, age[1] * 365))
        email = f"{given}.{surname}{self.rng.randint(1, 99)}@example.com".lower().replace(" ", "")
        return _Identity(key, given, surname, sex, dob, self.phone(province), email, french)

    def occurrence(self, agency: str, on: date, city: str, offences, role: str) -> DemoOccurrence:
        return DemoOccurrence(self.next_id(agency, "OC"), on, CITY_PROVINCE[city], city, list(offences), role,
                              "Demo occurrence (fictional): synthetic data for the demonstration.")

    def record(self, agency: str, ident: _Identity, addr: dict, *, phone: str | None = None, **kw) -> DemoRecord:
        return DemoRecord(
            agency=agency, record_id=self.next_id(agency), given_name=ident.given, middle_name=None,
            surname=ident.surname, date_of_birth=ident.dob.isoformat(), sex=ident.sex,
            phone=phone if phone is not None else ident.phone, email=ident.email, identity=ident.key, **addr, **kw)


# -- variations ------------------------------------------------------------------------------------------
def _typo(rng: random.Random, name: str) -> str:
    if len(name) < 4:
        return name
    i = rng.randint(1, len(name) - 3)
    return name[:i] + name[i + 1] + name[i] + name[i + 2:]


def _variant_given(rng: random.Random, given: str) -> str:
    from harbour.sharing.normalise import strip_accents

    key = strip_accents(given).lower()
    variants = variants_of(key)
    return rng.choice(variants).capitalize() if variants else _typo(rng, given)


def _vary(gen: _Gen, rec: DemoRecord, kinds: tuple[str, ...]) -> DemoRecord:
    rng = gen.rng
    for kind in kinds:
        if kind == "nickname" and rec.given_name:
            rec.aliases.append({"given_name": rec.given_name, "surname": rec.surname})
            rec.given_name = _variant_given(rng, rec.given_name)
        elif kind == "typo" and rec.surname:
            rec.surname = _typo(rng, rec.surname)
        elif kind == "swap":
            rec.given_name, rec.surname = rec.surname, rec.given_name
        elif kind == "no_dob":
            rec.date_of_birth = None
        elif kind == "dob_swap" and rec.date_of_birth:
            y, m, d = rec.date_of_birth.split("-")
            if int(d) <= 12 and d != m:
                rec.date_of_birth = f"{y}-{d}-{m}"  # day and month swapped
            else:
                rec.date_of_birth = f"{y}-{m}-{int(d) - 1:02d}"  # a day off (a keying error)
        elif kind == "no_email":
            rec.email = None
        elif kind == "upper":
            rec.given_name = (rec.given_name or "").upper() or None
            rec.surname = (rec.surname or "").upper() or None
    return rec


# -- scenario --------------------------------------------------------------------------------------------
# A traveller: (home province, sex, [(agency, city, date, offences, role, variations, new phone?)])
TRAVELLERS: tuple[tuple[str, str, tuple], ...] = (
    ("ON", "M", (("DEMO-TPS", "Toronto", date(2022, 3, 14), ("CC-279.01", "CC-286.2"), "suspect", (), False),
                 ("DEMO-SPVM", "Montréal", date(2023, 1, 20), ("CC-286.3",), "suspect", ("nickname",), False),
                 ("DEMO-HRP", "Halifax", date(2023, 9, 2), ("CC-279.01",), "suspect", ("no_email", "typo"), True),
                 ("DEMO-NPF", "Moncton", date(2024, 4, 11), ("CC-279.02",), "suspect", ("upper",), False))),
    ("ON", "F", (("DEMO-TPS", "Toronto", date(2022, 5, 2), ("CC-279.01",), "victim", (), False),
                 ("DEMO-QPF", "Gatineau", date(2022, 11, 8), ("CC-286.2",), "victim", ("dob_swap",), False),
                 ("DEMO-HRP", "Dartmouth", date(2023, 8, 30), ("CC-279.01",), "victim", ("nickname",), False))),
    ("QC", "F", (("DEMO-SPVM", "Montréal", date(2022, 7, 19), ("CC-286.2",), "victim", (), False),
                 ("DEMO-TPS", "Toronto", date(2023, 2, 3), ("CC-279.011",), "victim", ("no_dob",), False),
                 ("DEMO-OPF", "Sudbury", date(2024, 1, 15), ("CC-279.01",), "victim", ("typo",), True))),
    ("BC", "M", (("DEMO-VPD", "Vancouver", date(2022, 4, 4), ("CC-279.01",), "suspect", (), False),
                 ("DEMO-LAB", "Red Deer", date(2023, 5, 23), ("IRPA-118",), "suspect", ("nickname",), False),
                 ("DEMO-WPS", "Winnipeg", date(2024, 2, 9), ("CC-279.02",), "suspect", ("swap",), False),
                 ("DEMO-BSA", "Surrey", date(2024, 7, 1), ("IRPA-118",), "suspect", ("upper",), False))),
    ("AB", "F", (("DEMO-IMM", "Edmonton", date(2022, 9, 12), (), "victim", (), False),
                 ("DEMO-LAB", "Abbotsford", date(2023, 6, 5), ("IRPA-118",), "victim", ("nickname",), False),
                 ("DEMO-VPD", "Vancouver", date(2024, 3, 18), ("CC-279.01",), "victim", ("no_email",), True))),
    ("MB", "M", (("DEMO-WPS", "Winnipeg", date(2022, 10, 1), ("CC-286.2",), "suspect", (), False),
                 ("DEMO-OPF", "Thunder Bay", date(2023, 7, 7), ("CC-279.01",), "suspect", ("typo",), False),
                 ("DEMO-NPF", "Regina", date(2024, 5, 28), ("CC-279.02",), "suspect", ("nickname",), False))),
    ("QC", "F", (("DEMO-QPF", "Sherbrooke", date(2022, 6, 6), ("CC-286.1",), "victim", (), False),
                 ("DEMO-SPVM", "Montréal", date(2023, 3, 9), ("CC-279.01",), "victim", ("dob_swap",), False),
                 ("DEMO-TPS", "Toronto", date(2024, 6, 21), ("CC-279.01",), "victim", ("nickname",), False))),
    ("NS", "M", (("DEMO-HRP", "Halifax", date(2022, 2, 17), ("CC-286.2",), "suspect", (), False),
                 ("DEMO-NPF", "Moncton", date(2023, 4, 4), ("CC-279.02",), "suspect", ("no_email",), False),
                 ("DEMO-QPF", "Rimouski", date(2024, 8, 14), ("CC-279.01",), "suspect", ("typo",), False))),
)


def generate(seed: int = 2026) -> list[DemoRecord]:
    """Every demo record, in a fixed order for a given seed."""
    gen = _Gen(seed)
    records: list[DemoRecord] = []
    travellers = _travellers(gen, records)
    _rings(gen, records, travellers)
    _locals(gen, records)
    _duplicates(gen, records)
    return records


def _travellers(gen: _Gen, records: list[DemoRecord]) -> list[list[DemoRecord]]:
    out = []
    for n, (home, sex, stops) in enumerate(TRAVELLERS, start=1):
        ident = gen.identity(f"traveller-{n}", home, sex=sex)
        ident.given = TRAVELLER_GIVEN[sex][n % len(TRAVELLER_GIVEN[sex])]
        ident.email = f"{ident.given}.{ident.surname}{n}@example.com".lower().replace(" ", "")
        phone = ident.phone
        mine = []
        for agency, city, on, offences, role, variations, new_phone in stops:
            if new_phone:
                phone = gen.phone(CITY_PROVINCE[city])
            addr = gen.address(city, ident.french)
            rec = gen.record(agency, ident, addr, phone=phone)
            rec.locations.append({"kind": "residence", **addr, "first_seen": on - timedelta(days=30)})
            rec.occurrences.append(gen.occurrence(agency, on, city, offences, role))
            mine.append(_vary(gen, rec, tuple(variations)))
        records.extend(mine)
        out.append(mine)
    return out


def _rings(gen: _Gen, records: list[DemoRecord], travellers: list[list[DemoRecord]]) -> None:
    rng = gen.rng
    # Ring 1, sex trafficking ON → QC → NS: traveller 1 controls; an ad handle and a van tie victims to him.
    boss = travellers[0]
    handle = {"platform": PLATFORMS[0], "handle": "@demo_rose_ads", "ad_url": "https://ads.example.com/demo/rose"}
    van = gen.plate("ON")
    for rec in boss[:3]:
        rec.vehicles.append(dict(van))
    boss[0].handles.append({**handle, "first_seen": date(2022, 2, 1)})
    for agency, city, on in (("DEMO-TPS", "Toronto", date(2022, 3, 20)), ("DEMO-SPVM", "Montréal", date(2023, 1, 25)),
                             ("DEMO-HRP", "Halifax", date(2023, 9, 5)), ("DEMO-QPF", "Gatineau", date(2023, 2, 14))):
        ident = gen.identity(f"ring1-{agency}", CITY_PROVINCE[city], sex="F", age=(18, 26))
        rec = gen.record(agency, ident, gen.address(city, ident.french))
        rec.handles.append({**handle, "first_seen": on})
        rec.occurrences.append(gen.occurrence(agency, on, city, ("CC-286.2", "CC-286.4"), "victim"))
        records.append(rec)
    # Ring 2, labour trafficking BC → AB → MB: a recruiter (traveller 4), a farm address, an employer phone.
    recruiter = travellers[3]
    farm = {"kind": "business", "street_address": "1 Demo Orchard Road (fictional)", "city": "Abbotsford",
            "province": "BC", "postal_code": "V2S 0A1"}
    employer_phone = gen.phone("BC")
    recruiter[0].locations.append({**farm, "first_seen": date(2022, 3, 1)})
    recruiter[1].phone = employer_phone
    for agency, city, on in (("DEMO-LAB", "Abbotsford", date(2023, 6, 5)), ("DEMO-IMM", "Vancouver", date(2023, 1, 9)),
                             ("DEMO-BSA", "Surrey", date(2022, 12, 2)), ("DEMO-NGO", "Brandon", date(2024, 1, 30))):
        ident = gen.identity(f"ring2-{agency}", CITY_PROVINCE[city], age=(20, 45))
        rec = gen.record(agency, ident, gen.address(city, ident.french))
        rec.locations.append({**farm, "first_seen": on - timedelta(days=rng.randint(30, 200))})
        if agency in ("DEMO-LAB", "DEMO-NGO"):
            rec.phone = employer_phone  # the employer's number given as the worker's contact
        rec.occurrences.append(gen.occurrence(agency, on, city, ("IRPA-118", "CC-279.03"), "victim"))
        records.append(rec)
    # Ring 3, the prairies: the hotline heard of a handle that Winnipeg and the Ontario force also hold.
    chat = {"platform": PLATFORMS[1], "handle": "demo_northern_lights", "ad_url": None}
    for agency, city, on in (("DEMO-HOTLINE", "Toronto", date(2023, 10, 3)), ("DEMO-WPS", "Winnipeg", date(2023, 11, 12)),
                             ("DEMO-OPF", "Thunder Bay", date(2024, 2, 20)), ("DEMO-NPF", "Regina", date(2024, 3, 2))):
        ident = gen.identity(f"ring3-{agency}", "MB" if city == "Toronto" else CITY_PROVINCE[city])
        addr = gen.address(city, False) if agency != "DEMO-HOTLINE" else {
            "street_address": None, "city": None, "province": "MB", "postal_code": None}
        rec = gen.record(agency, ident, addr)
        if agency == "DEMO-HOTLINE":
            rec.email = None
        rec.handles.append({**chat, "first_seen": on})
        if agency != "DEMO-HOTLINE":
            rec.occurrences.append(gen.occurrence(agency, on, city, ("CC-279.01",), rng.choice(("suspect", "victim"))))
        records.append(rec)


def _locals(gen: _Gen, records: list[DemoRecord]) -> None:
    rng = gen.rng
    for agency in AGENCIES:
        for i in range(agency.local_people):
            city = rng.choice(agency.cities)
            province = CITY_PROVINCE[city]
            ident = gen.identity(f"local-{agency.code}-{i}", province)
            addr = gen.address(city, ident.french)
            rec = gen.record(agency.code, ident, addr)
            if rng.random() < 0.25:
                rec.middle_name = (gen.fake_fr if ident.french else gen.fake_en).first_name()
            if rng.random() < 0.3:
                rec.email = None
            if rng.random() < 0.1:
                rec.date_of_birth = None
            if agency.kind.endswith("police") or agency.kind in ("cbsa", "crown"):
                on = date(2022, 1, 1) + timedelta(days=rng.randint(0, 1000))
                rec.occurrences.append(gen.occurrence(agency.code, on, city, rng.choice(LOCAL_OFFENCES),
                                                      rng.choice(ROLES)))
                if rng.random() < 0.4:
                    rec.locations.append({"kind": "residence", **addr,
                                          "first_seen": on - timedelta(days=rng.randint(10, 400))})
            if rng.random() < 0.2:
                rec.vehicles.append(gen.plate(province))
            if rng.random() < 0.15:
                rec.handles.append({"platform": rng.choice(PLATFORMS), "handle": f"demo_user_{agency.code[5:].lower()}_{i}",
                                    "ad_url": None, "first_seen": date(2023, 1, 1) + timedelta(days=rng.randint(0, 500))})
            records.append(rec)


def _duplicates(gen: _Gen, records: list[DemoRecord]) -> None:
    """Two agencies hold the same local person twice (a data-quality case linkage finds within an agency)."""
    for agency in ("DEMO-TPS", "DEMO-VPD"):
        original = next(r for r in records if r.agency == agency and r.identity.startswith("local-"))
        copy = DemoRecord(**{**original.__dict__, "record_id": gen.next_id(agency), "aliases": [], "handles": [],
                             "vehicles": [], "locations": [], "occurrences": []})
        records.append(_vary(gen, copy, ("typo",)))
