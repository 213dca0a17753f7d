"""Per-client limits on anonymous actions (a tip, a chat start), shared by every worker through the database.

The rule: a client may do at most ``limit`` actions of one kind (a ``bucket``) in any ``window`` seconds,
estimated from two fixed windows (a "sliding window counter"):

    allowed  if  hits_in_this_window + 1 + hits_in_previous_window × (window − elapsed) / window  ≤  limit

Windows start at whole multiples of ``window`` seconds since the epoch; ``elapsed`` is how far into the current
window we are.  Unlike a plain fixed window, acting just before and just after a boundary does not double the
allowance; the estimate assumes the previous window's hits were spread evenly over it.

- Only allowed actions are counted.  A refused attempt changes nothing, so someone who keeps trying is free
  again on schedule: a survivor who retries is never locked out for longer.
- The count is one atomic statement on both databases (SQLite ≥ 3.35, PostgreSQL)::

      INSERT … ON CONFLICT (bucket, client, window_start) DO UPDATE SET hits = rate_limit.hits + 1
      WHERE rate_limit.hits < :cap RETURNING hits

  so two workers can never both take the last place.  It runs in the caller's transaction: a hit counts only
  if the action it guards (the tip, the chat) commits with it.
- ``client`` is a keyed blind index of the address (the key ring's index key, domain "rate"), never the address
  itself.  IPv6 addresses count per /64 network (one device may use any address of its /64); requests without
  a known address share one counter.  The address must be the real client's: behind a reverse proxy that is
  what ``core.proxy`` makes ``request.client``.
- Windows older than the previous one are deleted, at most once a minute per process and bucket.
"""

from __future__ import annotations

import ipaddress
import logging
import threading
import time
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from harbour.core.config import Settings
from harbour.core.crypto import keyring
from harbour.core.errors import HarbourError

log = logging.getLogger(__name__)
PURGE_EVERY = 60.0  # seconds, per process and bucket

_COUNT = text(
    "INSERT INTO rate_limit (bucket, client, window_start, hits) VALUES (:bucket, :client, :window_start, 1) "
    "ON CONFLICT (bucket, client, window_start) DO UPDATE SET hits = rate_limit.hits + 1 "
    "WHERE rate_limit.hits < :cap RETURNING hits")
_PREVIOUS = text("SELECT hits FROM rate_limit WHERE bucket = :bucket AND client = :client "
                 "AND window_start = :window_start")
_PURGE = text("DELETE FROM rate_limit WHERE bucket = :bucket AND window_start < :before")


@dataclass(frozen=True)
class Limit:
    bucket: str
    limit: int
    window: int  # seconds


def tips(settings: Settings) -> Limit:
    """The public tip form (HARBOUR_TIP_LIMIT per HARBOUR_TIP_WINDOW_SECONDS)."""
    return Limit("tip", settings.tip_limit, settings.tip_window_seconds)


def chat_starts(settings: Settings) -> Limit:
    """Anonymous chat starts (HARBOUR_CHAT_START_LIMIT per HARBOUR_CHAT_START_WINDOW_SECONDS)."""
    return Limit("chat_start", settings.chat_start_limit, settings.chat_start_window_seconds)


class RateLimited(HarbourError):
    status_code = 429
    code = "rate_limited"


def client_key(address: str | None) -> str:
    """The blind index a client is counted under (never the address itself)."""
    try:
        ip = ipaddress.ip_address(address or "")
    except ValueError:
        name = address or "unknown"
    else:
        if ip.version == 6 and ip.ipv4_mapped is not None:
            name = str(ip.ipv4_mapped)
        elif ip.version == 6:
            name = str(ipaddress.ip_network(f"{ip}/64", strict=False))
        else:
            name = str(ip)
    return keyring().blind_index(name, domain="rate")


def hit(db: Session, limit: Limit, *, address: str | None, now: float | None = None) -> bool:
    """Count one action of ``address`` and return True, or return False (nothing counted) if over the limit.
    The count is part of ``db``'s transaction: the caller commits it with the action."""
    now = int(time.time() if now is None else now)
    start = now - now % limit.window
    client = client_key(address)
    _purge_if_due(db, limit, now=now)
    previous = db.execute(_PREVIOUS, {"bucket": limit.bucket, "client": client,
                                      "window_start": start - limit.window}).scalar() or 0
    # hits_now + 1 + previous × (window − elapsed) / window ≤ limit, in integers: hits_now < cap
    cap = (limit.limit * limit.window - previous * (limit.window - (now - start))) // limit.window
    if cap < 1:
        return False
    hits = db.execute(_COUNT, {"bucket": limit.bucket, "client": client, "window_start": start,
                               "cap": cap}).scalar()
    return hits is not None


def enforce(db: Session, limit: Limit, *, address: str | None, message: str, now: float | None = None) -> None:
    """``hit``, raising ``RateLimited(message)`` (429) when over the limit."""
    if not hit(db, limit, address=address, now=now):
        raise RateLimited(message)


def purge(db_or_connection, limit: Limit, *, now: float | None = None) -> int:
    """Delete this bucket's windows older than the previous one; returns how many rows went."""
    now = int(time.time() if now is None else now)
    before = now - now % limit.window - limit.window
    return db_or_connection.execute(_PURGE, {"bucket": limit.bucket, "before": before}).rowcount


_last_purge: dict[str, float] = {}
_purge_lock = threading.Lock()


def _purge_if_due(db: Session, limit: Limit, *, now: int) -> None:
    with _purge_lock:
        if time.monotonic() - _last_purge.get(limit.bucket, float("-inf")) < PURGE_EVERY:
            return
        _last_purge[limit.bucket] = time.monotonic()
    engine = db.get_bind()
    if engine.dialect.name == "sqlite":
        purge(db, limit, now=now)  # in the caller's transaction: SQLite has a single writer anyway
        return
    try:  # PostgreSQL: a short transaction of its own, holding no lock a request waits for
        with engine.begin() as conn:
            purge(conn, limit, now=now)
    except DBAPIError as exc:  # e.g. two workers purging at once; the next purge catches up
        log.warning("rate_limit purge skipped: %s", type(exc).__name__)
