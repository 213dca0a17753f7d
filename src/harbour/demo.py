"""`harbour demo`: every module's synthetic, obviously fake demo data, in dependency order.

Each step is idempotent on its own, so running the command again adds nothing twice.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from harbour.hotline.demo import DemoReport
from harbour.hotline.demo import load_demo as load_hotline_demo


def load_demo(db: Session, *, seed: int, contacts: int, providers: int = 1200) -> DemoReport:
    """Demo users and hotline data, then the provider directory, then referrals between them."""
    report = load_hotline_demo(db, seed=seed, contacts=contacts)
    try:
        from harbour.directory.demo import load_directory_demo
    except ImportError:  # the directory module ships its demo with its own issue
        return report
    report.counts.update(load_directory_demo(db, seed=seed, providers=providers))
    return report
