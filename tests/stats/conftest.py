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


def synthetic_tables(n: int, years: tuple[int, ...] = (2024, 2025), seed: int = 13) -> dict:
    """Arrow tables in the standard's columns for ``n`` synthetic situations (and events), fixed seed: a store
    written directly (``store.import_arrow``), no database history.  Skewed like real data (a few common values,
    a long tail), so disclosure control and the synthesiser meet small and large cells alike."""
    import random

    import pyarrow as pa

    from harbour.stats import standard
    from harbour.stats.choices import PROVINCES

    rng = random.Random(seed)
    weights = {"ON": 36, "QC": 21, "BC": 13, "AB": 11, "MB": 4, "SK": 3, "NS": 3, "NB": 2.5, "NL": 1.5, "PE": 1,
               "NT": 1, "YT": 1, "NU": 1}
    provinces = [p for p in PROVINCES]

    def pick(codes: list, m: int, skew: float = 1.6) -> list:
        w = [1 / (i + 1) ** skew for i in range(len(codes))]
        return rng.choices(codes, weights=w, k=m)

    def province(m: int) -> list:
        return rng.choices(provinces + ["unknown"], weights=[weights[p] for p in provinces] + [2], k=m)

    def table(name: str, m: int, fixed: dict) -> pa.Table:
        cols: dict = {}
        for f in standard.fields(name):
            col, kind = f["name"], f["type"]
            if col in fixed:
                cols[col] = fixed[col]
            elif kind == "boolean":
                rate = rng.uniform(0.05, 0.45)
                cols[col] = [rng.random() < rate for _ in range(m)]
            elif kind == "integer":
                cols[col] = [rng.randint(1, 4) for _ in range(m)]
            else:
                codes = f.get("codes") if isinstance(f.get("codes"), list) else ["other"]
                cols[col] = pick(codes, m)
        return pa.table(cols, schema=standard.arrow_schema(name))

    def years_of(m: int) -> list[int]:
        return rng.choices(list(years), weights=range(1, len(years) + 1), k=m)

    from harbour.directory.choices import ServiceType
    from harbour.hotline.choices import Need
    from harbour.sharing.choices import OFFENCES

    return {
        "situations": table("situations", n, {"situationId": [f"FAKE-{i:06d}" for i in range(n)],
                                              "yearOfRegistration": years_of(n), "province": province(n)}),
        "contacts": table("contacts", 2 * n, {"year": years_of(2 * n), "province": province(2 * n)}),
        "referrals": table("referrals", n // 2, {"year": years_of(n // 2), "province": province(n // 2),
                                                 "serviceType": pick(ServiceType.codes(), n // 2)}),
        "unmet_needs": table("unmet_needs", n // 10, {"year": years_of(n // 10), "province": province(n // 10),
                                                      "need": pick(Need.codes(), n // 10)}),
        "occurrences": table("occurrences", n // 10, {"year": years_of(n // 10), "province": province(n // 10),
                                                      "offence": pick(list(OFFENCES), n // 10),
                                                      "agency": [f"AGENCY-{i % 7}" for i in range(n // 10)]}),
    }


@pytest.fixture
def small_store(settings):
    """A two-year store of 600 synthetic situations written directly: seconds, where the database history
    (``built``) takes a minute on a busy machine.  Releases and pages read only the store and the release rows."""
    from harbour.stats import service, store

    return store.import_arrow(service.root(settings), synthetic_tables(600))
