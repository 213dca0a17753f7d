"""Statistics fixtures: a per-test analytic store directory and synthetic, obviously fake history (fixed seed)."""

from __future__ import annotations

import pytest

from harbour.core.audit import Actor
from harbour.core.choices import Role
from harbour.stats import dashboards

ADMIN = Actor(None, "system:tests", Role.admin.value)


@pytest.fixture
def settings(settings, backend, tmp_path):  # noqa: F811 - extends the root fixture; `backend` named so pytest 8 parametrizes
    dashboards._cache.clear()
    return settings.model_copy(update={"stats_dir": tmp_path / "stats", "stats_privacy_budget": 2.0})


@pytest.fixture
def history(db):
    """Two years of synthetic closed cases (about 60 % consenting to statistics), contacts and unmet needs."""
    from harbour.stats.demo import load_stats_demo

    return load_stats_demo(db, seed=11, cases=300, years=2)


@pytest.fixture
def built(db, settings, history):
    from harbour.stats import service

    return service.build_store(db, settings, actor=ADMIN, full=True)
