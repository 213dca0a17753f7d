"""Plan console confirmations (issue 13): a department lead saving or submitting an update, and the coordinator
approving or returning it, each see one confirmation on the next page, and not on the page after."""

from __future__ import annotations

from sqlalchemy import select

from harbour.plan.models import PlanProgressEntry
from tests.core.test_flash import shown
from tests.plan.test_web import post_update, signed_in


def test_leads_and_the_coordinator_are_told_what_happened(client, db, world, login):
    token = signed_in(client, login, world.rcmp)
    r = post_update(client, token, world.d_rcmp, "Fictional draft", action="save")
    page = client.get(r.headers["location"]).text
    assert shown(page) == "Update saved as a draft."
    assert shown(client.get(r.headers["location"]).text) == ""
    for narrative in ("Fictional update to approve", "Fictional update to return"):
        r = post_update(client, token, world.d_rcmp, narrative)
        assert shown(client.get(r.headers["location"]).text) == "Update submitted for review."
    client.post("/logout", data={"csrf_token": token})

    token = signed_in(client, login, world.coordinator)
    ids = {e.narrative_en: e.id for e in db.execute(select(PlanProgressEntry)).scalars()}
    r = client.post(f"/console/plan/progress/{ids['Fictional update to approve']}/review",
                    data={"csrf_token": token, "decision": "approve"}, follow_redirects=True)
    assert r.url.path == "/console/plan/review" and shown(r.text) == "Update approved and published."
    assert shown(client.get("/console/plan/review").text) == ""
    r = client.post(f"/console/plan/progress/{ids['Fictional update to return']}/review",
                    data={"csrf_token": token, "decision": "reject", "note": "Fictional: please add figures."},
                    follow_redirects=True)
    assert shown(r.text) == "Update returned to the department."
    assert "please add figures" not in shown(r.text)  # the note is not repeated in the confirmation
    client.get("/account?lang=fr")
    r = client.post(f"/console/plan/progress/{ids['Fictional draft']}/review",
                    data={"csrf_token": token, "decision": "approve"})
    assert r.status_code >= 400 and shown(r.text) == ""  # a draft cannot be reviewed: no confirmation
