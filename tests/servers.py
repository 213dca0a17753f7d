"""Real Harbour servers for tests: ``harbour serve`` in a subprocess on a free loopback port.

``serve(settings_or_env, workers=2)`` starts one and yields its base URL; the process is stopped (and its
output kept for the failure message) when the block ends.  The environment carries only the HARBOUR_*
settings given, never the developer's own.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

HARBOUR = Path(sys.executable).with_name("harbour")
REPO = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(settings=None, **extra: str) -> dict[str, str]:
    """The process environment for a server or command: the test's settings as HARBOUR_* variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARBOUR_")}
    if settings is not None:
        env.update({"HARBOUR_DATABASE_URL": settings.database_url, "HARBOUR_KEY_FILE": str(settings.key_file),
                    "HARBOUR_STATS_DIR": str(settings.stats_dir)})
    env["PYTHONUNBUFFERED"] = "1"
    src = str(REPO / "src")  # the checkout under test, also from a worktree sharing another checkout's venv
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.update({k: str(v) for k, v in extra.items()})
    return env


def wait_until_up(base: str, proc: subprocess.Popen, log: Path, *, path: str = "/help", timeout: float = 90,
                  **client_options) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}:\n{log.read_text()[-4000:]}")
        try:
            if httpx.get(base + path, timeout=2, **client_options).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"the server did not answer within {timeout} s:\n{log.read_text()[-4000:]}")


@contextlib.contextmanager
def serve(env: dict[str, str], *, workers: int = 1, port: int | None = None, host: str = "127.0.0.1",
          wait: bool = True) -> Iterator[tuple[str, subprocess.Popen, Path]]:
    """``harbour serve`` with ``env``; yields (base URL, process, log file)."""
    port = port or free_port()
    env = dict(env)
    env.setdefault("HARBOUR_BASE_URL", f"http://{host}:{port}")
    log = Path(tempfile.mkstemp(prefix="harbour-serve-", suffix=".log")[1])
    with log.open("wb") as out:
        proc = subprocess.Popen([str(HARBOUR), "serve", "--host", host, "--port", str(port), "--workers",
                                 str(workers)], env=env, stdout=out, stderr=subprocess.STDOUT, cwd=str(REPO),
                                start_new_session=True)
    base = f"http://{host}:{port}"
    try:
        if wait:
            wait_until_up(base, proc, log)
        yield base, proc, log
    finally:
        stop(proc)


def stop(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM (uvicorn shuts down cleanly, workers included), then SIGKILL the whole group if it hangs."""
    import signal

    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def harbour(env: dict[str, str], *args: str, timeout: float = 600, input: str | None = None) \
        -> subprocess.CompletedProcess:
    """Run a ``harbour`` command; returns the completed process (text output)."""
    return subprocess.run([str(HARBOUR), *args], env=env, capture_output=True, text=True, timeout=timeout,
                          cwd=str(REPO), input=input)


def cookie_header(client: httpx.Client) -> str:
    """The client's cookies as one ``Cookie`` header (for a WebSocket handshake made outside httpx)."""
    return "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)


async def next_frame(ws, predicate, timeout: float = 30) -> dict:
    """The next JSON frame on a WebSocket for which ``predicate`` holds (others are skipped)."""
    import asyncio
    import json

    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.monotonic())))
        if predicate(frame):
            return frame
