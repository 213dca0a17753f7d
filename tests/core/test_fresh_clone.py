"""A fresh clone has no ./var/: the first `harbour db upgrade` must create the SQLite folder."""

from __future__ import annotations

from typer.testing import CliRunner

from harbour.core.config import get_settings


def test_db_upgrade_creates_the_sqlite_folder(tmp_path, monkeypatch):
    from harbour.cli import app

    target = tmp_path / "not" / "yet" / "here" / "harbour.db"
    monkeypatch.setenv("HARBOUR_DATABASE_URL", f"sqlite:///{target}")
    monkeypatch.setenv("HARBOUR_KEY_FILE", str(tmp_path / "keys" / "k.json"))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["db", "upgrade"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert target.is_file() and target.stat().st_size > 0
