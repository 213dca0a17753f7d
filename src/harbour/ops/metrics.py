"""Prometheus metrics (prometheus-client): requests, latency, the database pool, live chat and background jobs.

The rules this module enforces:

* **Labels never carry personal data and never grow without bound**: a route label is the route's template
  (``/console/cases/{case_id}``) or ``unmatched``; methods are the standard ones or ``OTHER``; job names are
  fixed in code.
* **One coherent view across workers**: with ``harbour serve --workers N`` every worker writes its metrics to
  ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode; ``serve`` creates a private directory
  unless one is set) and a scrape of any worker reads all of them (``MultiProcessCollector``): counters and
  histograms sum across workers, the pool gauges sum across live workers (a worker that stops is marked dead).
* **Facts about the database are read from the database at scrape time** (chat sessions by status, the queue,
  advocates available), so every worker answers the same and nothing is summed twice.
"""

from __future__ import annotations

import contextlib
import glob
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder

from harbour import __version__

disable_created_metrics()  # no *_created series: they double the output and do not survive multiprocess mode
log = logging.getLogger("harbour.metrics")
ENV = "PROMETHEUS_MULTIPROC_DIR"
JOBS = ("chat_sweep", "chat_message_batch", "chat_queue_recount", "key_heartbeat")

# Per-process metrics (written to files in multiprocess mode).  They live on their own registry: the default
# one would add per-process collectors that make no sense summed.
REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("harbour_http_requests", "HTTP requests answered, by route template and status",
                   ["method", "route", "status"], registry=REGISTRY)
LATENCY = Histogram("harbour_http_request_duration_seconds", "Time to answer an HTTP request, by route template",
                    ["method", "route"], registry=REGISTRY,
                    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
JOB_DURATION = Histogram("harbour_job_duration_seconds", "Duration of one run of a background job", ["job"],
                         registry=REGISTRY,
                         buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0))
POOL_CHECKED_OUT = Gauge("harbour_db_pool_checked_out", "Database connections in use (all live workers)",
                         registry=REGISTRY, multiprocess_mode="livesum")
POOL_SIZE = Gauge("harbour_db_pool_size", "Database connections the pools keep (all live workers)",
                  registry=REGISTRY, multiprocess_mode="livesum")
POOL_OVERFLOW = Gauge("harbour_db_pool_overflow", "Database connections open beyond the pool size (all live "
                      "workers)", registry=REGISTRY, multiprocess_mode="livesum")


def multiprocess() -> bool:
    return bool(os.environ.get(ENV))


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    REQUESTS.labels(method, route, str(status)).inc()
    LATENCY.labels(method, route).observe(seconds)


@contextlib.contextmanager
def time_job(job: str) -> Iterator[None]:
    """Record how long one run of a background job took (also when it fails)."""
    start = time.perf_counter()
    try:
        yield
    finally:
        try:
            JOB_DURATION.labels(job).observe(time.perf_counter() - start)
        except Exception:  # noqa: BLE001 - a metrics file problem must never stop the job
            log.warning("could not record the duration of job %s", job, exc_info=True)


def sample_pool(engine) -> None:
    """This worker's pool, now (QueuePool; other pools have nothing to report)."""
    pool = engine.pool
    try:
        size, checked_out, overflow = pool.size(), pool.checkedout(), pool.overflow()
    except AttributeError:
        return
    POOL_SIZE.set(size)
    POOL_CHECKED_OUT.set(checked_out)
    POOL_OVERFLOW.set(max(0, overflow))


class DatabaseFacts:
    """Collector read at scrape time: live chat from the database (the same for every worker)."""

    def __init__(self, sessionmaker):
        self.sessionmaker = sessionmaker

    def collect(self):
        from sqlalchemy import func, select

        from harbour.hotline.chat import service
        from harbour.hotline.chat.choices import ChatStatus
        from harbour.hotline.chat.models import ChatSession

        up = GaugeMetricFamily("harbour_database_up", "Whether this scrape could read the database")
        try:
            with self.sessionmaker() as db:
                counts = dict(db.execute(select(ChatSession.status, func.count()).group_by(ChatSession.status)).all())
                advocates = service.advocates_on_duty(db)
        except Exception:  # noqa: BLE001 - the rest of the scrape still answers; /readyz says what is wrong
            log.warning("metrics: could not read the chat figures from the database", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        sessions = GaugeMetricFamily("harbour_chat_sessions", "Live chat sessions by status", labels=["status"])
        for status in ChatStatus.codes():
            sessions.add_metric([status], counts.get(status, 0))
        yield sessions
        yield GaugeMetricFamily("harbour_chat_queue_length", "Chats waiting for an advocate",
                                value=counts.get(ChatStatus.queued.value, 0))
        yield GaugeMetricFamily("harbour_chat_advocates_available", "Advocates on duty for chat now",
                                value=advocates)


class Info:
    def collect(self):
        info = GaugeMetricFamily("harbour_info", "Harbour's version", labels=["version"])
        info.add_metric([__version__], 1)
        yield info


def exposition(app, accept: str | None) -> tuple[bytes, str]:
    """The scrape: this process's metrics, or every worker's in multiprocess mode, and the database's facts."""
    sample_pool(app.state.engine)
    registry = CollectorRegistry(auto_describe=False)
    if multiprocess():
        from prometheus_client.multiprocess import MultiProcessCollector

        MultiProcessCollector(registry)
    else:
        registry.register(_Forward(REGISTRY))
    registry.register(DatabaseFacts(app.state.sessionmaker))
    registry.register(Info())
    encoder, content_type = choose_encoder(accept or "")
    return encoder(registry), content_type


class _Forward:
    """Expose another registry's metrics through a per-scrape registry."""

    def __init__(self, source: CollectorRegistry):
        self.source = source

    def collect(self):
        return self.source.collect()


# -- multiprocess bookkeeping -------------------------------------------------------------------------------
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def worker_started() -> None:
    """A worker starting: gauges of workers that died without saying so (killed, crashed) stop counting."""
    path = os.environ.get(ENV)
    if not path:
        return
    from prometheus_client.multiprocess import mark_process_dead

    for f in glob.glob(os.path.join(path, "gauge_live*_*.db")):
        pid = Path(f).stem.rsplit("_", 1)[-1]
        if pid.isdigit() and int(pid) != os.getpid() and not _pid_alive(int(pid)):
            mark_process_dead(int(pid), path)


def worker_stopped() -> None:
    """A worker leaving: its live gauges (the pool) leave the sum; its counters stay (they are history)."""
    if os.environ.get(ENV):
        from prometheus_client.multiprocess import mark_process_dead

        mark_process_dead(os.getpid())


@contextlib.contextmanager
def multiprocess_dir(workers: int) -> Iterator[Path | None]:
    """For ``harbour serve``: with several workers, the directory they share their metrics through (set in
    the environment before they start).  Created private (0700) and removed afterwards unless the operator
    set ``PROMETHEUS_MULTIPROC_DIR``; a set directory is created if missing and emptied of an earlier run's
    metric files (prometheus-client requires it)."""
    given = os.environ.get(ENV)
    if given:
        path = Path(given)
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        for f in path.glob("*.db"):
            if f.name.split("_", 1)[0] in ("counter", "gauge", "histogram", "summary"):
                f.unlink()
        yield path
        return
    if workers <= 1:
        yield None
        return
    path = Path(tempfile.mkdtemp(prefix="harbour-metrics-"))  # 0700
    os.environ[ENV] = str(path)
    try:
        yield path
    finally:
        os.environ.pop(ENV, None)
        shutil.rmtree(path, ignore_errors=True)
