"""Fixtures for the backup tests (imported by tests/ops/test_backup*.py).

On PostgreSQL every database here is owned by a role that is **not** a superuser (it created the tables by
running the migrations, as a production owner role does), so row-level security applies to it: a backup that
missed agency-owned rows would be caught.  Each test gets a source database copied from a migrated template,
its own copy of the key file (tests rotate keys) and its own statistics folder.  All people are fictional.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import uuid
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from harbour.core import crypto
from harbour.core.audit import Actor
from harbour.core.config import Settings
from tests.conftest import PG_ADMIN_URL

API = "/api/v1/hotline"
ADMIN = Actor(None, "system:tests", "admin")
NAME, PHONE, EMAIL = "Fictional Backup Caller", "613-555-0199", "fictional.backup@example.com"
SUMMARY = "Fictional caller describes a fictional farm job."
PASSPHRASE = "fictional passphrase for tests only"


@pytest.fixture(autouse=True)
def _cheap_secrets(monkeypatch):
    """argon2 and scrypt at their cheapest: the tests check behaviour, not cost (the manifest records the
    scrypt parameters, so unsealing follows whatever sealing used)."""
    from argon2 import PasswordHasher

    from harbour.core import security
    from harbour.ops import keyseal

    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    monkeypatch.setattr(keyseal, "SCRYPT_N", 2**12)


class PgOwner:
    """A non-superuser owner role with a migrated template database; makes and drops databases it owns."""

    def __init__(self) -> None:
        from harbour.core.migrate import upgrade

        self.admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        tag = f"{os.getpid()}_{uuid.uuid4().hex[:6]}"
        self.role, self.template = f"hb_owner_{tag}", f"hb_tmpl_{tag}"
        self.roles = [self.role]
        self.sql(f'CREATE ROLE "{self.role}" LOGIN NOSUPERUSER NOBYPASSRLS CREATEDB')
        self.sql(f'CREATE DATABASE "{self.template}" OWNER "{self.role}"')
        upgrade(self.url(self.template))

    def sql(self, statement: str, database: str | None = None):
        engine = self.admin if database is None else create_engine(
            make_url(PG_ADMIN_URL).set(database=database), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as conn:
                return conn.execute(text(statement)).all() if statement.lstrip().upper().startswith("SELECT") \
                    else conn.execute(text(statement))
        finally:
            if database is not None:
                engine.dispose()

    def url(self, database: str, role: str | None = None) -> str:
        return make_url(PG_ADMIN_URL).set(database=database, username=role or self.role,
                                          password=None).render_as_string(hide_password=False)

    def database(self, *, migrated: bool) -> str:
        name = f"hb_{'src' if migrated else 'tgt'}_{uuid.uuid4().hex[:10]}"
        template = self.template if migrated else "template0"
        self.sql(f'CREATE DATABASE "{name}" TEMPLATE "{template}" OWNER "{self.role}"')
        return name

    def drop(self, name: str) -> None:
        self.sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        for name, in self.sql(f"SELECT datname FROM pg_database WHERE datname LIKE 'hb\\_%' "
                              f"AND datdba = (SELECT oid FROM pg_roles WHERE rolname = '{self.role}')"):
            self.drop(name)
        for role in reversed(self.roles):
            self.sql(f'DROP ROLE IF EXISTS "{role}"')
        self.admin.dispose()


@pytest.fixture(scope="session")
def pg_owner():
    owner = PgOwner()
    yield owner
    owner.close()


@pytest.fixture
def postgresql_only(backend):
    """First in a test's arguments: skip the SQLite half before any data is built."""
    if backend[0] != "postgresql":
        pytest.skip("PostgreSQL only (row-level security, roles and grants, pg_dump)")


def _private_copy(source: Path, dest: Path) -> Path:
    dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copy(source, dest)
    os.chmod(dest, 0o600)
    return dest


@pytest.fixture
def settings(backend, tmp_path, key_file, request) -> Settings:
    """The source: a migrated database (PostgreSQL: owned by a non-superuser), its own key file and stats folder."""
    kind, info = backend
    keys = _private_copy(key_file, tmp_path / "keys" / "harbour-keys.json")
    name = None
    if kind == "sqlite":
        db = tmp_path / "source" / "harbour.db"
        db.parent.mkdir()
        shutil.copy(info["template"], db)
        url = f"sqlite:///{db}"
    else:
        owner = request.getfixturevalue("pg_owner")
        name = owner.database(migrated=True)
        url = owner.url(name)
    crypto.configure(keys)
    yield Settings(database_url=url, key_file=keys, stats_dir=tmp_path / "source" / "stats",
                   base_url="http://testserver")
    crypto.configure(key_file)
    if name:
        request.getfixturevalue("pg_owner").drop(name)


@pytest.fixture
def make_target(backend, tmp_path, request):
    """``make_target(key_file=None)``: settings for a new, empty database (PostgreSQL: an empty database owned by
    the same non-superuser), a statistics folder and a key file path of its own unless given."""
    kind, _ = backend
    made: list[str] = []

    def _make(key_file: Path | None = None) -> Settings:
        folder = tmp_path / f"target{len(made) + 1}"
        if kind == "sqlite":
            url = f"sqlite:///{folder / 'harbour.db'}"
            made.append(url)
        else:
            owner = request.getfixturevalue("pg_owner")
            name = owner.database(migrated=False)
            made.append(name)
            url = owner.url(name)
        return Settings(database_url=url, key_file=key_file or folder / "keys" / "harbour-keys.json",
                        stats_dir=folder / "stats", base_url="http://testserver")

    yield _make
    if kind == "postgresql":
        for name in made:
            request.getfixturevalue("pg_owner").drop(name)


