"""The dashboard set: every table's counts for every year, province, region and Canada, from the store.

:func:`base_counts` runs one DuckDB aggregate per table over the Parquet store (counts by year, province and
category); :class:`Universe` adds the margins (all years, regions, Canada, the total of a breakdown), lists
the additive equations between cells and, for public use, the cells disclosure control withholds (computed
once over the whole universe, so every filtered view and every suppress-mode release is a projection of one
protected set and no two of them can be differenced).  :func:`view` projects it for a year and a geography.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from harbour.core.errors import ValidationFailed
from harbour.core.i18n import N_
from harbour.stats import disclosure, standard, store
from harbour.stats.choices import ALL, GEO_LEAVES, PROVINCE_REGION, PROVINCES, REGION_MEMBERS, UNKNOWN, geo_codes
from harbour.stats.tables import BY_KEY, TABLES, Table

Key = tuple[str, str, str, str, str]  # source, variable ("" for a total), value ("*" for a total), year, geography


def key(source: str, var: str, value: str, year: str, geo: str) -> Key:
    return (source, var, value, year, geo)


def total_key(source: str, year: str, geo: str) -> Key:
    return (source, "", ALL, year, geo)


def table_sql(t: Table, where: str = "") -> str:
    """The DuckDB aggregate behind one table (counts by year, province and category)."""
    y = standard.YEAR_COLUMN[t.source]
    w = f" WHERE {where}" if where else ""
    if t.kind == "total":
        return f'SELECT "{y}" AS y, province AS g, count(*) AS n FROM {t.source}{w} GROUP BY ALL'
    if t.kind == "exclusive":
        return f'SELECT "{y}" AS y, province AS g, "{t.var}" AS v, count(*) AS n FROM {t.source}{w} GROUP BY ALL'
    sums = ", ".join(f'count(*) FILTER (WHERE "{c}") AS "{c}"' for c, _l in t.codes)
    return f'SELECT "{y}" AS y, province AS g, {sums} FROM {t.source}{w} GROUP BY ALL'


def base_counts(con: duckdb.DuckDBPyConnection, tables: tuple[Table, ...] = TABLES) -> dict[Key, int]:
    """Leaf cells (one year, one province or unknown) of every table; zeros omitted."""
    out: dict[Key, int] = {}
    for t in tables:
        rows = con.execute(table_sql(t)).fetchall()
        if t.kind == "total":
            for y, g, n in rows:
                out[total_key(t.source, str(y), _leaf(g))] = out.get(total_key(t.source, str(y), _leaf(g)), 0) + n
        elif t.kind == "exclusive":
            known = {c for c, _l in t.codes}
            for y, g, v, n in rows:
                k = key(t.source, t.var, v if v in known else t.fallback, str(y), _leaf(g))
                out[k] = out.get(k, 0) + n
        else:
            for y, g, *counts in rows:
                for (c, _l), n in zip(t.codes, counts, strict=True):
                    if n:
                        k = key(t.source, t.var, c, str(y), _leaf(g))
                        out[k] = out.get(k, 0) + n
    return out


def _leaf(g: str | None) -> str:
    return g if g in GEO_LEAVES else UNKNOWN


def _values(t: Table) -> list[tuple[str, str]]:
    """(variable, value) pairs of a table's cells, its total included."""
    total = [("", ALL)]
    return total if t.kind == "total" else total + [(t.var, c) for c, _l in t.codes]


@dataclass
class Universe:
    years: list[str]
    values: dict[Key, int]
    equations: list[tuple[Key, tuple[Key, ...]]]
    fingerprint: str = ""
    _suppressed: set[Key] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def suppressed(self) -> set[Key]:
        with self._lock:
            if self._suppressed is None:
                self._suppressed = disclosure.protect(self.values, self.equations)
            return self._suppressed

    def get(self, k: Key, public: bool) -> int | None:
        if public and k in self.suppressed:
            return None
        return self.values.get(k, 0)


