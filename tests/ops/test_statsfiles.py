"""The statistics archive unpacks only plain files inside the store, also on Pythons without tarfile filters
(Debian 12's python3 is 3.11.2: `extractall(filter=...)` raised TypeError there, half-way through a restore)."""

from __future__ import annotations

import io
import tarfile

import pytest

from harbour.ops import statsfiles
from harbour.ops.manifest import BackupError


def _archive(path, entries) -> None:
    with tarfile.open(path, "w") as tar:
        for name, kind in entries:
            info = tarfile.TarInfo(name)
            if kind == "file":
                data = b"fictional parquet bytes"
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            elif kind == "symlink":
                info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
                tar.addfile(info)


@pytest.fixture(params=["with filters", "without filters"])
def python(request, monkeypatch):
    if request.param == "without filters":
        monkeypatch.delattr(tarfile, "data_filter", raising=False)
    return request.param


def test_a_good_archive_unpacks_privately(python, tmp_path):
    archive = tmp_path / "stats.tar"
    _archive(archive, [("manifest.json", "file"), ("cases/year=2025/part.parquet", "file")])
    prepared = statsfiles.unpack(archive, tmp_path / "store")
    assert (prepared / "cases" / "year=2025" / "part.parquet").read_bytes() == b"fictional parquet bytes"
    assert all(p.stat().st_mode & 0o077 == 0 for p in prepared.rglob("*"))


@pytest.mark.parametrize("entry", [("../outside.txt", "file"), ("/tmp/absolute.txt", "file"),
                                   ("link", "symlink")])
def test_an_archive_reaching_outside_the_store_is_refused(python, tmp_path, entry):
    archive = tmp_path / "stats.tar"
    _archive(archive, [("manifest.json", "file"), entry])
    with pytest.raises(BackupError, match="cannot be unpacked"):
        statsfiles.unpack(archive, tmp_path / "store" / "stats")
    assert not (tmp_path / "store" / "outside.txt").exists() and not (tmp_path / "outside.txt").exists()
    assert [p.name for p in (tmp_path / "store").iterdir()] == []  # the temporary folder is gone
