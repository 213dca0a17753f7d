"""Key rotation under live traffic: re-encrypt every encrypted column under a new key, losing nothing.

The rule: **no process ever writes with a key that may be retired, and no key is retired while anything
encrypted under it remains.**  Workers keep running throughout; they re-read the key file when it changes
(``crypto.refresh``) and report which keys they hold and may still write with (``core.workers``).  The
steps, each of which waits for the running processes before the next:

1. **add** — the new key joins the file after the others, so it decrypts but does not yet encrypt; wait
   until every live process has loaded it (a worker on another host whose copy of the file lacks it stops
   the rotation here, saying so, before anything was written under the new key);
2. **promote** — the new key moves first and encrypts from now on; wait until no live process may still
   write with an old one (no transaction begun under an old primary is still open);
3. **re-encrypt** — every value not under the new key is rewritten, in batches that are each their own
   transaction, with a conditional UPDATE (only if the value is still the one read), so a concurrent edit
   is never overwritten and workers keep writing;
4. **retire** — a last pass over every column must find nothing left under an old key (values written in
   the meantime are rewritten and the pass repeated); the processes are checked once more; only then do
   the old keys leave the file.  The rotation is audited.

Stopped at any point (a timeout, Ctrl-C, a crash), the database still opens with the file as it stands,
and ``harbour keys rotate`` run again continues from where it stopped.  On PostgreSQL the work reads and
writes across agencies (row-level security would otherwise hide agency-owned rows, and a rotation that
cannot see a row would retire the only key that opens it).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Text, and_, column, select, table, text, tuple_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from harbour.core import crypto
from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.config import Settings
from harbour.core.db import make_engine, make_sessionmaker

BATCH = 500


class RotationStopped(RuntimeError):
    """The rotation could not go on (processes not following); nothing was lost, run it again to resume."""


@dataclass
class RotationResult:
    new_key_id: str
    columns: int
    values: int
    retired: list[str]
    resumed: bool = False
    steps: list[str] = field(default_factory=list)


def _newest(ring: crypto.KeyRing) -> dict:
    return max(ring.encryption_keys, key=lambda k: (datetime.fromisoformat(k["created"]), k["id"]))


def _wait(engine: Engine, settings: Settings, ready: Callable, what: str, timeout: float,
          say: Callable[[str], None]) -> None:
    """Wait until ``ready(worker)`` holds for every live process."""
    from harbour.core.workers import live_workers

    deadline = time.monotonic() + timeout
    interval = settings.key_heartbeat_seconds
    announced = False
    while True:
        behind = [w for w in live_workers(engine, interval=interval) if not ready(w)]
        if not behind:
            return
        if time.monotonic() >= deadline:
            names = "; ".join(f"{w.id} ({w.kind}, holds {', '.join(w.key_ids)}, writes with "
                              f"{', '.join(w.writes_with)})" for w in behind)
            raise RotationStopped(
                f"{len(behind)} running process(es) did not {what} within {timeout:g} s: {names}. Nothing was lost "
                f"and the database opens with the key file as it stands. If a process runs on another host, copy "
                f"the key file there; if one is stuck, restart it; then run `harbour keys rotate` again to go on")
        if not announced:
            say(f"waiting for {len(behind)} running process(es) to {what}")
            announced = True
        time.sleep(min(0.2, interval / 2))


def _across_agencies(conn) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT set_config('harbour.all_agencies', 'on', true)"))


def _reencrypt(engine: Engine, ring: crypto.KeyRing, newest_only: Fernet, targets) -> int:
    """One pass over every encrypted column; returns how many values it rewrote."""
    rewritten = 0
    for table_name, col_name, pks in targets:
        t = table(table_name, *[column(p) for p in pks], column(col_name, Text))
        key = tuple_(*[t.c[p] for p in pks]) if len(pks) > 1 else t.c[pks[0]]
        last = None
        while True:
            with engine.begin() as conn:
                _across_agencies(conn)
                query = select(*[t.c[p] for p in pks], t.c[col_name]).where(t.c[col_name].is_not(None))
                if last is not None:
                    query = query.where(key > (tuple_(*last) if len(pks) > 1 else last[0]))
                rows = conn.execute(query.order_by(*[t.c[p] for p in pks]).limit(BATCH)).all()
                if not rows:
                    break
                for row in rows:
                    token = row[-1]
                    try:
                        newest_only.decrypt(token[len(crypto.ENC_PREFIX):].encode("ascii"))
                        continue  # already under the new key
                    except InvalidToken:
                        pass
                    rotated = ring.rotate_token(token)  # raises if no key in the ring opens it: stop, lose nothing
                    same_row = and_(*[t.c[p] == row[i] for i, p in enumerate(pks)], t.c[col_name] == token)
                    rewritten += conn.execute(update(t).where(same_row).values({col_name: rotated})).rowcount
                last = tuple(rows[-1][:len(pks)])
    return rewritten


def _audit(engine: Engine, key_id: str, *, detail: dict) -> None:
    """The rotation's audit entry.  On SQLite a worker may take the chain's next number first (SQLite has no
    row lock for the chain head): the entry alone is retried."""
    for attempt in range(10):
        with make_sessionmaker(engine)() as db:
            try:
                audit(db, Actor.system("keys-rotate"), "rotate", "key_ring", key_id, detail=detail)
                db.commit()
                return
            except IntegrityError:
                db.rollback()
                if attempt == 9:
                    raise
                time.sleep(0.05 * (attempt + 1))


def rotate_keys(settings: Settings, *, timeout: float | None = None,
                say: Callable[[str], None] = lambda _line: None) -> RotationResult:
    from harbour.core.keycheck import KeyRingError, open_ring
    from harbour.core.models import KeyWorker  # noqa: F401 - the table must exist (migration 0070)
    from harbour.models_registry import metadata

    timeout = timeout if timeout is not None else max(60.0, 6 * settings.key_heartbeat_seconds)
    engine = make_engine(settings.database_url)
    try:
        try:
            ring = open_ring(settings.key_file, engine=engine)
        except KeyRingError as exc:
            raise RotationStopped(str(exc)) from None
        steps: list[str] = []
        newest = _newest(ring)
        resumed = len(ring.encryption_keys) > 1
        if not resumed:  # (1) add
            newest = crypto.new_encryption_key()
            ring.encryption_keys = [*ring.encryption_keys, newest]
            ring.save()
            steps.append(f"added key {newest['id']}")
            say(steps[-1])
        else:
            say(f"resuming the rotation to key {newest['id']}")
        new_id = newest["id"]
        _wait(engine, settings, lambda w: new_id in w.key_ids, f"load key {new_id}", timeout, say)
        if ring.primary_id != new_id:  # (2) promote
            ring.encryption_keys = [newest, *[k for k in ring.encryption_keys if k["id"] != new_id]]
            ring.save()
            steps.append(f"made key {new_id} primary")
            say(steps[-1])
        crypto.configure(settings.key_file)
        _wait(engine, settings, lambda w: w.writes_with == [new_id], "stop writing with the old key", timeout, say)

        # (3) re-encrypt, (4) until a whole pass finds nothing left under an old key
        targets = [(t, c, [p.name for p in metadata.tables[t].primary_key.columns])
                   for t, c in crypto.encrypted_columns(metadata)]
        newest_only = Fernet(newest["key"].encode())
        values, passes = 0, 0
        while True:
            done = _reencrypt(engine, ring, newest_only, targets)
            values += done
            passes += 1
            say(f"pass {passes}: {done} value(s) re-encrypted")
            if done == 0:
                break
            if passes >= 10:
                raise RotationStopped("values under the old key keep appearing after ten passes; a process may "
                                      "still write with it. Nothing was lost; run `harbour keys rotate` again")
        _wait(engine, settings, lambda w: w.writes_with == [new_id] and w.key_ids[0] == new_id,
              "stop writing with the old key", timeout, say)
        if _reencrypt(engine, ring, newest_only, targets):  # a last look, after every process confirmed
            raise RotationStopped("a value under the old key appeared after every process had confirmed the new "
                                  "key; nothing was lost. Run `harbour keys rotate` again")
        retired = [k for k in ring.key_ids if k != new_id]
        _audit(engine, new_id, detail={"columns": len(targets), "values": values, "retired": retired})
        ring.encryption_keys = [newest]
        ring.save()
        crypto.configure(settings.key_file)
        steps.append(f"retired {len(retired)} old key(s)")
        say(steps[-1])
        return RotationResult(new_id, len(targets), values, retired, resumed=resumed, steps=steps)
    finally:
        engine.dispose()
