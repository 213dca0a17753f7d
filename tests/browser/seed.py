"""Seed the browser suite's live server: the demo data its journeys use, from each module's own demo loader.

Run as ``python -m tests.browser.seed --seed 2026 --contacts 40 --providers 150`` with HARBOUR_DATABASE_URL and
HARBOUR_KEY_FILE set (the conftest does).  Synthetic, obviously fake data with a fixed seed.  It loads the demo
users, hotline contacts and cases, the provider directory (demo-provider's vetted Thunder Bay shelter among
them), referrals and the action plans; not the sharing network or the statistics history and store that
`harbour demo` also loads, which take minutes to build on a 2-core machine: a small sharing scene instead
(tests/browser/seed_sharing.py: two fictional agencies, an agreement, one hit each) for the disclosure form.
"""

from __future__ import annotations

import argparse
import time


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--contacts", type=int, default=40)
    parser.add_argument("--providers", type=int, default=150)
    args = parser.parse_args(argv)

    from harbour.core import crypto
    from harbour.core.config import get_settings
    from harbour.core.db import make_engine, make_sessionmaker
    from harbour.directory.demo import load_directory_demo
    from harbour.directory.demo_referrals import load_referral_demo
    from harbour.hotline.demo import load_demo as load_hotline_demo
    from harbour.plan.demo import load_plan_demo
    from tests.browser.seed_sharing import load_disclosure_scene

    settings = get_settings()
    crypto.configure(settings.key_file)
    engine = make_engine(settings.database_url)
    started = time.perf_counter()
    with make_sessionmaker(engine)() as db:
        report = load_hotline_demo(db, seed=args.seed, contacts=args.contacts)
        report.counts.update(load_directory_demo(db, seed=args.seed, providers=args.providers))
        report.counts.update(load_referral_demo(db, seed=args.seed))
        report.counts.update(load_plan_demo(db, seed=args.seed))
        report.counts.update(load_disclosure_scene(db))
    engine.dispose()
    print(f"browser-suite demo data loaded in {time.perf_counter() - started:.1f} s: "
          + ", ".join(f"{k} {v}" for k, v in report.counts.items()))


if __name__ == "__main__":
    main()
