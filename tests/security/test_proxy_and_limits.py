"""Behind a reverse proxy (core/proxy.py) and per-client limits (core/ratelimit.py), on SQLite and PostgreSQL.

Issue 12, finding 7 (part): ``harbour serve`` believed ``X-Forwarded-For`` from any local peer, so one client
could claim a new address per request and escape the tip limit; the limit lived in one worker's memory; chat
starts had no limit at all.  Addresses are documentation ones (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24).
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import threading
import time
from urllib.parse import urlencode

import httpx
import pytest
from fastapi import Request
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import func, select, text

from harbour.core import crypto, ratelimit
from harbour.core.config import Settings
from harbour.hotline.chat import service as chat_service
from harbour.hotline.models import Contact
from tests.conftest import actor_of, csrf_of
from tests.servers import harbour, serve, server_env

A, B, PROXY = "203.0.113.5", "198.51.100.7", "192.0.2.1"
HSTS = "max-age=63072000; includeSubDomains"


@pytest.fixture
def make_app(settings):
    """Applications on the test's database with settings of the test's choosing (validated like the env)."""
    from harbour.app import create_app

    made = []

    def _make(**overrides):
        values = {**settings.model_dump(), "chat_start_limit": 3, **overrides}
        application = create_app(Settings(**values))

        @application.get("/_test/peer")
        def peer(request: Request):  # what every layer of the application sees of the client
            return {"client": request.client.host if request.client else None, "scheme": request.url.scheme}

        made.append(application)
        return application

    yield _make
    for application in made:
        application.state.engine.dispose()


def _peer(app, peer: str, **headers) -> dict:
    with TestClient(app, client=(peer, 1234)) as c:
        return c.get("/_test/peer", headers=headers).json()


def _tip(c: TestClient, summary: str, **headers) -> httpx.Response:
    token = csrf_of(c, "/tip")
    return c.post("/tip", data={"summary": summary, "csrf_token": token}, headers=headers, follow_redirects=False)


def _tips(db) -> int:
    db.expire_all()
    return db.execute(select(func.count()).select_from(Contact)).scalar_one()


# -- trusted forwarded headers ------------------------------------------------------------------------------
def test_trusted_proxy_gives_the_rightmost_untrusted_address(make_app):
    app = make_app(trusted_proxies=f"{PROXY}, 10.0.0.0/8")
    assert _peer(app, PROXY, **{"X-Forwarded-For": A}) == {"client": A, "scheme": "http"}
    # a chain of trusted proxies is walked from the right; what the client wrote itself (leftmost) is ignored
    seen = _peer(app, PROXY, **{"X-Forwarded-For": f"{B}, 192.0.2.200, {A}, 10.1.2.3"})
    assert seen["client"] == A
    assert _peer(app, PROXY, **{"X-Forwarded-Proto": "https"})["scheme"] == "https"


def test_an_untrusted_peers_forwarded_headers_are_ignored(make_app):
    app = make_app(trusted_proxies=PROXY)
    seen = _peer(app, A, **{"X-Forwarded-For": B, "X-Forwarded-Proto": "https"})
    assert seen == {"client": A, "scheme": "http"}
    # the default trusts nobody, loopback included (the old `harbour serve` trusted 127.0.0.1)
    app = make_app()
    assert _peer(app, "127.0.0.1", **{"X-Forwarded-For": B, "X-Forwarded-Proto": "https"}) == {
        "client": "127.0.0.1", "scheme": "http"}


@pytest.mark.parametrize("value", ["proxy.example", "10.0.0.0/33", "10.0.0.1/8", "*", "127.0.0.1, 300.1.1.1"])
def test_a_malformed_trusted_proxies_setting_is_refused(settings, value):
    with pytest.raises(ValidationError, match="not an IP address or network"):
        Settings(database_url=settings.database_url, trusted_proxies=value)


def test_serve_refuses_to_start_with_a_malformed_setting(settings):
    done = harbour(server_env(settings, HARBOUR_TRUSTED_PROXIES="127.0.0.1, proxy.example"), "serve",
                   "--port", "1", timeout=120)
    assert done.returncode == 2
    assert "HARBOUR_TRUSTED_PROXIES: 'proxy.example' is not an IP address or network" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout and "serving" not in done.stdout


def test_serve_warns_when_an_https_deployment_trusts_no_proxy(settings):
    from harbour.core.proxy import start_warning

    https = {**settings.model_dump(), "base_url": "https://harbour.example"}
    assert "HARBOUR_TRUSTED_PROXIES is empty" in start_warning(Settings(**https))
    assert start_warning(Settings(**{**https, "trusted_proxies": "127.0.0.1"})) is None
    assert start_warning(Settings(**{**https, "base_url": "http://127.0.0.1:8000"})) is None


def test_spoofed_forwarded_for_from_loopback_does_not_escape_the_tip_limit(settings, db):
    """Finding 7: a real `harbour serve`, no trusted proxy configured; a local client writes a new
    X-Forwarded-For on every tip.  The old server took each for a new client (all 11 accepted)."""
    with serve(server_env(settings, HARBOUR_TIP_LIMIT="3")) as (base, _proc, _log):
        with httpx.Client(base_url=base, follow_redirects=False) as c:
            token = re.search(r'name="csrf_token" value="([^"]+)"', c.get("/tip").text).group(1)
            statuses = [c.post("/tip", data={"summary": f"Fictional spoofed tip {i}", "csrf_token": token},
                               headers={"X-Forwarded-For": f"198.51.100.{i + 1}"}).status_code
                        for i in range(11)]
    assert statuses == [303] * 3 + [429] * 8
    assert _tips(db) == 3


# -- HSTS ---------------------------------------------------------------------------------------------------
def test_hsts_on_every_response_of_an_https_deployment(make_app):
    app = make_app(base_url="https://harbour.example")
    with TestClient(app, base_url="https://harbour.example") as c:
        responses = [c.get("/help"), c.get("/no-such-page"), c.get("/api/v1/hotline/contacts"),
                     c.get("/static/harbour.css"),
                     c.post("/tip", content=b"x", headers={"Content-Length": "99999999"})]  # BodyLimit's 413
        assert [r.status_code for r in responses] == [200, 404, 401, 200, 413]
        assert all(r.headers.get("strict-transport-security") == HSTS for r in responses)
        assert len(responses[0].headers.get_list("strict-transport-security")) == 1


def test_no_hsts_on_a_plain_http_deployment(make_app):
    app = make_app(base_url="http://harbour.example", trusted_proxies=PROXY)
    with TestClient(app, client=(PROXY, 1234)) as c:
        for r in (c.get("/help"), c.get("/no-such-page"), c.get("/help", headers={"X-Forwarded-Proto": "https"})):
            assert "strict-transport-security" not in r.headers


# -- the tip limit ------------------------------------------------------------------------------------------
def test_tip_limit_counts_each_real_client(make_app, db):
    app = make_app(tip_limit=2)
    with TestClient(app, client=(A, 1234)) as a, TestClient(app, client=(B, 1234)) as b:
        assert [_tip(a, f"Fictional tip {i} from A").status_code for i in range(2)] == [303, 303]
        over = _tip(a, "A third fictional tip & <details> about a fictional farm")
        assert over.status_code == 429
        assert "Too many reports from this connection" in over.text
        assert "A third fictional tip &amp; &lt;details&gt; about a fictional farm" in over.text  # nothing lost
        assert "1-833-900-1010" in over.text
        assert _tip(b, "Fictional tip from B").status_code == 303
        # invalid reports do not use up the allowance
        assert b.post("/tip", data={"summary": " ", "csrf_token": csrf_of(b, "/tip")}).status_code == 422
        assert _tip(b, "Second fictional tip from B").status_code == 303
        assert _tip(b, "Third fictional tip from B").status_code == 429
    assert _tips(db) == 4


def test_tip_limit_behind_a_trusted_proxy_counts_the_forwarded_client(make_app, db):
    app = make_app(tip_limit=2, trusted_proxies=PROXY)
    with TestClient(app, client=(PROXY, 1234)) as proxy:
        assert _tip(proxy, "Fictional tip 1", **{"X-Forwarded-For": A}).status_code == 303
        assert _tip(proxy, "Fictional tip 2", **{"X-Forwarded-For": A}).status_code == 303
        # a spoofed leftmost entry does not make A someone else
        assert _tip(proxy, "Fictional tip 3", **{"X-Forwarded-For": f"{B}, {A}"}).status_code == 429
        assert _tip(proxy, "Fictional tip 4", **{"X-Forwarded-For": B}).status_code == 303
    assert _tips(db) == 3


# -- the chat-start cap -------------------------------------------------------------------------------------
@pytest.fixture
def on_duty(make_user, db):
    user = make_user("hotline_advocate")
    chat_service.set_available(db, actor=actor_of(user), available=True)
    return user


def _start_chat(c: TestClient, lang: str = "en", **headers) -> httpx.Response:
    token = csrf_of(c, "/help/chat")
    return c.post("/help/chat", data={"language": lang, "csrf_token": token},
                  headers={"Accept-Language": lang, **headers}, follow_redirects=False)


@pytest.mark.parametrize("lang, message, phone_heading", [
    ("en", "You have started several chats in a short time.", "You can still reach us by phone"),
    ("fr", "Vous avez commencé plusieurs clavardages en peu de temps.", "Vous pouvez toujours nous joindre"),
])
def test_chat_starts_are_capped_per_client_with_the_phone_number_shown(make_app, on_duty, db, lang, message,
                                                                       phone_heading):
    """Old code: 15 chats in seconds from one address.  Now 3 per window, then a 429 page that still gives the
    hotline's phone number, in the visitor's language."""
    app = make_app(chat_start_limit=3)
    with TestClient(app, client=(A, 1234)) as a, TestClient(app, client=(B, 1234)) as b:
        assert [_start_chat(a, lang).status_code for _ in range(3)] == [303, 303, 303]
        refused = _start_chat(a, lang)
        assert refused.status_code == 429
        assert message in refused.text and phone_heading in refused.text
        assert 'href="tel:+18339001010"' in refused.text and "1-833-900-1010" in refused.text
        assert 'action="/help/chat"' not in refused.text  # no start button that would only refuse again
        assert _start_chat(b, lang).status_code == 303
    db.expire_all()
    assert db.execute(text("SELECT count(*) FROM chat_session")).scalar_one() == 4


def test_the_cap_is_a_service_rule(on_duty, db, settings):
    capped = Settings(**{**settings.model_dump(), "chat_start_limit": 2})
    for _ in range(2):
        chat_service.start_chat(db, capped, language="fr", address=A)
    with pytest.raises(ratelimit.RateLimited) as refused:
        chat_service.start_chat(db, capped, language="fr", address=A)
    assert refused.value.status_code == 429
    chat_service.start_chat(db, capped, language="fr", address=B)


# -- the counters -------------------------------------------------------------------------------------------
def test_the_database_never_holds_an_address(make_app, on_duty, db):
    app = make_app(tip_limit=5, chat_start_limit=5, trusted_proxies=PROXY)
    with TestClient(app, client=(PROXY, 1234)) as c:
        for who in (A, B, "2001:db8::1"):
            assert _tip(c, "Fictional tip", **{"X-Forwarded-For": who}).status_code == 303
            c.cookies.clear()
            assert _start_chat(c, **{"X-Forwarded-For": who}).status_code == 303
    db.expire_all()
    rows = db.execute(text("SELECT bucket, client, window_start, hits FROM rate_limit")).all()
    assert {r.bucket for r in rows} == {"tip", "chat_start"} and len(rows) == 6
    stored = " ".join(str(value) for row in rows for value in row)
    for fragment in (A, B, PROXY, "2001:db8", "203.0.113", "198.51.100", "192.0.2"):
        assert fragment not in stored
    ring = crypto.keyring()
    assert {r.client for r in rows} == {ring.blind_index(A, domain="rate"), ring.blind_index(B, domain="rate"),
                                        ring.blind_index("2001:db8::/64", domain="rate")}


def test_ipv6_clients_count_per_64_network(db):
    limit = ratelimit.Limit("test", 2, 600)
    assert ratelimit.hit(db, limit, address="2001:db8:0:1::1", now=1200)
    assert ratelimit.hit(db, limit, address="2001:db8:0:1::abcd", now=1201)  # same /64: same client
    assert not ratelimit.hit(db, limit, address="2001:db8:0:1:ffff::2", now=1202)
    assert ratelimit.hit(db, limit, address="2001:db8:0:2::1", now=1203)  # another /64
    assert ratelimit.hit(db, limit, address="::ffff:203.0.113.5", now=1204)  # IPv4-mapped: the IPv4 client
    assert ratelimit.hit(db, limit, address=A, now=1205)
    assert not ratelimit.hit(db, limit, address=A, now=1206)


def test_sliding_window_from_two_fixed_windows(db):
    limit, w = ratelimit.Limit("test", 3, 600), 600

    def hits(*times):
        return [ratelimit.hit(db, limit, address=A, now=t) for t in times]

    assert hits(10, 20, 30, 40, w - 1) == [True, True, True, False, False]  # refusals are not counted
    # just after the boundary the previous window still weighs almost fully (a fixed window would allow 3 here)
    assert hits(w + 1) == [False]
    # half-way through, the previous 3 weigh 1.5: one more fits, not two
    assert hits(w + 300, w + 301) == [True, False]
    # half-way through the next, the previous 1 weighs 0.5: two fit
    assert hits(2 * w + 300, 2 * w + 301, 2 * w + 302) == [True, True, False]
    # a window with nothing before it allows the full limit
    assert hits(4 * w, 4 * w + 1, 4 * w + 2, 4 * w + 3) == [True, True, True, False]


def test_old_windows_are_purged(db):
    limit, w = ratelimit.Limit("test", 5, 600), 600
    for t in (0, w, 2 * w, 3 * w):
        assert ratelimit.hit(db, limit, address=A, now=t + 5)
    assert ratelimit.hit(db, ratelimit.Limit("other", 5, 600), address=A, now=5)
    db.commit()
    ratelimit._last_purge.clear()  # this process last purged more than a minute ago
    assert ratelimit.hit(db, limit, address=B, now=3 * w + 9)  # a hit purges windows before the previous
    db.commit()
    starts = db.execute(text("SELECT bucket, window_start FROM rate_limit ORDER BY bucket, window_start")).all()
    assert [tuple(r) for r in starts] == [("other", 0), ("test", 2 * w), ("test", 3 * w), ("test", 3 * w)]
    assert ratelimit.hit(db, limit, address=B, now=3 * w + 10)  # not again within the minute: nothing to see
    db.commit()


def test_concurrent_hits_never_exceed_the_limit(make_app):
    """Twelve requests from one client at the same instant, each in its own transaction: exactly the limit."""
    app = make_app()
    limit, results, barrier = ratelimit.Limit("test", 5, 600), [], threading.Barrier(12)

    def one():
        session = app.state.sessionmaker()
        try:
            barrier.wait()
            results.append(ratelimit.hit(session, limit, address=A, now=1000))
            session.commit()
        finally:
            session.close()

    threads = [threading.Thread(target=one) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(results) == [False] * 7 + [True] * 5


# -- two workers on PostgreSQL --------------------------------------------------------------------------------
def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    stat = fh.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def _accepted_by(server: int, client: int, pids: list[int]) -> int | None:
    """Which worker process holds the server end of the connection from local port ``client``."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == server and int(fields[2].rsplit(":", 1)[1], 16) == client:
                    inodes.add(f"socket:[{fields[9]}]")
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                        return pid
    return None


