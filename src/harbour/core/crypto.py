"""Field encryption at rest and keyed blind indexes.

Keys live in a JSON key file outside the database::

    {"version": 1,
     "encryption_keys": [{"id": "k-20261123...", "key": "<fernet key>", "created": "..."}],
     "index_key": "<base64 32 bytes>",
     "audit_key": "<base64 32 bytes>"}

The first encryption key is primary: it encrypts; every listed key decrypts
(cryptography's MultiFernet).  ``harbour keys rotate`` adds a new primary key,
re-encrypts every encrypted column, then retires the old keys.  The blind-index
and audit keys are HMAC keys and are not rotated by that command.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

ENC_PREFIX = "enc1:"


class KeyFileError(RuntimeError):
    pass


@dataclass
class KeyRing:
    path: Path
    encryption_keys: list[dict]
    index_key: bytes
    audit_key: bytes

    @property
    def fernet(self) -> MultiFernet:
        return MultiFernet([Fernet(k["key"].encode()) for k in self.encryption_keys])

    def encrypt(self, plaintext: str) -> str:
        return ENC_PREFIX + self.fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str) -> str:
        if not token.startswith(ENC_PREFIX):
            raise KeyFileError("value is not an encrypted field")
        try:
            return self.fernet.decrypt(token[len(ENC_PREFIX):].encode("ascii")).decode("utf-8")
        except InvalidToken as exc:  # wrong key file, or tampered value
            raise KeyFileError("an encrypted field could not be decrypted with the key file") from exc

    def rotate_token(self, token: str) -> str:
        return ENC_PREFIX + self.fernet.rotate(token[len(ENC_PREFIX):].encode("ascii")).decode("ascii")

    def blind_index(self, normalised: str, *, domain: str) -> str:
        mac = hmac.new(self.index_key, f"{domain}:{normalised}".encode(), hashlib.sha256)
        return mac.hexdigest()

    def audit_mac(self, payload: bytes) -> str:
        return hmac.new(self.audit_key, payload, hashlib.sha256).hexdigest()

    # -- persistence -------------------------------------------------------
    def to_json(self) -> str:
        return json.dumps(
            {
                "version": 1,
                "encryption_keys": self.encryption_keys,
                "index_key": base64.b64encode(self.index_key).decode(),
                "audit_key": base64.b64encode(self.audit_key).decode(),
            },
            indent=2,
        )

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(self.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)


def new_encryption_key() -> dict:
    now = datetime.now(UTC)
    return {
        "id": "k-" + now.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(3),
        "key": Fernet.generate_key().decode(),
        "created": now.isoformat(),
    }


def load_keyring(path: Path, *, create: bool = True) -> KeyRing:
    path = Path(path)
    if not path.exists():
        if not create:
            raise KeyFileError(f"key file not found: {path}")
        ring = KeyRing(path, [new_encryption_key()], secrets.token_bytes(32), secrets.token_bytes(32))
        ring.save()
        return ring
    try:
        data = json.loads(path.read_text())
        return KeyRing(
            path,
            list(data["encryption_keys"]),
            base64.b64decode(data["index_key"]),
            base64.b64decode(data["audit_key"]),
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyFileError(f"key file is not valid: {path}") from exc


_current: KeyRing | None = None


def configure(path: Path) -> KeyRing:
    """Load (or create) the key ring used by encrypted columns in this process."""
    global _current
    _current = load_keyring(path)
    return _current


def keyring() -> KeyRing:
    if _current is None:
        from harbour.core.config import get_settings

        return configure(get_settings().key_file)
    return _current


class EncryptedText(TypeDecorator):
    """A text column stored encrypted (MultiFernet: AES-128-CBC + HMAC-SHA256)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return keyring().encrypt(str(value))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return keyring().decrypt(value)


def encrypted_columns(metadata) -> list[tuple[str, str]]:
    """Every (table, column) whose type is EncryptedText: what key rotation must rewrite."""
    found = []
    for table in metadata.sorted_tables:
        for col in table.columns:
            if isinstance(col.type, EncryptedText):
                found.append((table.name, col.name))
    return found
