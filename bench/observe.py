"""`harbour bench observe`: what the request-context middleware costs per request (CPU microseconds).

A trivial ASGI application is called directly (no network, no database) ``--requests`` times, with and without
``ops.observe.RequestContext`` (request id, JSON access-log line written to a file as `harbour serve` writes it
to stderr, two metric updates), and once more with the access log turned off to separate its share.  Medians of
``--rounds`` rounds.  Prints ONE JSON line.  Compare with a page's own cost: `wrk` on /help and a console page
(README, "Observing Harbour").
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import logging.config
import platform
import statistics
import tempfile
import time
from pathlib import Path


class _Route:  # what the router leaves in the scope
    path_format = "/console/cases/{case_id}"


async def _plain(scope, receive, send):
    scope["route"] = _Route
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def _run(app, n: int) -> float:
    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(_message):
        pass

    started = time.process_time()
    for _ in range(n):
        scope = {"type": "http", "method": "GET", "path": "/console/cases/1", "headers": [(b"host", b"bench")],
                 "state": {}}
        await app(scope, receive, send)
    return (time.process_time() - started) / n * 1e6


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="harbour bench observe")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    from harbour.ops.observe import RequestContext, log_config

    with tempfile.TemporaryDirectory(prefix="harbour-bench-") as tmp:
        config = log_config("INFO")
        config["handlers"]["stderr"] = {"class": "logging.FileHandler", "filename": str(Path(tmp) / "access.log"),
                                        "formatter": "json", "filters": ["request_id"]}
        logging.config.dictConfig(config)
        access = logging.getLogger("harbour.access")
        results: dict[str, list[float]] = {"bare": [], "with": [], "with_log_off": []}
        for _ in range(args.rounds):
            results["bare"].append(asyncio.run(_run(_plain, args.requests)))
            access.setLevel(logging.INFO)
            results["with"].append(asyncio.run(_run(RequestContext(_plain), args.requests)))
            access.setLevel(logging.WARNING)
            results["with_log_off"].append(asyncio.run(_run(RequestContext(_plain), args.requests)))
        logging.shutdown()
    med = {k: statistics.median(v) for k, v in results.items()}
    print(json.dumps({
        "bench": "observe", "requests": args.requests, "rounds": args.rounds,
        "middleware_us_per_request": round(med["with"] - med["bare"], 1),
        "of_which_access_log_us": round(med["with"] - med["with_log_off"], 1),
        "machine": f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()}",
    }))
    return 0
