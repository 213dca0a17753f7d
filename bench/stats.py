"""`harbour bench stats --cases 1000000`: build the analytic store and compute the full dashboard set.

Generates N synthetic situations (and 2N contacts, N/2 referrals, N/20 unmet needs, N/10 agency offences)
directly as Arrow tables with a fixed seed (no database, nothing resembling a person), writes them as the
partitioned Parquet store (``store.import_arrow``), then times, over several rounds (median):

* ``dashboard_s``: the full dashboard set through Harbour's layer - every table's DuckDB aggregate
  (``dashboards.base_counts``) plus the margins for every year, province, region and Canada
  (``dashboards.make_universe``) and one filtered view;
* ``duckdb_s``: the same aggregate queries run directly in DuckDB (``fetchall``), the baseline;
* ``ratio``: dashboard_s / duckdb_s (goal: at most 1.5);
* ``protect_s``: disclosure control over the whole universe (once per store content, kept on disk);
* ``dashboard_cpu_s``: CPU seconds (all threads) of one dashboard set - on a shared, busy machine wall time
  overstates it; with 2 idle cores the wall time is about half of it.

Prints ONE JSON line.  Goal: dashboard set under 1 s on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _generate(n: int, seed: int = 2026):
    import numpy as np
    import pyarrow as pa

    from harbour.stats import standard
    from harbour.stats.choices import PROVINCES

    rng = np.random.default_rng(seed)
    weights = np.array([11, 13, 4, 2.5, 1.5, 3, 1, 1, 36, 1, 21, 3, 1], dtype=float)
    provinces = np.array(list(PROVINCES), dtype=object)  # AB BC MB NB NL NS NT NU ON PE QC SK YT
    years = np.arange(2019, 2027)

    def choice(values, size, p=None):
        values = np.array(values, dtype=object)
        if p is not None:
            p = np.array(p, dtype=float) / sum(p)
        return values[rng.choice(len(values), size=size, p=p)]

    def province(size):
        return choice(provinces, size, weights)

    out = {}
    cols = {}
    for f in standard.fields("situations"):
        name, kind = f["name"], f["type"]
        if name == "situationId":
            cols[name] = pa.array([f"S{i:09d}" for i in range(n)])
        elif name == "yearOfRegistration":
            cols[name] = pa.array(rng.choice(years, size=n, p=np.linspace(1, 2, len(years)) / np.linspace(
                1, 2, len(years)).sum()).astype("int32"))
        elif name == "province":
            cols[name] = pa.array(province(n))
        elif kind == "boolean":
            cols[name] = pa.array(rng.random(n) < rng.uniform(0.03, 0.5))
        elif kind == "integer":
            cols[name] = pa.array(rng.integers(0, 4, n).astype("int32"))
        else:
            codes = f.get("codes") if isinstance(f.get("codes"), list) else ["unknown"]
            cols[name] = pa.array(choice(codes, n))
    out["situations"] = pa.table(cols)

    def events(table: str, m: int, extra: dict) -> None:
        data = {"year": pa.array(rng.choice(years, size=m).astype("int32")), "province": pa.array(province(m))}
        for f in standard.fields(table):
            if f["name"] in data:
                continue
            if f["name"] in extra:
                data[f["name"]] = pa.array(choice(extra[f["name"]], m))
            else:
                codes = f.get("codes") if isinstance(f.get("codes"), list) else ["other"]
                data[f["name"]] = pa.array(choice(codes, m))
        out[table] = pa.table(data)

    from harbour.directory.choices import ServiceType
    from harbour.hotline.choices import Need
    from harbour.sharing.choices import OFFENCES

    events("contacts", 2 * n, {})
    events("referrals", n // 2, {"serviceType": ServiceType.codes()})
    events("unmet_needs", n // 20, {"need": Need.codes()})
    events("occurrences", n // 10, {"offence": list(OFFENCES), "agency": [f"A{i}" for i in range(40)]})
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="harbour bench stats")
    parser.add_argument("--cases", type=int, default=1_000_000, help="synthetic situations")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    if args.cases < 1000 or args.rounds < 1:
        print("error: --cases must be at least 1000 and --rounds at least 1", file=sys.stderr)
        return 2

    from harbour.stats import dashboards, store
    from harbour.stats.choices import ALL

    t0 = time.perf_counter()
    tables = _generate(args.cases)
    generate_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory(prefix="harbour-bench-stats-") as tmp:
        root = Path(tmp) / "stats"
        built = store.import_arrow(root, tables)
        years = store.years(root)
        sqls = [q.sql for q in dashboards.source_queries()]
        ours, raw, cpu = [], [], []
        per_query = [[] for _ in sqls]
        con = store.connect(root)
        try:
            for _ in range(args.rounds):
                t = time.perf_counter()
                for i, sql in enumerate(sqls):
                    q = time.perf_counter()
                    con.execute(sql).fetchall()
                    per_query[i].append(time.perf_counter() - q)
                raw.append(time.perf_counter() - t)
                t, c = time.perf_counter(), time.process_time()
                u = dashboards.make_universe(dashboards.base_counts(con), years)
                dashboards.view(u, year=ALL, geo=ALL, public=False)
                ours.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
        finally:
            con.close()
        u.root, u.fingerprint = None, ""
        t = time.perf_counter()
        hidden = u.suppressed
        protect_s = time.perf_counter() - t
        size = sum(f.stat().st_size for f in root.rglob("*.parquet"))
    dash, base = statistics.median(ours), statistics.median(raw)
    print(json.dumps({
        "bench": "stats", "cases": args.cases, "rows": built.rows, "generate_s": round(generate_s, 3),
        "build_store_s": round(built.seconds, 3), "store_mb": round(size / 1e6, 1),
        "dashboard_s": round(dash, 3), "duckdb_s": round(base, 3), "ratio": round(dash / base, 3),
        "dashboard_cpu_s": round(statistics.median(cpu), 3),
        "per_query_s": [round(statistics.median(q), 3) for q in per_query],
        "queries": len(sqls), "cells": len(u.values), "protect_s": round(protect_s, 3), "withheld": len(hidden),
        "rounds": args.rounds, "goal_dashboard_s": 1.0, "goal_ratio": 1.5, "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2), "python": platform.python_version()}))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
