"""The files of an open-data release: one CSV per table, a bilingual data dictionary, ``release.json``, a
Frictionless ``datapackage.json`` and a zip of them all (plus, in DP mode, synthetic microdata and their
quality report).

The rule this module keeps: **every CSV is a tabular data resource an independent validator accepts**
(``frictionless validate datapackage.json``): each resource declares the ``tabular-data-resource`` profile and a
Table Schema whose types, enums and primary key the file satisfies.  The files are written once, by
:func:`write`; the service records their SHA-256 and serves exactly these bytes.
"""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import datetime
from pathlib import Path

from harbour.core.choices import Province
from harbour.core.i18n import N_, gettext, reset_language, set_language
from harbour.hotline.choices import Channel, RiskLevel
from harbour.stats import standard, synth
from harbour.stats.choices import ALL, MIN_PUBLISHED, UNKNOWN, geo_label
from harbour.stats.release import ReleaseData
from harbour.stats.tables import BY_KEY, SOURCE_UNITS, TABLES, Table

CSV_FIELDS = ["year", "geography", "category", "count", "status"]
LICENSE = {"name": "OGL-Canada-2.0", "title": "Open Government Licence - Canada",
           "path": "https://open.canada.ca/en/open-government-licence-canada"}
DICTIONARY = "data-dictionary.csv"
SYNTHETIC = "synthetic-situations.csv"
QUALITY = "synthetic-quality.csv"
MANIFEST_FILES = ("release.json", "datapackage.json")

# What the columns of every table mean (bilingual rows of the data dictionary).
FIELD_TEXT = {
    "year": N_("Year of the data (YYYY), or * for every year in the release"),
    "geography": N_("Province or territory (ISO 3166-2:CA), unknown, region (ATL, PRA, TER) or * for Canada"),
    "category": N_("Category code, or * for the table's total"),
    "count": N_("Count; empty when withheld"),
    "status": N_("How to read the count: empty = exact count, x = withheld, dp = differentially private"),
}
STATUS_TEXT = {
    "suppress": {"x": N_("Withheld: a count from 1 to 9, or one that would let someone work one out")},
    "dp": {"x": N_("Withheld: a noisy count from 1 to 9"),
           "dp": N_("Differentially private count (exact count plus random noise)")},
}
# The synthetic microdata's columns: what each one is, and the labels of its codes.
SYNTH_TEXT = {
    "yearOfRegistration": N_("Year of the first contact with the hotline"),
    "province": N_("Province or territory"),
    "firstChannel": N_("Channel of the first contact"),
    "riskLevel": N_("Risk level"),
}
SYNTH_TABLES = {"gender": "gender", "ageBroad": "age", "nationality": "nationality"}
QUALITY_TEXT = {
    "attribute": N_("Column of the synthetic microdata"),
    "total_variation_distance": N_("Total variation distance between the column's distribution in the synthetic "
                                   "and in the real data (0 = identical, 1 = nothing in common)"),
    "empty_share": N_("Share of synthetic rows the synthesiser left empty in this column"),
}


def archive_name(reference: str) -> str:
    return f"harbour-statistics-{reference.lower()}.zip"


def _in(lang: str, fn):
    token = set_language(lang)
    try:
        return fn()
    finally:
        reset_language(token)


def _both(msgid: str) -> tuple[str, str]:
    return msgid, _in("fr", lambda: gettext(msgid))


def _title(t: Table, lang: str) -> str:
    return _in(lang, lambda: f"{gettext(t.title)} ({gettext(SOURCE_UNITS[t.source])})")


# -- the synthetic microdata's columns -----------------------------------------------------------------
def _flag_labels() -> dict[str, str]:
    return {code: label for t in TABLES if t.kind == "flags" for code, label in t.codes}


def synth_codes(column: str) -> list[tuple[str, str]]:
    """(code, label msgid) of one synthetic column's values; empty for free integers."""
    if column in synth.boolean_columns():
        return [(synth.YES, N_("Yes")), (synth.NO, N_("No"))]
    if column in SYNTH_TABLES:
        return list(BY_KEY[SYNTH_TABLES[column]].codes)
    if column == "province":
        return [(m.value, m._label) for m in Province] + [(UNKNOWN, N_("Province not recorded"))]
    if column == "firstChannel":
        return [(m.value, m._label) for m in Channel]
    if column == "riskLevel":
        return [(m.value, m._label) for m in RiskLevel] + [(UNKNOWN, N_("Unknown"))]
    return []


def synth_title(column: str) -> str:
    if column in SYNTH_TABLES:
        return BY_KEY[SYNTH_TABLES[column]].title
    return SYNTH_TEXT.get(column) or _flag_labels()[column]


