"""Publish/subscribe for chat events.

Each server process keeps a local hub: WebSocket handlers subscribe to channels (``chat:<id>``,
``advocate:<user id>``, ``queue``) and get events on an asyncio queue.  How an event reaches the hubs:

* ``LocalBroker`` (SQLite, the single-process embedded default): straight into this process's hub.
* ``PgBroker`` (PostgreSQL): ``NOTIFY harbour_chat`` with the events compressed and encrypted by the key
  ring (any database role may LISTEN; only key holders can read); every worker process ``LISTEN``s on one
  dedicated psycopg 3 async connection and feeds its own hub, so a visitor on one worker and an advocate on
  another see each other's messages.  The publisher's own process also gets its events through LISTEN, so
  every process sees one ordered stream.  A batch of events (a group commit of messages) travels in as few
  notifications as fit under PostgreSQL's payload limit: one round trip and one decryption per worker for
  a whole batch, instead of one per event.

Queue state never lives here: it is in the database, which every worker reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import zlib
from collections import defaultdict

from cryptography.fernet import InvalidToken
from sqlalchemy.engine import make_url

from harbour.core.crypto import keyring

log = logging.getLogger("harbour.chat")
PG_CHANNEL = "harbour_chat"
NOTIFY_LIMIT = 7900  # PostgreSQL refuses NOTIFY payloads of 8000 bytes or more
PACK_BYTES = 5000  # events (JSON, before compression) packed into one notification at most


class Subscription:
    """One connection's view of the hub: the channels it follows and its inbox."""

    def __init__(self, hub: Hub):
        self.hub = hub
        self.channels: set[str] = set()
        self.inbox: asyncio.Queue = asyncio.Queue(maxsize=1000)

    def add(self, channel: str) -> None:
        self.channels.add(channel)
        self.hub.subscribers[channel].add(self)

    def remove(self, channel: str) -> None:
        self.channels.discard(channel)
        subs = self.hub.subscribers.get(channel)
        if subs is not None:
            subs.discard(self)
            if not subs:
                del self.hub.subscribers[channel]

    def close(self) -> None:
        for channel in list(self.channels):
            self.remove(channel)

    async def get(self) -> tuple[str, dict]:
        return await self.inbox.get()


class Hub:
    def __init__(self) -> None:
        self.subscribers: dict[str, set[Subscription]] = defaultdict(set)

    def subscribe(self, *channels: str) -> Subscription:
        sub = Subscription(self)
        for channel in channels:
            sub.add(channel)
        return sub

    def dispatch(self, channel: str, event: dict) -> None:
        for sub in list(self.subscribers.get(channel, ())):
            try:
                sub.inbox.put_nowait((channel, event))
            except asyncio.QueueFull:  # a stuck connection must not hold up the others
                log.warning("chat subscriber inbox full; event dropped for that connection")


class LocalBroker:
    kind = "local"

    def __init__(self) -> None:
        self.hub = Hub()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def publish(self, channel: str, event: dict) -> None:
        self.hub.dispatch(channel, event)

    async def publish_many(self, events: list[tuple[str, dict]]) -> None:
        """Publish in order."""
        for channel, event in events:
            self.hub.dispatch(channel, event)

    def subscribe(self, *channels: str) -> Subscription:
        return self.hub.subscribe(*channels)


class PgBroker(LocalBroker):
    kind = "postgresql"

    def __init__(self, database_url: str) -> None:
        super().__init__()
        url = make_url(database_url).set(drivername="postgresql")
        self.conninfo = url.render_as_string(hide_password=False)
        self._listener = None
        self._publisher = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task | None = None
        self._ready = asyncio.Event()

    async def start(self) -> None:
        import psycopg

        self._listener = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        await self._listener.execute(f"LISTEN {PG_CHANNEL}")
        self._publisher = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
        self._task = asyncio.create_task(self._listen(), name="harbour-chat-listen")

    async def _listen(self) -> None:
        while True:
            try:
                async for note in self._listener.notifies():
                    try:
                        batch = _unpack_current(note.payload)
                    except Exception:  # noqa: BLE001 - a foreign or corrupt payload is skipped, never fatal
                        log.warning("unreadable chat notification skipped")
                        continue
                    for channel, event in batch:
                        self.hub.dispatch(channel, event)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - reconnect after a dropped connection
                log.exception("chat listener lost its connection; reconnecting")
                await asyncio.sleep(1)
                import psycopg

                with contextlib.suppress(Exception):
                    await self._listener.close()
                self._listener = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
                await self._listener.execute(f"LISTEN {PG_CHANNEL}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
        for conn in (self._listener, self._publisher):
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()

    async def publish(self, channel: str, event: dict) -> None:
        await self.publish_many([(channel, event)])

    async def publish_many(self, events: list[tuple[str, dict]]) -> None:
        """Publish in order, in as few notifications as fit (sent one after another on one connection, so
        every listener receives them in this order)."""
        payloads = pack(keyring(), events)
        async with self._lock:
            for payload in payloads:
                try:
                    await self._publisher.execute("SELECT pg_notify(%s, %s)", (PG_CHANNEL, payload))
                except Exception:  # noqa: BLE001 - one reconnect, then let the error show
                    import psycopg

                    with contextlib.suppress(Exception):
                        await self._publisher.close()
                    self._publisher = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True)
                    await self._publisher.execute("SELECT pg_notify(%s, %s)", (PG_CHANNEL, payload))


def _seal(ring, items: list[str]) -> str:
    raw = ("[" + ",".join(items) + "]").encode("utf-8")
    return ring.fernet.encrypt(zlib.compress(raw, 1)).decode("ascii")


def pack(ring, events: list[tuple[str, dict]]) -> list[str]:
    """Events -> encrypted NOTIFY payloads, in order, each under ``NOTIFY_LIMIT``.

    Events are grouped up to ``PACK_BYTES`` of JSON; a group whose sealed form is still too long is split in
    two and retried, down to single events.  A single event too long even alone cannot be sent: it is left
    out and logged (without its content), so that it never costs the rest of its batch.  Chat messages are
    capped at 1,500 characters, which always fits (tested with characters that do not compress)."""
    items = [json.dumps([channel, event], ensure_ascii=False, separators=(",", ":")) for channel, event in events]
    groups: list[list[str]] = []
    size = 0
    for item in items:
        if groups and size + len(item) <= PACK_BYTES:
            groups[-1].append(item)
            size += len(item)
        else:
            groups.append([item])
            size = len(item)
    payloads: list[str] = []
    while groups:
        group = groups.pop(0)
        sealed = _seal(ring, group)
        if len(sealed) <= NOTIFY_LIMIT:
            payloads.append(sealed)
        elif len(group) > 1:
            half = len(group) // 2
            groups[:0] = [group[:half], group[half:]]
        else:
            log.error("a chat event of %d bytes is too large for NOTIFY even alone; not sent", len(group[0]))
    return payloads


def unpack(ring, payload: str) -> list[tuple[str, dict]]:
    raw = zlib.decompress(ring.fernet.decrypt(payload.encode("ascii")))
    return [(channel, event) for channel, event in json.loads(raw)]


def _unpack_current(payload: str) -> list[tuple[str, dict]]:
    """Unpack with this process's ring as it is now: after a key rotation another worker may already seal with
    the new key, so a payload that does not open makes this process re-read its key file once."""
    from harbour.core.crypto import refresh

    try:
        return unpack(keyring(), payload)
    except InvalidToken:
        return unpack(refresh(force=True), payload)


def make_broker(database_url: str) -> LocalBroker:
    if database_url.startswith("postgresql"):
        return PgBroker(database_url)
    return LocalBroker()
