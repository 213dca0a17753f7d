"""The dashboard set: every table's counts for every year, province, region and Canada, from the store.

:func:`base_counts` runs one DuckDB aggregate per table over the Parquet store (counts by year, province and
category); :class:`Universe` adds the margins (all years, regions, Canada, the total of a breakdown), lists
the additive equations between cells and, for public use, the cells disclosure control withholds (computed
once over the whole universe, so every filtered view and every suppress-mode release is a projection of one
protected set and no two of them can be differenced).  :func:`view` projects it for a year and a geography.
"""

from __future__ import annotations

import json
import os
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from harbour.core.errors import ValidationFailed
from harbour.core.i18n import N_
from harbour.stats import disclosure, standard, store
from harbour.stats.choices import ALL, GEO_LEAVES, PROVINCE_REGION, PROVINCES, REGION_MEMBERS, UNKNOWN, geo_codes
from harbour.stats.tables import TABLES, Table

Key = tuple[str, str, str, str, str]
TOP_LEVEL = tuple(REGION_MEMBERS) + tuple(g for g in GEO_LEAVES if g not in PROVINCE_REGION)  # regions + the rest  # source, variable ("" for a total), value ("*" for a total), year, geography


def key(source: str, var: str, value: str, year: str, geo: str) -> Key:
    return (source, var, value, year, geo)


def total_key(source: str, year: str, geo: str) -> Key:
    return (source, "", ALL, year, geo)


def _in(codes) -> str:
    return ", ".join("'" + c.replace("'", "''") + "'" for c in codes)


@dataclass(frozen=True)
class SourceQuery:
    """One scan of one store table that feeds several dashboard tables."""

    source: str
    sql: str
    kind: str  # "grouped": total + exclusive tables via GROUPING SETS; "flags": every flag table
    tables: tuple[Table, ...]


LEAF_SQL = f"CASE WHEN province IN ({_in(GEO_LEAVES[:-1])}) THEN province ELSE '{UNKNOWN}' END"
REGION_SQL = "CASE " + " ".join(f"WHEN province IN ({_in(m)}) THEN '{r}'" for r, m in REGION_MEMBERS.items()) + " END"
# grouping(y, g, r) → which geography a margin row is for ("r" rows of provinces outside regions are dropped)
_GEO_OF = {1: "g", 5: "g", 2: "r", 6: "r", 3: ALL, 7: ALL}


def _margins(inner: str, keys: list[str], measures: str, mapped: dict[str, str] | None = None) -> str:
    """Wrap a small aggregate (y, province, keys..., counts) with every year/geography margin (GROUPING SETS);
    ``mapped`` gives SQL expressions for keys (codes outside a vocabulary → its fallback), applied here on the
    small aggregate rather than on every stored row."""
    mapped = mapped or {}
    k = "".join(", " + c for c in keys)
    select_keys = "".join(", " + (f"{mapped[c]} AS {c}" if c in mapped else c) for c in keys)
    sets = ", ".join(f"({d}{k})" if d else f"({k[2:]})" for d in ("y, g", "y, r", "y", "g", "r", ""))
    return (f"WITH base AS ({inner}), cells AS (SELECT y, {LEAF_SQL} AS g, {REGION_SQL} AS r{select_keys}, "
            f"* EXCLUDE (y, province{k}) FROM base) SELECT grouping(y, g, r) AS gg, y, g, r{k}, {measures} "
            f"FROM cells GROUP BY GROUPING SETS ({sets})")


def source_queries(tables: tuple[Table, ...] = TABLES) -> list[SourceQuery]:
    """The DuckDB queries behind the whole dashboard set: per store table, one scan for its total and every
    exclusive breakdown (GROUPING SETS over year x province x category) and one for all its flag breakdowns;
    each then adds every margin (all years, regions, Canada) over its small result, so DuckDB returns every
    cell of the universe and Python only files them."""
    out: list[SourceQuery] = []
    for source in dict.fromkeys(t.source for t in tables):
        y = standard.YEAR_COLUMN[source]
        mine = [t for t in tables if t.source == source]
        excl = [t for t in mine if t.kind == "exclusive"]
        if any(t.kind in ("total", "exclusive") for t in mine):
            exprs = "".join(f', "{t.var}" AS v{i}' for i, t in enumerate(excl))
            vs = [f"v{i}" for i in range(len(excl))]
            mapped = {f"v{i}": f"""CASE WHEN v{i} IN ({_in([c for c, _l in t.codes])}) THEN v{i} """
                               f"""ELSE '{t.fallback}' END""" for i, t in enumerate(excl)}
            sets = ", ".join([f"(y, province, {v})" for v in vs] + ["(y, province)"])
            gid = f"grouping({', '.join(vs)})" if vs else "0"
            scan = (f'SELECT {gid} AS gid, y, province{"".join(", " + v for v in vs)}, count(*) AS n FROM '
                    f'(SELECT "{y}" AS y, province{exprs} FROM {source}) GROUP BY GROUPING SETS ({sets})')
            out.append(SourceQuery(source, _margins(scan, ["gid"] + vs, "sum(n)::BIGINT AS n", mapped), "grouped",
                                   tuple(t for t in mine if t.kind != "flags")))
        flags = [t for t in mine if t.kind == "flags"]
        if flags:
            cols = [c for t in flags for c, _l in t.codes]
            counts = ", ".join(f'count(*) FILTER (WHERE "{c}") AS "{c}"' for c in cols)
            scan = f'SELECT "{y}" AS y, province, {counts} FROM {source} GROUP BY ALL'
            sums = ", ".join(f'sum("{c}")::BIGINT AS "{c}"' for c in cols)
            out.append(SourceQuery(source, _margins(scan, [], sums), "flags", tuple(flags)))
    return out


