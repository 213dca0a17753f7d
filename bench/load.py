"""`harbour bench load --users 20 --duration 30`: many people using Harbour at once, through a real server.

Starts `harbour serve` on a fresh database (default: a temporary SQLite file with one worker, the embedded
default; or ``--database-url postgresql://...`` with ``--workers N``), loads synthetic demo data (the hotline,
the provider directory, referrals and the sharing network: ``harbour demo`` without the statistics history),
signs in a realistic mix of people once each, then runs ``--users`` concurrent virtual users for ``--duration``
seconds, each doing what such a person does, one request after another with no think time:

- advocates (40 %): the case list, the contact list, a case, and every fourth round a task added to a case
  through the console's own form (a write with its audit row);
- directory searches through the API (25 %): `/api/v1/directory/search` for a need near a city;
- providers on the portal (15 %): the referral list, the services list, a referral;
- analysts on hits (20 %): the sharing desk's hits inbox and a hit.

Prints ONE JSON line: requests/s, p50/p95/p99/max latency (ms) per route group, and errors by status (any
status other than the expected 200/303 counts, as do dropped connections).  The load generator runs on the same
machine (an asyncio client in this process), so on 2 cores it competes with the server for CPU: the figures
are pessimistic.  Record medians of several runs in BENCHMARKS.md with the machine's load.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
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
from collections import Counter, defaultdict
from pathlib import Path

MIX = (("advocate", 0.40), ("search", 0.25), ("provider", 0.15), ("analyst", 0.20))
CITIES = ("Toronto", "Montréal", "Vancouver", "Winnipeg", "Halifax", "Thunder Bay", "Calgary", "Ottawa")
NEEDS = ("emergency_shelter", "counselling", "legal_aid", "medical", "interpretation")


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="harbour bench load", description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20, help="concurrent virtual users (default 20)")
    parser.add_argument("--duration", type=float, default=30, help="seconds of measured load (default 30)")
    parser.add_argument("--warmup", type=float, default=3, help="seconds of load before measuring (default 3)")
    parser.add_argument("--workers", type=int, default=1, help="server worker processes (default 1)")
    parser.add_argument("--database-url", help="an EMPTY PostgreSQL database to load and serve from "
                        "(default: a temporary SQLite file)")
    parser.add_argument("--contacts", type=int, default=400, help="synthetic hotline contacts (default 400)")
    parser.add_argument("--providers", type=int, default=1200, help="synthetic providers (default 1200)")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    if not 1 <= args.users <= 1000 or args.duration <= 0 or args.warmup < 0 or not 1 <= args.workers <= 32:
        parser.error("--users must be 1..1000, --duration positive, --warmup 0 or more, --workers 1..32")
    if args.database_url and not args.database_url.startswith("postgresql"):
        parser.error("--database-url must be a postgresql:// URL (without it the bench uses a temporary SQLite file)")
    return args


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _harbour(env: dict, *args: str) -> None:
    done = subprocess.run([str(Path(sys.executable).with_name("harbour")), *args], env=env, capture_output=True,
                          text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"harbour {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-2000:]}")


def _seed(env: dict, args: argparse.Namespace) -> dict[str, str]:
    """Migrate and load the demo data in a child process; returns an API token for directory searches."""
    _harbour(env, "db", "upgrade")
    code = f"""
import json
from harbour.core import crypto
from harbour.core.audit import Actor
from harbour.core.config import get_settings
from harbour.core.db import make_engine, make_sessionmaker
from harbour.core.models import User
from harbour.core.security import issue_token
from harbour.directory.demo import load_directory_demo
from harbour.directory.demo_referrals import load_referral_demo
from harbour.hotline.demo import load_demo
from harbour.sharing.demo import load_sharing_demo
from sqlalchemy import select
settings = get_settings()
crypto.configure(settings.key_file)
engine = make_engine(settings.database_url)
with make_sessionmaker(engine)() as db:
    load_demo(db, seed={args.seed}, contacts={args.contacts})
    load_directory_demo(db, seed={args.seed}, providers={args.providers})
    load_referral_demo(db, seed={args.seed})
    load_sharing_demo(db, seed={args.seed})
    user = db.execute(select(User).where(User.username == "demo-advocate")).scalar_one()
    raw, _ = issue_token(db, actor=Actor(user.id, user.username, user.role), user=user, name="bench load",
                         scopes=["directory:read"], days=1)
    db.commit()
