"""The disclosure request form (issue 13) offers only the purposes and levels the agreements in force allow
(the sharing service answers; the rule stays in :mod:`harbour.sharing.access`), and a refused request
re-renders the form with what was typed and a clear message (4xx), never a dead-end error page.  The same
for the data steward's decision.  Fictional agencies and people only."""

from __future__ import annotations

import re

from sqlalchemy import func, select
from tests.conftest import csrf_of
from tests.sharing.conftest import deliver_hit, make_agreement

from harbour.sharing import hits
from harbour.sharing.models import DisclosureRequest

WHY = "Fictional joint file 42: the same person in two investigations"


def _hit(db, world) -> int:
    deliver_hit(db, world)
    return hits.inbox(db, actor=world.actor(world.analyst["SPVM"]))[0].id


def _options(html: str, name: str) -> list[str]:
    select_html = re.search(rf'<select id="f-{name}" name="{name}".*?</select>', html, re.S).group(0)
    return re.findall(r'<option value="([^"]*)"', select_html)


def _selected(html: str, name: str) -> str | None:
    select_html = re.search(rf'<select id="f-{name}" name="{name}".*?</select>', html, re.S).group(0)
    found = re.search(r'<option value="([^"]*)" selected', select_html)
    return found.group(1) if found else None


def _two_agreements(db):
    make_agreement(db, reference="MOU-SUMMARY", purposes=("investigation",), level="summary")
    make_agreement(db, reference="MOU-HIT", purposes=("victim_protection",), level="hit")


def test_the_service_says_which_purposes_and_levels_a_request_may_ask(db, world):
    _two_agreements(db)
    hit_id = _hit(db, world)
    spvm = world.actor(world.analyst["SPVM"])
    # hit/no-hit only for victim protection: nothing more to ask for that purpose
    assert hits.request_choices(db, actor=spvm, hit_id=hit_id) == {"investigation": "summary"}
    make_agreement(db, reference="MOU-FULL", purposes=("prosecution", "investigation"), level="full")
    assert hits.request_choices(db, actor=spvm, hit_id=hit_id) == {"investigation": "full", "prosecution": "full"}


def test_the_form_offers_only_what_the_agreement_allows(client, db, world, login):
    _two_agreements(db)
    hit_id = _hit(db, world)
    login(world.analyst["SPVM"])
    page = client.get(f"/console/sharing/hits/{hit_id}").text
    assert _options(page, "purpose") == ["investigation"]
    assert _options(page, "level") == ["summary"]


def test_a_hit_with_nothing_more_to_ask_says_so(client, db, world, login):
    make_agreement(db, reference="MOU-HIT", purposes=("investigation",), level="hit")
    hit_id = _hit(db, world)
    login(world.analyst["SPVM"])
    page = client.get(f"/console/sharing/hits/{hit_id}").text
    assert f"/console/sharing/hits/{hit_id}/request" not in page
    assert "allow only hit/no-hit" in page


def test_a_refused_request_keeps_what_was_typed(client, db, world, login):
    _two_agreements(db)
    hit_id = _hit(db, world)
    login(world.analyst["SPVM"])
    token = csrf_of(client, f"/console/sharing/hits/{hit_id}")
    url = f"/console/sharing/hits/{hit_id}/request"

    # a purpose no agreement lists (a forged or stale form)
    r = client.post(url, data={"csrf_token": token, "purpose": "prosecution", "level": "summary",
                               "justification": WHY})
    assert r.status_code == 403
    assert f'action="{url}"' in r.text and WHY in r.text  # the form again, with what was typed
    assert "No data-sharing agreement in force allows this access for that purpose." in r.text
    assert 'role="alert"' in r.text

    # more than the agreement allows for that purpose
    r = client.post(url, data={"csrf_token": token, "purpose": "investigation", "level": "full", "justification": WHY})
    assert r.status_code == 403 and f'action="{url}"' in r.text and WHY in r.text
    assert "does not allow this much disclosure" in r.text
    assert _selected(r.text, "purpose") == "investigation"

    # a missing justification: field error, purpose kept
    r = client.post(url, data={"csrf_token": token, "purpose": "investigation", "level": "summary",
                               "justification": ""})
    assert r.status_code == 422 and "field-error" in r.text and _selected(r.text, "purpose") == "investigation"
    assert db.execute(select(func.count(DisclosureRequest.id))).scalar_one() == 0

    # what the agreement allows goes through, and says so once
    r = client.post(url, data={"csrf_token": token, "purpose": "investigation", "level": "summary",
                               "justification": WHY}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "Disclosure request sent." in page
    assert "Disclosure request sent." not in client.get(r.headers["location"]).text

    # a second request while one waits: the page again with the reason, not an error page
    r = client.post(url, data={"csrf_token": token, "purpose": "investigation", "level": "summary",
                               "justification": WHY + " (again)"})
    assert r.status_code == 409 and "already waiting for the data steward" in r.text
    assert WHY + " (again)" in r.text
    assert db.execute(select(func.count(DisclosureRequest.id))).scalar_one() == 1


def test_the_steward_is_offered_no_more_than_was_asked_and_allowed(client, db, world, login):
    make_agreement(db, reference="MOU-FULL", purposes=("investigation",), level="full")
    hit_id = _hit(db, world)
    req = hits.request_disclosure(db, actor=world.actor(world.analyst["SPVM"]), hit_id=hit_id,
                                  purpose="investigation", level="summary", justification=WHY)
    db.commit()
    login(world.steward["TPS"])
    url = f"/console/sharing/requests/{req.id}"
    page = client.get(url).text
    assert _options(page, "level") == ["summary"]  # asked for a summary: a full record is not on offer
    token = csrf_of(client, url)
    r = client.post(url + "/decision", data={"csrf_token": token, "decision": "approve", "level": "full",
                                             "note": "Fictional note to keep"})
    assert r.status_code == 422 and f'action="{url}/decision"' in r.text and "Fictional note to keep" in r.text
    assert "never more" in r.text
    r = client.post(url + "/decision", data={"csrf_token": token, "decision": "approve", "level": "summary",
                                             "note": "Call the desk."}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(r.headers["location"]).text
    assert "Decision recorded: approved." in page
    assert "Decision recorded" not in client.get(r.headers["location"]).text