def make_universe(base: dict[Key, int], years: list[int], tables: tuple[Table, ...] = TABLES,
                  fingerprint: str = "") -> Universe:
    ys = [str(y) for y in years]
    year_all = ys + [ALL]
    geos = list(GEO_LEAVES) + list(REGION_MEMBERS) + [ALL]
    values: dict[Key, int] = {}
    for t in tables:
        for var, value in _values(t):
            for y in year_all:
                for g in geos:
                    values[key(t.source, var, value, y, g)] = 0
    for (s, var, value, y, g), n in base.items():
        for yy in (y, ALL):
            for gg in (g, PROVINCE_REGION.get(g), ALL):
                if gg is not None:
                    k = key(s, var, value, yy, gg)
                    if k in values:
                        values[k] += n
    equations: dict[tuple, None] = {}
    for t in tables:
        if t.kind == "exclusive":
            for y in year_all:
                for g in geos:
                    kids = tuple(key(t.source, t.var, c, y, g) for c, _l in t.codes)
                    equations[(total_key(t.source, y, g), kids)] = None
        for var, value in _values(t):
            if ys:
                for g in geos:
                    equations[(key(t.source, var, value, ALL, g),
                               tuple(key(t.source, var, value, y, g) for y in ys))] = None
            for y in year_all:
                for region, members in REGION_MEMBERS.items():
                    equations[(key(t.source, var, value, y, region),
                               tuple(key(t.source, var, value, y, p) for p in members))] = None
                equations[(key(t.source, var, value, y, ALL),
                           tuple(key(t.source, var, value, y, p) for p in GEO_LEAVES))] = None
    return Universe(ys, values, list(equations), fingerprint)


# -- cache, by store fingerprint ---------------------------------------------------------------------
_cache: OrderedDict[tuple, Universe] = OrderedDict()
_cache_lock = threading.Lock()


def universe(root: Path) -> Universe:
    """The universe of the store at ``root`` (built once per store content)."""
    fp = store.fingerprint(root) or "empty"
    ck = (str(root), fp)
    with _cache_lock:
        if ck in _cache:
            _cache.move_to_end(ck)
            return _cache[ck]
    con = store.connect(root)
    try:
        u = make_universe(base_counts(con), store.years(root), fingerprint=fp)
    finally:
        con.close()
    with _cache_lock:
        _cache[ck] = u
        while len(_cache) > 4:
            _cache.popitem(last=False)
    return u


# -- filtered views --------------------------------------------------------------------------------------
def check_filters(u: Universe, year: str | int | None, geo: str | None) -> tuple[str, str]:
    """Normalise a (year, geography) filter or raise ValidationFailed naming the bad field."""
    y = ALL if year in (None, "", ALL) else str(year).strip()
    if y != ALL and y not in u.years:
        raise ValidationFailed(N_("There are no statistics for that year."),
                               fields={"year": N_("Choose one of the years listed.")})
    g = ALL if geo in (None, "", ALL) else str(geo).strip().upper() if str(geo) != UNKNOWN else UNKNOWN
    if g not in geo_codes():
        raise ValidationFailed(N_("Unknown province, territory or region."),
                               fields={"province": N_("Use a two-letter province or territory code, ATL, PRA "
                                                      "or TER.")})
    return y, g


def geo_children(g: str) -> list[str]:
    if g == ALL:
        return list(PROVINCES)
    return list(REGION_MEMBERS.get(g, (g,)))


def view(u: Universe, *, year: str = ALL, geo: str = ALL, public: bool = True) -> dict:
    """Every table for one filter: rows (code, count or None when withheld), the total, and the series by
    year and by province that the charts need."""
    out: dict = {"year": year, "geo": geo, "public": public, "years": u.years, "tables": {}}
    for t in TABLES:
        tot = u.get(total_key(t.source, year, geo), public)
        rows = [] if t.kind == "total" else [(c, u.get(key(t.source, t.var, c, year, geo), public))
                                             for c, _l in t.codes]
        out["tables"][t.key] = {
            "key": t.key, "source": t.source, "kind": t.kind, "total": tot, "rows": rows,
            "by_year": [(y, u.get(total_key(t.source, y, geo), public)) for y in u.years] if t.kind == "total" else [],
            "by_geo": [(g, u.get(total_key(t.source, year, g), public)) for g in geo_children(geo)]
            if t.kind == "total" else [],
        }
    return out


def table_for(key_: str) -> Table:
    return BY_KEY[key_]
