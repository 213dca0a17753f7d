"""Chat test helpers: one TestClient, with the visitor's and the advocate's cookies swapped in turn."""

from __future__ import annotations

import re

import pytest

from harbour.hotline.chat import service
from tests.conftest import PASSWORD, actor_of, csrf_of

ORIGIN = {"origin": "http://testserver"}


class People:
    def __init__(self, client, db, make_user):
        self.client, self.db, self.make_user = client, db, make_user
        self.jars: dict[str, dict] = {}

    def use(self, name: str) -> None:
        self.client.cookies.clear()
        for key, value in self.jars.get(name, {}).items():
            self.client.cookies.set(key, value)

    def save(self, name: str) -> None:
        self.jars[name] = dict(self.client.cookies.items())

    def staff(self, name: str, role: str = "hotline_advocate", available: bool = True):
        user = self.make_user(role, username=name)
        self.use(name)
        token = csrf_of(self.client, "/login")
        r = self.client.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token,
                                             "next": "/console"}, follow_redirects=False)
        assert r.status_code == 303, r.text
        self.save(name)
        if available:
            service.set_available(self.db, actor=actor_of(user), available=True)
        return user

    def visitor(self, name: str, language: str = "en"):
        self.use(name)
        token = csrf_of(self.client, "/help/chat")
        r = self.client.post("/help/chat", data={"language": language, "csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303, r.text
        self.save(name)
        return self.jars[name]

    def csrf(self, name: str, path: str) -> str:
        self.use(name)
        page = self.client.get(path)
        match = re.search(r'data-csrf="([^"]+)"', page.text)
        assert match, page.text[:500]
        return match.group(1)

    def socket(self, name: str, path: str, page: str):
        token = self.csrf(name, page)
        self.use(name)
        ws = self.client.websocket_connect(path, headers=ORIGIN)
        return ws, token


@pytest.fixture
def people(client, db, make_user):
    return People(client, db, make_user)


def until(ws, kind: str, limit: int = 20) -> dict:
    """Read frames until one of ``kind`` arrives (others are skipped)."""
    for _ in range(limit):
        frame = ws.receive_json()
        if frame.get("type") == kind:
            return frame
    raise AssertionError(f"no {kind} frame")


def open_visitor(people, name: str):
    ws, token = people.socket(name, "/help/chat/ws", "/help/chat/room")
    conn = ws.__enter__()
    conn.send_json({"type": "hello", "csrf": token})
    return ws, conn


def open_advocate(people, name: str):
    ws, token = people.socket(name, "/console/chat/ws", "/console/chat")
    conn = ws.__enter__()
    conn.send_json({"type": "hello", "csrf": token})
    return ws, conn


@pytest.fixture
def settings(settings, backend, request):  # `backend` named so pytest 8 parametrizes the override
    """Per-test chat settings: ``@pytest.mark.chat_settings(chat_idle_seconds=1)``."""
    marker = request.node.get_closest_marker("chat_settings")
    for key, value in (marker.kwargs if marker else {}).items():
        setattr(settings, key, value)
    return settings


def pytest_configure(config):
    config.addinivalue_line("markers", "chat_settings(**values): chat settings for one test")
