"""Observability (issue 12, finding 5): request ids, the JSON access log, traceable 500s without personal data,
and /metrics (who may read it, what it says).  Both databases; the multi-worker server is in
test_observability_servers.py, readiness in test_readiness.py."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from pydantic import SecretStr

from harbour.core.models import User
from harbour.core.security import DbSession
from harbour.ops.observe import JsonFormatter, RequestIdFilter, accept_request_id, format_exception, safe_message
from tests.conftest import actor_of

HEX32 = re.compile(r"[0-9a-f]{32}")
FAKE_NAME = "Zed Secretname-Fictional"
FAKE_USERNAME = "zara-fictional-duplicate"
FAKE_PHONE = "555-0199"


@pytest.fixture
def logs():
    """Every line the ``harbour`` loggers write, through the real filter and JSON formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("harbour")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)

    def read(logger_name: str | None = None) -> list[dict]:
        lines = [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]
        return [line for line in lines if logger_name is None or line["logger"] == logger_name]

    read.text = stream.getvalue  # type: ignore[attr-defined]
    yield read
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def _boom(request: Request):
    raise RuntimeError("kaboom: an unexpected bug")


def _failing_insert(request: Request, db: DbSession):
    """A bug that makes the database refuse an insert holding personal data."""
    db.add(User(username=FAKE_USERNAME, display_name=FAKE_NAME, role="researcher", password_hash="x",
                organization=f"Fictional Shelter {FAKE_PHONE}"))
    db.commit()


@pytest.fixture
def buggy(app, client):
    """The application with routes that fail the way a bug would (the client would re-raise an exception that
    reached it: none does)."""
    for path in ("/boom", "/api/v1/boom"):
        app.add_api_route(path, _boom)
    app.add_api_route("/api/v1/failing-insert", _failing_insert, methods=["POST"])
    return client


def _id_of(response) -> str:
    rid = response.headers.get("x-request-id")
    assert rid, f"no X-Request-ID on {response.status_code} {response.request.url}"
    return rid


# -- request ids --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("sent, kept", [
    ("abc-123_X.9", True), ("a" * 64, True), ("a" * 65, False), ("has space", False), ("new\nline", False),
    ("quote\"json", False), ("é-accent", False), ("", False),
])
def test_a_well_formed_request_id_is_kept_anything_else_replaced(sent, kept):
    got = accept_request_id(sent.encode("utf-8"))
    assert (got == sent) is kept
    if not kept:
        assert HEX32.fullmatch(got)


def test_every_response_carries_the_request_id(client, buggy, make_user, login):
    """200, 404 (page and API), 405, 413 from BodyLimit, redirect, static file, 401 and 500 all say X-Request-ID."""
    sent = {"X-Request-ID": "support-ticket-42"}
    responses = [
        client.get("/help", headers=sent),
        client.get("/no/such/page", headers=sent),
        client.get("/api/v1/no/such", headers=sent),
        client.delete("/help", headers=sent),
        client.post("/api/v1/hotline/contacts", content=b"x" * 1_100_000, headers=sent),
        client.get("/console", headers=sent, follow_redirects=False),
        client.get("/static/harbour.css", headers=sent),
        client.post("/api/v1/hotline/contacts", json={}, headers={**sent, "Authorization": "Bearer nope"}),
        buggy.get("/boom", headers=sent),
    ]
    assert [r.status_code for r in responses] == [200, 404, 404, 405, 413, 303, 200, 401, 500]
    assert all(_id_of(r) == "support-ticket-42" for r in responses)
    fresh = [client.get("/help"), client.get("/help", headers={"X-Request-ID": "<script>"})]
    assert all(HEX32.fullmatch(_id_of(r)) for r in fresh) and _id_of(fresh[0]) != _id_of(fresh[1])


# -- the access log -----------------------------------------------------------------------------------------
def test_one_json_line_per_request_with_the_route_template_and_no_personal_values(client, logs, make_user, login):
    r = client.get(f"/console/contacts/987654?q={FAKE_NAME}&phone={FAKE_PHONE}", follow_redirects=False)
    client.get("/no/such/jane-fictional-doe")
    lines = logs("harbour.access")
    assert len(lines) == 2
    first, second = lines
    assert set(first) >= {"time", "request_id", "method", "route", "status", "duration_ms", "user_id"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["time"])
    assert first["request_id"] == _id_of(r) and first["method"] == "GET" and first["status"] == 303
    assert first["route"] == "/console/contacts/{contact_id}" and first["user_id"] is None
    assert isinstance(first["duration_ms"], float) and first["duration_ms"] >= 0
    assert second["route"] == "unmatched" and second["status"] == 404
    text = logs.text()
    for secret in ("987654", "Zed", "Secretname", FAKE_PHONE, "jane", "q="):
        assert secret not in text


