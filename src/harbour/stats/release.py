"""Open-data releases: the counts of a year (or every year) and a geography (or all of Canada).

Suppress mode projects the store's protected universe (:mod:`harbour.stats.dashboards`), so a release never
publishes a cell the dashboards withhold and vice versa.  DP mode adds OpenDP noise to each table's leaf cells
(:mod:`harbour.stats.dp`) and sums margins from the noisy leaves; a noisy count from 1 to 9 is then withheld
like a small cell (post-processing: no privacy cost), so no file of any release shows a count from 1 to 9.  DP
mode may add pac-synth synthetic microdata with its quality report (:mod:`harbour.stats.synth`).

A release limited to a geography (a province or territory, ``unknown`` or a region) holds that geography's
rows only: in suppress mode a projection of the same protected universe, in DP mode noise on its own leaves.
The files are written by :mod:`harbour.stats.package`.  Nothing here writes to the database; the service
records the release, the privacy spend and the audit entry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harbour.stats import dp
from harbour.stats.choices import ALL, GEO_LEAVES, MIN_PUBLISHED, PROVINCE_REGION, REGION_MEMBERS, UNKNOWN, geo_codes
from harbour.stats.dashboards import Universe, key, total_key
from harbour.stats.tables import TABLES, Table

SYNTH_SHARE = 0.3  # of a DP release's epsilon, when synthetic microdata are asked for


@dataclass
class ReleaseData:
    mode: str
    years: list[int]
    epsilon: float | None
    tables: dict[str, list[dict]]  # table key -> rows (year, geography, category, count or None, status)
    parameters: dict = field(default_factory=dict)
    synthetic: list[list[str]] | None = None
    quality: list[dict] | None = None
    synthetic_epsilon: float = 0.0  # spent on synthesis once the synthesiser has run, whether or not it produced
    geography: str = ALL

    @property
    def published(self) -> int:
        return sum(1 for rows in self.tables.values() for r in rows if r["count"] is not None)

    @property
    def withheld(self) -> int:
        return sum(1 for rows in self.tables.values() for r in rows if r["count"] is None)

    @property
    def geographies(self) -> list[str]:
        return geo_scope(self.geography)[0]


def geo_scope(geo: str) -> tuple[list[str], list[str]]:
    """(every geography a release for ``geo`` holds, in release order; its leaves: provinces and unknown)."""
    if geo == ALL:
        return geo_codes(), list(GEO_LEAVES)
    if geo in REGION_MEMBERS:
        members = REGION_MEMBERS[geo]
        return [g for g in geo_codes() if g in members or g == geo], list(members)
    return [geo], [geo]


def synth_filter(geo: str) -> tuple[list[str] | None, bool]:
    """(provinces whose situations a release for ``geo`` synthesises, None for all; whether ``unknown`` too)."""
    if geo == ALL:
        return None, True
    leaves = geo_scope(geo)[1]
    return [g for g in leaves if g != UNKNOWN], UNKNOWN in leaves


def _cells(t: Table, years: list[str], geos: list[str]):
    values = [("", ALL)] if t.kind == "total" else [(t.var, c) for c, _l in t.codes]
    for y in years:
        for g in geos:
            for var, value in values:
                k = total_key(t.source, y, g) if var == "" else key(t.source, var, value, y, g)
                yield y, g, (value if var else ALL), k


def release_years(u: Universe, year: int | None) -> tuple[list[int], list[str]]:
    if year is None:
        return [int(y) for y in u.years], u.years + ([ALL] if u.years else [])
    return [int(year)], [str(year)]


def suppressed_release(u: Universe, year: int | None, geo: str = ALL) -> ReleaseData:
    ints, years = release_years(u, year)
    geos = geo_scope(geo)[0]
    hidden = u.suppressed
    tables: dict[str, list[dict]] = {}
    for t in TABLES:
        rows = []
        for y, g, cat, k in _cells(t, years, geos):
            withheld = k in hidden
            rows.append({"year": y, "geography": g, "category": cat, "count": None if withheld else u.values.get(k, 0),
                         "status": "x" if withheld else ""})
        tables[t.key] = rows
    return ReleaseData("suppress", ints, None, tables, {"min_published": MIN_PUBLISHED, "method": "primary and "
                       "complementary cell suppression over every table of the release, audited against linear "
                       "differencing"}, geography=geo)


def dp_release(u: Universe, year: int | None, epsilon: float, *, with_synth: bool, geo: str = ALL) -> ReleaseData:
    ints, years = release_years(u, year)
    geos, leaves_geo = geo_scope(geo)
    in_scope = set(geos)
    leaf_years = [y for y in years if y != ALL]
    counts_eps = epsilon * (1 - SYNTH_SHARE) if with_synth else epsilon
    per_table = counts_eps / len(TABLES)
    tables: dict[str, list[dict]] = {}
    params: dict = {"mechanism": "opendp.measurements.make_laplace (discrete Laplace) on integer counts",
                    "epsilon": epsilon, "epsilon_counts": round(counts_eps, 6),
                    "epsilon_per_table": round(per_table, 6),
                    "small_counts": f"noisy counts from 1 to {MIN_PUBLISHED - 1} are withheld (status x) after the "
                                    "noise is added and the margins summed (post-processing, no privacy cost)",
                    "tables": {}}
    for t in TABLES:
        values = [("", ALL)] if t.kind == "total" else [(t.var, c) for c, _l in t.codes]
        leaves = [(var, value, y, g) for var, value in values for y in leaf_years for g in leaves_geo]
        raw = [u.values.get(total_key(t.source, y, g) if var == "" else key(t.source, var, value, y, g), 0)
               for var, value, y, g in leaves]
        sensitivity = len(t.codes) if t.kind == "flags" else 1
        noisy, scale = dp.laplace(raw, sensitivity=sensitivity, epsilon=per_table)
        params["tables"][t.key] = {"sensitivity": sensitivity, "scale": round(scale, 6)}
        cell: dict[tuple, int] = {}
        for (_var, value, y, g), n in zip(leaves, noisy, strict=True):
            for yy in {y, ALL}:
                for gg in {g, PROVINCE_REGION.get(g), ALL} & in_scope:
                    ck = (value, yy, gg)
                    cell[ck] = cell.get(ck, 0) + n
        if t.kind == "exclusive":  # the table's total adds up its noisy categories
            for yy in set(leaf_years) | {ALL}:
                for gg in geos:
                    cell[(ALL, yy, gg)] = sum(cell.get((c, yy, gg), 0) for c, _l in t.codes)
        rows = []
        cats = ([] if t.kind == "flags" else [ALL]) + [c for c, _l in t.codes]
        for y in years:
            for g in geos:
                for cat in cats:
                    n = cell.get((cat, y, g), 0)
                    small = 0 < n < MIN_PUBLISHED
                    rows.append({"year": y, "geography": g, "category": cat, "count": None if small else n,
                                 "status": "x" if small else "dp"})
        tables[t.key] = rows
    return ReleaseData("dp", ints, epsilon, tables, params, geography=geo)
