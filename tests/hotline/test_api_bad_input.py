"""Bad input to the hotline API never gives a 500, never echoes what was sent, and changes nothing.

Every refusal is a 4xx with ``{"error": {"code", "message", ...}}``; the database (hotline tables and
the audit chain) is compared row by row before and after.  Unknown ids answer exactly like records
the caller may not see, so the API does not reveal which ids exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import text

API = "/api/v1/hotline"
FAKE_NAME = "Fictional Person"
FAKE_PHONE = "613-555-0188"
SECRETS = (FAKE_NAME, "555-0188", "5550188")
BASE = {"channel": "phone", "caller_name": FAKE_NAME, "caller_phone": FAKE_PHONE}
HUGE = 2**40

TABLES = ("hotline_contact", "hotline_case", "hotline_consent", "hotline_consent_override", "hotline_task",
          "hotline_safety_plan", "hotline_escalation", "hotline_case_event", "audit_log", "audit_head",
          "user_account")


def iso(dt: datetime) -> str:
    return dt.isoformat()


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch):
    """Argon2 with minimal cost: users are created in every test; sign-in itself is not tested here."""
    from argon2 import PasswordHasher

    from harbour.core import security

    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@pytest.fixture
def raw(app):
    """A client that returns 500s as responses instead of raising, so the tests can assert on them."""
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


@dataclass
class World:
    h: dict
    sup_h: dict
    out_h: dict
    case: int
    contact: int
    task: int
    consent: int
    override: int


@pytest.fixture
def world(raw, make_user, token_for) -> World:
    adv, sup, outsider = make_user("hotline_advocate"), make_user("hotline_supervisor"), make_user("researcher")
    h = token_for(adv)
    case = raw.post(f"{API}/cases", json={}, headers=h).json()["id"]
    contact = raw.post(f"{API}/contacts", json={**BASE, "case_id": case}, headers=h).json()["id"]
    task = raw.post(f"{API}/cases/{case}/tasks", json={"title": "Call back", "due_at": iso(now())},
                    headers=h).json()["id"]
    consent = raw.post(f"{API}/cases/{case}/consents", json={"purpose": "referral", "method": "verbal"},
                       headers=h).json()["id"]
    override = raw.post(f"{API}/cases/{case}/overrides",
                        json={"purpose": "law_enforcement", "reason": "Caller reports immediate danger"},
                        headers=h).json()["id"]
    return World(h, token_for(sup), token_for(outsider), case, contact, task, consent, override)


def snapshot(app) -> dict:
    with app.state.engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT * FROM {t} ORDER BY 1")).all() for t in TABLES}


def assert_refused(r, *, status: int | None = None, field: str | None = None, secrets=()) -> dict:
    where = f"{r.request.method} {r.request.url.path} -> {r.status_code}: {r.text[:300]}"
    assert 400 <= r.status_code < 500, where
    if status is not None:
        assert r.status_code == status, where
    assert r.headers["content-type"].startswith("application/json"), where
    body = r.json()
    assert set(body) == {"error"}, where
    err = body["error"]
    assert isinstance(err.get("code"), str) and err["code"], where
    message = err.get("message")
    assert isinstance(message, str) and len(message) >= 10, where
    for leak in ("Traceback", "Exception", "sqlalchemy", "psycopg", "sqlite3", "Error(", "{'"):
        assert leak not in message, where
    if field is not None:
        named = {f["field"]: f for f in err.get("fields", [])}
        assert field in named, where
        assert isinstance(named[field]["message"], str) and named[field]["message"], where
    for secret in secrets:
        assert secret not in r.text, f"submitted value {secret!r} echoed: {where}"
    return err


def _secrets_of(body) -> tuple[str, ...]:
    """The fake personal values in a body, plus any long bad string: none may come back."""
    found = list(SECRETS)
    if isinstance(body, dict):
        for value in body.values():
            if isinstance(value, str) and len(value) >= 6 and value not in ("phone",):
                found.append(value)
    return tuple(found)


# -- POST /contacts: one bad field at a time -----------------------------------------
CONTACT_BAD = [
    ("wrong type: channel is a number", {**BASE, "channel": 7}, "channel"),
    ("wrong type: duration is words", {**BASE, "duration_seconds": "ten minutes"}, "duration_seconds"),
    ("wrong type: duration is a fraction", {**BASE, "duration_seconds": 12.5}, "duration_seconds"),
    ("wrong type: anonymous", {**BASE, "anonymous": "perhaps"}, "anonymous"),
    ("wrong type: name is an object", {**BASE, "caller_name": {"first": FAKE_NAME}}, "caller_name"),
    ("wrong type: summary is a list", {**BASE, "summary": [FAKE_NAME]}, "summary"),
    ("wrong type: case id is text", {**BASE, "case_id": "case-one"}, "case_id"),
    ("unknown channel", {**BASE, "channel": "carrier_pigeon"}, "channel"),
    ("unknown province", {**BASE, "province": "XX"}, "province"),
    ("province by name", {**BASE, "province": "Ontario"}, "province"),
    ("unknown classification", {**BASE, "classification": "gossip_item"}, "classification"),
    ("unknown caller type", {**BASE, "caller_type": "celebrity"}, "caller_type"),
    ("language not a code", {**BASE, "language": "English"}, "language"),
    ("unknown field", {**BASE, "social_insurance_number": "000 000 000"}, "social_insurance_number"),
    ("oversized name", {**BASE, "caller_name": FAKE_NAME + "x" * 200}, "caller_name"),
    ("oversized summary", {**BASE, "summary": "Fictional " * 1001}, "summary"),
    ("oversized city", {**BASE, "city": "Fictionalville" * 9}, "city"),
    ("oversized phone", {**BASE, "caller_phone": "6135550188" * 5}, "caller_phone"),
    ("NUL in name", {**BASE, "caller_name": "Fictional\x00Person"}, "caller_name"),
    ("escape in summary", {**BASE, "summary": "Fictional\x1b[31m summary"}, "summary"),
    ("bell in city", {**BASE, "city": "Fictional\x07ville"}, "city"),
    ("huge case id", {**BASE, "case_id": HUGE}, "case_id"),
    ("enormous case id", {**BASE, "case_id": 2**80}, "case_id"),
    ("zero case id", {**BASE, "case_id": 0}, "case_id"),
    ("negative case id", {**BASE, "case_id": -5}, "case_id"),
    ("negative duration", {**BASE, "duration_seconds": -1}, "duration_seconds"),
    ("duration over a day", {**BASE, "duration_seconds": 86_401}, "duration_seconds"),
    ("timezone-naive received_at", {**BASE, "received_at": "2026-01-01T10:00:00"}, "received_at"),
    ("future received_at", {**BASE, "received_at": iso(now() + timedelta(days=1))}, "received_at"),
    ("received_at not a date", {**BASE, "received_at": "yesterday evening"}, "received_at"),
    ("phone made of words", {**BASE, "caller_phone": "call me maybe"}, "caller_phone"),
    ("phone too short", {**BASE, "caller_phone": "555"}, "caller_phone"),
    ("phone with unknown country code", {**BASE, "caller_phone": "+999 555 0188"}, "caller_phone"),
    ("email without @", {**BASE, "caller_email": "fictional.person.example.com"}, "caller_email"),
    ("email with a space", {**BASE, "caller_email": "fictional.person@exa mple.com"}, "caller_email"),
    ("email without a domain", {**BASE, "caller_email": "fictional.person@"}, "caller_email"),
    ("channel missing", {"caller_name": FAKE_NAME, "caller_phone": FAKE_PHONE}, "channel"),
]


def test_bad_contact_fields_are_422_without_echo_and_change_nothing(app, raw, world):
    before = snapshot(app)
    for label, body, field in CONTACT_BAD:
        r = raw.post(f"{API}/contacts", json=body, headers=world.h)
        try:
            assert_refused(r, status=422, field=field, secrets=_secrets_of(body))
        except AssertionError as exc:
            raise AssertionError(f"{label}: {exc}") from None

    # phone and e-mail errors name their field, and only it
    r = raw.post(f"{API}/contacts", json={**BASE, "caller_phone": "not-a-phone"}, headers=world.h)
    err = assert_refused(r, status=422, field="caller_phone", secrets=SECRETS + ("not-a-phone",))
    assert [f["field"] for f in err["fields"]] == ["caller_phone"]
    assert err["code"] == "invalid"
    r = raw.post(f"{API}/contacts", json={**BASE, "caller_email": "fictional.person@@example.com"}, headers=world.h)
    err = assert_refused(r, status=422, field="caller_email", secrets=SECRETS + ("fictional.person",))
    assert [f["field"] for f in err["fields"]] == ["caller_email"]
    assert snapshot(app) == before


# -- the body as a whole --------------------------------------------------------------
def test_malformed_and_non_json_bodies(app, raw, world):
    before = snapshot(app)
    json_headers = {**world.h, "content-type": "application/json"}
    raw_bodies = [
        ("unclosed object", b'{"channel": "phone", "caller_name": "Fictional Person"'),
        ("trailing garbage", b'{"channel": "phone", "caller_name": "Fictional Person"} and more'),
        ("single quotes", b"{'channel': 'phone', 'caller_name': 'Fictional Person'}"),
        ("not UTF-8", b'{"channel": "phone", "caller_name": "Fictional \xff Person"}'),
        ("lone surrogate", b'{"channel": "phone", "caller_name": "Fictional Person \\ud800"}'),
        ("NaN", b'{"channel": "phone", "caller_name": "Fictional Person", "duration_seconds": NaN}'),
        ("very long number", b'{"channel": "phone", "duration_seconds": 1' + b"0" * 5000 + b"}"),
        ("deep nesting", b'{"channel": ' + b"[" * 20000 + b"]" * 20000 + b"}"),
        ("empty", b""),
        ("top-level list", b'["phone", "Fictional Person"]'),
        ("top-level string", b'"Fictional Person"'),
        ("top-level null", b"null"),
        ("top-level number", b"42"),
    ]
    for label, content in raw_bodies:
        r = raw.post(f"{API}/contacts", content=content, headers=json_headers)
        try:
            assert_refused(r, secrets=SECRETS)
        except AssertionError as exc:
            raise AssertionError(f"{label}: {exc}") from None
    # the right content in the wrong content type is still refused
    for ctype, content in [
        ("application/x-www-form-urlencoded", b"channel=phone&caller_name=Fictional+Person"),
        ("text/plain", b'{"channel": "phone", "caller_name": "Fictional Person"}'),
        ("application/xml", b"<contact><channel>phone</channel><name>Fictional Person</name></contact>"),
    ]:
        r = raw.post(f"{API}/contacts", content=content, headers={**world.h, "content-type": ctype})
        assert_refused(r, secrets=SECRETS + ("Fictional+Person",))
    assert snapshot(app) == before


def test_body_over_one_megabyte_is_413(app, raw, world):
    before = snapshot(app)
    big = b'{"channel": "phone", "summary": "' + b"a" * 1_000_001 + b'"}'
    r = raw.post(f"{API}/contacts", content=big, headers={**world.h, "content-type": "application/json"})
    err = assert_refused(r, status=413)
    assert err["code"] == "too_large"
    # the limit is on the bytes, before any parsing: also for a route without a body model
    r = raw.patch(f"{API}/cases/{world.case}", content=big, headers={**world.h, "content-type": "application/json"})
    assert_refused(r, status=413)
    # just under the limit is parsed (and refused by validation, not by size)
    fits = b'{"channel": "phone", "summary": "' + b"a" * 900_000 + b'"}'
    r = raw.post(f"{API}/contacts", content=fits, headers={**world.h, "content-type": "application/json"})
    assert_refused(r, status=422, field="summary")
    assert snapshot(app) == before


def test_chunked_body_over_one_megabyte_is_413(app, raw, world):
    before = snapshot(app)

    def chunks():
        yield b'{"channel": "phone", "summary": "'
        for _ in range(25):
            yield b"a" * 50_000
        yield b'"}'

    r = raw.post(f"{API}/contacts", content=chunks(), headers={**world.h, "content-type": "application/json"})
    assert snapshot(app) == before
    err = assert_refused(r, status=413)
    assert err["code"] == "too_large"


# -- other bodies -------------------------------------------------------------------
def _other_bad_bodies(w: World) -> list[tuple[str, str, str, object, str | None]]:
    c, due = w.case, iso(now() + timedelta(days=1))
    many = list(range(1, 102))
    return [
        ("PATCH", f"/contacts/{w.contact}", "unknown field", {"ssn": "000"}, "ssn"),
        ("PATCH", f"/contacts/{w.contact}", "bad phone", {"caller_phone": "Fictional"}, "caller_phone"),
        ("PATCH", f"/contacts/{w.contact}", "naive time", {"received_at": "2026-01-01T00:00:00"}, "received_at"),
        ("PATCH", f"/contacts/{w.contact}", "NUL", {"caller_name": "Fictional\x00Person"}, "caller_name"),
        ("POST", f"/contacts/{w.contact}/attach", "huge case id", {"case_id": HUGE}, "case_id"),
        ("POST", f"/contacts/{w.contact}/attach", "zero case id", {"case_id": 0}, "case_id"),
        ("POST", f"/contacts/{w.contact}/attach", "no case id", {}, "case_id"),
        ("POST", "/cases", "huge contact id", {"contact_ids": [HUGE]}, "contact_ids.0"),
        ("POST", "/cases", "negative contact id", {"contact_ids": [-1]}, "contact_ids.0"),
        ("POST", "/cases", "contact ids not a list", {"contact_ids": "1,2"}, "contact_ids"),
        ("POST", "/cases", "too many contacts", {"contact_ids": many}, "contact_ids"),
        ("POST", "/cases", "unknown exploitation", {"exploitation_types": ["smuggling_fiction"]},
         "exploitation_types.0"),
        ("POST", "/cases", "alias is a number", {"survivor_alias": 5}, "survivor_alias"),
        ("POST", "/cases", "huge assignee", {"assigned_to_id": HUGE}, "assigned_to_id"),
        ("PATCH", f"/cases/{c}", "unknown status", {"status": "archived"}, "status"),
        ("PATCH", f"/cases/{c}", "unknown outcome", {"status": "closed", "outcome": "vanished"}, "outcome"),
        ("PATCH", f"/cases/{c}", "unknown risk", {"risk_level": "catastrophic"}, "risk_level"),
        ("PATCH", f"/cases/{c}", "negative victims", {"victim_count": -1}, "victim_count"),
        ("PATCH", f"/cases/{c}", "too many victims", {"victim_count": 10_001}, "victim_count"),
        ("PATCH", f"/cases/{c}", "age band", {"age_band": "99"}, "age_band"),
        ("PATCH", f"/cases/{c}", "notes too long", {"notes": "Fictional " * 1001}, "notes"),
        ("PATCH", f"/cases/{c}", "alias NUL", {"survivor_alias": "Fictional\x00Alias"}, "survivor_alias"),
        ("PATCH", f"/cases/{c}", "version text", {"version": "latest"}, "version"),
        ("PATCH", f"/cases/{c}", "stale huge version", {"risk_level": "high", "version": 2**80}, None),
        ("PATCH", f"/cases/{c}", "unknown field", {"priority": 1}, "priority"),
        ("POST", f"/cases/{c}/consents", "unknown purpose", {"purpose": "marketing", "method": "verbal"}, "purpose"),
        ("POST", f"/cases/{c}/consents", "unknown method", {"purpose": "referral", "method": "telepathy"}, "method"),
        ("POST", f"/cases/{c}/consents", "naive given_at",
         {"purpose": "referral", "method": "verbal", "given_at": "2026-01-01T10:00:00"}, "given_at"),
        ("POST", f"/cases/{c}/consents", "naive expires_at",
         {"purpose": "referral", "method": "verbal", "expires_at": "2099-01-01T10:00:00"}, "expires_at"),
        ("POST", f"/cases/{c}/consents", "future given_at",
         {"purpose": "referral", "method": "verbal", "given_at": due}, "given_at"),
        ("POST", f"/cases/{c}/consents", "note with NUL",
         {"purpose": "referral", "method": "verbal", "note": "Fictional\x00note"}, "note"),
        ("POST", f"/cases/{c}/consents", "missing purpose", {"method": "verbal"}, "purpose"),
        ("POST", f"/consents/{w.consent}/revoke", "empty reason", {"reason": ""}, "reason"),
        ("POST", f"/consents/{w.consent}/revoke", "blank reason", {"reason": "   "}, "reason"),
        ("POST", f"/consents/{w.consent}/revoke", "no reason", {}, "reason"),
        ("POST", f"/consents/{w.consent}/revoke", "reason too long", {"reason": "Fictional " * 201}, "reason"),
        ("POST", f"/cases/{c}/overrides", "short reason", {"purpose": "referral", "reason": "urgent"}, "reason"),
        ("POST", f"/cases/{c}/overrides", "unknown purpose",
         {"purpose": "curiosity", "reason": "A long enough fictional reason"}, "purpose"),
        ("POST", f"/cases/{c}/tasks", "empty title", {"title": "", "due_at": due}, "title"),
        ("POST", f"/cases/{c}/tasks", "naive due", {"title": "Call", "due_at": "2026-12-01T09:00:00"}, "due_at"),
        ("POST", f"/cases/{c}/tasks", "unknown kind", {"title": "Call", "due_at": due, "kind": "gossip"}, "kind"),
        ("POST", f"/cases/{c}/tasks", "title too long", {"title": "T" * 201, "due_at": due}, "title"),
        ("POST", f"/cases/{c}/tasks", "no due date", {"title": "Call"}, "due_at"),
        ("POST", f"/cases/{c}/tasks", "huge assignee", {"title": "Call", "due_at": due, "assigned_to_id": HUGE},
         "assigned_to_id"),
        ("PATCH", f"/tasks/{w.task}", "done is words", {"done": "perhaps"}, "done"),
        ("PATCH", f"/tasks/{w.task}", "due is words", {"due_at": "tomorrow morning"}, "due_at"),
        ("PATCH", f"/tasks/{w.task}", "zero assignee", {"assigned_to_id": 0}, "assigned_to_id"),
        ("PUT", f"/cases/{c}/safety-plan", "unknown answer", {"safe_to_text": "maybe"}, "safe_to_text"),
        ("PUT", f"/cases/{c}/safety-plan", "long code word", {"code_word": "Fictional" * 12}, "code_word"),
        ("PUT", f"/cases/{c}/safety-plan", "bell in code word", {"code_word": "Fictional\x07"}, "code_word"),
        ("POST", f"/cases/{c}/escalations", "short reason", {"reason": "no"}, "reason"),
        ("POST", f"/cases/{c}/escalations", "huge contact", {"reason": "Emergency", "contact_id": HUGE},
         "contact_id"),
        ("POST", f"/cases/{c}/escalations", "no reason", {}, "reason"),
        ("POST", "/repeat-callers/lookup", "phone too short", {"phone": "55"}, "phone"),
        ("POST", "/repeat-callers/lookup", "phone too long", {"phone": "6135550188" * 5}, "phone"),
        ("POST", "/repeat-callers/lookup", "no phone", {}, "phone"),
    ]


def test_bad_bodies_on_every_write_endpoint(app, raw, world):
    before = snapshot(app)
    for method, path, label, body, field in _other_bad_bodies(world):
        r = raw.request(method, API + path, json=body, headers=world.h)
        try:
            assert_refused(r, status=409 if field is None else 422, field=field, secrets=_secrets_of(body))
        except AssertionError as exc:
            raise AssertionError(f"{method} {path} ({label}): {exc}") from None
    # a supervisor's decision on an override
    for body, field in [({"approve": "maybe"}, "approve"), ({"approve": True, "hours": 0}, "hours"),
                        ({"approve": True, "hours": 73}, "hours"), ({}, "approve"),
                        ({"approve": True, "by": "someone"}, "by")]:
        r = raw.post(f"{API}/overrides/{world.override}/decision", json=body, headers=world.sup_h)
        assert_refused(r, status=422, field=field)
    assert snapshot(app) == before


# -- ids in the path and in the query -------------------------------------------------
GET_PATHS = ["/contacts/{x}", "/cases/{x}", "/cases/{x}/timeline", "/cases/{x}/consents", "/cases/{x}/tasks",
             "/cases/{x}/safety-plan", "/cases/{x}/viewers"]
WRITE_PATHS = [
    ("PATCH", "/contacts/{x}", {"city": "Fictionalville"}),
    ("POST", "/contacts/{x}/attach", {"case_id": 1}),
    ("PATCH", "/cases/{x}", {"risk_level": "high"}),
    ("POST", "/cases/{x}/consents", {"purpose": "referral", "method": "verbal"}),
    ("POST", "/consents/{x}/revoke", {"reason": "Fictional reason"}),
    ("POST", "/cases/{x}/overrides", {"purpose": "referral", "reason": "A long enough fictional reason"}),
    ("POST", "/overrides/{x}/decision", {"approve": True}),
    ("POST", "/cases/{x}/tasks", {"title": "Call", "due_at": "2026-01-01T00:00:00Z"}),
    ("PATCH", "/tasks/{x}", {"done": True}),
    ("PUT", "/cases/{x}/safety-plan", {}),
    ("POST", "/cases/{x}/escalations", {"reason": "Emergency"}),
]
BAD_IDS = [str(HUGE), str(2**80), "0", "-1", "abc", "1.5", "1e3", "%20", "0x10"]


def test_bad_ids_in_the_path_and_bad_query_parameters(app, raw, world):
    before = snapshot(app)
    for bad in BAD_IDS:
        for path in GET_PATHS:
            r = raw.get(API + path.format(x=bad), headers=world.sup_h)
            try:
                assert_refused(r, status=422)
            except AssertionError as exc:
                raise AssertionError(f"GET {path} with {bad}: {exc}") from None
        for method, path, body in WRITE_PATHS:
            r = raw.request(method, API + path.format(x=bad), json=body, headers=world.sup_h)
            try:
                assert_refused(r, status=422)
            except AssertionError as exc:
                raise AssertionError(f"{method} {path} with {bad}: {exc}") from None
    # and in the query string
    cases = [
        ("/contacts", {"limit": 0}), ("/contacts", {"limit": 201}), ("/contacts", {"limit": -1}),
        ("/contacts", {"limit": "all"}), ("/contacts", {"offset": -1}), ("/contacts", {"offset": 10**30}),
        ("/contacts", {"classification": "gossip"}), ("/contacts", {"channel": "pigeon"}),
        ("/contacts", {"unattached": "perhaps"}),
        ("/cases", {"status": "archived"}), ("/cases", {"risk_level": "catastrophic"}), ("/cases", {"province": "ZZ"}),
        ("/cases", {"assigned_to_id": HUGE}), ("/cases", {"assigned_to_id": 0}), ("/cases", {"unassigned": "2"}),
        ("/tasks", {"overdue": "perhaps"}), ("/tasks", {"mine": "who"}),
        (f"/cases/{world.case}", {"purpose": "curiosity"}), (f"/contacts/{world.contact}", {"purpose": "curiosity"}),
        (f"/contacts/{world.contact}", {"purpose": ""}),
    ]
    for path, params in cases:
        r = raw.get(API + path, params=params, headers=world.h)
        try:
            assert_refused(r, status=422, field=next(iter(params)))
        except AssertionError as exc:
            raise AssertionError(f"GET {path} {params}: {exc}") from None
    assert snapshot(app) == before


# -- no existence leak ------------------------------------------------------------------
def test_unknown_ids_are_404_with_one_body(app, raw, world):
    before = snapshot(app)
    unknown = 2_000_000_000
    bodies = set()
    requests = [("GET", p.format(x=unknown), None) for p in GET_PATHS] + [
        (m, p.format(x=unknown), b) for m, p, b in WRITE_PATHS]
    requests += [("POST", f"/contacts/{world.contact}/attach", {"case_id": unknown})]
    for method, path, body in requests:
        r = raw.request(method, API + path, json=body, headers=world.sup_h)
        assert r.status_code == 404, f"{method} {path}: {r.status_code} {r.text}"
        bodies.add(r.text)
    assert len(bodies) == 1, bodies
    assert raw.get(f"{API}/contacts/{unknown}", headers=world.h).json() == {
        "error": {"code": "not_found", "message": "Not found."}}
    assert snapshot(app) == before


def test_outsiders_cannot_tell_existing_from_unknown_ids(app, raw, world):
    """Someone without hotline access gets the same answer for a real record and a made-up id."""
    before = snapshot(app)
    unknown = 2_000_000_000
    real = {"x": None}
    pairs = []
    for path in GET_PATHS:
        pairs.append(("GET", path, None))
    pairs += WRITE_PATHS
    ids = {"/contacts/": world.contact, "/consents/": world.consent, "/overrides/": world.override,
           "/tasks/": world.task, "/cases/": world.case}
    for method, path, body in pairs:
        real["x"] = next(v for k, v in ids.items() if path.startswith(k))
        existing = raw.request(method, API + path.format(x=real["x"]), json=body, headers=world.out_h)
        missing = raw.request(method, API + path.format(x=unknown), json=body, headers=world.out_h)
        assert existing.status_code == missing.status_code == 403, (path, existing.text, missing.text)
        assert existing.json() == missing.json(), path
    # and an advocate asking for the supervisor-only views learns nothing either
    for method, path, body in [("GET", "/cases/{x}/viewers", None), ("POST", "/overrides/{x}/decision",
                                                                      {"approve": True})]:
        x = world.case if "cases" in path else world.override
        existing = raw.request(method, API + path.format(x=x), json=body, headers=world.h)
        missing = raw.request(method, API + path.format(x=unknown), json=body, headers=world.h)
        assert existing.status_code == missing.status_code == 403
        assert existing.json() == missing.json()
    assert snapshot(app) == before


# -- bugs ---------------------------------------------------------------------------------
def test_patch_contact_null_required_field_is_422(app, raw, world):
    before = snapshot(app)
    for field in ("channel", "received_at", "anonymous"):
        r = raw.patch(f"{API}/contacts/{world.contact}", json={field: None}, headers=world.h)
        assert_refused(r, status=422, field=field)
    assert snapshot(app) == before


def test_patch_task_null_required_field_is_422(app, raw, world):
    before = snapshot(app)
    for field in ("title", "due_at"):
        r = raw.patch(f"{API}/tasks/{world.task}", json={field: None}, headers=world.h)
        assert_refused(r, status=422, field=field)
    assert snapshot(app) == before


def test_out_of_range_datetimes_are_422(app, raw, world):
    before = snapshot(app)
    c = world.case
    for path, body, field in [
        ("/contacts", {**BASE, "received_at": "0001-01-01T00:00:00+05:00"}, "received_at"),
        (f"/cases/{c}/tasks", {"title": "Call", "due_at": "9999-12-31T23:59:59-05:00"}, "due_at"),
        (f"/cases/{c}/tasks", {"title": "Call", "due_at": "0001-01-01T00:00:00+05:00"}, "due_at"),
        (f"/cases/{c}/consents", {"purpose": "referral", "method": "verbal",
                                  "expires_at": "9999-12-31T23:59:59-05:00"}, "expires_at"),
        (f"/cases/{c}/consents", {"purpose": "referral", "method": "verbal",
                                  "given_at": "0001-01-01T00:00:00+05:00"}, "given_at"),
    ]:
        r = raw.post(API + path, json=body, headers=world.h)
        assert_refused(r, status=422, field=field, secrets=SECRETS)
    assert snapshot(app) == before


def test_booleans_are_not_numbers(app, raw, world):
    before = snapshot(app)
    for body, field in [({**BASE, "case_id": True}, "case_id"), ({**BASE, "duration_seconds": True},
                                                                 "duration_seconds")]:
        r = raw.post(f"{API}/contacts", json=body, headers=world.h)
        assert_refused(r, status=422, field=field, secrets=SECRETS)
    r = raw.post(f"{API}/contacts/{world.contact}/attach", json={"case_id": True}, headers=world.h)
    assert_refused(r, status=422, field="case_id")
    assert snapshot(app) == before


# -- properties ---------------------------------------------------------------------------
CONTACT_FIELDS = ["channel", "received_at", "duration_seconds", "language", "interpreter_language", "caller_type",
                  "classification", "province", "city", "summary", "caller_name", "caller_phone", "caller_email",
                  "anonymous", "case_id"]
_scalars = (st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
            | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30))
_json = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                                          max_size=3), max_leaves=6)
_plausible = st.sampled_from(["phone", "web_chat", "tty", "ON", "QC", "tip", "crisis", "victim", "613-555-0101",
                              "+1 204 555 0199", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00", "fr", "yue", "",
                              "fictional.person@example.com", "Fictional Person", "Fictionalville"])
_bodies = st.one_of(
    st.dictionaries(st.one_of(st.sampled_from(CONTACT_FIELDS), st.text(max_size=8)),
                    st.one_of(_plausible, _json), max_size=8),
    _json,
)
HYPO = hsettings(max_examples=50, deadline=None, database=None, derandomize=True,
                 suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def _counts(app) -> tuple[int, int]:
    with app.state.engine.connect() as conn:
        return (conn.execute(text("SELECT count(*) FROM hotline_contact")).scalar_one(),
                conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one())


@HYPO
@given(body=_bodies)
def test_random_json_bodies_never_give_5xx(app, raw, world, body):
    contacts, audits = _counts(app)
    r = raw.post(f"{API}/contacts", json=body, headers=world.h)
    assert r.status_code < 500, (body, r.text)
    if r.status_code == 201:
        assert _counts(app) == (contacts + 1, audits + 1)
    else:
        assert_refused(r)
        assert _counts(app) == (contacts, audits)


@HYPO
@given(phone=st.text(max_size=40))
def test_random_phone_numbers_are_saved_normalised_or_refused(app, raw, world, phone):
    contacts, _ = _counts(app)
    r = raw.post(f"{API}/contacts", json={"channel": "phone", "caller_phone": phone}, headers=world.h)
    assert r.status_code in (201, 422), (phone, r.status_code, r.text)
    if r.status_code == 201:
        saved = r.json()["caller_phone"]
        assert saved is None or (saved.startswith("+") and saved[1:].isdigit()), saved
        assert _counts(app)[0] == contacts + 1
    else:
        err = assert_refused(r, field="caller_phone")
        assert err["code"] == "invalid"
        if len(phone.strip()) >= 5:
            assert phone.strip() not in r.text
        assert _counts(app)[0] == contacts
