"""Running processes that may encrypt, as they report themselves (read by key rotation and ``keys check``).

Each server worker, and each ``harbour`` command that opens the database, keeps a row in ``key_worker``:
which keys its ring holds, which is primary, and which keys it may still write with (``crypto.writes_with``:
the primary now and the primary at the start of every transaction still open).  A background thread
looks at the key file four times a second and reports at once when its keys change, and at least every
``HARBOUR_KEY_HEARTBEAT_SECONDS``; a clean exit removes the row; a row not refreshed for three intervals
belongs to a process that is gone.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
from datetime import timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from harbour.core import crypto
from harbour.core.db import utcnow
from harbour.core.models import KeyWorker

log = logging.getLogger("harbour.keys")
TICK = 0.25  # how often the thread looks at the key file and the keys in use


def stale_after(interval: float) -> timedelta:
    """A process whose row is older than this has stopped (or is stuck)."""
    return timedelta(seconds=3 * interval + 2)


class Presence:
    """This process's row in ``key_worker``, refreshed by a daemon thread."""

    def __init__(self, engine: Engine, *, kind: str, interval: float):
        self.engine, self.kind, self.interval = engine, kind, interval
        self.id = f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(4)}"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.started_at = utcnow()
        self._reported: tuple | None = None
        self._beat_at = 0.0

    def _state(self) -> tuple:
        ring = crypto.refresh(force=True)
        return tuple(ring.key_ids), tuple(crypto.writes_with())

    def beat(self) -> None:
        from harbour.ops.metrics import time_job

        with time_job("key_heartbeat"):
            self._beat()

    def _beat(self) -> None:
        key_ids, writes = self._state()
        values = {"primary_key_id": key_ids[0], "key_ids": list(key_ids), "writes_with": list(writes),
                  "seen_at": utcnow()}
        with self.engine.begin() as conn:
            done = conn.execute(update(KeyWorker).where(KeyWorker.id == self.id).values(**values)).rowcount
            if not done:
                conn.execute(insert(KeyWorker).values(id=self.id, kind=self.kind, host=socket.gethostname()[:255],
                                                      pid=os.getpid(), started_at=self.started_at, **values))
        self._reported, self._beat_at = (key_ids, writes), time.monotonic()

    def _run(self) -> None:
        """Report every ``interval``, and at once when the ring or the keys in use change (a rotation waits
        on that, so it goes as fast as the workers follow)."""
        while not self._stop.wait(min(TICK, self.interval)):
            try:
                if self._state() != self._reported or time.monotonic() - self._beat_at >= self.interval:
                    self.beat()
            except Exception:  # noqa: BLE001 - the database may be briefly away; report again next time
                log.warning("could not report this process's keys; trying again", exc_info=True)

    def start(self) -> Presence:
        self.beat()
        self._thread = threading.Thread(target=self._run, name="harbour-key-heartbeat", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        try:
            with self.engine.begin() as conn:
                conn.execute(delete(KeyWorker).where(KeyWorker.id == self.id))
        except Exception:  # noqa: BLE001 - on the way out; the row goes stale on its own
            log.warning("could not remove this process's key report", exc_info=True)


def live_workers(engine: Engine, *, interval: float | None = None) -> list[KeyWorker]:
    """Processes that reported within the last three heartbeats."""
    from harbour.core.config import get_settings

    interval = interval if interval is not None else get_settings().key_heartbeat_seconds
    since = utcnow() - stale_after(interval)
    with engine.connect() as conn:
        t = KeyWorker.__table__
        rows = conn.execute(select(t).where(t.c.seen_at >= since).order_by(t.c.started_at))
        return [KeyWorker(**dict(r._mapping)) for r in rows]