def env_of(s: Settings) -> dict[str, str]:
    return {"HARBOUR_DATABASE_URL": s.database_url, "HARBOUR_KEY_FILE": str(s.key_file),
            "HARBOUR_STATS_DIR": str(s.stats_dir)}


@pytest.fixture
def run(settings):
    """``run(*args, env=settings, code=0)``: a ``harbour`` command in this process (typer's CliRunner) with the
    HARBOUR_* variables of ``env``; asserts the exit code (unless ``code=None``) and that no traceback leaked."""
    from typer.testing import CliRunner

    from harbour.cli import app as cli
    from harbour.core.config import get_settings

    def _run(*args, env: Settings | None = None, code: int | None = 0):
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(cli, [str(a) for a in args], env=env_of(env or settings))
        finally:
            get_settings.cache_clear()
            if settings.key_file.exists():
                crypto.configure(settings.key_file)  # the source app's ring again
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        assert "Traceback" not in result.output
        if code is not None:
            assert result.exit_code == code, result.output
        return result

    return _run


@pytest.fixture
def world(client, db, make_user, token_for, settings):
    """Real records through the API and services: hotline contacts (every encrypted field), a case with consent,
    safety plan, escalation and override; an agency's person records (row-level-security tables on PostgreSQL);
    the statistics store."""
    from harbour.sharing import agencies, ingest
    from harbour.sharing.schemas import AgencyCreate
    from harbour.stats import service as stats

    h = token_for(make_user("hotline_advocate"))
    contact = client.post(f"{API}/contacts", json={"channel": "phone", "caller_name": NAME, "caller_phone": PHONE,
                                                   "caller_email": EMAIL, "summary": SUMMARY}, headers=h).json()
    client.post(f"{API}/contacts", json={"channel": "phone", "caller_phone": PHONE, "summary": "Fictional repeat"},
                headers=h)
    case = client.post(f"{API}/cases", json={"contact_ids": [contact["id"]], "survivor_alias": "Fictional Alias",
                                             "notes": "Fictional notes"}, headers=h).json()
    client.post(f"{API}/cases/{case['id']}/consents", json={"purpose": "referral", "method": "verbal",
                                                           "note": "Fictional consent note"}, headers=h)
    client.put(f"{API}/cases/{case['id']}/safety-plan", json={"code_word": "Fictional blue", "notes": "Fictional"},
               headers=h)
    client.post(f"{API}/cases/{case['id']}/escalations", json={"reason": "Fictional danger"}, headers=h)
    agencies.create_agency(db, actor=ADMIN, data=AgencyCreate(code="TPS", name="Fictional Toronto Police",
                                                              kind="municipal_police", province="ON"))
    db.commit()
    rows = [{"record_id": f"T-{i}", "agency": "TPS", "given_name": "Alexa", "surname": f"Testperson{i}",
             "date_of_birth": "1990-04-12", "sex": "F", "phone": f"416-555-01{i:02d}",
             "email": f"t-{i}@example.org", "city": "Toronto", "province": "ON"} for i in range(3)]
    ingest.ingest(db, actor=ADMIN, record_type="person", rows=rows, source_system="RMS-test", as_agency="TPS")
    db.commit()
    stats.build_store(db, settings, actor=stats.CLI_ACTOR)
    return SimpleNamespace(headers=h, contact=contact, case=case)


def passfile(tmp_path, passphrase: str = PASSPHRASE, name: str = "passphrase"):
    path = tmp_path / name
    path.write_text(passphrase + "\n")
    path.chmod(0o600)
    return path


def db_file(s) -> str:
    return "database.sqlite" if s.is_sqlite else "database.pgdump"


# -- what the tests compare --------------------------------------------------------------------------------
def _engine(url: str):
    return create_engine(url)


def plaintexts(url: str, ring) -> dict[tuple, str]:
    """{(table, column, primary key…): decrypted value} for every encrypted value, read across agencies."""
    from harbour.models_registry import metadata

    engine = _engine(url)
    found = {}
    try:
        with engine.connect() as conn, conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT set_config('harbour.all_agencies', 'on', true)"))
            for table, column in crypto.encrypted_columns(metadata):
                pks = [c.name for c in metadata.tables[table].primary_key.columns]
                for row in conn.execute(text(f'SELECT {", ".join(pks)}, "{column}" FROM "{table}" '
                                             f'WHERE "{column}" IS NOT NULL')):
                    found[(table, column, *row[:-1])] = ring.decrypt(row[-1])
    finally:
        engine.dispose()
    return found


def facts(url: str) -> dict:
    from harbour.ops.checks import read_facts

    engine = _engine(url)
    try:
        return read_facts(engine)
    finally:
        engine.dispose()


def tables_of(url: str) -> list[str]:
    """The tables of a database (a SQLite file that does not exist has none, and is not created)."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        if not path.exists():
            return []
    engine = _engine(url)
    try:
        return sorted(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def digest_tree(root: Path) -> dict[str, str]:
    """{relative path: SHA-256} of every file under ``root`` (none: empty)."""
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def state_of(target: Settings) -> tuple:
    """Everything a refused restore must leave as it was: tables, row counts, key file, statistics store."""
    tables = tables_of(target.database_url)
    counts = facts(target.database_url)["row_counts"] if tables else {}
    keys = hashlib.sha256(target.key_file.read_bytes()).hexdigest() if target.key_file.exists() else None
    return tables, counts, keys, digest_tree(Path(target.stats_dir))
