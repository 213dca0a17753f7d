"""Observability of a real ``harbour serve``: two workers on PostgreSQL give one coherent /metrics (counters sum
across workers, a killed worker's gauges leave the sum), and every line the server logs is JSON carrying the
request id, with no client address or query string.  Slow: each test starts real servers."""

from __future__ import annotations

import json
import os
import signal
import stat
import time
from pathlib import Path

import httpx
import pytest

from tests.ops.test_observability import _value
from tests.servers import serve, server_env

pytestmark = pytest.mark.slow


def _lines(log: Path) -> list[dict]:
    out = []
    for raw in log.read_text().splitlines():
        if raw.strip():
            try:
                out.append(json.loads(raw))
            except ValueError:
                raise AssertionError(f"a log line is not JSON: {raw!r}") from None
    return out


def _get(url: str, rid: str) -> httpx.Response:
    """One request on a fresh connection (so the workers share them)."""
    with httpx.Client(timeout=10) as c:
        return c.get(url, headers={"X-Request-ID": rid})


def _pids_answering(log: Path, prefix: str) -> set[int]:
    return {line["pid"] for line in _lines(log) if line["logger"] == "harbour.access"
            and str(line.get("request_id", "")).startswith(prefix)}


def _children(pid: int) -> list[int]:
    """The server's worker processes (not multiprocessing's resource tracker)."""
    out = []
    for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
        try:
            if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes():
                out.append(int(c))
        except FileNotFoundError:  # just exited
            pass
    return out


def _env_of(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode().split("=", 1) for item in raw if b"=" in item)


def _scrape_until_both_answer(base: str, log: Path, tag: str, check) -> None:
    """Scrape on fresh connections until both workers have answered; every answer must pass ``check``."""
    for i in range(120):
        r = _get(base + "/metrics", f"{tag}-{i}")
        assert r.status_code == 200
        check(r.text)
        if i >= 3 and len(_pids_answering(log, tag + "-")) >= 2:
            return
    raise AssertionError("the scrapes never reached both workers")


def test_two_workers_one_coherent_view(settings, backend):
    if backend[0] != "postgresql":
        pytest.skip("several workers: PostgreSQL")
    with serve(server_env(settings), workers=2) as (base, proc, log):
        workers = _children(proc.pid)
        assert len(workers) == 2, workers
        folder = Path(_env_of(workers[0])["PROMETHEUS_MULTIPROC_DIR"])
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, "created private"
        sent = 0
        while len(_pids_answering(log, "probe-")) < 2 or sent < 20:
            assert sent < 400, "the requests never reached both workers"
            assert _get(base + "/healthz", f"probe-{sent}").status_code == 200
            sent += 1

        def all_probes_counted(text: str) -> None:
            assert _value(text, "harbour_http_requests_total", method="GET", route="/healthz", status="200") == sent
            assert _value(text, "harbour_http_request_duration_seconds_count", route="/healthz") == sent
            assert _value(text, "harbour_db_pool_size") == 20  # two live workers, 10 each

        _scrape_until_both_answer(base, log, "scrape", all_probes_counted)

        # a worker killed outright: the supervisor starts another; the dead one's pool leaves the sum, its
        # requests stay counted
        os.kill(workers[0], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            now = _children(proc.pid)
            if len(now) == 2 and workers[0] not in now:
                break
            time.sleep(0.3)
        else:
            raise AssertionError("no worker replaced the killed one")
        deadline = time.monotonic() + 60
        while True:  # the new worker answers once started
            try:
                if _get(base + "/healthz", "after-0").status_code == 200 and \
                        len(_pids_answering(log, "after-")) and \
                        all(p != workers[0] for p in _pids_answering(log, "after-")):
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not recover"
            time.sleep(0.3)

        def after_kill(text: str) -> None:
            assert _value(text, "harbour_http_requests_total", method="GET", route="/healthz",
                          status="200") >= sent + 1
            assert _value(text, "harbour_db_pool_size") == 20, "the killed worker's pool is no longer counted"

        _scrape_until_both_answer(base, log, "later", after_kill)
    assert not folder.exists(), "serve removes the folder it made"

    lines = _lines(log)  # every line JSON: uvicorn's, Harbour's, the access log
    assert any(line["logger"].startswith("uvicorn") for line in lines)
    assert any(line["logger"] == "harbour" and "serving at" in line["message"] for line in lines)
    probe = next(line for line in lines if line.get("request_id") == "probe-0")
    assert (probe["route"], probe["status"], probe["user_id"]) == ("/healthz", 200, None)


def test_log_lines_carry_no_client_address_or_query(settings, backend, tmp_path):
    if backend[0] != "sqlite":
        pytest.skip("one worker: the SQLite run is enough")
    import websockets.sync.client

    env = server_env(settings, PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"))
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_99999.db").write_bytes(b"left from an earlier run")
    with serve(env) as (base, _proc, log):
        assert not (tmp_path / "metrics" / "counter_99999.db").exists(), "an earlier run's files are cleared"
        assert _get(base + "/help?name=Jane-Fictional&phone=555-0199", "query-1").status_code == 200
        with pytest.raises(websockets.exceptions.InvalidStatus):  # a foreign origin: refused at the handshake
            websockets.sync.client.connect(base.replace("http", "ws") + "/help/chat/ws?name=Jane-Fictional",
                                           origin="http://evil.example", open_timeout=10,
                                           additional_headers={"X-Request-ID": "socket-1"}).close()
        assert _get(base + "/metrics", "scrape-1").status_code == 200  # multiprocess mode with one worker
        time.sleep(0.5)
    lines = _lines(log)
    page = next(line for line in lines if line.get("request_id") == "query-1")
    assert page["route"] == "/help"
    handshake = next(line for line in lines if line.get("request_id") == "socket-1")
    assert handshake["logger"].startswith("uvicorn") and handshake["message"] == "WebSocket /help/chat/ws 403"
    text = log.read_text().replace(base, "")
    for value in ("Jane", "555-0199", "127.0.0.1", "?name", "?phone"):
        assert value not in text, value


def test_the_log_level_setting(settings, backend):
    if backend[0] != "sqlite":
        pytest.skip("one worker: the SQLite run is enough")
    with serve(server_env(settings, HARBOUR_LOG_LEVEL="WARNING")) as (base, _proc, log):
        assert _get(base + "/help", "quiet-1").status_code == 200
        time.sleep(0.5)
    lines = _lines(log)
    assert not any(line["level"] == "INFO" and line["logger"] != "harbour.access" for line in lines), \
        "HARBOUR_LOG_LEVEL=WARNING keeps INFO lines out, except the access log"
    assert any(line.get("request_id") == "quiet-1" and line["logger"] == "harbour.access" for line in lines)
