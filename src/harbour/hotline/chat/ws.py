"""WebSocket endpoints: the visitor's chat (/help/chat/ws) and the advocate's console (/console/chat/ws).

Handshake: the Origin header must be this site's; the first frame must be ``{"type": "hello", "csrf": ...}``
carrying the page's CSRF token (the anonymous cookie's for visitors, the sign-in session's for advocates).
Close codes: 4400 bad frame, 4401 no chat / not signed in, 4403 refused (origin, CSRF, role), 4408 no hello,
4429 too many messages, 1009 frame too large, 1000 chat over.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import time
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.concurrency import run_in_threadpool

from harbour.core import formats, i18n, timezones
from harbour.core.choices import HOTLINE_ROLES
from harbour.core.errors import HarbourError
from harbour.core.security import CSRF_COOKIE, SESSION_COOKIE, load_session
from harbour.hotline.chat import service
from harbour.hotline.chat.broker import LocalBroker, make_broker
from harbour.hotline.chat.choices import ChatStatus
from harbour.ops.metrics import time_job

log = logging.getLogger("harbour.chat")
CHAT_COOKIE = "harbour_chat"
HELLO_SECONDS = 10
PING_WRITE_SECONDS = 20  # at most one "still here" database write per connection per this many seconds


async def _sweeper(app) -> None:
    settings = app.state.settings
    interval = min(15.0, max(0.5, settings.chat_idle_seconds / 4))
    while True:
        await asyncio.sleep(interval)
        try:
            with time_job("chat_sweep"):
                events = await run_in_threadpool(_in_session, app, lambda db: service.sweep(db, settings))
            await publish_all(app, events)
        except Exception:  # noqa: BLE001 - housekeeping must never stop
            log.exception("chat sweep failed")


class MessageWriter:
    """Stores chat messages for every connection of this process through one queue: whatever arrives while a
    batch is being written goes into the next batch, one transaction and one commit each (group commit).
    On SQLite every commit waits for the disk; one commit per message would cap the whole process at a few
    dozen messages a second under load.  Events are published only after their batch is committed."""

    MAX_BATCH = 200

    def __init__(self, app):
        self.app = app
        self.queue: asyncio.Queue = asyncio.Queue()
        self.task: asyncio.Task | None = None

    def start(self) -> None:
        if self.task is None or self.task.done():
            self.task = asyncio.create_task(self._run(), name="harbour-chat-writer")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task

    async def submit(self, actor, chat_id: int, body) -> None:
        """Store one message (raises the HarbourError that refused it) and publish it."""
        self.start()
        future = asyncio.get_running_loop().create_future()
        self.queue.put_nowait(((actor, chat_id, body), future))
        await future

    async def _run(self) -> None:
        settings = self.app.state.settings
        while True:
            batch = [await self.queue.get()]
            while not self.queue.empty() and len(batch) < self.MAX_BATCH:
                batch.append(self.queue.get_nowait())
            items = [item for item, _future in batch]
            try:
                with time_job("chat_message_batch"):
                    results = await run_in_threadpool(
                        _in_session, self.app, lambda db, items=items: service.post_messages(db, settings, items))
            except Exception as exc:  # noqa: BLE001 - every sender in the batch hears about it
                log.exception("chat message batch failed")
                for _item, future in batch:
                    if not future.done():
                        future.set_exception(exc)
                continue
            events = []
            for (_item, future), (msg, error) in zip(batch, results, strict=True):
                if error is not None:
                    if not future.done():
                        future.set_exception(error)
                    continue
                events.append((service.ch_chat(msg.session_id), service.message_event(msg)))
                if not future.done():
                    future.set_result(None)
            with contextlib.suppress(Exception):
                await publish_all(self.app, events)


class QueuePlaces:
    """Tells every waiting visitor of this process their new place when the queue moves.

    One per process, subscribed to the queue channel: each change costs one query for the whole queue
    (changes that arrive while it runs are folded into the next one), and a visitor hears only when their own
    place changed.  Letting each waiting visitor re-count the queue on every change cost one query per visitor
    per change: quadratic in the queue's length (200 waiting chats took minutes to set up)."""

    def __init__(self, app):
        self.app = app
        self.task: asyncio.Task | None = None
        self.sent: dict[int, int] = {}

    def start(self) -> None:
        if self.task is None or self.task.done():
            sub = get_broker(self.app).subscribe(service.QUEUE)
            self.task = asyncio.create_task(self._run(sub), name="harbour-chat-queue-places")

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(BaseException):
                await self.task

    async def _run(self, sub) -> None:
        hub = get_broker(self.app).hub
        try:
            while True:
                await sub.get()
                while not sub.inbox.empty():  # one recount for every change that has arrived meanwhile
                    sub.inbox.get_nowait()
                try:
                    with time_job("chat_queue_recount"):
                        order = await run_in_threadpool(_in_session, self.app, service.queued_ids)
                except Exception:  # noqa: BLE001 - the next change (or the sweeper's) recounts
                    log.exception("chat queue recount failed")
                    continue
                places = {chat_id: place for place, chat_id in enumerate(order, start=1)}
                for chat_id, place in places.items():
                    if self.sent.get(chat_id) != place:
                        hub.dispatch(service.ch_chat(chat_id), {"type": "place", "session": chat_id, "place": place})
                self.sent = places
        finally:
            sub.close()


