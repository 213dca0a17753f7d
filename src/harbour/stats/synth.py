"""Synthetic microdata for researchers: pac-synth's DP Aggregate Seeded synthesiser over the situations.

The synthesiser computes differentially private marginals (attribute combinations up to ``REPORTING_LENGTH``)
and samples records from them; it is (epsilon, delta)-DP with delta = 1 / (ln(n) * n) chosen by pac-synth.

How the records are given to it decides whether every column survives.  pac-synth counts every non-empty value
of a record, and the noise it adds grows with the number of attribute combinations one record can touch;
values whose noisy count falls under its threshold are dropped, and a column whose every value is dropped comes
out empty in every synthetic row.  So:

* boolean fields are given *sparse*: only "yes" is a value, "no" is left empty (pac-synth's convention for
  absent flags) and written back as "no" after sampling.  A record then touches its categorical values and its
  few true flags, not sixteen values, and the noise shrinks accordingly;
* combinations are counted up to pairs (``REPORTING_LENGTH`` 2): triples multiply the combinations one record
  touches (and the noise) for little gain on a few thousand records;
* a synthetic table with a column empty in every row is not published (:func:`synthesise` raises): the release
  then says so.  Choosing among samples by looking only at the synthetic output is post-processing.

The quality report compares every column's distribution in the synthetic data with the real one by total
variation distance (0 = identical, 1 = disjoint; a value the synthesiser left empty counts as a value of its
own) and gives the share of synthetic rows it left empty; it publishes distances and shares only, never the
real counts.
"""

from __future__ import annotations

import duckdb

SYNTH_COLUMNS = ("yearOfRegistration", "province", "gender", "ageBroad", "nationality", "isSexualExploit",
                 "isForcedLabour", "isForcedMarriage", "isChildTrafficking", "meansOfControlThreats",
                 "meansOfControlDebtBondage", "meansOfControlWithholdsDocuments", "recruiterRelationIntimatePartner",
                 "recruitmentJobOffer", "firstChannel", "riskLevel")
MIN_RECORDS = 100  # fewer real records: no synthetic microdata (the DP marginals would be mostly noise)
REPORTING_LENGTH = 2
RECORDS_EPSILON_SHARE = 0.1  # of the synthesiser's epsilon, for its noisy record count
SAMPLES = 5  # draws from one fit (post-processing) before giving up on a table with an empty column
YES, NO = "yes", "no"


def boolean_columns() -> frozenset[str]:
    from harbour.stats import standard

    kinds = {f["name"]: f["type"] for f in standard.fields("situations")}
    return frozenset(c for c in SYNTH_COLUMNS if kinds[c] == "boolean")


def _text(v) -> str:
    if isinstance(v, bool):
        return YES if v else NO
    return "" if v is None else str(v)


def real_records(con: duckdb.DuckDBPyConnection, years: list[int], provinces: list[str] | None = None,
                 *, unknown: bool = False) -> list[list[str]]:
    """The real records of ``years`` (and, when given, of ``provinces``; ``unknown``: of situations whose
    province is not one of the provinces and territories)."""
    from harbour.stats.choices import PROVINCES

    cols = ", ".join(f'"{c}"' for c in SYNTH_COLUMNS)
    marks = ", ".join(str(int(y)) for y in years) or "NULL"
    where = f"yearOfRegistration IN ({marks})"
    known = ", ".join(f"'{p}'" for p in PROVINCES)
    if provinces is not None:
        chosen = [f"province IN ({', '.join(repr(p) for p in provinces if p in PROVINCES) or 'NULL'})"]
        if unknown:
            chosen.append(f"province IS NULL OR province NOT IN ({known})")
        where += " AND (" + " OR ".join(chosen) + ")"
    rows = con.execute(f"SELECT {cols} FROM situations WHERE {where}").fetchall()
    return [[_text(v) for v in r] for r in rows]


def _encode(records: list[list[str]], flags: list[int]) -> list[list[str]]:
    out = []
    for r in records:
        row = list(r)
        for i in flags:
            if row[i] == NO:
                row[i] = ""
        out.append(row)
    return out


def _decode(records: list[list[str]], flags: list[int]) -> list[list[str]]:
    out = []
    for r in records:
        row = list(r)
        for i in flags:
            if row[i] == "":
                row[i] = NO
        out.append(row)
    return out


def empty_columns(records: list[list[str]]) -> list[str]:
    """The columns with no value in any record."""
    return [name for i, name in enumerate(SYNTH_COLUMNS) if not any(r[i] for r in records)]


def synthesise(records: list[list[str]], *, epsilon: float) -> list[list[str]]:
    """Synthetic records (same columns, every one with values) from pac-synth; raises ValueError below
    MIN_RECORDS real records, when the fit fails or when a column would come out empty in every row."""
    import pacsynth

    if len(records) < MIN_RECORDS:
        raise ValueError("too few records")
    flags = [i for i, c in enumerate(SYNTH_COLUMNS) if c in boolean_columns()]
    # a tenth of the budget for the noisy record count (pac-synth's default 0.5 % can drive it below zero on
    # small data, and then the synthesiser gives up)
    params = (pacsynth.DpAggregateSeededParametersBuilder().reporting_length(REPORTING_LENGTH)
              .epsilon(float(epsilon)).percentile_percentage(99).accuracy_mode(pacsynth.AccuracyMode.balanced())
              .number_of_records_epsilon_proportion(RECORDS_EPSILON_SHARE).build())
    synth = pacsynth.DpAggregateSeededSynthesizer(params)
    out: list[list[str]] = []
    try:
        synth.fit(pacsynth.Dataset([list(SYNTH_COLUMNS)] + _encode(records, flags)))
        # sampling is post-processing of the fitted DP aggregates (no further privacy cost): an unlucky draw can
        # come back empty or without any value in a column, so draw again a few times
        for _attempt in range(SAMPLES):
            out = _decode([list(r) for r in synth.sample()[1:]], flags)
            if out and not empty_columns(out):
                break
    except BaseException as exc:  # pyo3 panics derive from BaseException  # noqa: BLE001
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise ValueError("the synthesiser could not fit these records") from None
    if not out:
        raise ValueError("the synthesiser produced no records")
    if missing := empty_columns(out):
        raise ValueError("the synthesiser left columns empty in every row: " + ", ".join(missing))
    return out


def quality(real: list[list[str]], fake: list[list[str]]) -> list[dict]:
    """Per column: total variation distance between the real and synthetic distributions, and the share of
    synthetic rows the synthesiser left empty."""
    out = []
    for i, name in enumerate(SYNTH_COLUMNS):
        a: dict[str, int] = {}
        b: dict[str, int] = {}
        for r in real:
            a[r[i]] = a.get(r[i], 0) + 1
        for r in fake:
            b[r[i]] = b.get(r[i], 0) + 1
        na, nb = max(1, len(real)), max(1, len(fake))
        dist = 0.5 * sum(abs(a.get(k, 0) / na - b.get(k, 0) / nb) for k in set(a) | set(b))
        out.append({"attribute": name, "total_variation_distance": round(dist, 4),
                    "empty_share": round(b.get("", 0) / nb, 4)})
    return out

