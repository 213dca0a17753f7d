"""Referring at 2 a.m. (issue 13): outside usual opening hours, in the page's time zone (the user's, else the
deployment's), the directory search starts with "Open after hours" ticked.  A fixed clock: the views read the
time through ``harbour.directory.views.utcnow``, which the tests replace."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from harbour.directory import search
from harbour.directory import views as directory_views
from harbour.hotline import service as hotline
from harbour.hotline.schemas import CaseCreate
from tests.conftest import actor_of
from tests.directory.search_data import build, supervisor_actor

PAGE = "/console/directory"
TORONTO = ZoneInfo("America/Toronto")
AFTER_HOURS_BOX = re.compile(r'<input type="checkbox" name="after_hours" value="on"( checked)?>')

MONDAY_2AM = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)        # 02:00 EST
MONDAY_NOON = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)      # 12:00 EST
MONDAY_7PM = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)        # 19:00 EST
SATURDAY_NOON = datetime(2026, 11, 28, 17, 0, tzinfo=UTC)    # 12:00 EST
MONDAY_EVENING = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)  # 18:30 in Toronto, 15:30 in Vancouver


@pytest.mark.parametrize("now, outside", [
    (MONDAY_2AM, True), (MONDAY_NOON, False), (MONDAY_7PM, True), (SATURDAY_NOON, True),
    (datetime(2026, 11, 23, 12, 59, tzinfo=UTC), True),   # 07:59 EST
    (datetime(2026, 11, 23, 13, 0, tzinfo=UTC), False),   # 08:00 EST
    (datetime(2026, 11, 23, 22, 59, tzinfo=UTC), False),  # 17:59 EST
    (datetime(2026, 11, 23, 23, 0, tzinfo=UTC), True),    # 18:00 EST
])
def test_outside_usual_hours(now, outside):
    assert search.outside_usual_hours(now, TORONTO) is outside


@pytest.fixture
def world(db, make_user):
    actor = supervisor_actor(make_user)
    return actor, build(db, actor)


def _at(monkeypatch, when: datetime) -> None:
    monkeypatch.setattr(directory_views, "utcnow", lambda: when)


def _ticked(html: str) -> bool:
    match = AFTER_HOURS_BOX.search(html)
    assert match, "no after-hours checkbox"
    return bool(match.group(1))


def test_the_empty_search_page_ticks_after_hours_at_night(client, world, make_user, login, monkeypatch):
    login(make_user("hotline_advocate"))
    _at(monkeypatch, MONDAY_2AM)
    assert _ticked(client.get(PAGE).text)
    _at(monkeypatch, SATURDAY_NOON)
    assert _ticked(client.get(PAGE).text)
    _at(monkeypatch, MONDAY_NOON)
    assert not _ticked(client.get(PAGE).text)


def test_a_search_the_advocate_unticked_stays_unticked(client, world, make_user, login, monkeypatch):
    login(make_user("hotline_advocate"))
    _at(monkeypatch, MONDAY_2AM)
    r = client.get(PAGE, params={"needs": "counselling", "place": "Thunder Bay"})
    assert r.status_code == 200 and not _ticked(r.text)
    r = client.get(PAGE, params={"needs": "counselling", "place": "Thunder Bay", "after_hours": "on"})
    assert _ticked(r.text)


def test_referring_from_a_case_at_2am(client, db, world, make_user, login, monkeypatch):
    advocate = make_user("hotline_advocate")
    case = hotline.open_case(db, actor=actor_of(advocate), data=CaseCreate(
        needs=["counselling"], province="MB", city="Winnipeg"))
    login(advocate)
    _at(monkeypatch, MONDAY_2AM)
    night = client.get(PAGE, params={"case_id": case.id})
    assert night.status_code == 200 and _ticked(night.text)
    # the search ran with the filter: office-hours counselling (weekdays 9-5) is not suggested, 24/7 help is
    assert "Virtual counselling (test)" in night.text and "Trauma counselling (test)" not in night.text
    _at(monkeypatch, MONDAY_NOON)
    day = client.get(PAGE, params={"case_id": case.id})
    assert day.status_code == 200 and not _ticked(day.text)
    assert "Trauma counselling (test)" in day.text


def test_the_users_own_time_zone_decides(client, db, world, make_user, login, monkeypatch):
    from harbour.core.security import set_time_zone

    _at(monkeypatch, MONDAY_EVENING)
    login(make_user("hotline_advocate"))  # the deployment's zone, Toronto: 18:30, after hours
    assert _ticked(client.get(PAGE).text)
    client.cookies.clear()
    advocate = make_user("hotline_advocate")
    set_time_zone(db, user=advocate, time_zone="America/Vancouver")
    db.commit()
    login(advocate)  # 15:30 where this advocate works: usual hours
    assert not _ticked(client.get(PAGE).text)
