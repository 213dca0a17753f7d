"""Key rotation while Harbour runs (finding 2 of issue 12: `harbour keys rotate` while workers ran lost every
later write — workers kept the old key in memory and wrote under the key the rotation then retired).

Real servers (``harbour serve`` subprocesses) write contacts without pause while ``harbour keys rotate`` runs;
afterwards a fresh server, holding only the new key, reads back every contact that was acknowledged.
On PostgreSQL two servers share the database (and a live chat crosses between them after the rotation);
on SQLite, the embedded default, one server does.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import threading
import time

import httpx
import pytest
from sqlalchemy import text

from harbour.core import crypto
from tests.conftest import run_async
from tests.servers import HARBOUR, serve, server_env

pytestmark = pytest.mark.slow
API = "/api/v1/hotline"


@pytest.fixture
def own_keys(settings, tmp_path):
    """A private copy of the session's key file for the servers and the rotation (the session's own ring must
    stay as it is for the other tests)."""
    path = tmp_path / "keys" / "harbour-keys.json"
    path.parent.mkdir(mode=0o700)
    shutil.copy(settings.key_file, path)
    path.chmod(0o600)
    return settings.model_copy(update={"key_file": path, "key_heartbeat_seconds": 1.0})


class Writers:
    """Threads posting contacts as fast as the servers answer; every acknowledged contact is remembered."""

    def __init__(self, bases: list[str], headers: dict, threads: int = 3):
        self.bases, self.headers = bases, headers
        self.acknowledged: dict[int, str] = {}
        self.failures: list[str] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(i,), daemon=True) for i in range(threads)]

    def _run(self, n: int) -> None:
        base = self.bases[n % len(self.bases)]
        with httpx.Client(base_url=base, headers=self.headers, timeout=60) as client:
            i = 0
            while not self._stop.is_set():
                name = f"Rotation Fictional {n}-{i}"
                try:
                    r = client.post(f"{API}/contacts", json={"channel": "phone", "caller_name": name,
                                                             "summary": f"Fictional summary {n}-{i}"})
                except httpx.HTTPError as exc:
                    self.failures.append(f"{type(exc).__name__}")
                    continue
                if r.status_code == 201:
                    self.acknowledged[r.json()["id"]] = name
                else:
                    self.failures.append(f"{r.status_code} {r.text[:200]}")
                i += 1

    def __enter__(self) -> Writers:
        for t in self._threads:
            t.start()
        return self

    def count(self) -> int:
        return len(self.acknowledged)

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(60)


def _wait_for(predicate, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_rotation_while_workers_write_loses_nothing(own_keys, make_user, token_for):
    settings = own_keys
    user = make_user("hotline_advocate")
    headers = token_for(user)
    advocate = make_user("hotline_advocate")
    env = server_env(settings, HARBOUR_KEY_HEARTBEAT_SECONDS="1")
    servers = 1 if settings.is_sqlite else 2
    old_ids = crypto.load_keyring(settings.key_file).key_ids

    with contextlib.ExitStack() as stack:
        bases = [stack.enter_context(serve(env))[0] for _ in range(servers)]
        with Writers(bases, headers) as writers:
            _wait_for(lambda: writers.count() >= 20)
            rotation = subprocess.Popen([str(HARBOUR), "keys", "rotate", "--wait", "60"], env=env,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            out, _ = rotation.communicate(timeout=300)
            during = writers.count()
            _wait_for(lambda: writers.count() >= during + 20)  # and writes go on after the old key is retired
        assert rotation.returncode == 0, out
        assert "retired 1 old key(s)" in out and "made key" in out, out
        assert writers.failures == [], writers.failures[:5]
        if servers == 2:  # the workers still hear each other: a live chat crosses from one to the other
            from tests.hotline.chat.test_two_workers import _journey

            run_async(_journey(bases[0], bases[1], advocate.username))

    ring = crypto.load_keyring(settings.key_file)
    assert len(ring.key_ids) == 1 and ring.primary_id not in old_ids
    # a fresh server holding only the new key reads back every acknowledged contact
    with serve(env) as (base, _proc, _log), httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for contact_id, name in writers.acknowledged.items():
            got = client.get(f"{API}/contacts/{contact_id}")
            assert got.status_code == 200, (contact_id, got.status_code, got.text[:300])
            assert got.json()["caller_name"] == name
    from sqlalchemy import create_engine

    engine = create_engine(settings.database_url)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT caller_name FROM hotline_contact WHERE caller_name IS NOT NULL")).scalars()
        assert all(ring.decrypt(v) for v in stored)  # every value opens with the new key alone
    engine.dispose()
    verify = subprocess.run([str(HARBOUR), "audit", "verify"], env=env, capture_output=True, text=True, timeout=300)
    assert verify.returncode == 0, verify.stderr
    assert len(writers.acknowledged) >= 40


def test_writes_after_a_rotation_by_a_running_worker_stay_readable(own_keys, make_user, token_for):
    """The finding exactly: a worker started before the rotation, writing after it, used the retired key;
    once restarted it answered 500 for those contacts forever."""
    settings = own_keys
    headers = token_for(make_user("hotline_advocate"))
    env = server_env(settings, HARBOUR_KEY_HEARTBEAT_SECONDS="1")
    with serve(env) as (base, _proc, _log), httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        assert client.post(f"{API}/contacts", json={"channel": "phone", "caller_name": "Fictional Early"}
                           ).status_code == 201
        rotation = subprocess.run([str(HARBOUR), "keys", "rotate"], env=env, capture_output=True, text=True,
                                  timeout=300)
        assert rotation.returncode == 0, rotation.stdout + rotation.stderr
        later = [client.post(f"{API}/contacts", json={"channel": "phone", "caller_name": f"Fictional Later {i}"}
                             ).json()["id"] for i in range(5)]
    with serve(env) as (base, _proc, _log), httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        for i, contact_id in enumerate(later):
            got = client.get(f"{API}/contacts/{contact_id}")
            assert got.status_code == 200, got.text[:300]
            assert got.json()["caller_name"] == f"Fictional Later {i}"


def test_a_worker_that_does_not_load_the_new_key_stops_the_rotation_before_any_write(own_keys, app, client,
                                                                                    make_user, token_for):
    """A worker whose copy of the key file lacks the new key (another host) would write values nobody else
    could read, or read values it cannot open: the rotation waits for it, then stops, having changed nothing
    but the file's list of keys; run again once the worker follows, it completes."""
    from harbour.core.rotation import RotationStopped, rotate_keys
    from harbour.core.workers import Presence

    settings = own_keys
    crypto.configure(settings.key_file)
    headers = token_for(make_user("hotline_advocate"))
    created = client.post(f"{API}/contacts", json={"channel": "phone", "caller_name": "Fictional Stuck Worker"},
                          headers=headers).json()
    before = _tokens(app)
    old = crypto.load_keyring(settings.key_file)

    # a worker elsewhere: its ring never gains the new key
    stuck = Presence(app.state.engine, kind="server", interval=1.0)
    stuck._state = lambda: (tuple(old.key_ids), tuple(old.key_ids))
    stuck.start()
    try:
        with pytest.raises(RotationStopped) as stopped:
            rotate_keys(settings, timeout=2)
        assert stuck.id in str(stopped.value) and "copy the key file" in str(stopped.value)
        on_disk = crypto.load_keyring(settings.key_file)
        assert on_disk.primary_id == old.primary_id and len(on_disk.key_ids) == 2  # added, never promoted
        assert _tokens(app) == before  # nothing re-encrypted
        got = client.get(f"{API}/contacts/{created['id']}", headers=headers)
        assert got.status_code == 200 and got.json()["caller_name"] == "Fictional Stuck Worker"
    finally:
        stuck.stop()
    result = rotate_keys(settings, timeout=10)  # the worker is gone (or follows): the rotation resumes
    assert result.resumed and result.retired == old.key_ids
    final = crypto.load_keyring(settings.key_file)
    assert final.key_ids == [result.new_key_id] == [on_disk.key_ids[-1]]
    assert {final.decrypt(v) for v in _tokens(app).values()} >= {"Fictional Stuck Worker"}