def get_queue_places(app) -> QueuePlaces:
    places = getattr(app.state, "chat_queue_places", None)
    if places is None:
        places = app.state.chat_queue_places = QueuePlaces(app)
    return places


def get_writer(app) -> MessageWriter:
    writer = getattr(app.state, "chat_writer", None)
    if writer is None:
        writer = app.state.chat_writer = MessageWriter(app)
    return writer


@asynccontextmanager
async def lifespan(app):
    broker = make_broker(app.state.settings.database_url)
    await broker.start()
    app.state.chat_broker = broker
    writer, places = get_writer(app), get_queue_places(app)
    writer.start()
    places.start()
    task = asyncio.create_task(_sweeper(app), name="harbour-chat-sweeper")
    try:
        yield
    finally:
        await writer.stop()
        await places.stop()
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        await broker.stop()


router = APIRouter(include_in_schema=False, lifespan=lifespan)


def get_broker(app) -> LocalBroker:
    broker = getattr(app.state, "chat_broker", None)
    if broker is None:  # an application started without its lifespan (a bare TestClient): one process only
        broker = app.state.chat_broker = LocalBroker()
    return broker


async def publish_all(app, events) -> None:
    if events:
        await get_broker(app).publish_many(events)


def _in_session(app, fn):
    db = app.state.sessionmaker()
    try:
        return fn(db)
    finally:
        db.close()


def origin_ok(websocket: WebSocket) -> bool:
    """Cross-site WebSocket hijacking guard: the page that opens the socket must be ours."""
    origin = websocket.headers.get("origin")
    if not origin:
        return False
    netloc = urlsplit(origin).netloc
    allowed = {websocket.headers.get("host", ""), urlsplit(websocket.app.state.settings.base_url).netloc}
    return netloc in allowed


class Limiter:
    """Per-connection sliding window; a sender far over the limit is disconnected."""

    def __init__(self, limit: int, seconds: int):
        self.limit, self.seconds, self.hits = limit, seconds, []

    def check(self) -> str:
        now = time.monotonic()
        self.hits = [t for t in self.hits if now - t < self.seconds]
        self.hits.append(now)
        if len(self.hits) > 2 * self.limit:
            return "close"
        return "refuse" if len(self.hits) > self.limit else "ok"


def _with_times(event: dict, tz, lang: str) -> dict:
    """A message event (or a welcome/history list of them) with ``time``: when it was sent, as this reader reads
    it (their zone, their page's language, Babel's format).  The console writes the history it renders with
    the same function, so every line of a chat shows its time the same way."""
    if event.get("type") == "message" and event.get("at"):
        return event | {"time": formats.time_text(event["at"], tz, lang)}
    if isinstance(event.get("messages"), list):
        return event | {"messages": [_with_times(m | {"type": "message"}, tz, lang) for m in event["messages"]]}
    return event


def _t(lang: str, message: str, **params) -> str:
    token = i18n.set_language(lang)
    try:
        return i18n.gettext(message, **params)
    finally:
        i18n.reset_language(token)


