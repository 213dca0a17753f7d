"""Open-data releases: the tables of a year (or every year) as CSV, JSON and a Frictionless data package.

Suppress mode projects the store's protected universe (:mod:`harbour.stats.dashboards`), so a release never
publishes a cell the dashboards withhold and vice versa.  DP mode adds OpenDP noise to each table's leaf cells
(:mod:`harbour.stats.dp`) and sums margins from the noisy leaves; it may add pac-synth synthetic microdata
with its quality report (:mod:`harbour.stats.synth`).  Nothing here writes to the database; the service
records the release, the privacy spend and the audit entry.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

from harbour.core.i18n import gettext, reset_language, set_language
from harbour.stats import dp, standard
from harbour.stats.choices import ALL, GEO_LEAVES, PROVINCE_REGION, REGION_MEMBERS, geo_codes
from harbour.stats.dashboards import Universe, key, total_key
from harbour.stats.tables import SOURCE_UNITS, TABLES, Table

CSV_FIELDS = ["year", "geography", "category", "count", "status"]
LICENSE = {"name": "OGL-Canada-2.0", "title": "Open Government Licence - Canada",
           "path": "https://open.canada.ca/en/open-government-licence-canada"}
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

    @property
    def published(self) -> int:
        return sum(1 for rows in self.tables.values() for r in rows if r["count"] is not None)

    @property
    def withheld(self) -> int:
        return sum(1 for rows in self.tables.values() for r in rows if r["count"] is None)


def _cells(t: Table, years: list[str]):
    values = [("", ALL)] if t.kind == "total" else [(t.var, c) for c, _l in t.codes]
    for y in years:
        for g in geo_codes():
            for var, value in values:
                k = total_key(t.source, y, g) if var == "" else key(t.source, var, value, y, g)
                yield y, g, (value if var else ALL), k


def release_years(u: Universe, year: int | None) -> tuple[list[int], list[str]]:
    if year is None:
        return [int(y) for y in u.years], u.years + ([ALL] if u.years else [])
    return [int(year)], [str(year)]


def suppressed_release(u: Universe, year: int | None) -> ReleaseData:
    ints, years = release_years(u, year)
    hidden = u.suppressed
    tables: dict[str, list[dict]] = {}
    for t in TABLES:
        rows = []
        for y, g, cat, k in _cells(t, years):
            withheld = k in hidden
            rows.append({"year": y, "geography": g, "category": cat, "count": None if withheld else u.values.get(k, 0),
                         "status": "x" if withheld else ""})
        tables[t.key] = rows
    return ReleaseData("suppress", ints, None, tables, {"min_published": 10, "method": "primary and complementary "
                       "cell suppression over every table of the release, audited against linear differencing"})


def dp_release(u: Universe, year: int | None, epsilon: float, *, with_synth: bool) -> ReleaseData:
    ints, years = release_years(u, year)
    leaf_years = [y for y in years if y != ALL]
    counts_eps = epsilon * (1 - SYNTH_SHARE) if with_synth else epsilon
    per_table = counts_eps / len(TABLES)
    tables: dict[str, list[dict]] = {}
    params: dict = {"mechanism": "opendp.measurements.make_laplace (discrete Laplace) on integer counts",
                    "epsilon": epsilon, "epsilon_counts": round(counts_eps, 6),
                    "epsilon_per_table": round(per_table, 6), "tables": {}}
    for t in TABLES:
        values = [("", ALL)] if t.kind == "total" else [(t.var, c) for c, _l in t.codes]
        leaves = [(var, value, y, g) for var, value in values for y in leaf_years for g in GEO_LEAVES]
        raw = [u.values.get(total_key(t.source, y, g) if var == "" else key(t.source, var, value, y, g), 0)
               for var, value, y, g in leaves]
        sensitivity = len(t.codes) if t.kind == "flags" else 1
        noisy, scale = dp.laplace(raw, sensitivity=sensitivity, epsilon=per_table)
        params["tables"][t.key] = {"sensitivity": sensitivity, "scale": round(scale, 6)}
        cell: dict[tuple, int] = {}
        for (_var, value, y, g), n in zip(leaves, noisy, strict=True):
            for yy in {y, ALL}:
                for gg in {g, PROVINCE_REGION.get(g), ALL} - {None}:
                    ck = (value, yy, gg)
                    cell[ck] = cell.get(ck, 0) + n
        if t.kind == "exclusive":  # the table's total adds up its noisy categories
            for yy in set(leaf_years) | {ALL}:
                for gg in geo_codes():
                    cell[(ALL, yy, gg)] = sum(cell.get((c, yy, gg), 0) for c, _l in t.codes)
        rows = []
        cats = ([] if t.kind == "flags" else [ALL]) + [c for c, _l in t.codes]
        for y in years:
            for g in geo_codes():
                for cat in cats:
                    rows.append({"year": y, "geography": g, "category": cat, "count": cell.get((cat, y, g), 0),
                                 "status": "dp"})
        tables[t.key] = rows
    return ReleaseData("dp", ints, epsilon, tables, params)


# -- files ----------------------------------------------------------------------------------------------
def _labels(t: Table, lang: str) -> dict:
    token = set_language(lang)
    try:
        return {"title": gettext(t.title), "unit": gettext(SOURCE_UNITS[t.source]), "categories": t.labels()}
    finally:
        reset_language(token)


def table_csv(rows: list[dict]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_FIELDS, lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({**r, "count": "" if r["count"] is None else r["count"]})
    return buf.getvalue()


def datapackage(data: ReleaseData, reference: str, generated: str) -> dict:
    resources = []
    for t in TABLES:
        en, fr = _labels(t, "en"), _labels(t, "fr")
        resources.append({
            "name": t.key.replace("_", "-"), "path": f"{t.key}.csv", "format": "csv", "mediatype": "text/csv",
            "encoding": "utf-8", "title": en["title"], "description": f"{en['title']} ({en['unit']}) / {fr['title']}",
            "schema": {"fields": [
                {"name": "year", "type": "string", "description": "Year (YYYY) or * for all years in the release"},
                {"name": "geography", "type": "string", "description": "Province or territory code, unknown, "
                 "region (ATL, PRA, TER) or * for Canada",
                 "constraints": {"enum": geo_codes()}},
                {"name": "category", "type": "string", "description": "Category code or * for the total",
                 "constraints": {"enum": [ALL] + [c for c, _l in t.codes]}},
                {"name": "count", "type": "integer", "description": "Count; empty when withheld"},
                {"name": "status", "type": "string", "description": "x = withheld (disclosure control), "
                 "dp = differentially private noisy count, empty = exact"}],
                "primaryKey": ["year", "geography", "category"], "missingValues": [""]},
        })
    if data.synthetic is not None:
        resources.append({"name": "synthetic-situations", "path": "synthetic-situations.csv", "format": "csv",
                          "mediatype": "text/csv", "title": "Synthetic situation microdata (differentially private)",
                          "schema": {"fields": [{"name": c, "type": "string"} for c in
                                                _synth_columns()]}})
        resources.append({"name": "synthetic-quality", "path": "synthetic-quality.csv", "format": "csv",
                          "mediatype": "text/csv", "title": "Synthetic data quality: total variation distance",
                          "schema": {"fields": [{"name": "attribute", "type": "string"},
                                                {"name": "total_variation_distance", "type": "number"}]}})
    return {
        "profile": "tabular-data-package", "name": f"harbour-statistics-{reference.lower()}",
        "title": "Harbour national human trafficking statistics", "version": reference, "created": generated,
        "licenses": [LICENSE], "keywords": ["human trafficking", "Canada", "statistics", "open data"],
        "description": ("Counts from the Harbour national data standard (CTDC / IOM HTCDS 2.0 aligned). "
                        + ("Counts from 1 to 9 are withheld (x), with complementary suppression."
                           if data.mode == "suppress" else
                           f"Differentially private counts (epsilon {data.epsilon}, OpenDP discrete Laplace).")),
        "harbour": {"mode": data.mode, "years": data.years, "epsilon": data.epsilon,
                    "standard_version": standard.dictionary()["version"], "parameters": data.parameters},
        "resources": resources,
    }


def _synth_columns() -> tuple[str, ...]:
    from harbour.stats.synth import SYNTH_COLUMNS

    return SYNTH_COLUMNS


def write(data: ReleaseData, out_dir: Path, reference: str, generated: str) -> list[str]:
    """Write the release's files; returns their names."""
    out_dir.mkdir(parents=True, exist_ok=True)
    names: list[str] = []

    def put(name: str, text: str) -> None:
        (out_dir / name).write_text(text, encoding="utf-8")
        names.append(name)

    for t in TABLES:
        put(f"{t.key}.csv", table_csv(data.tables[t.key]))
    doc = {"reference": reference, "generated": generated, "mode": data.mode, "years": data.years,
           "epsilon": data.epsilon, "parameters": data.parameters,
           "tables": {t.key: {"title": {"en": _labels(t, "en")["title"], "fr": _labels(t, "fr")["title"]},
                              "unit": {"en": _labels(t, "en")["unit"], "fr": _labels(t, "fr")["unit"]},
                              "categories": {c: {"en": _labels(t, "en")["categories"][c],
                                                 "fr": _labels(t, "fr")["categories"][c]} for c, _l in t.codes},
                              "rows": data.tables[t.key]} for t in TABLES}}
    if data.synthetic is not None:
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(_synth_columns())
        w.writerows(data.synthetic)
        put("synthetic-situations.csv", buf.getvalue())
        put("synthetic-quality.csv", "attribute,total_variation_distance\n" + "".join(
            f"{q['attribute']},{q['total_variation_distance']}\n" for q in data.quality or []))
        doc["synthetic_quality"] = data.quality
    put("release.json", json.dumps(doc, ensure_ascii=False, indent=1))
    put("datapackage.json", json.dumps(datapackage(data, reference, generated), ensure_ascii=False, indent=1))
    return names


__all__ = ["REGION_MEMBERS", "ReleaseData", "dp_release", "suppressed_release", "write"]
