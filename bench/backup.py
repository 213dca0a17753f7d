"""`harbour bench backup [--database sqlite|postgresql] [--contacts N]`: backup, verify and restore times and sizes.

Builds a scratch database (SQLite file, or a new PostgreSQL database on the server of --admin-url), migrates
it, creates its key ring, then fills it with either

* the demo data (``harbour demo``, the default: synthetic providers, contacts, cases, sharing records,
  statistics store), or
* ``--contacts N`` synthetic hotline contacts inserted in bulk: caller name, phone and summary encrypted with
  the database's key ring (unique values, so the dump compresses as real data would), the repeat-caller phone
  index, and one hash-chained audit entry per contact (the chain verifies) — a million in minutes;

then times ``backup.create_backup`` (the snapshot, checksums, manifest), ``backup.verify_backup`` (checksums,
restore into a scratch database, key ring check, every encrypted value decrypted, whole audit chain verified)
and ``backup.restore_backup`` into a new empty database (ring proven on every value before, audit chain and row
counts checked after).  Everything is dropped at the end.  Prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ADMIN_URL = os.environ.get("HARBOUR_TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
BATCH = 20_000
PROVINCES = ["ON", "QC", "BC", "AB", "MB", "SK", "NS", "NB", "NL", "PE", "YT", "NT", "NU"]


def _database(kind: str, tmp: Path, admin_url: str, name: str) -> tuple[str, callable]:
    if kind == "sqlite":
        return f"sqlite:///{tmp / name / 'harbour.db'}", lambda: None
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    db = f"harbour_bench_{name}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{db}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)'))
        admin.dispose()

    return make_url(admin_url).set(database=db).render_as_string(hide_password=False), drop


def _naive(at: datetime) -> str:
    """SQLite: the text form SQLAlchemy's UTCDateTime stores (naive UTC, microseconds always written)."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _contacts(engine, ring, n: int) -> int:
    """N contacts and N audit entries, pre-encrypted, in bulk; returns encrypted values written."""
    from sqlalchemy import text

    from harbour.core.audit import GENESIS, _payload  # the chain's own payload: the entries must verify

    with engine.connect() as conn:
        head = conn.execute(text("SELECT seq, hash FROM audit_head WHERE id = 1")).first()
        seq = head[0] if head else 0
        prev = conn.execute(text("SELECT hash FROM audit_log WHERE seq = :s"), {"s": seq}).scalar() if seq else GENESIS
        first_id = (conn.execute(text("SELECT max(id) FROM hotline_contact")).scalar() or 0) + 1
    start = datetime(2024, 1, 1, tzinfo=UTC)
    pg = engine.dialect.name == "postgresql"
    contact_cols = ["id", "reference", "channel", "received_at", "language", "province", "summary", "caller_name",
                    "caller_phone", "phone_index", "anonymous", "source", "created_at", "updated_at"]
    audit_cols = ["seq", "at", "actor_id", "actor", "action", "record_type", "record_id", "purpose", "detail",
                  "prev_hash", "hash"]
    values = 0
    for lo in range(0, n, BATCH):
        contacts, audits = [], []
        for i in range(lo, min(n, lo + BATCH)):
            cid = first_id + i
            at = start + timedelta(seconds=60 * i)
            phone = f"+1613555{100 + i % 100:04d}"
            contacts.append((cid, f"BENCH-{cid:010d}", "phone", at, "en" if i % 3 else "fr", PROVINCES[i % 13],
                             ring.encrypt(f"Fictional synthetic contact {i}: caller asks about a fictional job offer"),
                             ring.encrypt(f"Fictional Caller {i}"), ring.encrypt(phone),
                             ring.blind_index(phone, domain="phone"), False, "console", at, at))
            values += 3
            seq += 1
            now = datetime.now(UTC)
            fields = dict(seq=seq, at=now, actor_id=None, actor="system:bench", action="create",
                          record_type="hotline_contact", record_id=str(cid), purpose=None, detail={}, prev_hash=prev)
            digest = ring.audit_mac(_payload(**fields))
            audits.append((seq, now, None, "system:bench", "create", "hotline_contact", str(cid), None, "{}", prev,
                           digest))
            prev = digest
        with engine.begin() as conn:
            if pg:
                raw = conn.connection.driver_connection
                with raw.cursor() as cur:
                    with cur.copy(f"COPY hotline_contact ({', '.join(contact_cols)}) FROM STDIN") as copy:
                        for row in contacts:
                            copy.write_row(row)
                    with cur.copy(f"COPY audit_log ({', '.join(audit_cols)}) FROM STDIN") as copy:
                        for row in audits:
                            copy.write_row(row)
            else:
                naive = [(*r[:3], _naive(r[3]), *r[4:12], _naive(r[12]), _naive(r[13])) for r in contacts]
                conn.exec_driver_sql(f"INSERT INTO hotline_contact ({', '.join(contact_cols)}) VALUES "
                                     f"({', '.join('?' * len(contact_cols))})", naive)
                conn.exec_driver_sql(f"INSERT INTO audit_log ({', '.join(audit_cols)}) VALUES "
                                     f"({', '.join('?' * len(audit_cols))})",
                                     [(r[0], _naive(r[1]), *r[2:]) for r in audits])
            conn.execute(text("UPDATE audit_head SET seq = :s, hash = :h WHERE id = 1"),
                         {"s": seq, "h": ring.audit_mac(f"head:{seq}:{prev}".encode())})
    if pg:
        with engine.connect() as conn:
            conn.execute(text("SELECT setval(pg_get_serial_sequence('hotline_contact', 'id'), "
                              "(SELECT max(id) FROM hotline_contact))"))
            conn.execute(text("SELECT setval(pg_get_serial_sequence('audit_log', 'id'), (SELECT max(id) FROM audit_log))"))
            conn.commit()
    return values


