"""Many people at once (issue 14): concurrent audited reads and writes through a real server never fail.

Finding: 30 advocates opening console pages at the same moment on the embedded SQLite default got 15 answers
of 500 (``UNIQUE constraint failed: audit_log.seq``): every audited read allocated the next audit sequence
number from a head it had read outside any transaction.  Here 50 clients start together (a barrier) and each
reads lists and records (audited reads) and writes contacts and cases; on SQLite through one server process,
on PostgreSQL through two workers.  Zero errors, every acknowledged write is there afterwards, and the audit
chain verifies.
"""

from __future__ import annotations

import re
import threading
from collections import Counter

import httpx
import pytest
from sqlalchemy import select

from harbour.core import audit
from harbour.core.models import AuditEntry
from harbour.hotline.models import Case, Contact
from tests.servers import serve, server_env

pytestmark = pytest.mark.slow
API = "/api/v1/hotline"
CLIENTS = 50
PASSWORD = "fictional-concurrency-pass"


def _sign_in(base: str, username: str) -> httpx.Cookies:
    with httpx.Client(base_url=base, follow_redirects=False, timeout=60) as web:
        token = re.search(r'name="csrf_token" value="([^"]+)"', web.get("/login").text).group(1)
        r = web.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token,
                                     "next": "/console"})
        assert r.status_code == 303, r.text[:300]
        return web.cookies


def _client_work(base: str, headers: dict, cookies: httpx.Cookies, n: int, barrier: threading.Barrier,
                 results: dict) -> None:
    """Four requests: a contact and a case written through the API, two audited lists read (by odd clients
    as console pages, by even ones through the API)."""
    statuses: Counter = Counter()
    written: list[tuple[str, int]] = []
    console = n % 2 == 1
    with httpx.Client(base_url=base, headers=headers, timeout=120) as api, \
            httpx.Client(base_url=base, cookies=cookies, timeout=120, follow_redirects=False) as web:
        barrier.wait()
        for step in range(4):
            try:
                if (n + step) % 4 == 0:
                    r = api.post(f"{API}/contacts", json={"channel": "phone",
                                                          "summary": f"Fictional concurrency contact {n}-{step}"})
                    if r.status_code == 201:
                        written.append(("contact", r.json()["id"]))
                elif (n + step) % 4 == 1:
                    r = api.post(f"{API}/cases", json={"notes": f"Fictional concurrency case {n}-{step}",
                                                       "victim_count": 1})
                    if r.status_code == 201:
                        written.append(("case", r.json()["id"]))
                elif (n + step) % 4 == 2:
                    r = web.get("/console/cases") if console else api.get(f"{API}/cases")
                else:
                    r = web.get("/console/contacts") if console else api.get(f"{API}/contacts")
                statuses[r.status_code] += 1
                if r.status_code >= 400:
                    statuses[f"{r.status_code}: {r.text[:160]}"] += 1
            except httpx.HTTPError as exc:  # a dropped connection is an error too
                statuses[type(exc).__name__] += 1
    results[n] = (statuses, written)


def test_fifty_concurrent_clients_never_fail(settings, make_user, token_for, db):
    user = make_user("hotline_advocate")
    headers = token_for(user)
    advocates = [make_user("hotline_advocate", password=PASSWORD) for _ in range(5)]
    env = server_env(settings)
    workers = 1 if settings.is_sqlite else 2
    results: dict[int, tuple[Counter, list]] = {}
    barrier = threading.Barrier(CLIENTS)
    with serve(env, workers=workers) as (base, _proc, log):
        cookies = [_sign_in(base, a.username) for a in advocates]
        threads = [threading.Thread(target=_client_work, args=(base, headers, cookies[n % 5], n, barrier, results))
                   for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(300)
        server_log = log.read_text()

    assert len(results) == CLIENTS
    statuses = sum((c for c, _ in results.values()), Counter())
    failures = {k: v for k, v in statuses.items() if k not in (200, 201)}
    assert not failures, f"{failures}\n{server_log[-3000:]}"
    assert statuses[200] + statuses[201] == CLIENTS * 4

    db.expire_all()
    written = [w for _, ws in results.values() for w in ws]
    contacts = {i for kind, i in written if kind == "contact"}
    cases = {i for kind, i in written if kind == "case"}
    assert len(contacts) == len(cases) == CLIENTS  # each client wrote one of each
    assert set(db.execute(select(Contact.id).where(Contact.id.in_(contacts))).scalars()) == contacts
    assert set(db.execute(select(Case.id).where(Case.id.in_(cases))).scalars()) == cases
    result = audit.verify(db)
    assert result.ok, result.reason
    seqs = db.execute(select(AuditEntry.seq).order_by(AuditEntry.seq)).scalars().all()
    assert seqs == list(range(1, len(seqs) + 1))