print(json.dumps({{"token": raw}}))
"""
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=3600)
    if done.returncode != 0:
        raise SystemExit(f"loading the demo data failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


class Recorder:
    def __init__(self) -> None:
        self.measuring = False
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.errors: Counter = Counter()
        self.requests = 0

    def add(self, group: str, seconds: float, outcome: str | None) -> None:
        if not self.measuring:
            return
        self.requests += 1
        self.latency[group].append(seconds * 1000)
        if outcome:
            self.errors[outcome] += 1


async def _call(client, rec: Recorder, group: str, method: str, url: str, ok=(200,), **kw):
    started = time.perf_counter()
    try:
        r = await client.request(method, url, **kw)
    except Exception as exc:  # noqa: BLE001 - every failure is counted, none stops the load
        rec.add(group, time.perf_counter() - started, type(exc).__name__)
        return None
    rec.add(group, time.perf_counter() - started, None if r.status_code in ok else str(r.status_code))
    return r


async def _sign_in(httpx, base: str, username: str):
    client = httpx.AsyncClient(base_url=base, timeout=120, follow_redirects=False)
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    r = await client.post("/login", data={"username": username, "password": f"{username}-pass",
                                          "csrf_token": token, "next": "/console"})
    if r.status_code != 303:
        raise SystemExit(f"signing in {username} failed: {r.status_code}")
    return client


async def _advocate(client, rec: Recorder, stop: asyncio.Event, rng: random.Random) -> None:
    page = await client.get("/console/cases?status=open")
    cases = re.findall(r'href="/console/cases/(\d+)"', page.text) or ["1"]
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    round_ = 0
    while not stop.is_set():
        await _call(client, rec, "console cases", "GET", "/console/cases")
        await _call(client, rec, "console contacts", "GET", "/console/contacts")
        case = rng.choice(cases)
        await _call(client, rec, "console case", "GET", f"/console/cases/{case}")
        if round_ % 4 == 3:
            due = time.strftime("%Y-%m-%dT%H:%M", time.localtime(time.time() + 86400))
            await _call(client, rec, "console write", "POST", f"/console/cases/{case}/tasks", ok=(303,),
                        data={"title": "Fictional bench follow-up", "kind": "general", "due_at": due,
                              "csrf_token": csrf})
        round_ += 1


async def _search(client, rec: Recorder, stop: asyncio.Event, rng: random.Random) -> None:
    while not stop.is_set():
        params = {"needs": rng.choice(NEEDS), "place": rng.choice(CITIES), "radius_km": 200}
        await _call(client, rec, "api directory search", "GET", "/api/v1/directory/search", params=params)


async def _provider(client, rec: Recorder, stop: asyncio.Event, rng: random.Random) -> None:
    page = await client.get("/portal")
    referrals = re.findall(r'href="/portal/referrals/(\d+)"', page.text)
    while not stop.is_set():
        await _call(client, rec, "portal", "GET", "/portal")
        await _call(client, rec, "portal", "GET", "/portal/services")
        if referrals:
            await _call(client, rec, "portal", "GET", f"/portal/referrals/{rng.choice(referrals)}")


async def _analyst(client, rec: Recorder, stop: asyncio.Event, rng: random.Random) -> None:
    page = await client.get("/console/sharing/hits")
    hits = re.findall(r'href="/console/sharing/hits/(\d+)"', page.text)
    while not stop.is_set():
        await _call(client, rec, "sharing hits", "GET", "/console/sharing/hits")
        if hits:
            await _call(client, rec, "sharing hits", "GET", f"/console/sharing/hits/{rng.choice(hits)}")


async def _load(base: str, token: str, args: argparse.Namespace) -> dict:
    import httpx

    rng = random.Random(args.seed)
    counts = {kind: int(args.users * share) for kind, share in MIX}
    counts["advocate"] += args.users - sum(counts.values())
    advocates = ["demo-advocate", "demo-advocate2", "demo-advocate3", "demo-advocate4"]
    clients: list[tuple[str, object]] = []
    for i in range(counts["advocate"]):
        clients.append(("advocate", await _sign_in(httpx, base, advocates[i % len(advocates)])))
    for _ in range(counts["provider"]):
        clients.append(("provider", await _sign_in(httpx, base, "demo-provider")))
    for i in range(counts["analyst"]):
        clients.append(("analyst", await _sign_in(httpx, base, ("demo-analyst", "demo-vpd-analyst")[i % 2])))
    for _ in range(counts["search"]):
        clients.append(("search", httpx.AsyncClient(base_url=base, timeout=120,
                                                    headers={"Authorization": f"Bearer {token}"})))
    rec, stop = Recorder(), asyncio.Event()
    work = {"advocate": _advocate, "search": _search, "provider": _provider, "analyst": _analyst}
    tasks = [asyncio.create_task(work[kind](client, rec, stop, random.Random(rng.random())))
             for kind, client in clients]
    await asyncio.sleep(args.warmup)
    rec.measuring, started = True, time.perf_counter()
    await asyncio.sleep(args.duration)
    rec.measuring, elapsed = False, time.perf_counter() - started
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    for _, client in clients:
        await client.aclose()

    def pct(values: list[float], q: float) -> float:
        ordered = sorted(values)
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    groups = {g: {"requests": len(v), "p50_ms": pct(v, 0.50), "p95_ms": pct(v, 0.95), "p99_ms": pct(v, 0.99),
                  "max_ms": round(max(v), 1)} for g, v in sorted(rec.latency.items())}
    return {"requests": rec.requests, "requests_per_s": round(rec.requests / elapsed, 1), "groups": groups,
            "errors": dict(rec.errors), "mix": counts}


def main(argv: list[str]) -> int:
    args = _parse(argv)
    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="harbour-bench-load-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HARBOUR_")}
        database = args.database_url or f"sqlite:///{Path(tmp) / 'harbour.db'}"
        env.update({"HARBOUR_DATABASE_URL": database, "HARBOUR_KEY_FILE": str(Path(tmp) / "keys" / "keys.json"),
                    "HARBOUR_STATS_DIR": str(Path(tmp) / "stats"), "HARBOUR_BASE_URL": f"http://127.0.0.1:{port}",
                    "HARBOUR_LOG_LEVEL": "WARNING"})
        seeded = time.perf_counter()
        token = _seed(env, args)["token"]
        seeded = time.perf_counter() - seeded
        log = Path(tmp) / "server.log"
        with log.open("wb") as out:
            server = subprocess.Popen([str(Path(sys.executable).with_name("harbour")), "serve", "--host", "127.0.0.1",
                                       "--port", str(port), "--workers", str(args.workers)],
                                      env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        base = f"http://127.0.0.1:{port}"
        try:
            _wait(base, server, log)
            result = asyncio.run(_load(base, token, args))
        finally:
            server.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                server.wait(20)
            if server.poll() is None:
                server.kill()
    load1, load5, _ = os.getloadavg()
    print(json.dumps({
        "bench": "load", "database": "postgresql" if args.database_url else "sqlite", "workers": args.workers,
        "users": args.users, "duration_s": args.duration, **result, "seed_s": round(seeded, 1),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, load {load1:.2f}/{load5:.2f}, "
                   f"{platform.python_implementation()} {platform.python_version()}",
    }))
    return 0 if not result["errors"] else 1


def _wait(base: str, server: subprocess.Popen, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(base + "/readyz", timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"the server did not become ready:\n{log.read_text()[-3000:]}")
