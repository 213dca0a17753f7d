"""`harbour backup create | verify | restore` on SQLite and PostgreSQL (issue 12: "Backups" and finding 6).

On PostgreSQL the databases are owned by a role that is not a superuser (see backup_fixtures), so row-level
security applies to every tool that reads them.  Bad input of every kind is in test_backup_refusals.py.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

import harbour
from harbour.core import crypto
from harbour.core.audit import verify
from harbour.core.keycheck import inspect_database
from harbour.core.rotation import rotate_keys
from harbour.ops import pgdump
from tests.conftest import PG_ADMIN_URL
from tests.ops.backup_fixtures import (  # noqa: F401 - fixtures
    API,
    NAME,
    PASSPHRASE,
    _cheap_secrets,
    db_file,
    digest_tree,
    facts,
    make_target,
    passfile,
    pg_owner,
    plaintexts,
    postgresql_only,
    run,
    settings,
    state_of,
    tables_of,
    world,
)


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from harbour.core.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def test_round_trip_every_value_reads_back(settings, world, db, run, make_target, tmp_path):  # noqa: F811
    from harbour.stats import package
    from harbour.stats import service as stats

    release = stats.publish_release(db, settings, actor=stats.CLI_ACTOR, mode="suppress")  # kept for the site
    pf = passfile(tmp_path)
    folder = tmp_path / "backups" / "nightly"
    out = run("backup", "create", folder, "--with-keys", "--passphrase-file", pf).output
    assert "backup written to" in out and "key ring: included" in out

    # -- the folder: exactly these files, owner-only, nothing half-written left beside it
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert sorted(p.name for p in folder.iterdir()) == sorted([db_file(settings), "keyring.enc", "manifest.json",
                                                               "stats.tar"])
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in folder.iterdir())
    assert [p.name for p in folder.parent.iterdir()] == ["nightly"]

    # -- the manifest
    manifest = json.loads((folder / "manifest.json").read_text())
    source = facts(settings.database_url)
    ring = crypto.load_keyring(settings.key_file)
    assert manifest["format_version"] == 1 and manifest["harbour_version"] == harbour.__version__
    created = datetime.fromisoformat(manifest["created_at"])
    assert created.utcoffset() == timedelta(0) and abs(datetime.now(UTC) - created) < timedelta(minutes=10)
    assert manifest["database"]["kind"] == ("sqlite" if settings.is_sqlite else "postgresql")
    assert manifest["schema_revision"] == source["schema_revision"] == head_revision()
    assert manifest["audit_head"] == source["audit_head"] and manifest["audit_head"]["seq"] >= 10
    assert manifest["row_counts"] == source["row_counts"]
    assert manifest["row_counts"]["sharing_person"] == 3 and manifest["row_counts"]["hotline_contact"] == 2
    assert manifest["key_ids"] == ring.key_ids
    assert manifest["key_ring"]["kdf"] == "scrypt" and manifest["key_ring"]["cipher"] == "AES-256-GCM"
    assert {"n", "r", "p", "salt", "nonce"} <= set(manifest["key_ring"])
    secrets_ = [k["key"] for k in ring.encryption_keys] + [base64.b64encode(ring.index_key).decode(),
                                                          base64.b64encode(ring.audit_key).decode()]
    for path in folder.iterdir():  # key ids only; the keys themselves nowhere in clear
        blob = path.read_bytes()
        assert not any(s.encode() in blob for s in secrets_), path.name
    for name, entry in manifest["files"].items():
        blob = (folder / name).read_bytes()
        assert entry == {"sha256": hashlib.sha256(blob).hexdigest(), "size": len(blob)}
    source_stats = digest_tree(settings.stats_dir)
    assert manifest["stats"]["files"] == len(source_stats) > 0
    archive = package.archive_name(release.reference)
    assert {f"releases/{release.reference}/{name}" for name in release.files} <= set(source_stats)

    # -- verify: with the key file, and with the backup's own ring
    out = run("backup", "verify", folder).output
    assert "backup verified" in out and "every encrypted value decrypts" in out and "audit chain intact" in out
    assert "backup verified" in run("backup", "verify", folder, "--passphrase-file", pf).output

    # -- restore into a fresh database with the key file
    source_plain = plaintexts(settings.database_url, ring)
    assert NAME in source_plain.values() and any(k[0] == "sharing_person" for k in source_plain)
    target = make_target(key_file=settings.key_file)
    out = run("backup", "restore", folder, env=target).output
    assert "restore complete" in out
    assert plaintexts(target.database_url, ring) == source_plain
    restored = facts(target.database_url)
    assert restored["row_counts"] == manifest["row_counts"] and restored["audit_head"] == manifest["audit_head"]
    assert "audit chain intact" in run("audit", "verify", env=target).output
    assert digest_tree(target.stats_dir) == source_stats
    # the restored deployment serves the records: decrypts them and still matches the repeat caller
    from harbour.app import create_app

    restored_app = create_app(target)
    try:
        with TestClient(restored_app) as c:
            got = c.get(f"{API}/contacts/{world.contact['id']}", headers=world.headers)
            assert got.status_code == 200 and got.json()["caller_name"] == NAME
            again = c.post(f"{API}/repeat-callers/lookup", json={"phone": "613-555-0199"}, headers=world.headers)
            assert len(again.json()) == 2
            # and the published release's files, checked against the restored rows' SHA-256
            kept = settings.stats_dir / "releases" / release.reference
            assert c.get(f"/statistics/releases/{release.reference}.zip").content == (kept / archive).read_bytes()
            got = c.get(f"/statistics/releases/{release.reference}/gender.csv")
            assert got.status_code == 200 and got.content == (kept / "gender.csv").read_bytes()
    finally:
        restored_app.state.engine.dispose()
        crypto.configure(settings.key_file)

    # -- restore with the backup's own key ring, to a new key file
    second = make_target()
    out = run("backup", "restore", folder, "--with-keys", "--passphrase-file", pf, env=second).output
    assert f"key ring written to {second.key_file}" in out
    assert stat.S_IMODE(second.key_file.stat().st_mode) == 0o600
    written = crypto.load_keyring(second.key_file)
    assert (written.encryption_keys, written.index_key, written.audit_key) == (
        ring.encryption_keys, ring.index_key, ring.audit_key)
    assert plaintexts(second.database_url, written) == source_plain

    if not settings.is_sqlite:  # all of this as a table owner that row-level security applies to
        engine = create_engine(settings.database_url)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT rolsuper OR rolbypassrls FROM pg_roles "
                                     "WHERE rolname = current_user")).scalar_one() is False
        engine.dispose()


def raw_put_back(folder, s, target) -> None:
    """What an operator did before this tool: put the data back without asking whether the ring opens it."""
    import shutil

    if s.is_sqlite:
        path = make_url(target.database_url).database
        os.makedirs(os.path.dirname(path), exist_ok=True)
        shutil.copy(folder / "database.sqlite", path)
    else:
        pgdump.restore(target.database_url, folder / "database.pgdump")


def test_finding6_backup_restored_under_a_later_key_ring_is_refused(settings, world, run, make_target,  # noqa: F811
                                                                    tmp_path):
    pf = passfile(tmp_path)
    folder = tmp_path / "before-rotation"
    run("backup", "create", folder, "--with-keys", "--passphrase-file", pf)
    old = crypto.load_keyring(settings.key_file)
    rotated = rotate_keys(settings)  # a new key; the old one retired
    new = crypto.load_keyring(settings.key_file)
    assert rotated.retired == old.key_ids and not set(old.key_ids) & set(new.key_ids)

    # -- the finding, reproduced: put back without a check, the audit chain verifies under the new ring while
    #    every encrypted field is unreadable
    blind = make_target(key_file=settings.key_file)
    raw_put_back(folder, settings, blind)
    engine = create_engine(blind.database_url)
    try:
        with Session(engine) as session:
            assert verify(session).ok
        assert not inspect_database(engine, new).ok
        token = plaintexts(blind.database_url, old)  # readable only with the retired key
        assert NAME in token.values()
        with pytest.raises(crypto.KeyFileError):
            plaintexts(blind.database_url, new)
    finally:
        engine.dispose()

    # -- restore refuses: names the keys the backup needs and how to use its own ring; the target is untouched
    target = make_target(key_file=settings.key_file)
    before = state_of(target)
    out = run("backup", "restore", folder, env=target, code=2).output
    assert "does not open this backup" in out and old.primary_id in out and new.primary_id in out
    assert f"harbour backup restore {folder} --with-keys --passphrase-file FILE" in out
    assert "Nothing was changed" in out
    assert state_of(target) == before and tables_of(target.database_url) == []
    # verify says so too (exit 1)
    out = run("backup", "verify", folder, code=1).output
    assert "does not open this database" in out and "backup NOT verified" in out

    # -- the backup's own ring: refused over a different key file unless --force (which keeps the old one)
    out = run("backup", "restore", folder, "--with-keys", "--passphrase-file", pf, env=target, code=2).output
    assert "holds another key ring" in out and state_of(target) == before
    out = run("backup", "restore", folder, "--with-keys", "--passphrase-file", pf, "--force", env=target).output
    assert "restore complete" in out
    kept = list(settings.key_file.parent.glob(f"{settings.key_file.name}.replaced-*"))
    assert len(kept) == 1 and crypto.load_keyring(kept[0]).key_ids == new.key_ids
    assert crypto.load_keyring(settings.key_file).key_ids == old.key_ids
    assert NAME in plaintexts(target.database_url, old).values()


@pytest.mark.slow
def test_online_backup_while_harbour_writes(settings, make_user, token_for, make_target, tmp_path,  # noqa: F811
                                            app):
    import httpx

    from tests.servers import harbour as command
    from tests.servers import serve, server_env

    headers = token_for(make_user("hotline_advocate"))
    app.state.engine.dispose()
    folder = tmp_path / "online"
    written, failed, stop = [], [], threading.Event()
    with serve(server_env(settings)) as (base, _proc, _log):
        def writer() -> None:
            with httpx.Client(base_url=base, headers=headers, timeout=30) as c:
                while not stop.is_set():
                    r = c.post(f"{API}/contacts", json={"channel": "phone", "summary": "Fictional online write",
                                                        "caller_name": f"Fictional Online {len(written)}"})
                    (written if r.status_code == 201 else failed).append(r.status_code)

        thread = threading.Thread(target=writer)
        thread.start()
        try:
            while len(written) < 5 and not failed:
                time.sleep(0.05)
            at_start = len(written)
            result = command(server_env(settings), "backup", "create", str(folder))
            at_end = len(written)
            while len(written) < at_end + 5 and not failed:
                time.sleep(0.05)
        finally:
            stop.set()
            thread.join()
    assert result.returncode == 0, result.stderr
    assert not failed and at_end > at_start  # Harbour kept writing while the backup ran
    manifest = json.loads((folder / "manifest.json").read_text())
    taken = manifest["row_counts"]["hotline_contact"]
    assert at_start <= taken <= at_end

    target = make_target(key_file=settings.key_file)
    restored = command(server_env(target), "backup", "restore", str(folder))
    assert restored.returncode == 0, restored.stderr
    check = command(server_env(target), "audit", "verify")
    assert check.returncode == 0 and f"{manifest['audit_head']['seq']} entries verified" in check.stdout
    assert facts(target.database_url)["row_counts"] == manifest["row_counts"]
    names = {v for (t, c, *_), v in plaintexts(target.database_url, crypto.load_keyring(settings.key_file)).items()
             if (t, c) == ("hotline_contact", "caller_name")}
    assert names == {f"Fictional Online {i}" for i in range(taken)}


# -- PostgreSQL only: row-level security, grants, the scratch database ---------------------------------------
def test_pg_dump_holds_every_agency_row(postgresql_only, settings, world, tmp_path):  # noqa: F811
    import subprocess

    env = pgdump.libpq_env(settings.database_url)
    env["PGOPTIONS"] = env["PGOPTIONS"].replace(pgdump.ALL_AGENCIES, "")
    # a plain pg_dump as the (non-superuser) owner stops at the first table with forced row-level security
    plain = subprocess.run(["pg_dump", "-Fc", "-f", str(tmp_path / "plain.dump")], env=env, capture_output=True,
                           text=True)
    assert plain.returncode != 0 and "row-level security" in plain.stderr
    # with --enable-row-security alone it "succeeds" and silently leaves out every agency's rows
    subprocess.run(["pg_dump", "-Fc", "--enable-row-security", "-f", str(tmp_path / "rls.dump")], env=env,
                   check=True)
    assert pgdump.scan(tmp_path / "rls.dump", tables=["sharing_person"]).counts == {"sharing_person": 0}
    # ours holds them all
    pgdump.dump(settings.database_url, tmp_path / "ours.dump")
    assert pgdump.scan(tmp_path / "ours.dump", tables=["sharing_person"]).counts == {"sharing_person": 3}


def test_restore_grants_the_application_role_again(postgresql_only, settings, world, run, make_target,  # noqa: F811
                                                   tmp_path, pg_owner):  # noqa: F811
    from harbour.sharing.rls import create_app_role

    tag = uuid.uuid4().hex[:6]
    app_role, gone = f"hb_app_{tag}", f"hb_gone_{tag}"
    pg_owner.roles += [app_role, gone]
    source_db = make_url(settings.database_url).database
    admin_source = make_url(PG_ADMIN_URL).set(database=source_db).render_as_string(hide_password=False)
    create_app_role(admin_source, app_role, None)
    create_app_role(admin_source, gone, None)
    pg_owner.sql(f'ALTER DEFAULT PRIVILEGES FOR ROLE "{pg_owner.role}" IN SCHEMA public '
                 f'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{app_role}"', database=source_db)
    folder = tmp_path / "with-grants"
    run("backup", "create", folder)
    grants = json.loads((folder / "manifest.json").read_text())["database"]["grants"]
    assert {app_role, gone} <= set(grants["roles"]) and grants["owner"] == pg_owner.role
    assert grants["roles"][app_role]["tables"]["hotline_contact"] == ["DELETE", "INSERT", "SELECT", "UPDATE"]
    pg_owner.sql(f'DROP OWNED BY "{gone}"', database=source_db)
    pg_owner.sql(f'DROP ROLE "{gone}"')

    target = make_target(key_file=settings.key_file)
    out = run("backup", "restore", folder, env=target).output
    assert f"granted {app_role} its privileges again" in out
    assert f"ACTION NEEDED: role {gone} held privileges" in out and f"harbour db create-app-role {gone}" in out
    target_db = make_url(target.database_url).database
    # the application role works on the restored database, and Harbour runs as it
    engine = create_engine(pg_owner.url(target_db, role=app_role))
    try:
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM hotline_contact")).scalar_one() == 2
            conn.execute(text("UPDATE hotline_contact SET city = 'Fictional' WHERE id = :i"),
                         {"i": world.contact["id"]})
    finally:
        engine.dispose()
    from harbour.app import create_app
    from harbour.core.config import Settings

    as_app = create_app(Settings(database_url=pg_owner.url(target_db, role=app_role), key_file=settings.key_file,
                                 stats_dir=target.stats_dir, base_url="http://testserver"))
    try:
        with TestClient(as_app) as c:
            got = c.get(f"{API}/contacts/{world.contact['id']}", headers=world.headers)
            assert got.status_code == 200 and got.json()["caller_name"] == NAME
    finally:
        as_app.state.engine.dispose()
        crypto.configure(settings.key_file)
    # the owner's default privileges came back too: a table a later migration adds is granted
    owner = create_engine(target.database_url)
    try:
        with owner.begin() as conn:
            conn.execute(text("CREATE TABLE fictional_later_table (id integer)"))
    finally:
        owner.dispose()
    engine = create_engine(pg_owner.url(target_db, role=app_role))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM fictional_later_table")).scalar_one() == 0
    finally:
        engine.dispose()


def test_verify_without_createdb_says_what_to_do(postgresql_only, settings, world, run, tmp_path,  # noqa: F811
                                                pg_owner):  # noqa: F811
    folder = tmp_path / "b"
    run("backup", "create", folder)
    weak = f"hb_nocreatedb_{uuid.uuid4().hex[:6]}"
    pg_owner.roles.append(weak)
    pg_owner.sql(f'CREATE ROLE "{weak}" LOGIN NOCREATEDB')
    as_weak = settings.model_copy(update={"database_url": pg_owner.url(make_url(settings.database_url).database,
                                                                        role=weak)})
    out = run("backup", "verify", folder, env=as_weak, code=1).output
    assert f"the role {weak} may not create databases" in out and f'ALTER ROLE "{weak}" CREATEDB' in out