async def _close(websocket: WebSocket, code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await websocket.close(code=code, reason=reason[:120])


async def _hello(websocket: WebSocket, expected: list[str]) -> bool:
    try:
        raw = await asyncio.wait_for(websocket.receive_text(), HELLO_SECONDS)
    except TimeoutError:
        await _close(websocket, 4408, "hello expected")
        return False
    try:
        frame = json.loads(raw)
        sent = frame.get("csrf") if frame.get("type") == "hello" else None
    except (ValueError, AttributeError):
        sent = None
    if not isinstance(sent, str) or not any(t and hmac.compare_digest(sent, t) for t in expected):
        await _close(websocket, 4403, "csrf")
        return False
    return True


async def _receive_frames(websocket: WebSocket, settings, lang: str, handle, per_chat: bool = False) -> None:
    """Read client frames, enforcing size and rate limits, and hand each one to ``handle``.

    A visitor's connection carries one chat: one limit.  An advocate's connection carries all their chats:
    the same limit applies to each chat (``per_chat``), with the connection's overall ceiling at 10 chats' worth."""
    limiters: dict = {}
    overall = Limiter(settings.chat_rate_messages * 10, settings.chat_rate_seconds) if per_chat else None
    max_frame = settings.chat_max_chars * 8 + 512
    while True:
        raw = await websocket.receive_text()
        if len(raw) > max_frame:
            await _close(websocket, 1009, _t(lang, i18n.N_("Message too large.")))
            return
        try:
            frame = json.loads(raw)
            if not isinstance(frame, dict) or not isinstance(frame.get("type"), str):
                raise ValueError
        except ValueError:
            await _close(websocket, 4400, "bad frame")
            return
        if frame["type"] == "message":
            key = frame.get("session") if per_chat and isinstance(frame.get("session"), int) else None
            limiter = limiters.get(key)
            if limiter is None:
                if len(limiters) > 100:
                    limiters.clear()
                limiter = limiters[key] = Limiter(settings.chat_rate_messages, settings.chat_rate_seconds)
            verdict = limiter.check()
            if overall is not None and verdict == "ok":
                verdict = overall.check()
            if verdict == "close":
                await _close(websocket, 4429, _t(lang, i18n.N_("Too many messages.")))
                return
            if verdict == "refuse":
                await websocket.send_json({"type": "error", "code": "rate_limited", "message": _t(
                    lang, i18n.N_("You are sending messages too quickly. Please wait a moment."))})
                continue
        try:
            await handle(frame)
        except HarbourError as exc:
            await websocket.send_json({"type": "error", "code": exc.code,
                                       "message": _t(lang, exc.message, **exc.params)})


async def _run(websocket: WebSocket, reader, writer) -> None:
    tasks = [asyncio.create_task(reader), asyncio.create_task(writer)]
    try:
        done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            exc = task.exception()
            if exc is not None and not isinstance(exc, WebSocketDisconnect | RuntimeError):
                log.warning("chat connection ended with %s", type(exc).__name__)
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(BaseException):
            await asyncio.gather(*tasks, return_exceptions=True)


# -- visitor --------------------------------------------------------------------
@router.websocket("/help/chat/ws")
async def visitor_socket(websocket: WebSocket):
    app, settings = websocket.app, websocket.app.state.settings
    if not origin_ok(websocket):
        await websocket.close(code=4403, reason="origin")
        return
    await websocket.accept()
    chat = await run_in_threadpool(_in_session, app, lambda db: service.visitor_chat(
        db, websocket.cookies.get(CHAT_COOKIE)))
    if chat is None:
        await _close(websocket, 4401, "no chat")
        return
    if not await _hello(websocket, [websocket.cookies.get(CSRF_COOKIE, "")]):
        return
    chat_id, lang = chat.id, chat.language
    tz = timezones.zone(None, settings.time_zone)  # a visitor has no account: the deployment's zone
    broker = get_broker(app)
    get_queue_places(app).start()
    sub = broker.subscribe(service.ch_chat(chat_id))

    def snapshot(db):
        c = db.get(type(chat), chat_id)
        return c.status, service.queue_place(db, c), [service.message_event(m) for m in
                                                       service.messages(db, chat_id=chat_id)]

    try:
        status, place, history = await run_in_threadpool(_in_session, app, snapshot)
        await websocket.send_json(_with_times({"type": "welcome", "session": chat_id, "status": status,
                                               "place": place, "messages": history}, tz, lang))
        if status == ChatStatus.closed:
            await _close(websocket, 1000, "chat closed")
            return
        last_ping = [time.monotonic()]

        async def handle(frame):
            kind = frame["type"]
            if kind == "message":
                await get_writer(app).submit(None, chat_id, frame.get("body"))
            elif kind == "close":
                events = await run_in_threadpool(_in_session, app, lambda db: service.visitor_close(db, chat_id=chat_id))
                await publish_all(app, events)
            elif kind == "ping":
                if time.monotonic() - last_ping[0] > PING_WRITE_SECONDS:
                    last_ping[0] = time.monotonic()
                    await run_in_threadpool(_in_session, app, lambda db: service.visitor_seen(db, chat_id))
                await websocket.send_json({"type": "pong"})

        async def write():
            while True:
                _channel, event = await sub.get()
                await websocket.send_json(_with_times(event, tz, lang))
                if event.get("type") == "status" and event.get("status") == ChatStatus.closed:
                    await _close(websocket, 1000, "chat closed")
                    return

        await _run(websocket, _receive_frames(websocket, settings, lang, handle), write())
    finally:
        sub.close()


# -- advocate -------------------------------------------------------------------
@router.websocket("/console/chat/ws")
async def advocate_socket(websocket: WebSocket):
    app, settings = websocket.app, websocket.app.state.settings
    if not origin_ok(websocket):
        await websocket.close(code=4403, reason="origin")
        return
    await websocket.accept()

    def who(db):
        ws = load_session(db, settings, websocket.cookies.get(SESSION_COOKIE))
        if ws is None or not ws.mfa_passed:
            return None
        user = ws.user
        return (user.id, user.username, user.role, user.organization, user.preferred_language, ws.csrf_token,
                user.time_zone)

    found = await run_in_threadpool(_in_session, app, who)
    if found is None:
        await _close(websocket, 4401, "sign in")
        return
    from harbour.core.audit import Actor

    actor = Actor(found[0], found[1], found[2], found[3])
    lang = websocket.cookies.get("harbour_lang") if websocket.cookies.get("harbour_lang") in i18n.LANGUAGES else found[4]
    tz = timezones.zone(found[6], settings.time_zone)  # as the console page shows times (core.web.request_zone)
    if actor.role not in HOTLINE_ROLES:
        await _close(websocket, 4403, "role")
        return
    if not await _hello(websocket, [found[5]]):
        return
    mine = await run_in_threadpool(_in_session, app, lambda db: [c.id for c in service.my_chats(db, actor=actor)])
    broker = get_broker(app)
    sub = broker.subscribe(service.ch_advocate(actor.id), service.QUEUE, *[service.ch_chat(i) for i in mine])
    try:
        await websocket.send_json({"type": "welcome", "sessions": mine})
        last_ping = [0.0]

        async def handle(frame):
            kind = frame["type"]
            if kind == "message":
                chat_id = frame.get("session")
                if not isinstance(chat_id, int):
                    raise service.ValidationFailed(i18n.N_("Which chat is this message for?"))
                await get_writer(app).submit(actor, chat_id, frame.get("body"))
            elif kind == "history":
                chat_id = frame.get("session")
                if not isinstance(chat_id, int):
                    raise service.ValidationFailed(i18n.N_("Which chat?"))
                def load(db):
                    chat = service.chat_for_advocate(db, actor=actor, chat_id=chat_id)
                    return chat.reference, chat.status, [service.message_event(m) for m in
                                                         service.messages(db, chat_id=chat_id)]
                reference, status, history = await run_in_threadpool(_in_session, app, load)
                await websocket.send_json(_with_times({"type": "history", "session": chat_id, "reference": reference,
                                                       "status": status, "messages": history}, tz, lang))
            elif kind == "ping":
                if time.monotonic() - last_ping[0] > PING_WRITE_SECONDS:
                    last_ping[0] = time.monotonic()
                    await run_in_threadpool(_in_session, app, lambda db: service.touch(db, actor=actor))
                await websocket.send_json({"type": "pong"})

        async def write():
            while True:
                channel, event = await sub.get()
                kind = event.get("type")
                if kind == "assigned":
                    sub.add(service.ch_chat(event["session"]))
                elif kind == "unassigned":
                    sub.remove(service.ch_chat(event["session"]))
                await websocket.send_json(_with_times(event, tz, lang))

        await _run(websocket, _receive_frames(websocket, settings, lang, handle, per_chat=True), write())
    finally:
        sub.close()
