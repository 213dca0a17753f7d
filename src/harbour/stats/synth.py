"""Synthetic microdata for researchers: pac-synth's DP Aggregate Seeded synthesiser over the situations.

The synthesiser computes differentially private marginals (attribute combinations up to ``reporting_length``)
and samples records from them; it is (epsilon, delta)-DP with delta = 1 / (ln(n) * n) chosen by pac-synth.
The quality report compares every attribute's distribution in the synthetic data with the real one by total
variation distance (0 = identical, 1 = disjoint); it publishes distances only, never the real counts.
"""

from __future__ import annotations

import duckdb

SYNTH_COLUMNS = ("yearOfRegistration", "province", "gender", "ageBroad", "nationality", "isSexualExploit",
                 "isForcedLabour", "isForcedMarriage", "isChildTrafficking", "meansOfControlThreats",
                 "meansOfControlDebtBondage", "meansOfControlWithholdsDocuments", "recruiterRelationIntimatePartner",
                 "recruitmentJobOffer", "firstChannel", "riskLevel")
MIN_RECORDS = 100  # fewer real records: no synthetic microdata (the DP marginals would be mostly noise)


def _text(v) -> str:
    if isinstance(v, bool):
        return "yes" if v else "no"
    return "" if v is None else str(v)


def real_records(con: duckdb.DuckDBPyConnection, years: list[int]) -> list[list[str]]:
    cols = ", ".join(f'"{c}"' for c in SYNTH_COLUMNS)
    marks = ", ".join(str(int(y)) for y in years) or "NULL"
    rows = con.execute(f"SELECT {cols} FROM situations WHERE yearOfRegistration IN ({marks})").fetchall()
    return [[_text(v) for v in r] for r in rows]


RECORDS_EPSILON_SHARE = 0.1  # of the synthesiser's epsilon, for its noisy record count


def synthesise(records: list[list[str]], *, epsilon: float, seed_rows: int | None = None) -> list[list[str]]:
    """Synthetic records (same columns) from pac-synth; raises ValueError below MIN_RECORDS real records."""
    import pacsynth

    if len(records) < MIN_RECORDS:
        raise ValueError("too few records")
    # a tenth of the budget for the noisy record count (pac-synth's default 0.5 % can drive it below zero on
    # small data, and then the synthesiser gives up)
    params = (pacsynth.DpAggregateSeededParametersBuilder().reporting_length(3).epsilon(float(epsilon))
              .percentile_percentage(99).number_of_records_epsilon_proportion(RECORDS_EPSILON_SHARE).build())
    synth = pacsynth.DpAggregateSeededSynthesizer(params)
    try:
        synth.fit(pacsynth.Dataset([list(SYNTH_COLUMNS)] + records))
        # sampling is post-processing of the fitted DP aggregates (no further privacy cost): an unlucky draw can
        # come back empty, so draw again a few times
        for _attempt in range(5):
            out = synth.sample()
            if len(out) > 1:
                break
    except BaseException as exc:  # pyo3 panics derive from BaseException  # noqa: BLE001
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise ValueError("the synthesiser could not fit these records") from None
    if len(out) <= 1:
        raise ValueError("the synthesiser produced no records")
    return [list(r) for r in out[1:]]


def tvd(real: list[list[str]], fake: list[list[str]]) -> list[dict]:
    """Total variation distance per attribute between the real and synthetic distributions."""
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
        out.append({"attribute": name, "total_variation_distance": round(dist, 4)})
    return out