def _synth_field(column: str) -> dict:
    kind = {f["name"]: f["type"] for f in standard.fields("situations")}[column]
    out: dict = {"name": column, "title": synth_title(column), "type": kind}
    if kind == "boolean":
        out |= {"trueValues": [synth.YES], "falseValues": [synth.NO]}
    elif kind == "string":
        out["constraints"] = {"enum": [c for c, _l in synth_codes(column)]}
    return out


# -- CSV files -----------------------------------------------------------------------------------------
def _csv(header: list[str], rows) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def table_csv(rows: list[dict]) -> str:
    return _csv(CSV_FIELDS, ([r["year"], r["geography"], r["category"], "" if r["count"] is None else r["count"],
                              r["status"]] for r in rows))


def dictionary_rows(data: ReleaseData) -> list[tuple[str, str, str, str, str]]:
    """(resource, field, code, English, French): what every table, column and code of the release means."""
    rows: list[tuple[str, str, str, str, str]] = []

    def add(resource: str, fieldname: str, code: str, msgid: str) -> None:
        rows.append((resource, fieldname, code, *_both(msgid)))

    for name, msgid in FIELD_TEXT.items():
        add(ALL, name, "", msgid)
    add(ALL, "year", ALL, N_("All years"))
    for g in data.geographies:
        rows.append((ALL, "geography", g, _in("en", lambda g=g: geo_label(g)), _in("fr", lambda g=g: geo_label(g))))
    for code, msgid in STATUS_TEXT[data.mode].items():
        add(ALL, "status", code, msgid)
    for t in TABLES:
        resource = t.key.replace("_", "-")
        rows.append((resource, "", "", _title(t, "en"), _title(t, "fr")))
        if t.kind != "flags":
            add(resource, "category", ALL, N_("Total"))
        for code, msgid in t.codes:
            add(resource, "category", code, msgid)
    if data.synthetic is not None:
        for column in synth.SYNTH_COLUMNS:
            add("synthetic-situations", column, "", synth_title(column))
            for code, msgid in synth_codes(column):
                add("synthetic-situations", column, code, msgid)
        for name, msgid in QUALITY_TEXT.items():
            add("synthetic-quality", name, "", msgid)
    return rows


# -- datapackage.json ----------------------------------------------------------------------------------
def _resource(name: str, path: str, title: str, fields: list[dict], *, description: str = "",
              primary_key: list[str] | None = None, missing: tuple[str, ...] = ("",)) -> dict:
    schema: dict = {"fields": fields, "missingValues": list(missing)}
    if primary_key:
        schema["primaryKey"] = primary_key
    out = {"profile": "tabular-data-resource", "name": name, "path": path, "format": "csv", "mediatype": "text/csv",
           "encoding": "utf-8", "title": title, "schema": schema}
    if description:
        out["description"] = description
    return out


