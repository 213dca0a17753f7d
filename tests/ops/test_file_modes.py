"""Files Harbour creates are readable by their owner only (issue 12): the SQLite database and the files SQLite
adds beside it, the key file and its folder, the statistics store.  Before, the SQLite file was created 0644."""

from __future__ import annotations

import os
import stat

from tests.servers import harbour, server_env


def test_every_file_harbour_creates_is_private(tmp_path):
    root = tmp_path / "var"
    env = server_env(HARBOUR_DATABASE_URL=f"sqlite:///{root / 'harbour.db'}",
                     HARBOUR_KEY_FILE=str(root / "keys" / "harbour-keys.json"), HARBOUR_STATS_DIR=str(root / "stats"))
    old = os.umask(0o022)  # a typical login umask; the commands must not depend on it
    try:
        for command in (("db", "upgrade"), ("users", "list"), ("stats", "build")):
            done = harbour(env, *command)
            assert done.returncode == 0, done.stdout + done.stderr
    finally:
        os.umask(old)
    found = {p.relative_to(root).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in [root, *root.rglob("*")]}
    assert {"harbour.db", "keys/harbour-keys.json", "stats/manifest.json"} <= set(found), found
    assert any(name.endswith(".parquet") for name in found), found
    loose = {name: f"{mode:04o}" for name, mode in found.items() if mode & 0o077}
    assert loose == {}, loose
