"""Seed the browser suite's live server: the demo data its journeys use, from each module's own demo loader.

Run as ``python -m tests.browser.seed --seed 2026 --contacts 40 --providers 150 --history-cases 300`` with
HARBOUR_DATABASE_URL and HARBOUR_KEY_FILE set (the conftest does).  Synthetic, obviously fake data with a fixed
seed.  It loads the demo users, hotline contacts and cases, the provider directory (demo-provider's vetted
Thunder Bay shelter among them), referrals, the action plans, the sharing network (agencies, a few hundred
records, agreements in every state, linkage, hits and two disclosure requests: every sharing console page has
something to show) and a small statistics history with its analytic store (``--history-cases``; `harbour demo`
loads 4,500 over three years, which takes minutes on a 2-core machine).  Also a small disclosure scene
(tests/browser/seed_sharing.py: two fictional agencies, an agreement, one hit each) for the disclosure form.
Prints how long each part took.
"""

from __future__ import annotations

import argparse
import time


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--contacts", type=int, default=40)
    parser.add_argument("--providers", type=int, default=150)
    parser.add_argument("--history-cases", type=int, default=300, help="closed cases of statistics history")
    parser.add_argument("--history-years", type=int, default=2)
    args = parser.parse_args(argv)

    from harbour.core import crypto
    from harbour.core.config import get_settings
    from harbour.core.db import make_engine, make_sessionmaker
    from harbour.directory.demo import load_directory_demo
    from harbour.directory.demo_referrals import load_referral_demo
    from harbour.hotline.demo import load_demo as load_hotline_demo
    from harbour.plan.demo import load_plan_demo
    from harbour.sharing.demo import load_sharing_demo
    from harbour.stats.demo import load_stats_demo, refresh_store
    from tests.browser.seed_sharing import load_disclosure_scene

    settings = get_settings()
    crypto.configure(settings.key_file)
    engine = make_engine(settings.database_url)
    timings: dict[str, float] = {}
    started = last = time.perf_counter()

    def lap(part: str) -> None:
        nonlocal last
        now = time.perf_counter()
        timings[part] = now - last
        last = now

    with make_sessionmaker(engine)() as db:
        report = load_hotline_demo(db, seed=args.seed, contacts=args.contacts)
        lap("hotline")
        report.counts.update(load_directory_demo(db, seed=args.seed, providers=args.providers))
        report.counts.update(load_referral_demo(db, seed=args.seed))
        lap("directory")
        report.counts.update(load_plan_demo(db, seed=args.seed))
        lap("plan")
        report.counts.update(load_sharing_demo(db, seed=args.seed))
        lap("sharing")
        report.counts.update(load_stats_demo(db, seed=args.seed, cases=args.history_cases, years=args.history_years))
        report.counts.update(refresh_store(db))
        lap("statistics")
        report.counts.update(load_disclosure_scene(db))
        lap("disclosure scene")
    engine.dispose()
    print(f"browser-suite demo data loaded in {time.perf_counter() - started:.1f} s ("
          + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()) + "): "
          + ", ".join(f"{k} {v}" for k, v in report.counts.items()))


if __name__ == "__main__":
    main()