def test_a_request_refused_before_routing_still_gets_its_route_label(client, logs):
    """BodyLimit answers 413 before the router runs; the line and the metric still name the route template."""
    r = client.post("/api/v1/hotline/cases/123/tasks", content=b"x" * 1_100_000)
    assert r.status_code == 413
    line = logs("harbour.access")[-1]
    assert (line["route"], line["status"], line["request_id"]) == ("/api/v1/hotline/cases/{case_id}/tasks",
                                                                   413, _id_of(r))


def test_the_access_log_names_the_signed_in_user_by_number_only(client, logs, make_user, login, token_for):
    user = make_user("hotline_advocate", display_name=FAKE_NAME)
    login(user)
    client.get("/console/contacts")
    client.cookies.clear()
    client.get("/api/v1/hotline/contacts", headers=token_for(user))
    client.get("/help")
    page, api, anonymous = logs("harbour.access")[-3:]
    assert (page["route"], page["status"], page["user_id"]) == ("/console/contacts", 200, user.id)
    assert (api["route"], api["status"], api["user_id"]) == ("/api/v1/hotline/contacts", 200, user.id)
    assert anonymous["user_id"] is None
    assert user.username not in logs.text() and FAKE_NAME not in logs.text()


def test_a_form_body_never_reaches_the_log(client, logs):
    from tests.conftest import csrf_of

    token = csrf_of(client, "/tip")
    client.post("/tip", data={"summary": f"{FAKE_NAME} called from {FAKE_PHONE}", "province": "MB",
                              "city": "Winnipeg", "csrf_token": token}, follow_redirects=False)
    line = logs("harbour.access")[-1]
    assert (line["route"], line["method"], line["status"]) == ("/tip", "POST", 303)
    assert FAKE_NAME not in logs.text() and FAKE_PHONE not in logs.text() and "Winnipeg" not in logs.text()


# -- finding 5: a 500 can be traced to its request ----------------------------------------------------------
@pytest.mark.parametrize("lang, words", [("en", "quote this request's reference"),
                                         ("fr", "en indiquant la référence de cette demande")])
def test_a_500_page_shows_the_reference_that_the_logged_traceback_carries(buggy, logs, lang, words):
    """Before: a bare 500 with nothing to quote, and a traceback with no id in the log."""
    r = buggy.get(f"/boom?lang={lang}")
    assert r.status_code == 500
    rid = _id_of(r)
    assert words in r.text.replace("&#39;", "'")
    assert f"<code>{rid}</code>" in r.text
    assert r.headers["content-security-policy"] and r.headers["cache-control"] == "no-store"
    errors = logs("harbour.errors")
    assert len(errors) == 1, "the traceback is logged once"
    assert errors[0]["request_id"] == rid and errors[0]["level"] == "ERROR" and errors[0]["route"] == "/boom"
    assert "RuntimeError: kaboom" in errors[0]["traceback"] and "_boom" in errors[0]["traceback"]
    assert logs("harbour.access")[-1]["request_id"] == rid and logs("harbour.access")[-1]["status"] == 500


def test_an_api_500_is_json_with_the_request_id(buggy, logs):
    r = buggy.get("/api/v1/boom", headers={"X-Request-ID": "ticket-7"})
    assert r.status_code == 500
    body = r.json()["error"]
    assert body["code"] == "server_error" and body["request_id"] == "ticket-7" and "kaboom" not in r.text
    assert logs("harbour.errors")[0]["request_id"] == "ticket-7"


def test_other_error_pages_show_the_reference_too(client, make_user, login):
    login(make_user("researcher"))
    pages = [client.get("/no/such/page"), client.get("/console/contacts?lang=fr"), client.delete("/help")]
    assert [r.status_code for r in pages] == [404, 403, 405]
    for r in pages:
        assert f"<code>{_id_of(r)}</code>" in r.text
    assert "Référence à donner au soutien technique" in pages[1].text