class Workers:
    """Requests sent, as a proxy would, to the worker of our choosing: connect, see which worker accepted the
    connection, and reconnect until it is the wanted one."""

    def __init__(self, base: str, proc):
        self.port = int(base.rsplit(":", 1)[1])
        self.pids = [pid for pid in _children(proc.pid) if "spawn_main" in _cmdline(pid)]  # not resource_tracker
        assert len(self.pids) == 2, "expected two uvicorn workers"
        with httpx.Client(base_url=base) as c:  # a CSRF cookie and token, valid on any worker
            page = c.get("/tip")
            self.token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
            self.cookie = f"harbour_csrf={c.cookies['harbour_csrf']}"

    def connect(self, worker: int) -> tuple[http.client.HTTPConnection, int]:
        for _ in range(200):
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            conn.connect()
            local = conn.sock.getsockname()[1]
            deadline = time.monotonic() + 5
            owner = None
            while owner is None and time.monotonic() < deadline:
                owner = _accepted_by(self.port, local, self.pids)
                time.sleep(0.005 if owner is None else 0)
            if owner == worker:
                return conn, owner
            conn.close()
        raise AssertionError(f"no connection reached worker {worker}")

    def post(self, worker: int, path: str, client: str, form: dict) -> tuple[int, int, str]:
        conn, owner = self.connect(worker)
        body = urlencode({**form, "csrf_token": self.token})
        conn.request("POST", path, body=body, headers={
            "Content-Type": "application/x-www-form-urlencoded", "Cookie": self.cookie,
            "X-Forwarded-For": client, "X-Forwarded-Proto": "https"})
        response = conn.getresponse()
        page = response.read().decode()
        conn.close()
        return owner, response.status, page


