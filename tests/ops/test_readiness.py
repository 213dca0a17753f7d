"""/healthz and /readyz (issue 12, finding 5): every readiness check fails and recovers, on both databases,
and the answer never shows a secret, a path or a connection URL."""

from __future__ import annotations

import os
import shutil

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, event, text

from harbour.core import crypto
from harbour.core.keycheck import CANARY
from harbour.core.migrate import downgrade, upgrade
from harbour.ops.health import expected_head


@pytest.fixture
def own_settings(settings, tmp_path):
    """The test's settings with a private copy of the key ring (tests swap it) and, on SQLite, the database
    file in a folder of its own (tests take it away)."""
    ring = tmp_path / "ring" / "keys.json"
    ring.parent.mkdir(mode=0o700)
    shutil.copy(settings.key_file, ring)
    os.chmod(ring, 0o600)
    update = {"key_file": ring}
    if settings.is_sqlite:
        db = tmp_path / "data" / "harbour.db"
        db.parent.mkdir(mode=0o700)
        shutil.move(settings.database_url.split("///", 1)[1], db)
        update["database_url"] = f"sqlite:///{db}"
    return settings.model_copy(update=update)


@pytest.fixture
def ready_client(own_settings):
    from harbour.app import create_app

    app = create_app(own_settings)
    with TestClient(app) as c:
        yield c
    app.state.engine.dispose()
    crypto.configure(own_settings.key_file)  # the next test configures its own ring


def _assert_no_secrets(response, settings) -> None:
    body = response.text
    for secret in (settings.database_url, str(settings.key_file), settings.key_file.name, "127.0.0.1", "5432",
                   "postgres", "sqlite", "/tmp"):
        assert secret not in body, f"{secret!r} in {body}"


def test_healthz_is_up_and_touches_no_database(ready_client):
    engine = ready_client.app.state.engine
    statements = []
    event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    r = ready_client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok"} and statements == []


def test_ready_costs_a_few_queries_and_writes_nothing(ready_client):
    engine = ready_client.app.state.engine
    with engine.connect() as conn:
        audit_before = conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one()
    statements: list[str] = []
    listener = lambda *a: statements.append(a[2])  # noqa: E731
    event.listen(engine, "before_cursor_execute", listener)
    r = ready_client.get("/readyz")
    event.remove(engine, "before_cursor_execute", listener)
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ok", "checks": {"database": "ok", "schema": "ok", "keys": "ok"}}
    ours = [s for s in statements if "key_worker" not in s]  # the key heartbeat may beat meanwhile
    assert 1 <= len(ours) <= 7, ours
    assert not any(s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")) for s in ours)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == audit_before


def test_schema_behind_then_upgraded(ready_client, own_settings):
    url = own_settings.database_url
    downgrade(url, "0060")
    try:
        r = ready_client.get("/readyz")
        assert r.status_code == 503
        checks = r.json()["checks"]
        assert r.json()["status"] == "unavailable" and checks["database"] == "ok"
        assert checks["schema"].startswith(f"behind: database at 0060, code expects {expected_head()}")
        assert checks["keys"].startswith("not checked")
        _assert_no_secrets(r, own_settings)
    finally:
        upgrade(url)
    assert ready_client.get("/readyz").status_code == 200


def test_schema_from_an_unknown_revision(ready_client, own_settings):
    engine = ready_client.app.state.engine
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0990'"))
    try:
        r = ready_client.get("/readyz")
        assert r.status_code == 503
        assert r.json()["checks"]["schema"].startswith("unknown revision: database at 0990")
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :h"), {"h": expected_head()})
    assert ready_client.get("/readyz").status_code == 200


def test_key_file_swapped_for_another_ring_then_put_back(ready_client, own_settings, tmp_path):
    path = own_settings.key_file
    kept = tmp_path / "kept.json"
    shutil.copy2(path, kept)
    other = crypto.new_keyring(tmp_path / "other.json")
    os.replace(other.path, path)
    try:
        r = ready_client.get("/readyz")
        assert r.status_code == 503
        checks = r.json()["checks"]
        assert checks["database"] == "ok" and checks["schema"] == "ok"
        assert "does not belong to this database" in checks["keys"]
        _assert_no_secrets(r, own_settings)
    finally:
        os.replace(kept, path)
    assert ready_client.get("/readyz").status_code == 200


def test_database_sealed_by_another_ring(ready_client, own_settings, tmp_path):
    """The ring this worker holds does not open the database it now sees (say, another deployment's restore)."""
    engine = ready_client.app.state.engine
    other = crypto.new_keyring(tmp_path / "other.json")
    with engine.begin() as conn:
        original = conn.execute(text("SELECT canary, index_canary, audit_canary FROM key_check WHERE id = 1")).one()
        conn.execute(text("UPDATE key_check SET canary = :c, index_canary = :i, audit_canary = :a WHERE id = 1"),
                     {"c": other.encrypt(CANARY), "i": other.blind_index(CANARY, domain="key_check"),
                      "a": other.audit_mac(CANARY.encode())})
    try:
        r = ready_client.get("/readyz")
        assert r.status_code == 503
        assert r.json()["checks"]["keys"] == "the key ring does not decrypt this database's key check"
        _assert_no_secrets(r, own_settings)
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE key_check SET canary = :c, index_canary = :i, audit_canary = :a WHERE id = 1"),
                         {"c": original[0], "i": original[1], "a": original[2]})
    assert ready_client.get("/readyz").status_code == 200


