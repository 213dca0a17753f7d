"""Chat times read one way (issue 13): every line of a chat shows when it was sent in the reader's zone and
language, written by the server (Babel), whether it came with the page or arrived over the socket.  Before,
the history the page rendered showed the server's clock and new lines the browser's own clock."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from harbour.core import formats, timezones
from harbour.core.models import User
from harbour.hotline.chat import service
from harbour.hotline.chat.models import ChatMessage, ChatSession
from tests.conftest import actor_of
from tests.hotline.chat.conftest import open_advocate, open_visitor, until
from tests.hotline.chat.test_ws import _next_from, _publish

CHAT_JS = Path(__file__).resolve().parents[3] / "src" / "harbour" / "web" / "static" / "chat.js"


def test_socket_and_page_show_the_same_time_in_the_readers_zone(people, db):
    adv = people.staff("adv")
    db.get(User, adv.id).time_zone = "America/Vancouver"  # the advocate works from Vancouver
    db.commit()
    people.visitor("v", "fr")
    chat = db.execute(select(ChatSession)).scalar_one()
    vctx, v = open_visitor(people, "v")
    until(v, "welcome")
    actx, a = open_advocate(people, "adv")
    until(a, "welcome")
    _, events = service.take(db, actor=actor_of(adv), chat_id=chat.id)
    people.client.portal.call(_publish, people.client.app, events)
    until(a, "assigned")
    v.send_json({"type": "message", "body": "Allô"})
    seen_by_advocate = _next_from(a, "visitor")
    a.send_json({"type": "history", "session": chat.id})
    history = until(a, "history")["messages"]
    a.send_json({"type": "message", "session": chat.id, "body": "Bonjour, je suis là."})
    seen_by_visitor = _next_from(v, "advocate")
    actx.__exit__(None, None, None)
    vctx.__exit__(None, None, None)

    msg = db.get(ChatMessage, seen_by_advocate["id"])
    vancouver = timezones.zone("America/Vancouver", "UTC")
    toronto = timezones.zone(people.client.app.state.settings.time_zone, "UTC")
    # the advocate reads it in their own zone, in English (their page's language)
    assert seen_by_advocate["time"] == formats.time_text(msg.at, vancouver, "en")
    assert re.fullmatch(r"\d{1,2}:\d{2}\u202f[ap]\.m\.", seen_by_advocate["time"])
    assert [m["time"] for m in history if m["id"] == msg.id] == [seen_by_advocate["time"]]
    # the visitor, who has no account, in the deployment's zone and the chat's language (French)
    sent = db.get(ChatMessage, seen_by_visitor["id"])
    assert seen_by_visitor["time"] == formats.time_text(sent.at, toronto, "fr")
    assert re.fullmatch(r"\d{1,2} h \d{2}", seen_by_visitor["time"])

    # the console page renders the same line with the same words
    people.use("adv")
    page = people.client.get("/console/chat").text
    line = re.search(rf'data-id="{msg.id}">.*?<time datetime="[^"]+">([^<]*)</time>', page, re.S)
    assert line and line.group(1) == seen_by_advocate["time"]


def test_the_browser_writes_the_servers_time_never_its_own_clock():
    js = CHAT_JS.read_text(encoding="utf-8")
    assert "m.time" in js
    assert not re.search(r"getHours|getMinutes|toLocaleTimeString|toLocaleString", js)
