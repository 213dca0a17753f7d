"""The chat broker: how a batch of events is packed into PostgreSQL notifications, and that every listener
gets every event of a batch, in order (SQLite: the in-process hub; PostgreSQL: real LISTEN/NOTIFY)."""

from __future__ import annotations

import asyncio
import random

import pytest

from harbour.core.crypto import keyring
from harbour.hotline.chat import broker as chat_broker
from harbour.hotline.chat.broker import NOTIFY_LIMIT, make_broker, pack, unpack
from tests.conftest import run_async


def _events(count: int, body: str = "A fictional message. " * 10) -> list[tuple[str, dict]]:
    return [(f"chat:{i % 7}", {"type": "message", "session": i % 7, "id": i, "sender": "visitor", "body": body})
            for i in range(count)]


def test_a_batch_packs_into_few_payloads_each_under_the_limit_and_unpacks_in_order(key_file):
    events = _events(300)
    payloads = pack(keyring(), events)
    assert 1 < len(payloads) < 300
    assert all(len(p) <= NOTIFY_LIMIT for p in payloads)
    assert [e for p in payloads for e in unpack(keyring(), p)] == events


def test_payloads_are_encrypted_not_readable(key_file):
    [payload] = pack(keyring(), [("chat:1", {"type": "message", "body": "fictional secret words"})])
    assert "fictional" not in payload and "chat:1" not in payload


def test_the_longest_message_fits_even_when_it_does_not_compress(key_file):
    rng = random.Random(5)  # 1,500 random characters outside the Basic Multilingual Plane: 4 UTF-8 bytes each
    events = [("chat:1", {"type": "message", "body": "".join(chr(rng.randrange(0x10000, 0x10FFFF))
                                                              for _ in range(1500))}) for _ in range(3)]
    payloads = pack(keyring(), events)
    assert len(payloads) == 3 and all(len(p) <= NOTIFY_LIMIT for p in payloads)
    assert [e for p in payloads for e in unpack(keyring(), p)] == events


def test_an_event_that_can_never_fit_is_left_out_without_costing_the_rest_of_its_batch(key_file, monkeypatch,
                                                                                      caplog):
    monkeypatch.setattr(chat_broker, "NOTIFY_LIMIT", 400)
    huge = ("chat:1", {"type": "message", "body": "".join(chr(0x4E00 + (i * 7919) % 20000) for i in range(400))})
    small = [("chat:1", {"type": "message", "id": i}) for i in range(3)]
    payloads = pack(keyring(), [small[0], huge, small[1], small[2]])
    assert all(len(p) <= 400 for p in payloads)
    assert [e for p in payloads for e in unpack(keyring(), p)] == small
    assert "too large for NOTIFY" in caplog.text and "\u4e00" not in caplog.text and chr(0x4E00) not in caplog.text


def test_a_payload_from_another_key_is_refused(key_file):
    from cryptography.fernet import Fernet, InvalidToken

    foreign = Fernet(Fernet.generate_key()).encrypt(b"[]").decode()
    with pytest.raises(InvalidToken):
        unpack(keyring(), foreign)


def test_every_listener_gets_the_whole_batch_in_order(settings):
    """On PostgreSQL two brokers stand for two worker processes: what one publishes, both receive."""

    async def scenario():
        a, b = make_broker(settings.database_url), make_broker(settings.database_url)
        await a.start()
        await b.start()
        try:
            subs = [a.subscribe("chat:1", "chat:2"), b.subscribe("chat:1", "chat:2")]
            events = [(f"chat:{1 + i % 2}", {"type": "message", "id": i, "body": "Fictional words " * 20})
                      for i in range(120)]
            await a.publish_many(events)
            await a.publish("chat:2", {"type": "status", "status": "closed"})
            for sub in subs:
                got = [await asyncio.wait_for(sub.get(), 10) for _ in range(121)]
                assert got == [*events, ("chat:2", {"type": "status", "status": "closed"})]
            unrelated = b.subscribe("chat:3")
            await a.publish_many([("chat:3", {"type": "message", "id": 1})])
            assert await asyncio.wait_for(unrelated.get(), 10) == ("chat:3", {"type": "message", "id": 1})
            assert subs[0].inbox.empty() and subs[1].inbox.empty()
        finally:
            await a.stop()
            await b.stop()

    if settings.is_sqlite:  # one process: each broker is its own hub
        async def local():
            broker = make_broker(settings.database_url)
            sub = broker.subscribe("chat:1")
            events = _events(50)
            await broker.publish_many(events)
            got = [await asyncio.wait_for(sub.get(), 1) for _ in range(sub.inbox.qsize())]
            assert got == [e for e in events if e[0] == "chat:1"]
        run_async(local())
        return
    run_async(scenario())
