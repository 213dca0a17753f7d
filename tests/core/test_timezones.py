"""Times in the console: stored in UTC, shown and typed in the user's time zone (else the deployment's),
daylight saving included; the choice is the user's own and is checked."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from harbour.core import timezones
from harbour.core.models import User
from harbour.core.web import parse_form
from harbour.hotline.models import Contact
from harbour.hotline.schemas import ContactCreate
from tests.conftest import PASSWORD, csrf_of

TORONTO = timezones.zone("America/Toronto", "UTC")


def test_conversion_follows_daylight_saving_and_saskatchewan_has_none():
    winter, summer = datetime(2026, 1, 15, 14, 30, tzinfo=UTC), datetime(2026, 7, 15, 14, 30, tzinfo=UTC)
    assert timezones.for_input(winter, TORONTO) == "2026-01-15T09:30"  # EST, UTC-5
    assert timezones.for_input(summer, TORONTO) == "2026-07-15T10:30"  # EDT, UTC-4
    regina = timezones.zone("America/Regina", "UTC")
    assert (timezones.for_input(winter, regina), timezones.for_input(summer, regina)) == (
        "2026-01-15T08:30", "2026-07-15T08:30")  # CST all year
    # SQLite hands back naive UTC values
    assert timezones.for_input(winter.replace(tzinfo=None), TORONTO) == "2026-01-15T09:30"
    assert datetime.fromisoformat(timezones.from_input("2026-01-15T09:30", TORONTO)) == winter
    assert timezones.zone("Not/AZone", "America/Vancouver").key == "America/Vancouver"
    assert timezones.zone(None, "nonsense").key == "UTC"


def test_a_form_time_is_read_in_the_page_zone():
    form = {"channel": "phone", "received_at": "2026-07-15T10:30"}
    data, errors = parse_form(ContactCreate, form, datetimes=("received_at",), tz=TORONTO)
    assert errors is None and data.received_at == datetime(2026, 7, 15, 14, 30, tzinfo=UTC)
    data, _ = parse_form(ContactCreate, form, datetimes=("received_at",))  # no zone given: UTC, as before
    assert data.received_at == datetime(2026, 7, 15, 10, 30, tzinfo=UTC)
    _, errors = parse_form(ContactCreate, {"channel": "phone", "received_at": "15/07/2026"},
                           datetimes=("received_at",), tz=TORONTO)
    assert "received_at" in errors


def test_an_advocate_types_and_reads_local_time_and_may_choose_another_zone(client, make_user, login, db):
    user = make_user("hotline_advocate")
    assert login(user).status_code == 303
    token = csrf_of(client, "/console/contacts/new")
    page = client.get("/console/contacts/new").text
    assert "Received (Eastern time" in page  # the deployment default, America/Toronto
    r = client.post("/console/contacts", data={"csrf_token": token, "channel": "phone",
                                               "received_at": "2026-01-15T09:30"}, follow_redirects=False)
    assert r.status_code == 303
    contact = db.execute(select(Contact)).scalar_one()
    stored = contact.received_at if contact.received_at.tzinfo else contact.received_at.replace(tzinfo=UTC)
    assert stored == datetime(2026, 1, 15, 14, 30, tzinfo=UTC)
    assert "Jan 15, 2026, 9:30\u202fa.m. EST" in client.get(f"/console/contacts/{contact.id}").text

    # the advocate works from Vancouver
    r = client.post("/account/time-zone", data={"csrf_token": token, "time_zone": "America/Vancouver"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "Jan 15, 2026, 6:30\u202fa.m. PST" in client.get(f"/console/contacts/{contact.id}").text
    assert 'value="2026-01-15T06:30"' in client.get(f"/console/contacts/{contact.id}/edit").text
    assert 'value="America/Vancouver" selected' in client.get("/account").text

    # a zone not on the list is refused, and the choice stands
    r = client.post("/account/time-zone", data={"csrf_token": token, "time_zone": "Mars/Olympus_Mons"})
    assert r.status_code == 422 and "Choose one of the listed time zones." in r.text
    db.expire_all()
    assert db.get(User, user.id).time_zone == "America/Vancouver"
    # without the CSRF token nothing changes
    assert client.post("/account/time-zone", data={"time_zone": "UTC"}).status_code == 403
    # back to the default
    client.post("/account/time-zone", data={"csrf_token": token, "time_zone": ""})
    db.expire_all()
    assert db.get(User, user.id).time_zone is None
    assert "Jan 15, 2026, 9:30\u202fa.m. EST" in client.get(f"/console/contacts/{contact.id}").text


def test_the_deployment_default_applies_to_users_without_a_choice(settings, make_user, db):
    from fastapi.testclient import TestClient

    from harbour.app import create_app

    app = create_app(settings.model_copy(update={"time_zone": "America/Halifax"}))
    user = make_user("hotline_advocate")
    with TestClient(app) as client:
        token = csrf_of(client, "/login")
        client.post("/login", data={"username": user.username, "password": PASSWORD,
                                    "csrf_token": token, "next": "/console"})
        token = csrf_of(client, "/console/contacts/new")
        client.post("/console/contacts", data={"csrf_token": token, "channel": "phone",
                                               "received_at": "2026-07-15T10:30"})
        contact = db.execute(select(Contact)).scalar_one()
        page = client.get(f"/console/contacts/{contact.id}").text
        assert "Jul 15, 2026, 10:30\u202fa.m. ADT" in page
        fr = client.post("/account/language", data={"csrf_token": token, "language": "fr"}, follow_redirects=True)
        assert "Par défaut dans Harbour\u00a0: Heure de l’Atlantique (Halifax)" in fr.text
    app.state.engine.dispose()


def test_timeline_times_are_kept_in_utc_and_read_in_the_viewers_zone():
    from harbour.core import i18n
    from harbour.hotline.models import CaseEvent
    from harbour.hotline.present import describe_event

    typed = datetime.fromisoformat(timezones.from_input("2026-11-25T10:00", TORONTO))  # -05:00
    assert timezones.utc_iso(typed) == "2026-11-25T15:00+00:00"
    ev = CaseEvent(kind="task_added", data={"task_kind": "follow_up_contact", "due": timezones.utc_iso(typed)})
    assert describe_event(ev, TORONTO).endswith("due Nov 25, 2026, 10:00\u202fa.m. EST")
    assert describe_event(ev).endswith("due Nov 25, 2026, 3:00\u202fp.m. UTC")
    older = CaseEvent(kind="consent_recorded", data={"purpose": "follow_up", "expires": "2026-07-01T16:00"})
    assert describe_event(older, TORONTO).endswith("until Jul 1, 2026, 12:00\u202fp.m. EDT")  # naive text from before: UTC
    token = i18n.set_language("fr")
    try:
        assert "échéance le 25 nov. 2026, 10 h 00 HNE" in describe_event(ev, TORONTO)
    finally:
        i18n.reset_language(token)


def test_a_misspelt_deployment_zone_stops_start_up_instead_of_showing_utc():
    import pytest
    from pydantic import ValidationError

    from harbour.core.config import Settings

    assert Settings(time_zone="America/Regina").time_zone == "America/Regina"
    for bad in ("America/Torronto", "", "../../etc/passwd"):
        with pytest.raises(ValidationError, match="unknown time zone"):
            Settings(time_zone=bad)
    with pytest.raises(ValidationError, match="unknown time zone"):
        Settings(chat_timezone="Eastern")
