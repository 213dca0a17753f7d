"""`harbour bench sharing`: ingest and relink through the sharing service (journey 3: a 20,000-record upload).

Synthetic, obviously fake people (harbour.sharing.synthetic, fixed seed) spread over 12 fictional agencies are
written to one CSV per agency and ingested through ``ingest_csv`` (validation, encryption, blind indexes,
idempotent upsert, row report), then the largest agency's file is ingested again (every row unchanged), then
everything is relinked with the active model (matches, entities, hits under one all-party hit-level agreement).
Prints one JSON line.  Options: --records N (default 20000), --database-url URL (default: a temporary SQLite
file; a PostgreSQL URL must point at an empty database).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import tempfile
import time
from datetime import date
from pathlib import Path


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="harbour bench sharing")
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)

    from harbour.core import crypto

    work = Path(tempfile.mkdtemp(prefix="harbour-bench-sharing-"))
    crypto.configure(work / "keys.json", create=True)
    url = args.database_url or f"sqlite:///{work / 'bench.db'}"

    from harbour.core.audit import Actor
    from harbour.core.db import make_engine, make_sessionmaker
    from harbour.core.migrate import upgrade
    from harbour.core.models import User
    from harbour.sharing import agencies, agreements, ingest, linking
    from harbour.sharing.schemas import AgencyCreate, AgreementCreate
    from harbour.sharing.synthetic import AGENCIES, AGENCY_PROVINCE, generate

    upgrade(url)
    factory = make_sessionmaker(make_engine(url))
    admin = Actor(None, "system:bench", "admin")
    data = generate(args.records, seed=args.seed)
    frame = data.rows.fillna("")
    with factory() as db:
        users = {}
        for code in AGENCIES:
            agencies.create_agency(db, actor=admin, data=AgencyCreate(
                code=code, name=f"Synthetic agency {code}", kind="municipal_police", province=AGENCY_PROVINCE[code]))
            user = User(username=f"bench-{code.lower()}", display_name="Bench analyst (fictional)",
                        role="agency_analyst", password_hash="!")
            db.add(user)
            db.flush()
            agencies.add_member(db, actor=admin, code=code, username=user.username)
            users[code] = Actor(user.id, user.username, "agency_analyst")
        agreements.create_agreement(db, actor=admin, data=AgreementCreate(
            reference="BENCH-MOU", title="Synthetic all-party agreement", legal_basis="Synthetic",
            parties=[{"agency": c} for c in AGENCIES], categories=["person"], purposes=["investigation"],
            disclosure_level="hit", starts_on=date(2020, 1, 1), activate=True))
        db.commit()

    files = {}
    for code in AGENCIES:
        buf = io.StringIO()
        frame[frame["agency"] == code].to_csv(buf, index=False)
        files[code] = buf.getvalue().encode()

    created = refused = 0
    started = time.perf_counter()
    for code in AGENCIES:
        with factory() as db:
            batch = ingest.ingest_csv(db, actor=users[code], record_type="person", data=files[code],
                                      source_system="bench")
            db.commit()
            created += batch.rows_created
            refused += batch.rows_failed
    ingest_seconds = time.perf_counter() - started

    largest = max(AGENCIES, key=lambda c: len(files[c]))
    started = time.perf_counter()
    with factory() as db:
        again = ingest.ingest_csv(db, actor=users[largest], record_type="person", data=files[largest],
                                  source_system="bench")
        db.commit()
    reingest_seconds = time.perf_counter() - started

    started = time.perf_counter()
    with factory() as db:
        result = linking.relink(db)
        db.commit()
    relink_seconds = time.perf_counter() - started

    print(json.dumps({
        "benchmark": "sharing", "backend": url.split(":", 1)[0], "records": int(len(frame)), "agencies": len(AGENCIES),
        "created": created, "refused_rows": refused, "ingest_seconds": round(ingest_seconds, 2),
        "ingest_rows_per_second": round(len(frame) / ingest_seconds, 1),
        "reingest_rows": again.rows_total, "reingest_unchanged": again.rows_unchanged,
        "reingest_seconds": round(reingest_seconds, 2), "relink_seconds": round(relink_seconds, 2),
        "matches": result["matches"], "cross_agency_matches": result["cross_agency"], "hits": result["hits"],
        "entities": result["entities"], "cpus": os.cpu_count(),
    }))
    return 0


if __name__ == "__main__":  # pragma: no cover
    import sys

    sys.exit(main(sys.argv[1:]))
