"""Across server processes: two real uvicorn workers on loopback against the PostgreSQL test database.
A visitor connected to worker 1 and an advocate connected to worker 2 exchange messages through
PostgreSQL LISTEN/NOTIFY; both workers agree on the queue because it lives in the database."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest
import websockets

from tests.conftest import PASSWORD, run_async
from tests.servers import cookie_header, next_frame

pytestmark = [pytest.mark.slow, pytest.mark.pg_only]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(settings, port: int) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARBOUR_")}
    env.update({"HARBOUR_DATABASE_URL": settings.database_url, "HARBOUR_KEY_FILE": str(settings.key_file),
                "HARBOUR_BASE_URL": f"http://127.0.0.1:{port}"})
    return subprocess.Popen([sys.executable, "-m", "uvicorn", "harbour.app:create_app", "--factory", "--host",
                             "127.0.0.1", "--port", str(port), "--log-level", "warning"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait(base: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("worker exited: " + proc.stderr.read().decode(errors="replace")[-2000:])
        try:
            if httpx.get(base + "/help", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("worker did not start")


async def _journey(w1: str, w2: str, advocate_username: str) -> None:
    # the advocate signs in on worker 2 and goes on duty there
    adv = httpx.Client(base_url=w2, follow_redirects=False)
    token = re.search(r'name="csrf_token" value="([^"]+)"', adv.get("/login").text).group(1)
    assert adv.post("/login", data={"username": advocate_username, "password": PASSWORD, "csrf_token": token,
                                    "next": "/console"}).status_code == 303
    csrf = re.search(r'data-csrf="([^"]+)"', adv.get("/console/chat").text).group(1)
    assert adv.post("/console/chat/availability", data={"available": "on", "csrf_token": csrf}).status_code == 303
    # the visitor, on worker 1, sees chat open (the availability is in the database) and starts one
    vis = httpx.Client(base_url=w1, follow_redirects=False)
    page = vis.get("/help/chat")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert vis.post("/help/chat", data={"language": "fr", "csrf_token": token}).status_code == 303
    async with websockets.connect(w1.replace("http", "ws") + "/help/chat/ws", origin=w1,
                                  additional_headers={"Cookie": cookie_header(vis)}) as v, \
            websockets.connect(w2.replace("http", "ws") + "/console/chat/ws", origin=w2,
                               additional_headers={"Cookie": cookie_header(adv)}) as a:
        await v.send(json.dumps({"type": "hello", "csrf": vis.cookies.get("harbour_csrf")}))
        await a.send(json.dumps({"type": "hello", "csrf": csrf}))
        welcome = await next_frame(v, lambda f: f["type"] == "welcome")
        assert welcome["status"] == "queued" and welcome["place"] == 1
        await next_frame(a, lambda f: f["type"] == "welcome")
        # worker 2 lists the chat worker 1 queued, and the advocate takes it there
        assert f'/console/chat/{welcome["session"]}/take' in adv.get("/console/chat/queue").text
        assert adv.post(f'/console/chat/{welcome["session"]}/take', data={"csrf_token": csrf}).status_code == 303
        assert (await next_frame(v, lambda f: f["type"] == "status"))["status"] == "active"  # worker 2 -> worker 1
        await next_frame(a, lambda f: f["type"] == "assigned")
        await v.send(json.dumps({"type": "message", "body": "Bonjour depuis le worker 1 <b>?</b>"}))
        got = await next_frame(a, lambda f: f["type"] == "message" and f["sender"] == "visitor")
        assert got["body"] == "Bonjour depuis le worker 1 <b>?</b>"
        await a.send(json.dumps({"type": "message", "session": welcome["session"], "body": "Salut du worker 2"}))
        got = await next_frame(v, lambda f: f["type"] == "message" and f["sender"] == "advocate")
        assert got["body"] == "Salut du worker 2"
        await v.send(json.dumps({"type": "close"}))
        closed = await next_frame(a, lambda f: f["type"] == "status")
        assert closed["status"] == "closed" and closed["reason"] == "visitor_left"
    adv.close()
    vis.close()


def test_visitor_on_one_worker_and_advocate_on_another(settings, make_user):
    if settings.is_sqlite:
        pytest.skip("several workers need PostgreSQL (LISTEN/NOTIFY); SQLite is the single-process default")
    user = make_user("hotline_advocate")
    ports = [_free_port(), _free_port()]
    procs = [_start(settings, port) for port in ports]
    try:
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base, proc in zip(bases, procs, strict=True):
            _wait(base, proc)
        run_async(_journey(bases[0], bases[1], user.username))
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
