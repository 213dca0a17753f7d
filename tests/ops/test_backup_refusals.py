"""Bad input to `harbour backup`: each case is a clear error, an exit code other than 0, and nothing changed.

Missing ring, wrong ring, corrupted file (one flipped byte), partial backup (missing or truncated file, missing
manifest), extra file, altered manifest, non-empty target, wrong or too-short passphrase, folder not empty.
"""

from __future__ import annotations

import json
import shutil

import pytest

from harbour.core import crypto
from harbour.ops import keyseal, pgdump
from harbour.ops.manifest import BackupError
from tests.ops.backup_fixtures import (  # noqa: F401 - fixtures
    PASSPHRASE,
    _cheap_secrets,
    db_file,
    facts,
    make_target,
    passfile,
    pg_owner,
    run,
    settings,
    state_of,
    world,
)


def flip(path, at: float = 0.5) -> None:
    data = bytearray(path.read_bytes())
    i = int(len(data) * at)
    data[i] ^= 0x01
    path.write_bytes(bytes(data))


def truncate(path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def alter_manifest(path) -> None:
    data = json.loads(path.read_text())
    data["row_counts"]["hotline_contact"] += 1  # still valid JSON, still "looks" right
    path.write_text(json.dumps(data, indent=2, sort_keys=True))


def damage(s):
    db = db_file(s)
    return {
        "one flipped byte in the database": (lambda f: flip(f / db), f"{db} is corrupted"),
        "one flipped byte in the statistics archive": (lambda f: flip(f / "stats.tar", 0.3), "stats.tar is corrupted"),
        "one flipped byte in the sealed key ring": (lambda f: flip(f / "keyring.enc"), "keyring.enc is corrupted"),
        "a truncated database": (lambda f: truncate(f / db), f"{db} is truncated"),
        "a missing database": (lambda f: (f / db).unlink(), f"{db} is missing"),
        "a missing statistics archive": (lambda f: (f / "stats.tar").unlink(), "stats.tar is missing"),
        "a missing manifest": (lambda f: (f / "manifest.json").unlink(), "has no manifest.json"),
        "an altered manifest": (lambda f: alter_manifest(f / "manifest.json"), "was altered or damaged"),
        "a manifest that is not JSON": (lambda f: truncate(f / "manifest.json"), "is damaged (not valid JSON)"),
        "an extra file": (lambda f: (f / "notes.txt").write_text("fictional"), "notes.txt is not part of the backup"),
    }


def test_damaged_or_partial_backups_are_refused(settings, world, run, make_target, tmp_path):  # noqa: F811
    pf = passfile(tmp_path)
    good = tmp_path / "good"
    run("backup", "create", good, "--with-keys", "--passphrase-file", pf)
    target, fresh = make_target(key_file=settings.key_file), make_target()
    before, fresh_before = state_of(target), state_of(fresh)
    for n, (case, (harm, says)) in enumerate(damage(settings).items()):
        folder = tmp_path / f"damaged-{n}"
        shutil.copytree(good, folder)
        harm(folder)
        out = run("backup", "verify", folder, code=1).output
        assert says in out, (case, out)
        out = run("backup", "restore", folder, env=target, code=2).output
        assert says in out and "Nothing was changed" in out, (case, out)
        out = run("backup", "restore", folder, "--with-keys", "--passphrase-file", pf, env=fresh, code=2)
        assert says in out.output, case
        assert state_of(target) == before and state_of(fresh) == fresh_before, case
    # a backup that was never finished is never where the operator looks: only the manifest completes it
    assert "backup verified" in run("backup", "verify", good).output


def test_missing_or_wrong_key_ring_and_wrong_passphrase(settings, world, run, make_target, tmp_path):  # noqa: F811
    pf = passfile(tmp_path)
    folder = tmp_path / "b"
    run("backup", "create", folder, "--with-keys", "--passphrase-file", pf)
    target = make_target(key_file=settings.key_file)
    before = state_of(target)

    # -- missing ring: nothing is created in its place
    nowhere = tmp_path / "nowhere" / "keys.json"
    no_ring = target.model_copy(update={"key_file": nowhere})
    out = run("backup", "restore", folder, env=no_ring, code=2).output
    assert f"the key file {nowhere} does not exist" in out and "--with-keys" in out and "Nothing was changed" in out
    out = run("backup", "verify", folder, env=no_ring, code=1).output
    assert "does not exist" in out
    assert not nowhere.exists() and not nowhere.parent.exists()

    # -- another deployment's ring
    other = crypto.new_keyring(tmp_path / "other" / "keys.json")
    wrong = target.model_copy(update={"key_file": other.path})
    out = run("backup", "restore", folder, env=wrong, code=2).output
    assert "does not open this backup" in out and crypto.load_keyring(settings.key_file).primary_id in out
    out = run("backup", "verify", folder, env=wrong, code=1).output
    assert "does not open this database" in out

    # -- wrong passphrase
    bad = passfile(tmp_path, "a different fictional passphrase", "wrong-passphrase")
    out = run("backup", "restore", folder, "--with-keys", "--passphrase-file", bad, env=make_target(), code=2).output
    assert "the passphrase does not open the key ring" in out
    out = run("backup", "verify", folder, "--passphrase-file", bad, code=1).output
    assert "the passphrase does not open the key ring" in out

    # -- a backup without a key ring asked for its ring
    plain = tmp_path / "plain"
    run("backup", "create", plain)
    out = run("backup", "restore", plain, "--with-keys", "--passphrase-file", pf, env=make_target(), code=2).output
    assert "holds no key ring" in out
    assert state_of(target) == before


def test_create_refuses_and_writes_nothing(settings, world, run, tmp_path):  # noqa: F811
    # -- the folder is not empty
    full = tmp_path / "full"
    full.mkdir()
    (full / "keep.txt").write_text("fictional")
    out = run("backup", "create", full, code=2).output
    assert "is not empty" in out and [p.name for p in full.iterdir()] == ["keep.txt"]
    # -- the folder is a file
    afile = tmp_path / "afile"
    afile.write_text("fictional")
    assert "is not a folder" in run("backup", "create", afile, code=2).output
    # -- passphrases
    short = passfile(tmp_path, "too short", "short")
    out = run("backup", "create", tmp_path / "s", "--with-keys", "--passphrase-file", short, code=2).output
    assert "too short" in out and f"at least {keyseal.MIN_PASSPHRASE}" in out
    shared = passfile(tmp_path, PASSPHRASE, "shared")
    shared.chmod(0o644)
    out = run("backup", "create", tmp_path / "s", "--with-keys", "--passphrase-file", shared, code=2).output
    assert "can be read by other users" in out
    out = run("backup", "create", tmp_path / "s", "--with-keys", code=2).output
    assert "--with-keys and --passphrase-file FILE go together" in out
    missing = run("backup", "create", tmp_path / "s", "--with-keys", "--passphrase-file", tmp_path / "none", code=2)
    assert "passphrase file not found" in missing.output
    # -- a missing key ring: no backup, and no new key file
    no_ring = settings.model_copy(update={"key_file": tmp_path / "gone" / "keys.json"})
    out = run("backup", "create", tmp_path / "s", env=no_ring, code=2).output
    assert "does not exist" in out and not (tmp_path / "gone").exists()
    assert not (tmp_path / "s").exists()
    assert not [p for p in tmp_path.iterdir() if ".partial-" in p.name]


def test_non_empty_target_is_refused_unless_forced(settings, world, run, make_target, tmp_path):  # noqa: F811
    folder = tmp_path / "b"
    run("backup", "create", folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    # -- into the live source database itself
    before = facts(settings.database_url)
    out = run("backup", "restore", folder, code=2).output
    assert "the target is not empty" in out and "hotline_contact (2 rows)" in out and "--force" in out
    assert "sharing_person (3 rows)" in out  # counted across agencies
    assert facts(settings.database_url) == before
    # -- a target that already holds data, replaced with --force
    target = make_target(key_file=settings.key_file)
    run("backup", "restore", folder, env=target)
    from harbour.app import create_app

    later = create_app(target)  # the restored deployment goes on writing
    try:
        with later.state.sessionmaker() as db:
            from harbour.core.audit import Actor, record

            record(db, Actor.system("tests"), "read", "hotline_contact", 1)
            db.commit()
    finally:
        later.state.engine.dispose()
        crypto.configure(settings.key_file)
    grown = state_of(target)
    out = run("backup", "restore", folder, env=target, code=2).output
    assert "audit_log" in out and "statistics store" in out and state_of(target) == grown
    assert "restore complete" in run("backup", "restore", folder, "--force", env=target).output
    assert facts(target.database_url)["audit_head"] == manifest["audit_head"]
    assert facts(target.database_url)["row_counts"] == manifest["row_counts"]


def test_backup_of_one_kind_into_the_other_is_refused(settings, world, run, tmp_path):  # noqa: F811
    folder = tmp_path / "b"
    run("backup", "create", folder)
    other = "postgresql+psycopg://nobody@127.0.0.1:1/none" if settings.is_sqlite else \
        f"sqlite:///{tmp_path / 'other.db'}"
    elsewhere = settings.model_copy(update={"database_url": other})
    out = run("backup", "restore", folder, env=elsewhere, code=2).output
    assert "restore it into the same kind of database" in out
    assert not (tmp_path / "other.db").exists()
    if not settings.is_sqlite:  # a PostgreSQL target that does not exist
        absent = settings.database_url.rsplit("/", 1)[0] + "/hb_fictional_absent"
        out = run("backup", "restore", folder, env=settings.model_copy(update={"database_url": absent}), code=2)
        assert "cannot open the target database" in out.output and "create it first" in out.output


def test_restore_onto_a_freshly_upgraded_database(settings, world, run, make_target, tmp_path):  # noqa: F811
    """A new server: `harbour db upgrade` made the schema and a new key ring; the backup's ring must replace it."""
    pf = passfile(tmp_path)
    folder = tmp_path / "b"
    run("backup", "create", folder, "--with-keys", "--passphrase-file", pf)
    target = make_target()
    run("db", "upgrade", env=target)
    fresh_ring = crypto.load_keyring(target.key_file)
    before = state_of(target)
    out = run("backup", "restore", folder, "--with-keys", "--passphrase-file", pf, env=target, code=2).output
    assert "holds another key ring" in out and state_of(target) == before
    out = run("backup", "restore", folder, "--with-keys", "--passphrase-file", pf, "--force", env=target).output
    assert "restore complete" in out
    assert crypto.load_keyring(target.key_file).key_ids == crypto.load_keyring(settings.key_file).key_ids
    kept = list(target.key_file.parent.glob("*.replaced-*"))
    assert [crypto.load_keyring(k).key_ids for k in kept] == [fresh_ring.key_ids]
    assert "audit chain intact" in run("audit", "verify", env=target).output


def test_lost_key_file_comes_back_from_the_backup(settings, world, run, tmp_path):  # noqa: F811
    """The key-check message for a missing key file points here: put the ring back, the database untouched."""
    import os

    from harbour.core.rotation import rotate_keys

    pf = passfile(tmp_path)
    folder = tmp_path / "b"
    run("backup", "create", folder, "--with-keys", "--passphrase-file", pf)
    ring = crypto.load_keyring(settings.key_file)
    os.rename(settings.key_file, tmp_path / "lost.json")
    assert "does not exist" in run("audit", "verify", code=2).output
    before = facts(settings.database_url)
    out = run("backup", "restore", folder, "--with-keys", "--passphrase-file", pf, code=2).output
    assert "the target is not empty" in out and "add --keys-only" in out
    out = run("backup", "restore", folder, "--with-keys", "--passphrase-file", pf, "--keys-only").output
    assert "key ring restored" in out and "the database was not changed" in out
    assert keyseal.same_ring(crypto.load_keyring(settings.key_file), ring)
    assert facts(settings.database_url) == before
    assert "audit chain intact" in run("audit", "verify").output
    # a backup older than a key rotation cannot stand in for the lost ring
    rotate_keys(settings)
    os.rename(settings.key_file, tmp_path / "lost-again.json")
    out = run("backup", "restore", folder, "--with-keys", "--passphrase-file", pf, "--keys-only", code=2).output
    assert "does not open the current database" in out and "Nothing was changed" in out
    assert not settings.key_file.exists()
    os.rename(tmp_path / "lost-again.json", settings.key_file)


# -- without a database ----------------------------------------------------------------------------------
def test_connection_details_reach_pg_tools_through_the_environment(monkeypatch, tmp_path):
    seen = {}

    def fake_run(cmd, env, **kw):
        seen.update(cmd=cmd, env=env)

        class Done:
            returncode, stderr = 0, ""
        return Done()

    monkeypatch.setattr(pgdump.subprocess, "run", fake_run)
    pgdump.dump("postgresql+psycopg://fictional_owner:s3cret-Pass@db.example.org:5433/harbour?sslmode=verify-full",
                tmp_path / "x.dump")
    assert not any("s3cret" in part for part in seen["cmd"])
    env = seen["env"]
    assert (env["PGPASSWORD"], env["PGUSER"], env["PGHOST"], env["PGPORT"], env["PGDATABASE"], env["PGSSLMODE"]) == (
        "s3cret-Pass", "fictional_owner", "db.example.org", "5433", "harbour", "verify-full")
    assert "-c harbour.all_agencies=on" in env["PGOPTIONS"] and "--enable-row-security" in seen["cmd"]
    with pytest.raises(BackupError, match="cannot be given"):
        pgdump.libpq_env("postgresql+psycopg://u@h/db?fictional_option=1")


def test_sealed_key_ring_needs_its_passphrase_and_its_backup(tmp_path, monkeypatch):
    monkeypatch.setattr(keyseal, "SCRYPT_N", 2**12)
    ring = crypto.new_keyring(tmp_path / "keys.json")
    params, sealed = keyseal.seal(ring, b"fictional passphrase", backup_id="one")
    opened = keyseal.unseal(sealed, params, b"fictional passphrase", backup_id="one", path=tmp_path / "k")
    assert keyseal.same_ring(opened, ring) and params["n"] == 2**12 and len(sealed) > 100
    for passphrase, backup_id, blob in ((b"wrong passphrase!", "one", sealed),
                                        (b"fictional passphrase", "another backup", sealed),
                                        (b"fictional passphrase", "one", sealed[:-1] + bytes([sealed[-1] ^ 1]))):
        with pytest.raises(BackupError, match="passphrase does not open"):
            keyseal.unseal(blob, params, passphrase, backup_id=backup_id, path=tmp_path / "k")
    with pytest.raises(BackupError, match="parameters are not valid"):
        keyseal.unseal(sealed, {**params, "n": 2**30}, b"fictional passphrase", backup_id="one", path=tmp_path / "k")
