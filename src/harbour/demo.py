"""`harbour demo`: every module's synthetic, obviously fake demo data, in dependency order.

Each step is idempotent on its own, so running the command again adds nothing twice.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from harbour.directory.demo import load_directory_demo
from harbour.directory.demo_referrals import load_referral_demo
from harbour.hotline.demo import DemoReport
from harbour.hotline.demo import load_demo as load_hotline_demo
from harbour.plan.demo import load_plan_demo, plan_demo_logins
from harbour.sharing.demo import load_sharing_demo, sharing_demo_logins
from harbour.stats.demo import load_stats_demo, refresh_store


def load_demo(db: Session, *, seed: int, contacts: int, providers: int = 1200) -> DemoReport:
    """Demo users and hotline data, then the provider directory, then referrals between them, then the plans."""
    report = load_hotline_demo(db, seed=seed, contacts=contacts)
    report.counts.update(load_directory_demo(db, seed=seed, providers=providers))
    report.counts.update(load_referral_demo(db, seed=seed))
    report.counts.update(load_plan_demo(db, seed=seed))
    report.counts.update(load_sharing_demo(db, seed=seed))  # agencies, records, agreements, linkage, hits
    report.counts.update(load_stats_demo(db, seed=seed))  # after referrals: the history refers to real demo services
    report.counts.update(refresh_store(db))
    report.logins += [login for login in plan_demo_logins() if login not in report.logins]
    report.logins += [login for login in sharing_demo_logins() if login not in report.logins]
    return report
