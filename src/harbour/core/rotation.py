"""Key rotation: re-encrypt every EncryptedText column under a new primary key.

Order matters so that nothing can be lost: (1) the key file gains the new key
while keeping the old ones, (2) every encrypted value is rewritten under the
new key in one transaction, (3) every value is checked to decrypt with the new
key alone, and only then (4) the old keys are removed from the key file.
A crash at any point leaves a database the key file can still decrypt.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.fernet import Fernet
from sqlalchemy import Text, column, select, table, update

from harbour.core import crypto
from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.config import Settings
from harbour.core.db import make_engine, make_sessionmaker


@dataclass
class RotationResult:
    new_key_id: str
    columns: int
    values: int
    retired: list[str]


def rotate_keys(settings: Settings) -> RotationResult:
    from harbour.models_registry import metadata

    ring = crypto.configure(settings.key_file)
    old_ids = [k["id"] for k in ring.encryption_keys]
    new_key = crypto.new_encryption_key()
    ring.encryption_keys = [new_key, *ring.encryption_keys]
    ring.save()  # (1) both keys on disk before any value changes

    engine = make_engine(settings.database_url)
    factory = make_sessionmaker(engine)
    targets = crypto.encrypted_columns(metadata)
    values = 0
    newest_only = Fernet(new_key["key"].encode())
    with factory() as db:
        for table_name, col_name in targets:
            pk_cols = [c.name for c in metadata.tables[table_name].primary_key.columns]
            t = table(table_name, *[column(p) for p in pk_cols], column(col_name, Text))
            rows = db.execute(select(*[t.c[p] for p in pk_cols], t.c[col_name]).where(t.c[col_name].is_not(None)))
            for row in rows.all():
                token = row[-1]
                rotated = ring.rotate_token(token)
                cond = [t.c[p] == row[i] for i, p in enumerate(pk_cols)]
                db.execute(update(t).where(*cond).values({col_name: rotated}))
                values += 1
        # (3) every value must now open with the new key alone
        for table_name, col_name in targets:
            t = table(table_name, column(col_name, Text))
            for (token,) in db.execute(select(t.c[col_name]).where(t.c[col_name].is_not(None))).all():
                newest_only.decrypt(token[len(crypto.ENC_PREFIX):].encode("ascii"))
        audit(db, Actor.system("keys-rotate"), "rotate", "key_ring", new_key["id"],
              detail={"columns": len(targets), "values": values, "retired": old_ids})
        db.commit()  # (2)
    engine.dispose()
    ring.encryption_keys = [new_key]
    ring.save()  # (4)
    return RotationResult(new_key["id"], len(targets), values, old_ids)
