"""Directory console: search page (full page and htmx), case prefill and referral form, detail pages, vetting."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from harbour.directory import service as directory
from harbour.hotline import service as hotline
from harbour.hotline.schemas import CaseCreate, ContactCreate
from tests.conftest import actor_of, csrf_of
from tests.directory.search_data import TODAY, build, supervisor_actor

PAGE = "/console/directory"


@pytest.fixture
def world(db, make_user):
    actor = supervisor_actor(make_user)
    return actor, build(db, actor)


def _h1_count(html: str) -> int:
    return len(re.findall(r"<h1[ >]", html))


def test_search_page_renders_results(client, world, make_user, login):
    login(make_user("hotline_advocate"))
    empty = client.get(PAGE)
    assert empty.status_code == 200 and _h1_count(empty.text) == 1
    assert 'name="needs" value="emergency_shelter"' in empty.text and "Why suggested" not in empty.text
    assert '<label for="f-place">' in empty.text  # labelled inputs
    r = client.get(PAGE, params={"needs": "emergency_shelter", "place": "Thunder Bay", "language": "fr"})
    assert r.status_code == 200 and _h1_count(r.text) == 1
    html = r.text
    assert "Within 100 km of Thunder Bay, Ontario" in html
    assert html.index("Hébergement d&#39;urgence fictif") < html.index("Sample overnight beds")
    assert "Serves in French" in html and "Why suggested" in html and "Open 24/7" in html
    assert "3 beds available (of 10)" in html
    assert "Pending beds" not in html and "Expired beds" not in html
    assert 'name="service_ids"' not in html  # no case: nothing to refer
    # htmx asks for the results only
    part = client.get(PAGE, params={"needs": "emergency_shelter", "place": "Thunder Bay"},
                      headers={"HX-Request": "true", "HX-Target": "results"})
    assert part.status_code == 200 and "<html" not in part.text and "Sample overnight beds" in part.text


def test_search_page_errors_and_ambiguity(client, world, make_user, login):
    login(make_user("hotline_supervisor"))
    r = client.get(PAGE, params={"needs": "emergency_shelter", "place": "Atlantis Falls"})
    assert r.status_code == 422 and "not a Canadian city or town we know" in r.text
    assert 'aria-invalid="true"' in r.text
    r = client.get(PAGE, params={"place": "Toronto"})
    assert r.status_code == 422 and 'id="needs-error"' in r.text
    r = client.get(PAGE, params={"needs": "emergency_shelter", "place": "Toronto", "radius_km": "99999"})
    assert r.status_code == 422
    r = client.get(PAGE, params={"needs": "legal_aid", "place": "Richmond"})
    assert r.status_code == 200 and "Other places with this name" in r.text
    assert "place=Richmond&amp;province=QC" in r.text
    assert "recorded as an unmet need" in r.text
    assert 'href="/console/directory/vetting"' in r.text  # supervisors get the vetting link


def test_case_prefill_and_referral_form(client, db, world, make_user, login):
    advocate = make_user("hotline_advocate")
    contact, _ = hotline.create_contact(db, actor=actor_of(advocate), data=ContactCreate(channel="web_chat",
                                                                                          language="fr"))
    case = hotline.open_case(db, actor=actor_of(advocate), data=CaseCreate(
        needs=["emergency_shelter", "counselling"], province="ON", city="Thunder Bay", contact_ids=[contact.id]))
    db.commit()
    login(advocate)
    r = client.get(PAGE, params={"case_id": case.id})
    assert r.status_code == 200, r.text
    html = r.text
    assert case.reference in html
    assert 'name="needs" value="emergency_shelter" checked' in html and 'value="counselling" checked' in html
    assert 'value="Thunder Bay"' in html and '<option value="fr" selected>' in html
    assert f'<form method="get" action="/console/cases/{case.id}/referrals/new">' in html
    assert 'name="service_ids"' in html and "Refer to selected services" in html
    assert f'name="case_id" value="{case.id}"' in html  # kept on every refresh of the search
    # refining keeps the case: the htmx refresh still offers the referral form
    part = client.get(PAGE, params={"case_id": case.id, "needs": "counselling", "place": "Thunder Bay"},
                      headers={"HX-Request": "true", "HX-Target": "results"})
    assert part.status_code == 200 and f"/console/cases/{case.id}/referrals/new" in part.text
    assert client.get(PAGE, params={"case_id": 999999}).status_code == 404


def test_who_may_search(client, db, world, make_user, login):
    _actor, orgs = world
    staff = make_user("provider_staff")
    directory.link_staff(db, actor=_actor, user_id=staff.id, organization_id=orgs["tb_en"].id)
    login(staff)
    assert client.get(PAGE).status_code == 403
    assert client.get(PAGE, params={"needs": "emergency_shelter", "place": "Thunder Bay"}).status_code == 403
    client.cookies.clear()
    login(make_user("researcher"))
    assert client.get(PAGE).status_code == 403
    client.cookies.clear()
    login(make_user("admin"))
    assert client.get(PAGE, params={"needs": "emergency_shelter", "place": "Thunder Bay"}).status_code == 200
    client.cookies.clear()
    assert client.get(PAGE, follow_redirects=False).status_code == 303  # signed out: to the sign-in page


def test_detail_pages_and_confidential_address(client, db, world, make_user, login):
    actor, orgs = world
    svc = orgs["tb_fr"].services[0]
    login(make_user("hotline_advocate"))
    r = client.get(f"{PAGE}/services/{svc.id}")
    assert r.status_code == 200 and _h1_count(r.text) == 1
    assert "1 Fictional Street" in r.text and "never share this address" in r.text
    assert "Open 24/7" in r.text and "Two-Spirit, trans and non-binary people" in r.text
    r = client.get(f"{PAGE}/organizations/{orgs['tb_fr'].id}")
    assert r.status_code == 200 and "Hébergement d&#39;urgence fictif" in r.text
    assert "Update vetting" not in r.text  # advocates do not decide vetting
    assert client.get(f"{PAGE}/services/unknown-id").status_code == 404
    # provider staff: their own organisation with its address, nobody else's
    client.cookies.clear()
    own = make_user("provider_staff")
    directory.link_staff(db, actor=actor, user_id=own.id, organization_id=orgs["tb_fr"].id)
    login(own)
    assert "1 Fictional Street" in client.get(f"{PAGE}/organizations/{orgs['tb_fr'].id}").text
    client.cookies.clear()
    other = make_user("provider_staff")
    directory.link_staff(db, actor=actor, user_id=other.id, organization_id=orgs["tb_en"].id)
    login(other)
    r = client.get(f"{PAGE}/organizations/{orgs['tb_fr'].id}")
    assert r.status_code == 404 and "Fictional Street" not in r.text
    assert client.get(f"{PAGE}/services/{svc.id}").status_code == 404


def test_vetting_page_permissions_and_form(client, db, world, make_user, login):
    _actor, orgs = world
    login(make_user("hotline_advocate"))
    assert client.get(f"{PAGE}/vetting").status_code == 403
    client.cookies.clear()
    login(make_user("hotline_supervisor"))
    r = client.get(f"{PAGE}/vetting")
    assert r.status_code == 200 and _h1_count(r.text) == 1
    assert "Expired Example Shelter" in r.text and "Pending Example Shelter" in r.text
    token = csrf_of(client, f"{PAGE}/vetting")
    path = f"{PAGE}/organizations/{orgs['unvetted'].id}/vetting"
    form = {"status": "vetted", "vetted_by": "Test supervisor (fictional)", "vetted_on": TODAY.isoformat(),
            "expires_on": (TODAY + timedelta(days=365)).isoformat()}
    assert client.post(path, data=form).status_code == 403  # no CSRF token
    bad = client.post(path, data={**form, "expires_on": "", "csrf_token": token})
    assert bad.status_code == 422 and "vetting date and an expiry date" in bad.text
    r = client.post(path, data={**form, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"{PAGE}/vetting"
    assert "Vetting saved." in client.get(r.headers["location"]).text
    assert "Vetting saved." not in client.get(r.headers["location"]).text  # once
    assert "Pending beds" in client.get(PAGE, params={"needs": "emergency_shelter", "place": "Thunder Bay"}).text
    # from the organisation page, back to it
    r = client.post(f"{PAGE}/organizations/{orgs['tb_en'].id}/vetting",
                    data={"status": "suspended", "back": "org", "csrf_token": token}, follow_redirects=False)
    assert r.headers["location"].startswith(f"{PAGE}/organizations/{orgs['tb_en'].id}")
    client.cookies.clear()
    login(make_user("admin"))
    assert client.get(f"{PAGE}/vetting").status_code == 200