def test_the_engine_hides_bound_parameters_in_errors(app, db, make_user):
    """Before: an IntegrityError printed ``[parameters: (... 'Zed Secretname-Fictional' ...)]``."""
    from sqlalchemy.exc import IntegrityError

    make_user("researcher", username=FAKE_USERNAME)
    db.add(User(username=FAKE_USERNAME, display_name=FAKE_NAME, role="researcher", password_hash="x"))
    with pytest.raises(IntegrityError) as info:
        db.commit()
    db.rollback()
    assert FAKE_NAME not in str(info.value) and "hide_parameters" in str(info.value)


def test_a_failing_insert_is_logged_without_any_value_it_held(buggy, logs, make_user, token_for):
    """PostgreSQL puts the duplicate key in a DETAIL line (``Key (username)=(…)``), SQLAlchemy the bound values
    in ``[parameters: …]``; neither reaches the log line."""
    make_user("researcher", username=FAKE_USERNAME)
    r = buggy.post("/api/v1/failing-insert")
    assert r.status_code == 500
    (line,) = logs("harbour.errors")
    assert line["request_id"] == _id_of(r) and "IntegrityError" in line["traceback"]
    assert "user_account" in line["traceback"]  # still says what failed
    for value in (FAKE_USERNAME, FAKE_NAME, FAKE_PHONE, "Fictional Shelter"):
        assert value not in logs.text()


def test_scrubbing_of_validator_and_database_messages():
    from pydantic import BaseModel, ValidationError

    class Contact(BaseModel):
        age: int

    try:
        Contact(age=FAKE_NAME)
    except ValidationError as exc:
        assert FAKE_NAME not in safe_message(exc) and "int_parsing" in safe_message(exc)

    class DatabaseSaid(Exception):
        pass

    try:
        try:
            raise DatabaseSaid(f'duplicate key\nDETAIL:  Key (username)=({FAKE_USERNAME}) already exists.')
        except DatabaseSaid as inner:
            raise RuntimeError("while saving") from inner
    except RuntimeError as exc:
        text = format_exception(exc)
    assert "duplicate key" in text and "while saving" in text and "direct cause" in text
    assert FAKE_USERNAME not in text


# -- /metrics -----------------------------------------------------------------------------------------------
def _metrics_client(app, host: str = "127.0.0.1") -> TestClient:
    return TestClient(app, client=(host, 40000))


def _value(text: str, name: str, **labels) -> float:
    want = {k: str(v) for k, v in labels.items()}
    total, found = 0.0, False
    for line in text.splitlines():
        m = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if not m or m.group(1) != name:
            continue
        got = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(got.get(k) == v for k, v in want.items()):
            total, found = total + float(m.group(3)), True
    assert found, f"no {name}{want} in the exposition"
    return total


def test_metrics_count_requests_by_route_template_never_by_path(app, client):
    local = _metrics_client(app)
    before = local.get("/metrics").text
    client.get("/console/contacts/424242", follow_redirects=False)
    client.get(f"/no/such/{FAKE_USERNAME}")
    r = local.get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text

    def delta(**labels):
        try:
            old = _value(before, "harbour_http_requests_total", **labels)
        except AssertionError:
            old = 0
        return _value(text, "harbour_http_requests_total", **labels) - old

    assert delta(method="GET", route="/console/contacts/{contact_id}", status=303) == 1
    assert delta(method="GET", route="unmatched", status=404) == 1
    assert _value(text, "harbour_http_request_duration_seconds_count", route="/console/contacts/{contact_id}") >= 1
    assert "424242" not in text and FAKE_USERNAME not in text
    for name in ("harbour_db_pool_size", "harbour_db_pool_checked_out", "harbour_db_pool_overflow"):
        assert _value(text, name) >= 0
    assert _value(text, "harbour_db_pool_size") >= 1
    assert _value(text, "harbour_job_duration_seconds_count", job="key_heartbeat") >= 1  # the lifespan's first beat
    assert _value(text, "harbour_database_up") == 1


def _shape(r) -> str:
    """A page without what differs between any two requests (its request id, the anonymous CSRF token)."""
    return re.sub(r'"X-CSRF-Token": "[^"]+"', "", r.text.replace(_id_of(r), ""))


