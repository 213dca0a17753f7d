"""Released files kept for the public site: ``<statistics store>/releases/<REFERENCE>/<file>``.

The rule this module enforces: **what the site serves is byte for byte what ``harbour stats release`` wrote, or
nothing.**  :func:`keep` writes every file of a release into a private temporary folder, records each file's
SHA-256 and size (the service stores them on the release's row) and renames the folder into place, so a reader
never sees half a release; :func:`read` gives a file back only while its size and SHA-256 still match the
record: a missing or altered file raises :class:`~harbour.core.errors.Gone` (410), never a 500 and never other
bytes.  The folder lives inside the statistics store's folder, so a backup (``ops/statsfiles.py``) carries it
with the store, and a restore brings the files back together with the rows that list them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import secrets
import shutil
from pathlib import Path

from harbour.core.errors import Gone
from harbour.core.i18n import N_
from harbour.stats import package, store
from harbour.stats.release import ReleaseData

RELEASES = "releases"
log = logging.getLogger("harbour.stats")


def folder(root: Path) -> Path:
    return root / RELEASES


def checksum(content: bytes) -> dict:
    return {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}


def keep(root: Path, data: ReleaseData, reference: str, generated: str) -> tuple[Path, list[str], dict[str, dict]]:
    """Write the release into its folder; returns (the folder, file names in order, name -> checksum)."""
    base = folder(store.private_root(root))
    base.mkdir(mode=0o700, exist_ok=True)
    tmp = base / f".{reference}.writing-{secrets.token_hex(4)}"
    try:
        names = package.write(data, tmp, reference, generated)
        os.chmod(tmp, 0o700)  # like the rest of the store: the owner's only (the site reads them as the owner)
        for name in names:
            os.chmod(tmp / name, 0o600)
        sums = {name: checksum((tmp / name).read_bytes()) for name in names}
        final = base / reference
        os.rename(tmp, final)  # references are unique: an existing folder makes this fail, never merge
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return final, names, sums


def copy_out(kept: Path, names: list[str], out_dir: Path) -> None:
    """The same files, byte for byte, in the directory the operator asked for."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(kept / name, out_dir / name)


def read(root: Path, reference: str, name: str, expected: dict) -> bytes:
    """The kept file's bytes, if they are still the published ones; else Gone."""
    path = folder(root) / reference / name
    try:
        content = path.read_bytes()
    except OSError:
        log.warning("published release file missing: %s/%s", reference, name)
        raise Gone(N_("This file of the release is not available any more. Try another release, or come back "
                      "later.")) from None
    if checksum(content) != {"sha256": expected.get("sha256"), "bytes": expected.get("bytes")}:
        log.warning("published release file altered (checksum differs from the release's): %s/%s", reference, name)
        raise Gone(N_("This file no longer matches what was published, so it is not offered. Try another "
                      "release, or come back later."))
    return content
