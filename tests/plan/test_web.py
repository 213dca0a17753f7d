"""The public transparency page shows approved information only; the console serves coordinator and departments."""

from __future__ import annotations

import re

from sqlalchemy import select

from harbour.plan import importer
from harbour.plan.models import PlanProgressEntry
from tests.conftest import csrf_of
from tests.plan.conftest import ADMIN, CODE

MARK_WAITING = "Fictional-marker-waiting-7731"
MARK_APPROVED = "Fictional-marker-approved-4410"
MARK_RETURNED = "Fictional-marker-returned-9902"
DELAYED_BADGE = '<span class="badge risk-high">Delayed</span>'


def signed_in(client, login, user) -> str:
    assert login(user).status_code == 303
    return csrf_of(client, "/account")


def post_update(client, token, deliverable, narrative, action="submit", **extra):
    data = {"csrf_token": token, "fiscal_year": "2014-2015", "narrative_en": narrative, "action": action, **extra}
    return client.post(f"/console/plan/deliverables/{deliverable}/progress", data=data, follow_redirects=False)


def test_public_chart_lists_every_task_in_english_and_french(client, db):
    importer.import_file(db, actor=ADMIN, path=importer.DATA_DIR / "nap-2012-2016-annex-a-2013-2014.yaml")
    index = client.get("/plan")
    assert index.status_code == 200 and "National Action Plan to Combat Human Trafficking" in index.text
    page = client.get("/plan/NAP-2012-2016?fiscal_year=2013-2014")
    assert page.status_code == 200 and 'id="quick-exit"' in page.text
    tasks = set(re.findall(r'<th scope="rowgroup" colspan="5">(\d\.\d{2}) ', page.text))
    assert len(tasks) == 18 and {"1.11", "2.14", "3.16", "4.14"} <= tasks
    assert "Protection and Assistance for Victims" in page.text and 'class="badge' in page.text
    fr = client.get("/plan/NAP-2012-2016?fiscal_year=2013-2014&lang=fr")
    assert '<html lang="fr">' in fr.text and "Protection et aide aux victimes" in fr.text
    assert "Trousse" not in page.text and "Protection and Assistance for Victims" not in fr.text
    filtered = client.get("/plan/NAP-2012-2016?department=FINTRAC&lang=en")
    assert filtered.status_code == 200 and "laundering" in filtered.text and "Friendship Centres" not in filtered.text
    assert client.get("/plan/NO-SUCH-PLAN").status_code == 404
    assert client.get("/plan/NAP-2012-2016?fiscal_year=2013-2015").status_code == 422
    csv_ = client.get("/plan/NAP-2012-2016/chart.csv?fiscal_year=2013-2014")
    assert csv_.status_code == 200 and csv_.headers["content-type"].startswith("text/csv")
    assert csv_.text.count("\nNAP-2012-2016,") == 95


def test_public_page_shows_only_approved_information(client, db, world, login):
    token = signed_in(client, login, world.rcmp)
    assert post_update(client, token, world.d_rcmp, MARK_WAITING, proposed_status="complete").status_code == 303
    assert post_update(client, token, world.d_rcmp, MARK_APPROVED, proposed_status="delayed").status_code == 303
    assert post_update(client, token, world.d_rcmp, MARK_RETURNED).status_code == 303
    assert post_update(client, token, world.d_rcmp, "draft text", action="save").status_code == 303
    client.post("/logout", data={"csrf_token": token})

    def public() -> str:
        return client.get(f"/plan/{CODE}").text + client.get(f"/plan/{CODE}/chart.csv").text

    assert MARK_WAITING not in public() and MARK_APPROVED not in public() and DELAYED_BADGE not in public()
    token = signed_in(client, login, world.coordinator)
    queue = client.get("/console/plan/review")
    assert queue.status_code == 200
    ids = {e.narrative_en: e.id for e in db.execute(select(PlanProgressEntry)).scalars()}
    assert f"/console/plan/progress/{ids[MARK_APPROVED]}" in queue.text
    assert f"/console/plan/progress/{ids['draft text']}" not in queue.text
    r = client.post(f"/console/plan/progress/{ids[MARK_APPROVED]}/review",
                    data={"csrf_token": token, "decision": "approve"}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/console/plan/progress/{ids[MARK_RETURNED]}/review",
                    data={"csrf_token": token, "decision": "reject", "note": ""})
    assert r.status_code == 422 and "field-error" in r.text  # returning needs a note
    r = client.post(f"/console/plan/progress/{ids[MARK_RETURNED]}/review",
                    data={"csrf_token": token, "decision": "reject", "note": "Please add figures."},
                    follow_redirects=False)
    assert r.status_code == 303
    text = public()
    assert MARK_APPROVED in text and DELAYED_BADGE in text
    assert MARK_WAITING not in text and MARK_RETURNED not in text and "draft text" not in text
    assert "Fictional RCMP lead" not in text and "Please add figures." not in text  # no people, no notes