def test_metrics_are_hidden_from_everyone_but_loopback_and_the_token_holder(app, settings):
    settings.metrics_token = SecretStr("s3cret-metrics-token-for-tests")
    remote = _metrics_client(app, "203.0.113.7")
    not_found = remote.get("/metricz")
    refused = [remote.get("/metrics"), remote.get("/metrics", headers={"Authorization": "Bearer wrong-token-value"}),
               _metrics_client(app).get("/metrics", headers={"X-Forwarded-For": "198.51.100.4"})]
    for r in refused:
        assert r.status_code == 404
        assert _shape(r) == _shape(not_found).replace("/metricz", "/metrics"), \
            "the refusal looks like any other missing page"
    ok = remote.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token-for-tests"})
    assert ok.status_code == 200 and "harbour_http_requests_total" in ok.text
    settings.metrics_token = None
    assert remote.get("/metrics", headers={"Authorization": "Bearer s3cret-metrics-token-for-tests"}).status_code == 404
    assert _metrics_client(app, "::1").get("/metrics").status_code == 200


def test_live_chat_figures_come_from_the_database(app, db, settings, make_user):
    from harbour.hotline.chat import service

    local = _metrics_client(app)
    before = local.get("/metrics").text
    assert _value(before, "harbour_chat_queue_length") == 0 and _value(before, "harbour_chat_advocates_available") == 0
    advocate = make_user("hotline_advocate")
    service.set_available(db, actor=actor_of(advocate), available=True)
    for address in ("192.0.2.10", "192.0.2.11"):
        service.start_chat(db, settings, language="fr", address=address)
    first = service.queued_ids(db)[0]
    service.take(db, actor=actor_of(advocate), chat_id=first)
    text = local.get("/metrics").text
    assert _value(text, "harbour_chat_queue_length") == 1
    assert _value(text, "harbour_chat_sessions", status="queued") == 1
    assert _value(text, "harbour_chat_sessions", status="active") == 1
    assert _value(text, "harbour_chat_sessions", status="closed") == 0
    assert _value(text, "harbour_chat_advocates_available") == 1
    assert "192.0.2.10" not in text


@pytest.fixture
def quick_sweeper(settings):
    settings.chat_idle_seconds = 2  # the sweeper runs every half second (read when the client starts)


def test_background_jobs_report_their_durations(quick_sweeper, app, client, db, make_user):
    """The chat sweeper, the message writer's batches and the queue recount (ws.py), the key heartbeat."""
    import time

    from tests.hotline.chat.conftest import People, open_visitor, until

    def counts() -> dict[str, float]:
        text = _metrics_client(app).get("/metrics").text
        out = {}
        for job in ("chat_sweep", "chat_message_batch", "chat_queue_recount", "key_heartbeat"):
            try:
                out[job] = _value(text, "harbour_job_duration_seconds_count", job=job)
            except AssertionError:
                out[job] = 0
        return out

    before = counts()
    people = People(client, db, make_user)
    people.staff("adv")
    people.visitor("v")
    ctx, v = open_visitor(people, "v")
    until(v, "welcome")
    v.send_json({"type": "message", "body": "A fictional message."})
    until(v, "message")
    ctx.__exit__(None, None, None)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        after = counts()
        if all(after[j] > before[j] for j in ("chat_sweep", "chat_message_batch", "chat_queue_recount")):
            break
        time.sleep(0.3)
    assert after["chat_message_batch"] > before["chat_message_batch"]
    assert after["chat_queue_recount"] > before["chat_queue_recount"]
    assert after["chat_sweep"] > before["chat_sweep"]
    assert after["key_heartbeat"] >= 1


# -- settings -----------------------------------------------------------------------------------------------
def test_log_level_and_metrics_token_settings_are_checked():
    from pydantic import ValidationError

    from harbour.core.config import Settings

    assert Settings(log_level="warning").log_level == "WARNING"
    assert Settings(metrics_token="").metrics_token is None
    with pytest.raises(ValidationError, match="unknown log level"):
        Settings(log_level="chatty")
    with pytest.raises(ValidationError, match="at least 16"):
        Settings(metrics_token="short")
    assert "s3cret" not in repr(Settings(metrics_token="s3cret-metrics-token-for-tests"))
