"""Statistics API and pages: public numbers for everyone, exact numbers only for analysts, researchers and
administrators, releases and the budget likewise; bad filters get a clear 4xx, never a 500."""

from __future__ import annotations

import pytest

from harbour.stats import service
from tests.conftest import csrf_of
from tests.stats.conftest import ADMIN

STATS = ("stats:read",)


def _counts(body: dict) -> list[int]:
    out = []
    for t in body["tables"]:
        out += [t["total"]] + [r["count"] for r in t["rows"]] + [p["count"] for p in t["by_year"] + t["by_geo"]]
    return [n for n in out if n is not None]


def test_public_dashboard_numbers_are_disclosure_controlled(client, built, make_user, token_for):
    headers = token_for(make_user("hotline_advocate"), STATS)
    r = client.get("/api/v1/stats/dashboard", headers=headers)
    assert r.status_code == 200
    body = r.json()
    assert body["audience"] == "public" and body["years"]
    counts = _counts(body)
    assert counts and not [n for n in counts if 1 <= n <= 9]
    assert any(row["count"] is None for t in body["tables"] for row in t["rows"])  # some cells withheld
    r = client.get("/api/v1/stats/dashboard?year=" + body["years"][-1] + "&province=PRA&lang=fr", headers=headers)
    assert r.status_code == 200 and r.json()["province"] == "PRA"


@pytest.mark.parametrize("role, status", [("researcher", 200), ("agency_analyst", 200), ("admin", 200),
                                          ("hotline_advocate", 403), ("provider_staff", 403),
                                          ("plan_coordinator", 403)])
def test_exact_numbers_only_for_analysts(client, built, make_user, token_for, role, status):
    r = client.get("/api/v1/stats/dashboard?audience=internal", headers=token_for(make_user(role), STATS))
    assert r.status_code == status
    if status == 200:
        assert any(1 <= n <= 9 for n in _counts(r.json()))  # exact: small counts are there


def test_token_without_the_scope_is_refused(client, built, make_user, token_for):
    r = client.get("/api/v1/stats/dashboard", headers=token_for(make_user("researcher"), ("plan:read",)))
    assert r.status_code == 403
    assert client.get("/api/v1/stats/dashboard").status_code == 401


@pytest.mark.parametrize("query, field", [("year=1999", "year"), ("year=abcd", "year"), ("province=ZZ", "province"),
                                          ("audience=everyone", "audience"), ("year=20255", None),
                                          ("province=ONTARIO12", None)])
def test_bad_filters_are_4xx_json(client, built, make_user, token_for, query, field):
    r = client.get(f"/api/v1/stats/dashboard?{query}", headers=token_for(make_user("researcher"), STATS))
    assert r.status_code == 422
    error = r.json()["error"]
    if field:
        assert field in [f["field"] for f in error.get("fields", [])]
    assert "1999" not in error["message"] and "ZZ" not in error["message"]


def test_releases_and_budget_for_analysts_only(client, db, settings, built, make_user, token_for, tmp_path):
    rel = service.publish_release(db, settings, actor=ADMIN, out_dir=tmp_path / "r", mode="suppress")
    researcher = token_for(make_user("researcher"), STATS)
    advocate = token_for(make_user("hotline_advocate"), STATS)
    r = client.get("/api/v1/stats/releases", headers=researcher)
    assert r.status_code == 200 and [x["reference"] for x in r.json()] == [rel.reference]
    assert client.get(f"/api/v1/stats/releases/{rel.id}", headers=researcher).json()["mode"] == "suppress"
    assert client.get("/api/v1/stats/releases/999999", headers=researcher).status_code == 404
    assert client.get("/api/v1/stats/releases", headers=advocate).status_code == 403
    budget = client.get("/api/v1/stats/budget", headers=researcher)
    assert budget.status_code == 200 and all(row["remaining"] == 2.0 for row in budget.json())
    assert client.get("/api/v1/stats/budget", headers=advocate).status_code == 403
    assert client.get("/api/v1/stats/standard", headers=advocate).json()["schema"] == "harbour-stats/1"


@pytest.mark.slow
def test_public_pages_in_both_languages(client, built):
    page = client.get("/statistics")
    assert page.status_code == 200 and "data:image/svg+xml;base64," in page.text and 'id="quick-exit"' in page.text
    assert "<script" not in page.text.split("</header>")[1]  # charts are images, no inline script
    fr = client.get("/statistics?lang=fr")
    assert fr.status_code == 200 and 'lang="fr"' in fr.text
    assert client.get("/statistics?province=PRA").status_code == 200
    assert client.get("/statistics?province=ZZ").status_code == 422
    assert client.get("/statistics?year=1888").status_code == 422
    std = client.get("/statistics/standard")
    listed = std.text.replace("<wbr>", "")  # long identifiers may wrap between their words
    assert std.status_code == 200 and "meansOfControlDebtBondage" in listed and "ageBroad" in listed
    assert "means<wbr>Of<wbr>Control<wbr>Debt<wbr>Bondage" in std.text
    svg = client.get("/statistics/charts/gender.svg")
    assert svg.status_code == 200 and svg.text.lstrip().startswith("<svg")
    png = client.get("/statistics/charts/by_geo.png?province=ATL")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"
    assert client.get("/statistics/charts/nothing.svg").status_code == 404
    assert client.get("/statistics/charts/gender.exe").status_code == 404


def test_internal_page_boundaries(client, built, make_user, login):
    assert client.get("/console/statistics", follow_redirects=False).status_code in (302, 303)
    login(make_user("hotline_advocate"))
    assert client.get("/console/statistics").status_code == 403
    client.cookies.clear()
    researcher = make_user("researcher")
    login(researcher)
    page = client.get("/console/statistics")
    assert page.status_code == 200 and "Refresh the statistics store" not in page.text
    token = csrf_of(client, "/console/statistics")
    assert client.post("/console/statistics/rebuild", data={"csrf_token": token}).status_code == 403


def test_admin_can_refresh_the_store_from_the_console(client, built, make_user, login):
    login(make_user("admin"))
    page = client.get("/console/statistics")
    assert page.status_code == 200 and "Refresh the statistics store" in page.text
    token = csrf_of(client, "/console/statistics")
    r = client.post("/console/statistics/rebuild", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
