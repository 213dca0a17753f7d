"""How the sharing console reads (issue 13, console polish): its own menu marks where you are, and the times
on disclosure and record pages are written for people (Babel, the page's language, the viewer's zone), never
as raw ISO text."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from tests.conftest import csrf_of
from tests.display import raw_times, visible_text
from tests.sharing.conftest import deliver_hit, make_agreement

from harbour.core import formats, timezones
from harbour.sharing import hits
from harbour.sharing.models import Person

TORONTO = timezones.zone("America/Toronto", "UTC")  # the deployment's default zone in tests
NAV = re.compile(r'<nav class="tabs subnav" aria-label="[^"]*">(.*?)</nav>', re.S)


def _approved_disclosure(db, world, level="full"):
    make_agreement(db, level="full")
    deliver_hit(db, world)
    spvm = world.actor(world.analyst["SPVM"])
    hit_id = hits.inbox(db, actor=spvm)[0].id
    req = hits.request_disclosure(db, actor=spvm, hit_id=hit_id, purpose="investigation", level=level,
                                  justification="Fictional joint file")
    hits.decide(db, actor=world.actor(world.steward["TPS"]), request_id=req.id, decision="approve", level=level)
    db.commit()
    return hit_id, req.id


def _current(html: str) -> list[tuple[str, str]]:
    nav = NAV.search(html)
    assert nav, "the page has no sub-menu"
    return re.findall(r'<a href="([^"]+)" aria-current="(page|true)"', nav.group(1))


def test_the_sharing_menu_is_tabs_and_marks_the_current_page(client, db, world, login):
    hit_id, req_id = _approved_disclosure(db, world)
    login(world.analyst["SPVM"])
    expected = {
        "/console/sharing": ("/console/sharing", "page"),
        "/console/sharing/hits": ("/console/sharing/hits", "page"),
        f"/console/sharing/hits/{hit_id}": ("/console/sharing/hits", "true"),
        "/console/sharing/requests": ("/console/sharing/requests", "page"),
        f"/console/sharing/requests/{req_id}": ("/console/sharing/requests", "true"),
        "/console/sharing/records": ("/console/sharing/records", "page"),
        "/console/sharing/records/person/S-1": ("/console/sharing/records", "true"),
        "/console/sharing/ingest": ("/console/sharing/ingest", "page"),
        "/console/sharing/pprl": ("/console/sharing/pprl", "page"),
        "/console/sharing/agreements": ("/console/sharing/agreements", "page"),
    }
    for path, marked in expected.items():
        page = client.get(path)
        assert page.status_code == 200, path
        assert 'class="inline-list"' not in page.text  # the old unstyled bulleted list
        assert _current(page.text) == [marked], path  # exactly one entry is marked, the right one


def test_the_administrators_sharing_menu_marks_the_current_page(client, db, world, login):
    make_agreement(db)
    login(world.admin)
    assert _current(client.get("/console/sharing").text) == [("/console/sharing", "page")]
    assert _current(client.get("/console/sharing/agencies").text) == [("/console/sharing/agencies", "page")]
    assert _current(client.get("/console/sharing/agencies/TPS").text) == [("/console/sharing/agencies", "true")]
    assert _current(client.get("/console/sharing/agreements/new").text) == [("/console/sharing/agreements", "true")]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_disclosure_and_record_pages_show_times_for_people(client, db, world, login, lang):
    _hit_id, req_id = _approved_disclosure(db, world)
    updated = db.execute(select(Person.updated_at).where(Person.record_id == "T-1")).scalar_one()
    login(world.analyst["SPVM"])
    token = csrf_of(client, "/console/sharing")
    client.post("/account/language", data={"csrf_token": token, "language": lang})

    page = client.get(f"/console/sharing/requests/{req_id}")
    assert page.status_code == 200
    assert raw_times(page.text) == [], "raw ISO times on the disclosure page"
    text = visible_text(page.text)
    assert formats.datetime_text(updated, TORONTO, lang) in text  # "Last updated" of the disclosed record
    assert formats.date_text("1990-04-12", lang) in text  # its date of birth (full disclosure)
    if lang == "fr":
        assert "12 avr. 1990" in text and re.search(r"\d{1,2} h \d{2} H[NA]E", text)
    else:
        assert "Apr 12, 1990" in text and re.search(r"\d{1,2}:\d{2}\u202f[ap]\.m\. E[SD]T", text)

    for path in ("/console/sharing/requests", "/console/sharing/hits", "/console/sharing/records",
                 "/console/sharing/records/person/S-1", "/console/sharing/agreements"):
        assert raw_times(client.get(path).text) == [], path


def test_dates_and_times_follow_the_page_language_and_zone():
    at = datetime(2026, 12, 7, 20, 10, 31, 712609, tzinfo=UTC)
    assert formats.datetime_text(at, TORONTO, "en") == "Dec 7, 2026, 3:10\u202fp.m. EST"
    assert formats.datetime_text(at, TORONTO, "fr") == "7 déc. 2026, 15 h 10 HNE"
    assert formats.datetime_text(at.isoformat(), TORONTO, "en") == "Dec 7, 2026, 3:10\u202fp.m. EST"  # ISO text too
    assert formats.datetime_text(at.replace(tzinfo=None), TORONTO, "en") == "Dec 7, 2026, 3:10\u202fp.m. EST"  # naive: UTC
    assert formats.date_text("2026-07-01", "fr") == "1 juill. 2026"
    assert formats.time_text(at, TORONTO, "fr") == "15 h 10"
    assert formats.datetime_text("not a time", TORONTO, "en") == "not a time"
    assert formats.datetime_text(None, TORONTO) == ""
    yukon = timezones.zone("America/Whitehorse", "UTC")
    assert formats.datetime_text(at, yukon, "en").endswith(" MST")  # never a bare offset
