"""A backup folder and its manifest: every file checksummed, nothing missing, nothing extra, written atomically.

The rule this module enforces: **a backup folder is either complete and exactly as written, or refused.**

* A backup is assembled in a temporary sibling folder (``.NAME.partial-…``, mode 0700, files 0600) and renamed
  onto ``DIR`` only when every file is written and synced, so a crash never leaves a half backup under the
  name an operator will restore from.  ``DIR`` must not exist or be empty: a backup never overwrites anything.
* ``manifest.json`` lists every other file with its SHA-256 and size, and carries a checksum of its own
  content; :func:`read_manifest` and :func:`check_files` refuse a missing or altered manifest, a missing,
  truncated or altered file, and any file the manifest does not list.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import secrets
import shutil
from collections.abc import Iterator
from pathlib import Path

FORMAT = "harbour-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHUNK = 1 << 20


class BackupError(RuntimeError):
    """A backup cannot be made, verified or restored; the message says why and what to do."""


def sha256_file(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size


def canonical(data: dict) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _self_checksum(data: dict) -> str:
    return hashlib.sha256(canonical({k: v for k, v in data.items() if k != "checksum"})).hexdigest()


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's contents (a renamed file's new name) to disk."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def private_file(path: Path) -> Path:
    """Create ``path`` empty, readable by its owner only (whatever the umask); refuse an existing file."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.fchmod(fd, 0o600)
    os.close(fd)
    return path


class Staging:
    """Assemble a backup in a private temporary sibling of ``target``; :meth:`commit` renames it into place."""

    def __init__(self, target: Path) -> None:
        self.target = Path(target).absolute()
        refuse_unless_empty(self.target)
        parent = self.target.parent
        if not parent.exists():
            parent.mkdir(mode=0o700, parents=True)
        self.path = parent / f".{self.target.name}.partial-{secrets.token_hex(4)}"
        self.path.mkdir(mode=0o700)
        os.chmod(self.path, 0o700)
        self.files: dict[str, dict] = {}

    def file(self, name: str) -> Path:
        """A new private file in the staging folder (the caller fills it, then calls :meth:`add`)."""
        return private_file(self.path / name)

    def add(self, name: str) -> dict:
        path = self.path / name
        os.chmod(path, 0o600)
        fsync_path(path)
        digest, size = sha256_file(path)
        self.files[name] = {"sha256": digest, "size": size}
        return self.files[name]

    def commit(self, manifest: dict) -> Path:
        stray = sorted({p.name for p in self.path.iterdir()} - set(self.files))
        if stray:  # e.g. a journal file: the backup would not verify
            raise BackupError(f"unexpected files while writing the backup: {', '.join(stray)}; nothing was written")
        manifest = dict(manifest, files=dict(sorted(self.files.items())))
        manifest["checksum"] = _self_checksum(manifest)
        path = private_file(self.path / MANIFEST)
        path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        fsync_path(path)
        fsync_path(self.path)
        try:
            os.rename(self.path, self.target)  # replaces an empty folder; fails on a non-empty one
        except OSError as exc:
            raise BackupError(f"could not put the backup in place at {self.target} ({exc.strerror}); "
                              f"nothing there was changed") from None
        fsync_path(self.target.parent)
        return self.target

    def discard(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


@contextlib.contextmanager
def staging(target: Path) -> Iterator[Staging]:
    stage = Staging(target)
    try:
        yield stage
    except BaseException:
        stage.discard()
        raise


def refuse_unless_empty(target: Path) -> None:
    if target.is_symlink() or (target.exists() and not target.is_dir()):
        raise BackupError(f"{target} exists and is not a folder; give a new or empty folder for the backup")
    if target.is_dir():
        entries = sorted(p.name for p in target.iterdir())
        if entries:
            shown = ", ".join(entries[:5]) + (" …" if len(entries) > 5 else "")
            raise BackupError(f"{target} is not empty ({len(entries)} entries: {shown}); a backup never overwrites "
                              f"anything: give a new or empty folder")


def read_manifest(folder: Path) -> dict:
    """The manifest of the backup in ``folder``, checked for format and integrity."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BackupError(f"no backup at {folder}: the folder does not exist")
    path = folder / MANIFEST
    if not path.is_file():
        raise BackupError(f"{folder} has no {MANIFEST}: it is not a Harbour backup, or an incomplete one "
                          f"(a backup is only complete once its manifest is written); use another backup")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise BackupError(f"{path} is damaged (not valid JSON); this backup cannot be trusted") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise BackupError(f"{path} is not a Harbour backup manifest")
    if data.get("format_version") != FORMAT_VERSION:
        raise BackupError(f"{path} has backup format version {data.get('format_version')!r}; this Harbour reads "
                          f"version {FORMAT_VERSION}: use the Harbour version that made the backup")
    if data.get("checksum") != _self_checksum(data):
        raise BackupError(f"{path} was altered or damaged after it was written (its checksum does not match); "
                          f"this backup cannot be trusted")
    if not isinstance(data.get("files"), dict):
        raise BackupError(f"{path} lists no files")
    return data


def check_files(folder: Path, manifest: dict) -> tuple[list[str], int]:
    """Problems with the files of the backup (missing, extra, truncated, altered) and how many bytes were read."""
    folder = Path(folder)
    problems: list[str] = []
    listed = manifest["files"]
    present = {p.relative_to(folder).as_posix(): p for p in folder.rglob("*") if p.is_file() or p.is_symlink()}
    present.pop(MANIFEST, None)
    total = 0
    for name, want in sorted(listed.items()):
        path = present.pop(name, None)
        if path is None or not path.is_file() or path.is_symlink():
            problems.append(f"{name} is missing (a partial backup)")
            continue
        size = path.stat().st_size
        if size != want["size"]:
            how = "truncated" if size < want["size"] else "longer than written"
            problems.append(f"{name} is {how}: {size} bytes instead of {want['size']} (a partial or damaged backup)")
            continue
        digest, read = sha256_file(path)
        total += read
        if digest != want["sha256"]:
            problems.append(f"{name} is corrupted: its SHA-256 does not match the manifest")
    for name in sorted(present):
        problems.append(f"{name} is not part of the backup (an extra or left-over file)")
    for sub in sorted(p for p in folder.rglob("*") if p.is_dir()):
        problems.append(f"{sub.relative_to(folder).as_posix()}/ is not part of the backup (an extra folder)")
    return problems, total
