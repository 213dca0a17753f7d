"""Every database test runs twice: on SQLite and on PostgreSQL.

PostgreSQL comes from HARBOUR_TEST_DATABASE_URL (an admin URL; default
postgresql+psycopg://postgres@127.0.0.1:5432/postgres).  The suite creates its
own database, migrates it once, empties it between tests and drops it at the
end.  Without a reachable server the PostgreSQL half is skipped, saying why.
"""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import hypothesis  # noqa: F401  (imported early: avoids a CPython 3.11 AST crash in its late plugin import)
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from harbour.core import crypto
from harbour.core.audit import Actor
from harbour.core.config import Settings
from harbour.core.migrate import upgrade

PG_ADMIN_URL = os.environ.get("HARBOUR_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
PASSWORD = "correct horse battery staple"


def _pg_available() -> str | None:
    try:
        eng = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with eng.connect() as c:
            c.execute(text("select 1"))
        eng.dispose()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "no server here"
        return f"PostgreSQL not reachable at {make_url(PG_ADMIN_URL).render_as_string(hide_password=True)}: " \
               f"{type(exc).__name__}"


@pytest.fixture(scope="session")
def key_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("keys") / "keys.json"
    crypto.configure(path, create=True)
    return path


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def backend(request, tmp_path_factory, key_file):
    """A migrated template database per backend; yields (kind, info)."""
    if request.param == "sqlite":
        tmpl = tmp_path_factory.mktemp("sqlite") / "template.db"
        upgrade(f"sqlite:///{tmpl}")
        yield "sqlite", {"template": tmpl}
        return
    if os.environ.get("HARBOUR_TEST_SKIP_PG"):
        pytest.skip("PostgreSQL half skipped: HARBOUR_TEST_SKIP_PG is set")
    reason = _pg_available()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason + " (CI must run the PostgreSQL half)")
        pytest.skip(reason)
    name = f"harbour_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    from harbour.models_registry import metadata

    tables = [t.name for t in metadata.sorted_tables]
    yield "postgresql", {"url": url, "tables": tables, "admin": admin, "name": name}
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _reset_pg(info) -> None:
    eng = create_engine(info["url"])
    with eng.begin() as c:
        c.execute(text("SET LOCAL session_replication_role = replica"))  # lets TRUNCATE pass the audit trigger
        c.execute(text("TRUNCATE " + ", ".join(f'"{t}"' for t in info["tables"]) + " RESTART IDENTITY CASCADE"))
        c.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, :h)"), {"h": "0" * 64})
    eng.dispose()


@pytest.fixture
def settings(backend, tmp_path, key_file) -> Settings:
    kind, info = backend
    if kind == "sqlite":
        db = tmp_path / "harbour.db"
        shutil.copy(info["template"], db)
        url = f"sqlite:///{db}"
    else:
        _reset_pg(info)
        url = info["url"]
    crypto.configure(key_file)
    return Settings(database_url=url, key_file=key_file, base_url="http://testserver")


@pytest.fixture
def app(settings):
    """The application on the test's own database (so rate-limit counters start at zero in every test).

    The suite's visitors all share TestClient's one address, so the chat-start cap is lifted unless a test
    sets it (``chat_settings(chat_start_limit=...)``); tests/security/test_proxy_and_limits.py tests the caps."""
    from harbour.app import create_app

    if "chat_start_limit" not in settings.model_fields_set:
        settings.chat_start_limit = 1000
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


@pytest.fixture
def db(app):
    session = app.state.sessionmaker()
    yield session
    session.close()


SYSTEM = Actor.system("tests")


@pytest.fixture
def make_user(db):
    from harbour.core.security import create_user

    def _make(role: str, username: str | None = None, **kw):
        user = create_user(db, actor=SYSTEM, username=username or f"{role}-{uuid.uuid4().hex[:6]}",
                           display_name=kw.pop("display_name", f"Test {role} (fictional)"), role=role,
                           password=kw.pop("password", PASSWORD), **kw)
        db.commit()
        return user

    return _make


def run_async(coro):
    """Run a coroutine to completion on a fresh event loop in its own thread.

    ``asyncio.run`` refuses to start inside a thread that already runs a loop, and Playwright's sync API (the
    browser tests, on the same xdist worker) leaves one running in the main thread."""
    import asyncio
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def actor_of(user) -> Actor:
    return Actor(user.id, user.username, user.role, user.organization)


@pytest.fixture
def token_for(db):
    """A bearer token with the given scopes, written directly (as if issued before a role change),
    so access tests can show that the *service* refuses roles, whatever the token says."""
    import secrets

    from harbour.core.models import ApiToken
    from harbour.core.security import sha256

    def _token(user, scopes=("hotline:read", "hotline:write")) -> dict:
        raw = "hbr_" + secrets.token_urlsafe(32)
        db.add(ApiToken(user_id=user.id, name="test", prefix=raw[:10], token_hash=sha256(raw), scopes=list(scopes)))
        db.commit()
        return {"Authorization": f"Bearer {raw}"}

    return _token


def csrf_of(client: TestClient, path: str = "/login") -> str:
    """Fetch a page and read the CSRF token it carries."""
    import re

    page = client.get(path)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text) or re.search(
        r'"X-CSRF-Token": "([^"]+)"', page.text)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


@pytest.fixture
def login(client):
    def _login(user, password: str = PASSWORD, follow: bool = False):
        token = csrf_of(client, "/login")
        return client.post("/login", data={"username": user.username, "password": password, "csrf_token": token,
                                           "next": "/console"}, follow_redirects=follow)

    return _login


def invoke_cli(monkeypatch, database_url: str, key_file, *args: str):
    """Run a `harbour` command in-process (typer's CliRunner) against ``database_url`` and ``key_file``."""
    from typer.testing import CliRunner

    from harbour.cli import app as cli
    from harbour.core.config import get_settings

    monkeypatch.setenv("HARBOUR_DATABASE_URL", database_url)
    monkeypatch.setenv("HARBOUR_KEY_FILE", str(key_file))
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, list(args))
    finally:
        get_settings.cache_clear()
