"""Dashboard numbers equal independent queries over the store; demo history is synthetic and code-only."""

from __future__ import annotations

from sqlalchemy import select

from harbour.hotline.models import Case, Contact
from harbour.stats import dashboards, store
from harbour.stats.choices import REGION_MEMBERS


def test_every_filter_matches_a_direct_count(settings, built):
    u = dashboards.universe(settings.stats_dir)
    con = store.connect(settings.stats_dir)
    for year in u.years + ["*"]:
        for geo in ["*", "ON", "QC", "PRA", "TER", "unknown"]:
            exact = dashboards.view(u, year=year, geo=geo, public=False)["tables"]
            where = [] if year == "*" else [f"yearOfRegistration = {int(year)}"]
            if geo in REGION_MEMBERS:
                where.append("province IN (" + ", ".join(f"'{p}'" for p in REGION_MEMBERS[geo]) + ")")
            elif geo != "*":
                where.append(f"province = '{geo}'")
            w = (" WHERE " + " AND ".join(where)) if where else ""
            assert exact["situations"]["total"] == con.execute(f"SELECT count(*) FROM situations{w}").fetchone()[0]
            woman = con.execute(f"SELECT count(*) FROM situations{w}{' AND' if w else ' WHERE'} gender = 'woman'")
            assert dict(exact["gender"]["rows"])["woman"] == woman.fetchone()[0]
            debt = con.execute(f"SELECT count(*) FROM situations{w}{' AND' if w else ' WHERE'} "
                               "meansOfControlDebtBondage").fetchone()[0]
            assert dict(exact["control"]["rows"])["meansOfControlDebtBondage"] == debt
            assert sum(n for _c, n in exact["age"]["rows"]) == exact["situations"]["total"]  # adds up


def test_public_view_never_shows_small_counts(settings, built):
    u = dashboards.universe(settings.stats_dir)
    for year in u.years + ["*"]:
        for geo in ["*", "ATL", "NU", "BC"]:
            view = dashboards.view(u, year=year, geo=geo, public=True)
            for t in view["tables"].values():
                numbers = [t["total"]] + [n for _c, n in t["rows"]] + [n for _y, n in t["by_year"] + t["by_geo"]]
                assert not [n for n in numbers if n is not None and 1 <= n <= 9]


def test_demo_history_is_synthetic_and_code_only(db, history):
    cases = db.execute(select(Case).where(Case.reference.like("HIST-%"))).scalars().all()
    assert len(cases) == history["history cases"] == 300
    assert all(c.survivor_alias is None and c.notes is None for c in cases)
    contacts = db.execute(select(Contact).where(Contact.reference.like("H%-%"))).scalars().all()
    assert contacts and all(c.caller_name is None and c.caller_phone is None and c.caller_email is None
                            and c.summary is None for c in contacts)