def datapackage(data: ReleaseData, reference: str, generated: str) -> dict:
    resources = []
    for t in TABLES:
        resources.append(_resource(
            t.key.replace("_", "-"), f"{t.key}.csv", _title(t, "en"), description=f"{_title(t, 'en')} / "
            f"{_title(t, 'fr')}", primary_key=["year", "geography", "category"], fields=[
                {"name": "year", "type": "string", "description": FIELD_TEXT["year"],
                 "constraints": {"required": True, "pattern": r"[0-9]{4}|\*"}},
                {"name": "geography", "type": "string", "description": FIELD_TEXT["geography"],
                 "constraints": {"required": True, "enum": data.geographies}},
                {"name": "category", "type": "string", "description": FIELD_TEXT["category"],
                 "constraints": {"required": True, "enum": ([] if t.kind == "flags" else [ALL])
                                 + [c for c, _l in t.codes]}},
                {"name": "count", "type": "integer", "description": FIELD_TEXT["count"],
                 "constraints": {"minimum": 0}},
                {"name": "status", "type": "string", "description": FIELD_TEXT["status"], "constraints": {"enum": ["x", "dp"] if data.mode == "dp"
                                                                    else ["", "x"]}}]))
    resources.append(_resource("data-dictionary", DICTIONARY, "Data dictionary (English and French)",
                               primary_key=["resource", "field", "code"], missing=(), fields=[
                                   {"name": "resource", "type": "string",
                                    "description": "Resource name, or * for every table"},
                                   {"name": "field", "type": "string", "description": "Column, or empty for the "
                                    "resource itself"},
                                   {"name": "code", "type": "string", "description": "Value of the column, or "
                                    "empty for the column itself"},
                                   {"name": "label_en", "type": "string", "constraints": {"required": True}},
                                   {"name": "label_fr", "type": "string", "constraints": {"required": True}}]))
    if data.synthetic is not None:
        resources.append(_resource("synthetic-situations", SYNTHETIC,
                                   "Synthetic situation microdata (differentially private)",
                                   description="One row per synthetic situation (pac-synth DP Aggregate Seeded "
                                   "synthesiser); an empty value is one the synthesiser did not produce.",
                                   fields=[_synth_field(c) for c in synth.SYNTH_COLUMNS]))
        resources.append(_resource("synthetic-quality", QUALITY, "Synthetic data quality per column",
                                   primary_key=["attribute"], fields=[
                                       {"name": "attribute", "type": "string",
                                        "constraints": {"required": True, "enum": list(synth.SYNTH_COLUMNS)}},
                                       {"name": "total_variation_distance", "type": "number",
                                        "description": QUALITY_TEXT["total_variation_distance"],
                                        "constraints": {"required": True, "minimum": 0, "maximum": 1}},
                                       {"name": "empty_share", "type": "number",
                                        "description": QUALITY_TEXT["empty_share"],
                                        "constraints": {"required": True, "minimum": 0, "maximum": 1}}]))
    return {
        "profile": "tabular-data-package", "name": f"harbour-statistics-{reference.lower()}",
        "title": "Harbour national human trafficking statistics", "version": "1.0.0", "created": generated,
        "licenses": [LICENSE], "keywords": ["human trafficking", "Canada", "statistics", "open data"],
        "description": ("Counts from the Harbour national data standard (CTDC / IOM HTCDS 2.0 aligned). "
                        + (f"Counts from 1 to {MIN_PUBLISHED - 1} are withheld (x), with complementary suppression."
                           if data.mode == "suppress" else
                           f"Differentially private counts (epsilon {data.epsilon}, OpenDP discrete Laplace); "
                           f"noisy counts from 1 to {MIN_PUBLISHED - 1} are withheld (x).")),
        "harbour": {"reference": reference, "mode": data.mode, "years": data.years, "geography": data.geography,
                    "epsilon": data.epsilon, "standard_version": standard.dictionary()["version"],
                    "parameters": data.parameters},
        "resources": resources,
    }


def release_json(data: ReleaseData, reference: str, generated: str) -> dict:
    def labels(t: Table, lang: str) -> dict:
        return _in(lang, lambda: {"title": gettext(t.title), "unit": gettext(SOURCE_UNITS[t.source]),
                                  "categories": t.labels()})

    doc = {"reference": reference, "generated": generated, "mode": data.mode, "years": data.years,
           "geography": data.geography, "epsilon": data.epsilon, "parameters": data.parameters, "tables": {}}
    for t in TABLES:
        en, fr = labels(t, "en"), labels(t, "fr")
        doc["tables"][t.key] = {"title": {"en": en["title"], "fr": fr["title"]},
                                "unit": {"en": en["unit"], "fr": fr["unit"]},
                                "categories": {c: {"en": en["categories"][c], "fr": fr["categories"][c]}
                                               for c, _l in t.codes},
                                "rows": data.tables[t.key]}
    if data.synthetic is not None:
        doc["synthetic_quality"] = data.quality
    return doc


# -- writing -------------------------------------------------------------------------------------------
def write(data: ReleaseData, out_dir: Path, reference: str, generated: str) -> list[str]:
    """Write the release's files into ``out_dir`` (the zip last, holding every other file); returns their names."""
    out_dir.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    for t in TABLES:
        files[f"{t.key}.csv"] = table_csv(data.tables[t.key]).encode()
    files[DICTIONARY] = _csv(["resource", "field", "code", "label_en", "label_fr"], dictionary_rows(data)).encode()
    if data.synthetic is not None:
        files[SYNTHETIC] = _csv(list(synth.SYNTH_COLUMNS), data.synthetic).encode()
        files[QUALITY] = _csv(["attribute", "total_variation_distance", "empty_share"],
                              ([q["attribute"], q["total_variation_distance"], q["empty_share"]]
                               for q in data.quality or [])).encode()
    files["release.json"] = json.dumps(release_json(data, reference, generated), ensure_ascii=False,
                                       indent=1).encode()
    files["datapackage.json"] = json.dumps(datapackage(data, reference, generated), ensure_ascii=False,
                                           indent=1).encode()
    stamp = datetime.fromisoformat(generated).timetuple()[:6]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, content)
    files[archive_name(reference)] = buf.getvalue()
    for name, content in files.items():
        (out_dir / name).write_bytes(content)
    return list(files)
