"""Running processes that may encrypt, as they report themselves (read by key rotation and ``keys check``).

Each server worker, and each ``harbour`` command that opens the database, keeps a row in ``key_worker``:
which keys its ring holds, which is primary, and which keys it may still write with (``crypto.writes_with``:
the primary now and the primary at the start of every transaction still open).  A background thread
re-reads the key file and reports every ``HARBOUR_KEY_HEARTBEAT_SECONDS``; a clean exit removes the row; a
row not refreshed for three intervals belongs to a process that is gone.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from datetime import timedelta

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Engine

from harbour.core import crypto
from harbour.core.db import utcnow
from harbour.core.models import KeyWorker

log = logging.getLogger("harbour.keys")


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

    def beat(self) -> None:
        from harbour.ops.metrics import time_job

        with time_job("key_heartbeat"):
            self._beat()

    def _beat(self) -> None:
        ring = crypto.refresh(force=True)
        values = {"primary_key_id": ring.primary_id, "key_ids": ring.key_ids, "writes_with": crypto.writes_with(),
                  "seen_at": utcnow()}
        with self.engine.begin() as conn:
            done = conn.execute(update(KeyWorker).where(KeyWorker.id == self.id).values(**values)).rowcount
            if not done:
                conn.execute(insert(KeyWorker).values(id=self.id, kind=self.kind, host=socket.gethostname()[:255],
                                                      pid=os.getpid(), started_at=self.started_at, **values))

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.beat()
            except Exception:  # noqa: BLE001 - the database may be briefly away; report again next time
                log.warning("could not report this process's keys; trying again", exc_info=True)

    def start(self) -> Presence:
        self.beat()
        self._thread = threading.Thread(target=self._run, name="harbour-key-heartbeat", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
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
