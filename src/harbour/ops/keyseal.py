"""The key ring inside a backup, sealed with a passphrase.

The rule this module enforces: **a backup carries the key ring only when the operator asks for it, and then
only encrypted under a key derived from a passphrase** — scrypt (RFC 7914) to derive a 256-bit key, AES-256-GCM
to encrypt and authenticate, both from the ``cryptography`` package; nothing here is home-made crypto.  The
parameters (salt, nonce, scrypt cost) are stored in the manifest; the backup's id is bound into the
authentication tag, so a sealed ring cannot be moved into another backup unnoticed.

The passphrase is read from a file (never the command line, where other users could see it), must be at least
:data:`MIN_PASSPHRASE` characters, and the file must be readable by its owner only.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from harbour.core.crypto import KeyRing
from harbour.ops.manifest import BackupError

MIN_PASSPHRASE = 12
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**17, 8, 1  # 128 MiB, about half a second: the cost of one guess
MAX_SCRYPT_N = 2**22  # a manifest cannot ask for more memory than this
KDF, CIPHER = "scrypt", "AES-256-GCM"


def read_passphrase(path: Path) -> bytes:
    """The passphrase in ``path`` (one trailing newline removed)."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"passphrase file not found: {path}")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise BackupError(f"passphrase file {path} can be read by other users (mode {mode:04o}); make it private "
                          f"with: chmod 600 {path}")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise BackupError(f"passphrase file {path} is not UTF-8 text") from None
    text = text[:-1] if text.endswith("\n") else text
    text = text[:-1] if text.endswith("\r") else text
    if len(text.strip()) < MIN_PASSPHRASE:
        raise BackupError(f"the passphrase in {path} is too short: use at least {MIN_PASSPHRASE} characters "
                          f"(a few unrelated words); it is all that protects the key ring in the backup")
    return text.encode("utf-8")


def _aad(backup_id: str) -> bytes:
    return f"harbour-backup-keyring:{backup_id}".encode()


def _derive(passphrase: bytes, salt: bytes, n: int, r: int, p: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=r, p=p).derive(passphrase)


def seal(ring: KeyRing, passphrase: bytes, *, backup_id: str) -> tuple[dict, bytes]:
    """Encrypt ``ring``; returns (parameters for the manifest, ciphertext for the file)."""
    salt, nonce = os.urandom(16), os.urandom(12)
    key = _derive(passphrase, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
    ciphertext = AESGCM(key).encrypt(nonce, ring.to_json().encode("utf-8"), _aad(backup_id))
    params = {"kdf": KDF, "n": SCRYPT_N, "r": SCRYPT_R, "p": SCRYPT_P, "length": 32,
              "salt": base64.b64encode(salt).decode(), "cipher": CIPHER, "nonce": base64.b64encode(nonce).decode()}
    return params, ciphertext


def unseal(ciphertext: bytes, params: dict, passphrase: bytes, *, backup_id: str, path: Path) -> KeyRing:
    """The key ring sealed in a backup (its ``path`` set to where it would be written)."""
    try:
        if params.get("kdf") != KDF or params.get("cipher") != CIPHER or params.get("length") != 32:
            raise ValueError("unknown algorithm")
        n, r, p = int(params["n"]), int(params["r"]), int(params["p"])
        if n < 2 or n > MAX_SCRYPT_N or n & (n - 1) or not 1 <= r <= 32 or not 1 <= p <= 16:
            raise ValueError("scrypt parameters out of range")
        salt, nonce = base64.b64decode(params["salt"]), base64.b64decode(params["nonce"])
    except (KeyError, TypeError, ValueError) as exc:
        raise BackupError(f"the manifest's key-ring parameters are not valid ({exc})") from None
    key = _derive(passphrase, salt, n, r, p)
    try:
        plain = AESGCM(key).decrypt(nonce, ciphertext, _aad(backup_id))
    except InvalidTag:
        raise BackupError("the passphrase does not open the key ring in this backup (wrong passphrase file?); "
                          "nothing was changed") from None
    return ring_from_json(plain.decode("utf-8"), path)


def ring_from_json(text: str, path: Path) -> KeyRing:
    try:
        data = json.loads(text)
        ring = KeyRing(Path(path), list(data["encryption_keys"]), base64.b64decode(data["index_key"]),
                       base64.b64decode(data["audit_key"]))
        if not ring.encryption_keys or len(ring.index_key) != 32 or len(ring.audit_key) != 32:
            raise ValueError("incomplete key ring")
        for k in ring.encryption_keys:
            Fernet(k["key"].encode())
            k["id"]  # noqa: B018 - every key is named
    except (ValueError, KeyError, TypeError):
        raise BackupError("the key ring in this backup is not valid") from None
    return ring


def same_ring(a: KeyRing, b: KeyRing) -> bool:
    return (a.encryption_keys == b.encryption_keys and a.index_key == b.index_key and a.audit_key == b.audit_key)
