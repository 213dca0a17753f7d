"""WebSocket behaviour through the real ASGI app (TestClient): handshake checks, exchange, isolation,
limits, idle close, block.  Both backends (PostgreSQL goes through LISTEN/NOTIFY)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select
from starlette.websockets import WebSocketDisconnect

from harbour.hotline.chat import service
from harbour.hotline.chat.models import ChatSession
from tests.conftest import actor_of
from tests.hotline.chat.conftest import open_advocate, open_visitor, until


def _next_from(ws, sender: str) -> dict:
    while True:
        m = until(ws, "message")
        if m["sender"] == sender:
            return m


def _closed_code(ws) -> int:
    with pytest.raises(WebSocketDisconnect) as info:
        for _ in range(50):
            ws.receive_json()
    return info.value.code


def test_exchange_between_visitor_and_advocate(people, db):
    adv = people.staff("adv")
    people.visitor("v", "fr")
    chat = db.execute(select(ChatSession)).scalar_one()
    vctx, v = open_visitor(people, "v")
    welcome = until(v, "welcome")
    assert welcome["status"] == "queued" and welcome["place"] == 1 and welcome["session"] == chat.id
    actx, a = open_advocate(people, "adv")
    until(a, "welcome")
    _, events = service.take(db, actor=actor_of(adv), chat_id=chat.id)
    people.client.portal.call(_publish, people.client.app, events)
    assert until(v, "status")["status"] == "active"
    assert until(a, "assigned")["session"] == chat.id
    a.send_json({"type": "history", "session": chat.id})
    assert until(a, "history")["reference"] == chat.reference
    v.send_json({"type": "message", "body": "<img src=x onerror=alert(1)>"})
    assert _next_from(a, "visitor")["body"] == "<img src=x onerror=alert(1)>"
    a.send_json({"type": "message", "session": chat.id, "body": "Bonjour, je suis là."})
    assert _next_from(v, "advocate")["body"] == "Bonjour, je suis là."
    v.send_json({"type": "close"})
    assert _closed_code(v) == 1000
    actx.__exit__(None, None, None)
    vctx.__exit__(None, None, None)
    db.expire_all()
    assert db.get(ChatSession, chat.id).close_reason == "visitor_left"


async def _publish(app, events):
    from harbour.hotline.chat.ws import publish_all

    await publish_all(app, events)


def test_place_updates_when_the_queue_moves(people, db):
    adv = people.staff("adv")
    people.visitor("first")
    people.visitor("second")
    first, second = db.execute(select(ChatSession).order_by(ChatSession.id)).scalars().all()
    ctx, v = open_visitor(people, "second")
    assert until(v, "welcome")["place"] == 2
    _, events = service.take(db, actor=actor_of(adv), chat_id=first.id)
    people.client.portal.call(_publish, people.client.app, events)
    assert until(v, "place")["place"] == 1
    ctx.__exit__(None, None, None)


def test_a_visitor_hears_only_when_their_own_place_changes(people, db):
    """One recount of the queue per change, and a frame only for the visitors whose place moved."""
    adv = people.staff("adv")
    for name in ("a", "b", "c", "d"):
        people.visitor(name)
    a, b, c, d = db.execute(select(ChatSession).order_by(ChatSession.id)).scalars().all()
    ctx, v = open_visitor(people, "c")
    assert until(v, "welcome")["place"] == 3

    def take(chat):
        _, events = service.take(db, actor=actor_of(adv), chat_id=chat.id)
        people.client.portal.call(_publish, people.client.app, events)

    take(a)
    assert until(v, "place") == {"type": "place", "session": c.id, "place": 2}
    take(d)  # behind c: c's place does not change, so c hears nothing
    take(b)
    assert v.receive_json() == {"type": "place", "session": c.id, "place": 1}
    ctx.__exit__(None, None, None)


def test_a_visitor_cannot_read_another_visitors_chat(people, db, settings):
    people.staff("adv")
    people.visitor("a")
    people.visitor("b")
    chat_a, chat_b = db.execute(select(ChatSession).order_by(ChatSession.id)).scalars().all()
    service.post_visitor_message(db, settings, chat_id=chat_a.id, body="secret of A")
    ctx, b = open_visitor(people, "b")
    welcome = until(b, "welcome")
    assert welcome["session"] == chat_b.id and welcome["messages"] == []
    ctx.__exit__(None, None, None)
    # a made-up chat cookie gets nothing
    people.use("b")
    people.client.cookies.set("harbour_chat", "forged-value")
    with people.client.websocket_connect("/help/chat/ws", headers={"origin": "http://testserver"}) as ws:
        assert _closed_code(ws) == 4401


def test_handshake_refuses_foreign_origin_and_bad_csrf(people):
    people.staff("adv")
    people.visitor("v")
    people.use("v")
    with pytest.raises(WebSocketDisconnect) as info:
        with people.client.websocket_connect("/help/chat/ws", headers={"origin": "https://evil.example"}) as ws:
            ws.receive_json()
    assert info.value.code == 4403
    with pytest.raises(WebSocketDisconnect):
        with people.client.websocket_connect("/help/chat/ws") as ws:  # no Origin at all
            ws.receive_json()
    with people.client.websocket_connect("/help/chat/ws", headers={"origin": "http://testserver"}) as ws:
        ws.send_json({"type": "hello", "csrf": "wrong"})
        assert _closed_code(ws) == 4403
    people.use("adv")
    with people.client.websocket_connect("/console/chat/ws", headers={"origin": "http://testserver"}) as ws:
        ws.send_json({"type": "hello", "csrf": "wrong"})
        assert _closed_code(ws) == 4403


@pytest.mark.parametrize("role", ["provider_staff", "researcher"])
def test_console_socket_only_for_hotline_roles(people, role):
    people.staff("outsider", role=role, available=False)
    people.use("outsider")
    with people.client.websocket_connect("/console/chat/ws", headers={"origin": "http://testserver"}) as ws:
        assert _closed_code(ws) == 4403
    people.use("nobody")
    with people.client.websocket_connect("/console/chat/ws", headers={"origin": "http://testserver"}) as ws:
        assert _closed_code(ws) == 4401


def test_an_advocate_cannot_write_into_a_colleagues_chat(people, db):
    owner = people.staff("owner")
    people.staff("other")
    people.visitor("v")
    chat = db.execute(select(ChatSession)).scalar_one()
    service.take(db, actor=actor_of(owner), chat_id=chat.id)
    ctx, a = open_advocate(people, "other")
    until(a, "welcome")
    a.send_json({"type": "message", "session": chat.id, "body": "not mine"})
    assert until(a, "error")["code"] == "forbidden"
    a.send_json({"type": "history", "session": chat.id})
    assert until(a, "error")["code"] == "forbidden"
    ctx.__exit__(None, None, None)


def test_size_limits(people, db, settings):
    people.staff("adv")
    people.visitor("v")
    ctx, v = open_visitor(people, "v")
    until(v, "welcome")
    v.send_json({"type": "message", "body": "x" * (settings.chat_max_chars + 1)})
    error = until(v, "error")
    assert error["code"] == "too_large" and str(settings.chat_max_chars) in error["message"]
    v.send_text("{" + "x" * (settings.chat_max_chars * 8 + 600))
    assert _closed_code(v) == 1009
    ctx.__exit__(None, None, None)


def test_bad_frames_close_with_4400(people):
    people.staff("adv")
    people.visitor("v")
    ctx, v = open_visitor(people, "v")
    until(v, "welcome")
    v.send_text("not json")
    assert _closed_code(v) == 4400
    ctx.__exit__(None, None, None)


@pytest.mark.chat_settings(chat_rate_messages=3, chat_rate_seconds=60)
def test_rate_limit_refuses_then_disconnects(people, db):
    people.staff("adv")
    people.visitor("v")
    ctx, v = open_visitor(people, "v")
    until(v, "welcome")
    for i in range(3):
        v.send_json({"type": "message", "body": f"m{i}"})
    v.send_json({"type": "message", "body": "one too many"})
    assert until(v, "error")["code"] == "rate_limited"
    for i in range(3):
        v.send_json({"type": "message", "body": f"flood {i}"})
    assert _closed_code(v) == 4429
    ctx.__exit__(None, None, None)
    chat = db.execute(select(ChatSession)).scalar_one()
    assert [m.body for m in service.messages(db, chat_id=chat.id)] == ["m0", "m1", "m2"]


@pytest.mark.chat_settings(chat_idle_seconds=1)
def test_idle_visitor_is_told_and_disconnected(people, db):
    adv = people.staff("adv")
    people.visitor("v")
    chat = db.execute(select(ChatSession)).scalar_one()
    ctx, v = open_visitor(people, "v")
    until(v, "welcome")
    _, events = service.take(db, actor=actor_of(adv), chat_id=chat.id)
    people.client.portal.call(_publish, people.client.app, events)
    notice = None
    while True:  # the sweeper (every 0.5 s here) closes it after 1 s without a visitor message
        frame = v.receive_json()
        if frame["type"] == "message" and frame["sender"] == "system" and frame["body"] == "idle":
            notice = frame
        if frame["type"] == "status" and frame["status"] == "closed":
            break
    assert notice is not None and frame["reason"] == "idle"
    assert _closed_code(v) == 1000
    ctx.__exit__(None, None, None)


def test_block_disconnects_and_refuses_a_new_chat(people, db, settings):
    adv = people.staff("adv")
    people.visitor("v")
    chat = db.execute(select(ChatSession)).scalar_one()
    service.take(db, actor=actor_of(adv), chat_id=chat.id)
    ctx, v = open_visitor(people, "v")
    until(v, "welcome")
    token = people.csrf("adv", "/console/chat")
    r = people.client.post(f"/console/chat/{chat.id}/block", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303
    assert until(v, "status")["reason"] == "blocked"
    ctx.__exit__(None, None, None)
    people.use("v")
    page = people.client.get("/help/chat")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = people.client.post("/help/chat", data={"language": "en", "csrf_token": token})
    assert r.status_code == 403 and settings.hotline_phone in r.text


@pytest.mark.chat_settings(chat_rate_messages=2, chat_rate_seconds=60)
def test_advocate_limit_is_per_chat(people, db):
    adv = people.staff("adv")
    people.visitor("v1")
    people.visitor("v2")
    one, two = db.execute(select(ChatSession).order_by(ChatSession.id)).scalars().all()
    for chat in (one, two):
        service.take(db, actor=actor_of(adv), chat_id=chat.id)
    ctx, a = open_advocate(people, "adv")
    until(a, "welcome")
    for body in ("a1", "a2", "a3"):
        a.send_json({"type": "message", "session": one.id, "body": body})
    assert until(a, "error")["code"] == "rate_limited"
    a.send_json({"type": "message", "session": two.id, "body": "b1"})  # the other chat is not held up
    while until(a, "message")["body"] != "b1":
        pass
    ctx.__exit__(None, None, None)
    assert [m.body for m in service.messages(db, chat_id=two.id) if m.sender == "advocate"] == ["b1"]
    assert [m.body for m in service.messages(db, chat_id=one.id) if m.sender == "advocate"] == ["a1", "a2"]