def _size(folder: Path) -> dict[str, float]:
    return {p.name: round(p.stat().st_size / 1e6, 2) for p in sorted(folder.iterdir())}


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="harbour bench backup")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--contacts", type=int, default=0,
                        help="synthetic hotline contacts instead of the demo data (e.g. 1000000)")
    parser.add_argument("--admin-url", default=ADMIN_URL, help="PostgreSQL: a role that may create databases")
    args = parser.parse_args(argv)
    if args.contacts < 0:
        print("error: --contacts must be positive", file=sys.stderr)
        return 2

    from harbour.core import crypto
    from harbour.core.config import Settings, get_settings
    from harbour.core.db import make_engine, make_sessionmaker
    from harbour.core.keycheck import open_ring
    from harbour.core.migrate import upgrade
    from harbour.ops.backup import create_backup, restore_backup, verify_backup

    tmp = Path(tempfile.mkdtemp(prefix="harbour-bench-backup-"))
    drops = []
    try:
        url, drop = _database(args.database, tmp, args.admin_url, "source")
        drops.append(drop)
        source = Settings(database_url=url, key_file=tmp / "keys" / "harbour-keys.json", stats_dir=tmp / "stats")
        os.environ.update(HARBOUR_DATABASE_URL=url, HARBOUR_KEY_FILE=str(source.key_file),
                          HARBOUR_STATS_DIR=str(source.stats_dir))
        get_settings.cache_clear()
        upgrade(url)
        engine = make_engine(url)
        ring = open_ring(source.key_file, engine=engine, create_if_empty=True)
        t = time.perf_counter()
        if args.contacts:
            values = _contacts(engine, ring, args.contacts)
        else:
            from harbour.demo import load_demo

            with make_sessionmaker(engine)() as db:
                load_demo(db, seed=2026, contacts=400, providers=1200)
            values = None
        populate_s = time.perf_counter() - t
        engine.dispose()

        folder = tmp / "backup"
        t = time.perf_counter()
        create_backup(folder, source)
        create_s = time.perf_counter() - t
        manifest = json.loads((folder / "manifest.json").read_text())
        t = time.perf_counter()
        verified = verify_backup(folder, source)
        verify_s = time.perf_counter() - t
        target_url, drop = _database(args.database, tmp, args.admin_url, "target")
        drops.append(drop)
        target = source.model_copy(update={"database_url": target_url, "stats_dir": tmp / "target-stats"})
        t = time.perf_counter()
        restored = restore_backup(folder, target)
        restore_s = time.perf_counter() - t
        crypto.configure(source.key_file)
        if not verified.ok or not restored.ok:
            print("error: " + "; ".join(verified.problems + restored.problems), file=sys.stderr)
            return 1
        decrypted = next((line for line in verified.lines if line.startswith("every encrypted value")), "")
        files = _size(folder)
        print(json.dumps({
            "bench": "backup", "database": args.database, "data": f"{args.contacts} contacts" if args.contacts
            else "demo", "rows": sum(manifest["row_counts"].values()),
            "contacts": manifest["row_counts"].get("hotline_contact"), "audit_entries": manifest["audit_head"]["seq"],
            "encrypted_values": int(decrypted.split(":")[1].split()[0]) if decrypted else values,
            "populate_s": round(populate_s, 1), "create_s": round(create_s, 2), "verify_s": round(verify_s, 2),
            "restore_s": round(restore_s, 2), "backup_mb": round(sum(files.values()), 2), "files_mb": files,
            "stats_files": manifest["stats"]["files"],
            "cpus": os.cpu_count(), "load_avg_1m": round(os.getloadavg()[0], 2), "python": platform.python_version(),
            "machine": f"{platform.system()} {platform.machine()}"}))
        return 0
    finally:
        for drop in reversed(drops):
            drop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main(sys.argv[1:]))
