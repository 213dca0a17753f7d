"""`harbour bench directory --providers 10000`: search latency over a fixed set of realistic queries.

Builds a temporary SQLite database (its own key file), loads N synthetic providers from
``harbour.directory.demo.provider_specs`` through ``service.create_provider``, warms the
search index up, then runs ~20 realistic queries for several rounds and prints ONE JSON line
with p50/p95/max latency.  Goal: p95 under 50 ms with 10,000 providers on 2 cores.
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

QUERIES: list[dict] = [
    # journey 1: 2 a.m., French, Thunder Bay, after-hours emergency shelter within 100 km
    dict(needs=["emergency_shelter"], place="Thunder Bay", radius_km=100, language="fr", after_hours=True),
    dict(needs=["counselling"], place="Winnipeg"),
    dict(needs=["immigration"], place="Montréal", language="es"),
    dict(needs=["indigenous_healing"], place="Iqaluit"),
    dict(needs=["legal_aid"], place="Halifax"),
    dict(needs=["youth"], place="Vancouver", age=16),
    dict(needs=["emergency_shelter", "transition_housing"], place="Toronto", gender="women", open_now=True),
    dict(needs=["medical", "sexual_health"], place="Calgary", radius_km=50),
    dict(needs=["addiction"], place="Regina", radius_km=250),
    dict(needs=["document_replacement"], place="Ottawa", status="temporary"),
    dict(needs=["emergency_shelter"], place="Yellowknife", radius_km=500),
    dict(needs=["counselling"], place="Whitehorse", language="en"),
    dict(needs=["employment", "financial"], place="Edmonton", survivor_type="labour_trafficking"),
    dict(needs=["victim_quick_response"], province="NL"),
    dict(needs=["interpretation"], place="Brampton", language="pa"),
    dict(needs=["lgbtq", "counselling"], place="Halifax", age=22, gender="gender_diverse"),
    dict(needs=["emergency_shelter"], place="Saint-Jean-sur-Richelieu", language="fr", radius_km=50),
    dict(needs=["indigenous_healing", "counselling"], place="Prince Albert", indigenous_led=True, radius_km=300),
    dict(needs=["legal_aid", "immigration"], latitude=43.65, longitude=-79.38, radius_km=25),
    dict(needs=["long_term_housing"], place="Charlottetown", radius_km=200, include_virtual=False),
]


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="harbour bench directory", description=__doc__.splitlines()[0])
    parser.add_argument("--providers", type=int, default=10_000, help="how many providers to load (default 10000)")
    parser.add_argument("--seed", type=int, default=3, help="seed of the synthetic directory (default 3)")
    parser.add_argument("--rounds", type=int, default=30, help="times each query runs after warm-up (default 30)")
    parser.add_argument("--batch", type=int, default=500, help="providers per commit while loading (default 500)")
    args = parser.parse_args(argv)
    if not 1 <= args.providers <= 200_000 or not 1 <= args.rounds <= 1000 or args.batch < 1:
        parser.error("--providers must be 1..200000, --rounds 1..1000, --batch at least 1")
    return args


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def main(argv: list[str]) -> int:
    args = _parse(argv)
    from harbour.core import crypto
    from harbour.core.audit import Actor
    from harbour.core.db import make_engine, make_sessionmaker
    from harbour.core.migrate import upgrade
    from harbour.directory import demo, search_index
    from harbour.directory import service as directory
    from harbour.directory.search import SearchQuery, search

    with tempfile.TemporaryDirectory(prefix="harbour-bench-") as tmp:
        crypto.configure(Path(tmp) / "keys.json", create=True)
        url = f"sqlite:///{Path(tmp) / 'bench.db'}"
        upgrade(url)
        engine = make_engine(url)
        factory = make_sessionmaker(engine)
        curator = Actor(None, "system:bench", "hotline_supervisor")
        advocate = Actor(None, "system:bench", "hotline_advocate")

        started = time.perf_counter()
        specs = demo.provider_specs(args.providers, args.seed)
        services = sum(len(s.services) for s in specs)
        with factory() as db:
            for i, spec in enumerate(specs, start=1):
                directory.create_provider(db, actor=curator, data=spec, commit=False)
                if i % args.batch == 0:
                    db.commit()
            db.commit()
        load_seconds = time.perf_counter() - started

        queries = [SearchQuery(**q) for q in QUERIES]
        timings: list[float] = []
        found: list[int] = []
        with factory() as db:
            search_index.invalidate()
            t0 = time.perf_counter()
            search_index.get_index(db)
            index_ms = (time.perf_counter() - t0) * 1000
            for query in queries:  # warm-up: places loaded, caches filled
                found.append(search(db, actor=advocate, query=query).total)
            for _round in range(args.rounds):
                for query in queries:
                    t = time.perf_counter()
                    search(db, actor=advocate, query=query)
                    timings.append((time.perf_counter() - t) * 1000)
        engine.dispose()

    out = {
        "area": "directory",
        "providers": args.providers,
        "services": services,
        "queries": len(queries),
        "searches": len(timings),
        "p50_ms": round(statistics.median(timings), 2),
        "p95_ms": round(_percentile(timings, 0.95), 2),
        "max_ms": round(max(timings), 2),
        "index_build_ms": round(index_ms, 1),
        "load_seconds": round(load_seconds, 1),
        "queries_with_results": sum(1 for n in found if n),
        "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPU, {platform.processor() or ''}"
                   .strip(", "),
        "python": platform.python_version(),
        "database": "sqlite",
    }
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