def test_database_unreachable_then_back(ready_client, own_settings, backend):
    kind, info = backend
    engine = ready_client.app.state.engine
    if kind == "postgresql":
        admin = info["admin"]
        with admin.connect() as c:
            c.execute(text(f'ALTER DATABASE "{info["name"]}" ALLOW_CONNECTIONS false'))
            c.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                      {"n": info["name"]})

        def restore():
            with admin.connect() as c:
                c.execute(text(f'ALTER DATABASE "{info["name"]}" ALLOW_CONNECTIONS true'))
    else:  # the database's folder is gone (an unmounted volume): nothing at the path can be opened
        folder = own_settings.key_file.parent.parent / "data"
        aside = folder.with_name("data-aside")
        engine.dispose()
        os.rename(folder, aside)

        def restore():
            os.rename(aside, folder)
    try:
        r = ready_client.get("/readyz")
        assert r.status_code == 503
        checks = r.json()["checks"]
        assert checks["database"].startswith("unreachable (OperationalError")
        assert checks["schema"] == "not checked" and checks["keys"] == "not checked"
        _assert_no_secrets(r, own_settings)
        assert ready_client.get("/healthz").status_code == 200  # alive, only not ready
    finally:
        restore()
    assert ready_client.get("/readyz").status_code == 200


async def _probe_together(app, n: int):
    """``n`` probes at the same moment, on the worker's own event loop."""
    import asyncio

    import httpx

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as c:
        return await asyncio.gather(*(c.get("/readyz") for _ in range(n)))


@pytest.mark.pg_only
def test_a_database_that_hangs_gets_an_answer_in_time(ready_client, own_settings, backend):
    """A table locked by a long migration: the probe answers 503 within its time limit, and probes that arrive
    meanwhile share the one check still waiting instead of piling up threads."""
    kind, info = backend
    if kind != "postgresql":
        pytest.skip("SQLite readers are not blocked by a writer (WAL)")
    locker = create_engine(own_settings.database_url)
    conn = locker.connect()
    trans = conn.begin()
    conn.execute(text("LOCK TABLE key_check IN ACCESS EXCLUSIVE MODE"))
    try:
        results = ready_client.portal.call(_probe_together, ready_client.app, 3)
        assert [r.status_code for r in results] == [503, 503, 503]
        assert all(r.json()["checks"]["database"] == "no answer within 5 s" for r in results)
        with locker.connect() as look:  # closed here: left to the garbage collector it crashed CPython 3.11
            waiting = look.execute(text("SELECT count(*) FROM pg_locks WHERE relation = 'key_check'::regclass "
                                        "AND NOT granted")).scalar_one()
        assert waiting == 1, "one check waits, not one per probe"
    finally:
        trans.rollback()
        conn.close()
        locker.dispose()
    assert ready_client.get("/readyz").status_code == 200
