"""The statistics store (``stats.service.root``: DuckDB-readable Parquet files, and the published releases the
public site serves under ``releases/``, whose SHA-256 the database's release rows record) inside a backup, as
one tar file.  Store and releases travel together with the database dump, so a restore brings back the files
and the rows that list them.

The rule this module enforces: **the archived store is one state of the store, and a restored store appears
whole.**  The store is rebuilt by writing each file under a temporary dot-name and renaming it; dot-files are
left out, and if any file changes while the archive is written, it is written again.  A restore unpacks into a
private temporary sibling (tar's "data" filter: no absolute paths, links out of the tree or device files) and
renames it into place.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tarfile
from pathlib import Path

from harbour.ops.manifest import BackupError

ATTEMPTS = 5


def _files(root: Path) -> list[Path]:
    if not root.is_dir():
        return []
    return sorted(p for p in root.rglob("*") if p.is_file() and not any(
        part.startswith(".") for part in p.relative_to(root).parts))


def _state(root: Path) -> list[tuple]:
    out = []
    for p in _files(root):
        try:
            st = p.stat()
        except FileNotFoundError:
            continue
        out.append((p.relative_to(root).as_posix(), st.st_mtime_ns, st.st_size))
    return out


def count(root: Path) -> int:
    return len(_files(root))


def archive(root: Path, dest: Path) -> int:
    """Write the store at ``root`` (absent: an empty archive) into the tar file ``dest``; returns its file count."""
    for _ in range(ATTEMPTS):
        before = _state(root)
        with tarfile.open(dest, "w") as tar:
            for rel, _mtime, _size in before:
                try:
                    tar.add(root / rel, arcname=rel, recursive=False)
                except FileNotFoundError:
                    break
        if _state(root) == before:
            return len(before)
    raise BackupError(f"the statistics store at {root} kept changing while it was archived (a rebuild running?); "
                      f"run the backup again")


def check(path: Path) -> int:
    """Read the whole archive; returns its file count."""
    n = 0
    try:
        with tarfile.open(path, "r") as tar:
            for member in tar:
                if member.isfile():
                    with tar.extractfile(member) as fh:
                        while fh.read(1 << 20):
                            pass
                    n += 1
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"the statistics archive cannot be read: {exc}") from None
    return n


def _extract(tar: tarfile.TarFile, target: Path) -> None:
    """Extract only plain files and folders inside ``target``: every member is checked here (Debian 12's Python
    3.11.2 has no extraction filters), and where Python has them the "data" filter applies as well."""
    members = []
    for member in tar.getmembers():
        name = Path(member.name)
        if name.is_absolute() or ".." in name.parts or not (member.isfile() or member.isdir()):
            raise tarfile.TarError(f"unexpected entry {member.name!r} in the archive")
        members.append(member)
    if hasattr(tarfile, "data_filter"):
        tar.extractall(target, members=members, filter="data")
    else:
        tar.extractall(target, members=members)  # noqa: S202 - every member checked above


def unpack(path: Path, root: Path) -> Path:
    """Unpack the archive into a private temporary sibling of ``root``; :func:`install` puts it in place."""
    root.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = root.parent / f".{root.name}.restoring-{secrets.token_hex(4)}"
    tmp.mkdir(mode=0o700)
    try:
        with tarfile.open(path, "r") as tar:
            _extract(tar, tmp)
        for p in tmp.rglob("*"):
            os.chmod(p, 0o700 if p.is_dir() else 0o600)
    except (tarfile.TarError, OSError) as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        raise BackupError(f"the statistics archive cannot be unpacked: {exc}") from None
    return tmp


def install(prepared: Path, root: Path) -> None:
    old = None
    if root.exists():
        old = root.parent / f".{root.name}.replaced-{secrets.token_hex(4)}"
        os.rename(root, old)
    os.rename(prepared, root)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