def base_counts(con: duckdb.DuckDBPyConnection, tables: tuple[Table, ...] = TABLES) -> dict[Key, int]:
    """Every non-zero cell of every table, margins included (all years, regions, Canada); zeros are implied."""
    out: dict[Key, int] = {}
    for q in source_queries(tables):
        rows = con.execute(q.sql).fetchall()
        if q.kind == "grouped":
            excl = [t for t in q.tables if t.kind == "exclusive"]
            width = len(excl)
            full = (1 << width) - 1
            has_total = any(t.kind == "total" for t in q.tables)
            pick = {full ^ (1 << (width - 1 - i)): (excl[i].var, 5 + i) for i in range(width)}
            for row in rows:
                gg, n = row[0], row[-1]
                which = _GEO_OF[gg]
                geo = row[2] if which == "g" else row[3] if which == "r" else ALL
                if geo is None or not n:
                    continue
                year = ALL if gg & 4 else str(row[1])
                gid = row[4]
                if gid == full:
                    if has_total:
                        out[(q.source, "", ALL, year, geo)] = n
                else:
                    var, col = pick[gid]
                    out[(q.source, var, row[col], year, geo)] = n
        else:
            cols = [(t.var, c) for t in q.tables for c, _l in t.codes]
            for row in rows:
                gg = row[0]
                which = _GEO_OF[gg]
                geo = row[2] if which == "g" else row[3] if which == "r" else ALL
                if geo is None:
                    continue
                year = ALL if gg & 4 else str(row[1])
                for (var, c), n in zip(cols, row[4:], strict=True):
                    if n:
                        out[(q.source, var, c, year, geo)] = n
    return out


def _values(t: Table) -> list[tuple[str, str]]:
    """(variable, value) pairs of a table's cells, its total included."""
    total = [("", ALL)]
    return total if t.kind == "total" else total + [(t.var, c) for c, _l in t.codes]


@dataclass
class Universe:
    years: list[str]
    values: dict[Key, int]
    tables: tuple[Table, ...] = TABLES
    fingerprint: str = ""
    root: Path | None = None
    _suppressed: set[Key] | None = field(default=None, repr=False)
    _equations: list | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def equations(self) -> list[tuple[Key, tuple[Key, ...]]]:
        if self._equations is None:
            self._equations = equations_of(self.years, self.tables)
        return self._equations

    @property
    def suppressed(self) -> set[Key]:
        """The withheld cells; computed once per store content and kept beside the store (protected-*.json)."""
        with self._lock:
            if self._suppressed is None:
                path = self.root / f"protected-v{disclosure.VERSION}-{self.fingerprint[:32]}.json" if self.root and self.fingerprint \
                    else None
                if path is not None and path.is_file():
                    try:
                        self._suppressed = {tuple(k) for k in json.loads(path.read_text(encoding="utf-8"))}
                    except (OSError, ValueError):
                        self._suppressed = None
                if self._suppressed is None:
                    self._suppressed = disclosure.protect(self.values, self.equations)
                    if path is not None:
                        for old in self.root.glob("protected-*.json"):
                            old.unlink(missing_ok=True)
                        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                        tmp.write_text(json.dumps(sorted(self._suppressed)), encoding="utf-8")
                        os.replace(tmp, path)
            return self._suppressed

    def get(self, k: Key, public: bool) -> int | None:
        if public and k in self.suppressed:
            return None
        return self.values.get(k, 0)


def make_universe(values: dict[Key, int], years: list[int], tables: tuple[Table, ...] = TABLES,
                  fingerprint: str = "") -> Universe:
    """The universe from :func:`base_counts` (every cell, margins included; a missing cell is zero)."""
    return Universe([str(y) for y in years], values, tables, fingerprint)


def equations_of(years: list[str], tables: tuple[Table, ...] = TABLES) -> list[tuple[Key, tuple[Key, ...]]]:
    """Every additive relation between the universe's cells (what an attacker could difference)."""
    ys = list(years)
    year_all = ys + [ALL]
    geos = list(GEO_LEAVES) + list(REGION_MEMBERS) + [ALL]
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
                # implied by the two above, but stated so the one-withheld rule sees it: Canada minus the
                # published provinces would otherwise give a region's total away
                equations[(key(t.source, var, value, y, ALL),
                           tuple(key(t.source, var, value, y, p) for p in TOP_LEVEL))] = None
    return list(equations)


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
        u.root = root
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