def test_console_for_department_leads(client, db, world, login):
    token = signed_in(client, login, world.rcmp)
    home = client.get("/console/plan")
    assert home.status_code == 200 and "Fictional RCMP toolkit" in home.text
    assert "Fictional CBSA poster" not in home.text and 'href="/console/plan"' in home.text
    page = client.get(f"/console/plan/deliverables/{world.d_rcmp}")
    assert page.status_code == 200 and 'name="narrative_en"' in page.text
    other = client.get(f"/console/plan/deliverables/{world.d_cbsa}")
    assert other.status_code == 200 and 'name="narrative_en"' not in other.text  # may read, may not write
    r = post_update(client, token, world.d_cbsa, "Not my department")
    assert r.status_code == 403
    r = post_update(client, token, world.d_rcmp, "", evidence_links="not a link")
    assert r.status_code == 422 and "field-error" in r.text
    r = post_update(client, token, world.d_rcmp, "")
    assert r.status_code == 422 and "Write the update in English or French." in r.text
    r = post_update(client, token, world.d_rcmp, "A fictional draft", action="save")
    assert r.status_code == 303
    entry = db.execute(select(PlanProgressEntry)).scalar_one()
    assert entry.state == "draft" and entry.department_code == "RCMP"
    r = client.post(f"/console/plan/progress/{entry.id}", data={
        "csrf_token": token, "fiscal_year": "2014-2015", "narrative_en": "A fictional update, finished",
        "evidence_links": "https://example.org/fictional-report", "action": "submit"}, follow_redirects=False)
    assert r.status_code == 303
    db.refresh(entry)
    assert entry.state == "submitted" and entry.evidence_links == ["https://example.org/fictional-report"]
    assert client.post(f"/console/plan/progress/{entry.id}/review",
                       data={"csrf_token": token, "decision": "approve"}).status_code == 403
    assert client.get("/console/plan/flags").status_code == 200
    # the CBSA lead cannot open RCMP's update while it waits for review
    client.post("/logout", data={"csrf_token": token})
    signed_in(client, login, world.cbsa)
    assert client.get(f"/console/plan/progress/{entry.id}").status_code == 404


def test_console_refuses_people_outside_the_plan(client, world, login, make_user):
    assert client.get("/console/plan", follow_redirects=False).status_code == 303  # to sign-in
    signed_in(client, login, make_user("hotline_advocate"))
    assert client.get("/console/plan").status_code == 403
    assert client.get("/console/plan/review").status_code == 403


def test_coordinator_console_pages(client, world, login):
    signed_in(client, login, world.coordinator)
    home = client.get("/console/plan")
    assert home.status_code == 200 and "Updates waiting for review" in home.text
    flags = client.get(f"/console/plan/flags?strategy={CODE}&fiscal_year=2015-2016")
    assert flags.status_code == 200 and "Fictional overdue fund" in flags.text and 'class="overdue"' in flags.text
    assert "Fictional finished guide" not in flags.text
    assert client.get("/console/plan/flags?fiscal_year=2015").status_code == 422
    fr = client.get(f"/console/plan/deliverables/{world.d_rcmp}?lang=fr")
    assert fr.status_code == 200 and "Trousse fictive de la GRC" in fr.text
    assert client.get("/console/plan?lang=fr").status_code == 200