def test_a_rotation_stopped_after_promotion_resumes(own_keys, app, client, make_user, token_for):
    """Crash between promotion and retirement: some values under the new key, some under the old; the file
    holds both.  Run again, the rotation finishes the same key (no third key) and loses nothing."""
    from harbour.core.rotation import rotate_keys

    settings = own_keys
    crypto.configure(settings.key_file)
    headers = token_for(make_user("hotline_advocate"))
    client.post(f"{API}/contacts", json={"channel": "phone", "caller_name": "Fictional Before"}, headers=headers)
    ring = crypto.load_keyring(settings.key_file)
    new = crypto.new_encryption_key()
    ring.encryption_keys = [new, *ring.encryption_keys]  # promoted, nothing re-encrypted yet
    ring.save()
    client.post(f"{API}/contacts", json={"channel": "phone", "caller_name": "Fictional After"}, headers=headers)

    result = rotate_keys(settings, timeout=10)
    assert result.resumed and result.new_key_id == new["id"]
    final = crypto.load_keyring(settings.key_file)
    assert final.key_ids == [new["id"]]
    names = {final.decrypt(v) for v in _tokens(app).values()}
    assert {"Fictional Before", "Fictional After"} <= names
    log = json.loads(json.dumps(result.steps))
    assert not any(s.startswith("added key") for s in log)


def _tokens(app) -> dict:
    from tests.core.test_crypto import encrypted_values

    return encrypted_values(app)