@pytest.mark.slow
@pytest.mark.pg_only
def test_limits_hold_across_two_workers(settings, db, on_duty):
    """`harbour serve --workers 2` behind a proxy on loopback: the same client is limited whichever worker
    answers (each worker used on both sides of the limit), another client is not.  The old per-process
    limiter would have let each worker allow the full limit."""
    if settings.is_sqlite:
        pytest.skip("several workers need PostgreSQL")
    env = server_env(settings, HARBOUR_TRUSTED_PROXIES="127.0.0.1", HARBOUR_TIP_LIMIT="2",
                     HARBOUR_CHAT_START_LIMIT="2")
    with serve(env, workers=2) as (base, proc, _log):
        w = Workers(base, proc)
        one, two = w.pids
        tip = {"summary": "Fictional tip through the proxy"}
        assert [w.post(worker, "/tip", A, tip)[:2] for worker in (one, two, one, two)] == [
            (one, 303), (two, 303), (one, 429), (two, 429)]
        assert [w.post(worker, "/tip", B, tip)[:2] for worker in (two, one)] == [(two, 303), (one, 303)]
        chat = {"language": "fr"}
        answers = [w.post(worker, "/help/chat", A, chat) for worker in (two, one, two, one)]
        assert [a[:2] for a in answers] == [(two, 303), (one, 303), (two, 429), (one, 429)]
        assert "1-833-900-1010" in answers[2][2] and "1-833-900-1010" in answers[3][2]
        assert w.post(one, "/help/chat", B, chat)[1] == 303
    assert _tips(db) == 4
    rows = db.execute(text("SELECT client FROM rate_limit")).scalars().all()
    assert len(rows) == 4 and not any(A in r or B in r for r in rows)



def _cmdline(pid: int) -> str:
    with open(f"/proc/{pid}/cmdline") as fh:
        return fh.read().replace("\0", " ")
