"""A malformed HARBOUR_* setting stops every command with one line naming the setting, never a traceback."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from harbour.core.config import get_settings


@pytest.mark.parametrize("name,value,says", [
    ("HARBOUR_LOG_LEVEL", "LOUD", "unknown log level"),
    ("HARBOUR_TIME_ZONE", "Mars/Base", "unknown time zone"),
    ("HARBOUR_TIP_LIMIT", "ten", "valid integer"),
    ("HARBOUR_TRUSTED_PROXIES", "proxy.example", "not an IP address"),
])
@pytest.mark.parametrize("command", [("users", "list"), ("db", "current"), ("keys", "check"), ("serve",)])
def test_a_malformed_setting_is_named_in_one_line(monkeypatch, tmp_path, name, value, says, command):
    from harbour.cli import app

    monkeypatch.setenv("HARBOUR_DATABASE_URL", f"sqlite:///{tmp_path / 'h.db'}")
    monkeypatch.setenv("HARBOUR_KEY_FILE", str(tmp_path / "keys.json"))
    monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, list(command))
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2, result.output
    assert result.output.startswith(f"error: {name}: ") and says in result.output, result.output
    assert "Traceback" not in result.output and value not in result.output.split(":", 2)[1]
    assert not (tmp_path / "keys.json").exists() and not (tmp_path / "h.db").exists()
