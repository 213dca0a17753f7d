"""Field encryption at rest and keyed blind indexes.

Keys live in a JSON key file outside the database::

    {"version": 1,
     "encryption_keys": [{"id": "k-20261123...", "key": "<fernet key>", "created": "..."}],
     "index_key": "<base64 32 bytes>",
     "audit_key": "<base64 32 bytes>"}

The first encryption key is primary: it encrypts; every listed key decrypts
(cryptography's MultiFernet).  ``harbour keys rotate`` adds a new key, makes it
primary once every running process has loaded it, re-encrypts every encrypted
column, then retires the old keys (``core.rotation``).  The blind-index and audit
keys are HMAC keys and are not rotated by that command.

A key file is never created behind the operator's back: only for an empty
database (``core.keycheck.open_ring``), written 0600, and refused when other
users can read it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
import os
import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

ENC_PREFIX = "enc1:"
log = logging.getLogger("harbour.keys")


class KeyFileError(RuntimeError):
    pass


@dataclass
class KeyRing:
    path: Path
    encryption_keys: list[dict]
    index_key: bytes
    audit_key: bytes

    @property
    def key_ids(self) -> list[str]:
        return [k["id"] for k in self.encryption_keys]

    @property
    def primary_id(self) -> str:
        return self.encryption_keys[0]["id"]

    @property
    def fernet(self) -> MultiFernet:
        ids = tuple(self.key_ids)
        cached = self.__dict__.get("_fernet")
        if cached is None or cached[0] != ids:
            cached = (ids, MultiFernet([Fernet(k["key"].encode()) for k in self.encryption_keys]))
            self.__dict__["_fernet"] = cached
        return cached[1]

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
        """Write the file atomically (a reader sees the old ring or the new one, never half), owner-only."""
        if not self.path.parent.exists():
            self.path.parent.mkdir(mode=0o700, parents=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            os.fchmod(fh.fileno(), 0o600)  # whatever the umask
            fh.write(self.to_json())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)
        dir_fd = os.open(self.path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def new_encryption_key() -> dict:
    now = datetime.now(UTC)
    return {
        "id": "k-" + now.strftime("%Y%m%d%H%M%S") + "-" + secrets.token_hex(3),
        "key": Fernet.generate_key().decode(),
        "created": now.isoformat(),
    }


def new_keyring(path: Path) -> KeyRing:
    """A brand-new ring, written to ``path`` (0600).  Only for an empty database: callers go through
    :func:`harbour.core.keycheck.open_ring`, which checks that first."""
    path = Path(path)
    if path.exists():
        raise KeyFileError(f"key file already exists: {path}")
    ring = KeyRing(path, [new_encryption_key()], secrets.token_bytes(32), secrets.token_bytes(32))
    ring.save()
    return ring


def check_private(path: Path) -> None:
    """Refuse a key file that other users can read (or write)."""
    mode = Path(path).stat().st_mode & 0o777
    if mode & 0o077:
        raise KeyFileError(f"key file {path} can be read by other users (mode {mode:04o}); "
                           f"make it private with: chmod 600 {path}")


def load_keyring(path: Path, *, create: bool = False) -> KeyRing:
    """Read a key file.  A missing file is an error unless ``create`` (tests and benchmarks on a
    scratch database; the application creates rings only through ``keycheck.open_ring``)."""
    path = Path(path)
    if not path.exists():
        if not create:
            raise KeyFileError(f"key file not found: {path}")
        return new_keyring(path)
    try:
        text = path.read_text()
    except PermissionError:
        raise KeyFileError(f"key file {path} cannot be read by this user (uid {os.getuid()}): it must belong to "
                           f"the user Harbour runs as, e.g. chown harbour: {path} && chmod 600 {path}") from None
    except OSError as exc:
        raise KeyFileError(f"key file {path} cannot be read: {exc.strerror}") from None
    try:
        data = json.loads(text)
        ring = KeyRing(
            path,
            list(data["encryption_keys"]),
            base64.b64decode(data["index_key"]),
            base64.b64decode(data["audit_key"]),
        )
        if not ring.encryption_keys or len(ring.index_key) != 32 or len(ring.audit_key) != 32:
            raise ValueError("incomplete key ring")
        for k in ring.encryption_keys:
            Fernet(k["key"].encode())
            k["id"]  # noqa: B018 - every key is named
        return ring
    except (ValueError, KeyError, TypeError) as exc:
        raise KeyFileError(f"key file is not valid: {path}") from exc


# -- this process's ring ------------------------------------------------------------------------------
# The ring is read from its file once, then re-read whenever the file changes (key rotation adds, promotes
# and retires keys while workers run).  Before each encryption the file is checked (one stat call), so no
# process encrypts with a key the file no longer makes primary; reads check at most once a second, and a
# value that will not decrypt makes the process look again before it gives up.  A changed file is taken
# only if it belongs to the same database: same blind-index and audit keys and at least one encryption
# key in common (every step of a rotation keeps one); anything else is refused, logged and reported by
# /readyz, and the process keeps the ring it had.
_lock = threading.Lock()
_current: KeyRing | None = None
_signature: tuple | None = None
_checked_at = 0.0
reload_problem: str | None = None
RELOAD_EVERY = 1.0


def _stat_signature(path: Path) -> tuple | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns, st.st_size)


def configure(path: Path, *, create: bool = False) -> KeyRing:
    """Use the ring in ``path`` for encrypted columns in this process (normally via ``keycheck.open_ring``,
    which first proves the ring opens the database)."""
    global _current, _signature, _checked_at, reload_problem
    path = Path(path)
    with _lock:
        ring = load_keyring(path, create=create)
        _current, _signature, _checked_at, reload_problem = ring, _stat_signature(path), time.monotonic(), None
    return ring


def _compatible(old: KeyRing, new: KeyRing) -> bool:
    return (hmac.compare_digest(old.index_key, new.index_key) and hmac.compare_digest(old.audit_key, new.audit_key)
            and bool(set(old.key_ids) & set(new.key_ids)))


def _problem(message: str | None) -> None:
    """Record (and log once) why the key file on disk is not being used."""
    global reload_problem
    if message and message != reload_problem:
        log.error(message)
    reload_problem = message


def refresh(*, force: bool = False) -> KeyRing:
    """Re-read the key file if it changed (at most once a second unless ``force``)."""
    global _current, _signature, _checked_at
    ring = keyring_loaded()
    now = time.monotonic()
    if not force and now - _checked_at < RELOAD_EVERY:
        return ring
    with _lock:
        _checked_at = now
        sig = _stat_signature(ring.path)
        if sig == _signature:
            return _current
        if sig is None:
            _problem(f"key file {ring.path} has disappeared; this process keeps the keys it loaded")
            return _current
        _signature = sig  # a file that cannot be used is looked at again only once it changes
        try:
            new = load_keyring(ring.path)
        except KeyFileError as exc:  # e.g. a half-copied file: taken once it is whole
            _problem(f"{exc}; this process keeps the keys it loaded")
            return _current
        if not _compatible(_current, new):
            _problem(f"key file {ring.path} was replaced by a key ring that does not belong to this database; "
                     f"this process keeps the keys it loaded")
            return _current
        if new.key_ids != _current.key_ids:
            log.info("key ring reloaded: primary %s, keys %s", new.primary_id, ",".join(new.key_ids))
        _current = new
        _problem(None)
        return _current


def keyring_loaded() -> KeyRing:
    if _current is None:
        from harbour.core.config import get_settings

        return configure(get_settings().key_file)
    return _current


def keyring() -> KeyRing:
    """The ring to decrypt, index and audit with (re-read when its file changes)."""
    return refresh()


# -- which keys this process may still write with (read by key rotation) ----------------------------------
# Every database transaction notes the primary key at its start; until it ends, the process may still
# write values encrypted under that key.  ``writes_with()`` is what the process reports in its heartbeat.
_open_by_key: Counter = Counter()


def transaction_began(conn_info: dict) -> None:
    key_id = refresh(force=True).primary_id if _current is not None else None
    if key_id is None:
        return
    with _lock:
        _open_by_key[key_id] += 1
    conn_info["harbour_key"] = key_id


def transaction_ended(conn_info: dict) -> None:
    key_id = conn_info.pop("harbour_key", None)
    if key_id is None:
        return
    with _lock:
        _open_by_key[key_id] -= 1
        if _open_by_key[key_id] <= 0:
            del _open_by_key[key_id]


def writes_with() -> list[str]:
    """Keys this process may still encrypt with: the primary now, and the primary at the start of every
    transaction still open."""
    ring = keyring_loaded()
    with _lock:
        keys = {ring.primary_id} | {k for k, n in _open_by_key.items() if n > 0}
    return sorted(keys)


class EncryptedText(TypeDecorator):
    """A text column stored encrypted (MultiFernet: AES-128-CBC + HMAC-SHA256)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        return refresh(force=True).encrypt(str(value))  # never with a key the file no longer makes primary

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return decrypt(value)


def decrypt(token: str) -> str:
    """Decrypt with this process's ring; a value written under a key this process has not loaded yet
    (another worker picked up a rotation first) makes it re-read the key file once."""
    try:
        return keyring().decrypt(token)
    except KeyFileError:
        ring = refresh(force=True)
        return ring.decrypt(token)


def encrypted_columns(metadata) -> list[tuple[str, str]]:
    """Every (table, column) whose type is EncryptedText: what key rotation must rewrite."""
    found = []
    for table in metadata.sorted_tables:
        for col in table.columns:
            if isinstance(col.type, EncryptedText):
                found.append((table.name, col.name))
    return found
