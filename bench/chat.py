"""`harbour bench chat --sessions 200`: message round-trip latency of live chat over WebSockets.

Opens N concurrent chat sessions on loopback: N anonymous visitors (each starts a chat on /help/chat and
connects to /help/chat/ws) and N/10 advocates (each signs in, marks themselves available, takes ~10 chats and
keeps one console WebSocket).  Every visitor sends ``--messages`` messages, one after another with a random
pause; the advocate side answers each one as soon as it arrives.  Round trip = visitor sends -> advocate
receives -> advocate answers -> visitor receives (two stored, encrypted messages and four WebSocket hops).
Prints ONE JSON line: p50/p99/max round trip, one-way visitor->advocate latency, messages sent/received,
errors and lost messages.  Goal: p99 under 100 ms with zero lost on 2 cores.

Without ``--url`` it starts its own server (uvicorn in a subprocess on a temporary SQLite database with its own
key file and fictional advocate accounts).  With ``--url`` it uses a running server; pass advocates that exist
there with ``--advocate USERNAME:PASSWORD`` (repeatable).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PASSWORD = "bench password, not a real one"


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="harbour bench chat", description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200, help="concurrent chat sessions (default 200)")
    parser.add_argument("--messages", type=int, default=10, help="messages each visitor sends (default 10)")
    parser.add_argument("--pause", type=float, default=1.0,
                        help="mean seconds a visitor waits between messages, uniform 0..2x (default 1.0)")
    parser.add_argument("--per-advocate", type=int, default=10, help="chats each advocate handles (default 10)")
    parser.add_argument("--url", help="a running Harbour server, e.g. http://127.0.0.1:8000 (default: start one)")
    parser.add_argument("--advocate", action="append", default=[], help="USERNAME:PASSWORD of an advocate (with --url)")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn workers when starting a server (default 1)")
    parser.add_argument("--database-url", help="database for the started server (default: a temporary SQLite file)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if not 1 <= args.sessions <= 5000 or not 1 <= args.messages <= 1000 or args.per_advocate < 1:
        parser.error("--sessions must be 1..5000, --messages 1..1000, --per-advocate at least 1")
    if args.url and not args.advocate:
        parser.error("--url needs at least one --advocate USERNAME:PASSWORD that exists on that server")
    return args


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _prepare_database(url: str, key_file: Path, advocates: int) -> list[tuple[str, str]]:
    from harbour.core import crypto
    from harbour.core.audit import Actor
    from harbour.core.db import make_engine, make_sessionmaker
    from harbour.core.migrate import upgrade
    from harbour.core.security import create_user

    crypto.configure(key_file, create=not key_file.exists())
    upgrade(url)
    engine = make_engine(url)
    db = make_sessionmaker(engine)()
    names = []
    for i in range(advocates):
        name = f"bench-advocate-{i:03d}"
        create_user(db, actor=Actor.system("bench"), username=name, display_name=f"Bench Advocate {i} (fictional)",
                    role="hotline_advocate", password=PASSWORD)
        names.append((name, PASSWORD))
    db.commit()
    db.close()
    engine.dispose()
    return names


def _start_server(url: str, key_file: Path, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "HARBOUR_DATABASE_URL": url, "HARBOUR_KEY_FILE": str(key_file),
           "HARBOUR_BASE_URL": f"http://127.0.0.1:{port}",
           "HARBOUR_CHAT_IDLE_SECONDS": "3600",  # setup on a loaded machine can outlast the 5-minute idle close
           "HARBOUR_CHAT_START_LIMIT": "1000000"}  # every simulated visitor comes from the one loopback address
    cmd = [sys.executable, "-m", "uvicorn", "harbour.app:create_app", "--factory", "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    log_path = str(key_file.parent / "server.log")
    with open(log_path, "ab") as log:  # a file, not a pipe: a chatty server never blocks on a full pipe
        proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    proc.log_path = log_path
    return proc


async def _wait_ready(base: str, proc: subprocess.Popen | None) -> None:
    import httpx

    async with httpx.AsyncClient() as client:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError("the server exited; see its log " + proc.log_path)
            try:
                if (await client.get(base + "/help")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError("server did not start")


def _ws_url(base: str, path: str) -> str:
    return base.replace("http://", "ws://").replace("https://", "wss://") + path


def _cookie_header(client) -> str:
    return "; ".join(f"{c.name}={c.value}" for c in client.cookies.jar)


class Stats:
    def __init__(self) -> None:
        self.rtt: list[float] = []
        self.one_way: list[float] = []
        self.sent = 0  # visitor messages sent
        self.received = 0  # answers received by visitors
        self.adv_received = 0
        self.adv_sent = 0
        self.errors: list[str] = []


async def _advocate(base: str, username: str, password: str, stats: Stats, ready: asyncio.Event):
    """Sign in, mark available, connect; returns (client, websocket, csrf, task answering messages)."""
    import httpx
    import websockets

    client = httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=30)
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = await client.post("/login", data={"username": username, "password": password, "csrf_token": token,
                                          "next": "/console"})
    if r.status_code != 303:
        raise RuntimeError(f"advocate sign-in failed ({r.status_code})")
    page = await client.get("/console/chat")
    csrf = re.search(r'data-csrf="([^"]+)"', page.text).group(1)
    await client.post("/console/chat/availability", data={"available": "on", "csrf_token": csrf})
    ws = await websockets.connect(_ws_url(base, "/console/chat/ws"), origin=base,
                                  additional_headers={"Cookie": _cookie_header(client)}, max_queue=None)
    await ws.send(json.dumps({"type": "hello", "csrf": csrf}))

    async def answer():
        ready.set()
        async for raw in ws:
            event = json.loads(raw)
            if event.get("type") == "message" and event.get("sender") == "visitor":
                body = event["body"]
                _tag, seq, sent_at = body.split(" ")
                stats.one_way.append(time.perf_counter() - float(sent_at))
                stats.adv_received += 1
                await ws.send(json.dumps({"type": "message", "session": event["session"],
                                          "body": f"re {seq} {sent_at}"}))
                stats.adv_sent += 1
            elif event.get("type") == "error":
                stats.errors.append("advocate:" + event.get("code", "?"))

    return client, ws, csrf, answer


async def _visitor(base: str, stats: Stats):
    import httpx
    import websockets

    client = httpx.AsyncClient(base_url=base, follow_redirects=False, timeout=30)
    page = await client.get("/help/chat")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    if token is None:
        raise RuntimeError("chat is closed: no advocate available")
    r = await client.post("/help/chat", data={"language": "en", "csrf_token": token.group(1)})
    if r.status_code != 303:
        raise RuntimeError(f"could not start a chat ({r.status_code})")
    ws = await websockets.connect(_ws_url(base, "/help/chat/ws"), origin=base,
                                  additional_headers={"Cookie": _cookie_header(client)}, max_queue=None)
    await ws.send(json.dumps({"type": "hello", "csrf": client.cookies.get("harbour_csrf")}))
    welcome = json.loads(await ws.recv())
    return client, ws, welcome["session"]


async def _converse(ws, messages: int, pause: float, stats: Stats, rng: random.Random) -> int:
    """Send messages one by one, each after the previous answer; returns answers not received."""
    import websockets

    missing = 0
    pending: dict[str, float] = {}

    for seq in range(messages):
        await asyncio.sleep(rng.uniform(0, 2 * pause))
        sent_at = time.perf_counter()
        pending[str(seq)] = sent_at
        await ws.send(json.dumps({"type": "message", "body": f"hello {seq} {sent_at!r}"}))
        stats.sent += 1
        deadline = time.perf_counter() + 10
        while str(seq) in pending:
            try:
                raw = await asyncio.wait_for(ws.recv(), max(0.01, deadline - time.perf_counter()))
            except websockets.ConnectionClosed as exc:
                stats.errors.append(f"closed:{exc.rcvd.code if exc.rcvd else '?'}")
                return missing + messages - seq
            except TimeoutError:
                missing += 1
                pending.pop(str(seq), None)
                break
            event = json.loads(raw)
            if event.get("type") == "message" and event.get("sender") == "advocate":
                _tag, got, _sent = event["body"].split(" ")
                if got in pending:
                    stats.rtt.append(time.perf_counter() - pending.pop(got))
                    stats.received += 1
            elif event.get("type") == "error":
                stats.errors.append("visitor:" + event.get("code", "?"))
    return missing


def _pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(1000 * ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))], 2)


async def _run(args, base: str, advocates: list[tuple[str, str]]) -> dict:
    stats = Stats()
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    adv = []
    for name, password in advocates:
        ready = asyncio.Event()
        adv.append((await _advocate(base, name, password, stats, ready), ready))
    answer_tasks = [asyncio.create_task(a[0][3]()) for a in adv]
    visitors = []
    for i in range(args.sessions):  # started in small batches, as visitors would arrive
        visitors.append(asyncio.create_task(_visitor(base, stats)))
        if i % 20 == 19:
            await asyncio.gather(*visitors[-20:], return_exceptions=True)
    started = await asyncio.gather(*visitors, return_exceptions=True)
    ok = [v for v in started if not isinstance(v, BaseException)]
    stats.errors += [f"start:{type(v).__name__}" for v in started if isinstance(v, BaseException)]
    # each advocate takes its share of the queue
    for index, (_client, _ws, session) in enumerate(ok):
        (aclient, _aws, acsrf, _answer), _ready = adv[index // args.per_advocate % len(adv)]
        r = await aclient.post(f"/console/chat/{session}/take", data={"csrf_token": acsrf})
        if r.status_code != 303:
            stats.errors.append(f"take:{r.status_code}")
    await asyncio.sleep(0.5)  # let "assigned" reach the advocates' sockets before anyone writes
    setup = time.perf_counter() - t0
    stats.sent = stats.received = stats.adv_sent = stats.adv_received = 0
    stats.rtt.clear()
    stats.one_way.clear()
    t1 = time.perf_counter()
    missing = await asyncio.gather(*[_converse(ws, args.messages, args.pause, stats, random.Random(rng.random()))
                                     for _c, ws, _s in ok])
    duration = time.perf_counter() - t1
    for _c, ws, _s in ok:
        await ws.close()
    for task in answer_tasks:
        task.cancel()
    for (aclient, aws, _csrf, _a), _r in adv:
        await aws.close()
        await aclient.aclose()
    for client, _ws, _s in ok:
        await client.aclose()
    lost = (stats.sent - stats.adv_received) + (stats.adv_sent - stats.received)
    return {
        "bench": "chat", "sessions": len(ok), "advocates": len(adv), "messages_per_session": args.messages,
        "pause_mean_s": args.pause, "messages_sent": stats.sent + stats.adv_sent,
        "messages_received": stats.adv_received + stats.received, "lost": lost,
        "unanswered": sum(missing), "errors": len(stats.errors), "error_kinds": sorted(set(stats.errors))[:10],
        "rtt_ms_p50": _pct(stats.rtt, 0.5), "rtt_ms_p99": _pct(stats.rtt, 0.99), "rtt_ms_max": _pct(stats.rtt, 1.0),
        "one_way_ms_p50": _pct(stats.one_way, 0.5), "one_way_ms_p99": _pct(stats.one_way, 0.99),
        "messages_per_s": round(stats.received / duration, 1) if duration else None,
        "setup_s": round(setup, 2), "duration_s": round(duration, 2),
    }


def main(argv: list[str] | None = None) -> int:
    args = _parse(list(argv or []))
    proc = None
    tmp = None
    try:
        if args.url:
            base = args.url.rstrip("/")
            advocates = [tuple(a.split(":", 1)) for a in args.advocate]
            backend = "given server"
        else:
            tmp = tempfile.TemporaryDirectory(prefix="harbour-bench-chat-")
            url = args.database_url or f"sqlite:///{Path(tmp.name) / 'bench.db'}"
            key_file = Path(tmp.name) / "keys.json"
            needed = -(-args.sessions // args.per_advocate)
            advocates = _prepare_database(url, key_file, needed)
            port = _free_port()
            proc = _start_server(url, key_file, port, args.workers)
            base = f"http://127.0.0.1:{port}"
            backend = url.split(":", 1)[0].split("+")[0]
        asyncio.run(_wait_ready(base, proc))
        result = asyncio.run(_run(args, base, advocates))
        result.update({"backend": backend, "workers": args.workers if proc else None,
                       "machine": f"{platform.machine()} {os.cpu_count()} cpu", "python": platform.python_version()})
        print(json.dumps(result))
        return 0 if result["errors"] == 0 and result["lost"] == 0 else 1
    finally:
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        if tmp is not None:
            tmp.cleanup()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
