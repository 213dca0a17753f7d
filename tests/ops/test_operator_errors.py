"""What an operator got wrong is said in one line (exit 2), never a traceback: found following docs/deploy.md."""

from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from harbour.core import crypto
from tests.conftest import invoke_cli


def _cli(monkeypatch, url: str, key_file: Path, *args):
    return invoke_cli(monkeypatch, url, key_file, *args)


def test_keys_check_on_an_unreachable_database(monkeypatch, tmp_path):
    result = _cli(monkeypatch, "postgresql+psycopg://nobody:secret@127.0.0.1:1/none", tmp_path / "k.json",
                  "keys", "check")
    assert result.exit_code == 2 and result.output.startswith("error: cannot use the database"), result.output
    assert "secret" not in result.output and "Traceback" not in result.output


def test_a_key_file_this_user_cannot_read(settings, app, monkeypatch, tmp_path):
    """Copied as root for a service that runs as `harbour`: a clear error with the fix, not a PermissionError."""
    from harbour.app import create_app
    from harbour.core.keycheck import KeyRingError

    path = tmp_path / "keys.json"
    shutil.copy(settings.key_file, path)
    path.chmod(0o600)
    real = Path.read_text

    def unreadable(self, *a, **kw):
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real(self, *a, **kw)

    monkeypatch.setattr(Path, "read_text", unreadable)
    try:
        with pytest.raises(KeyRingError, match=r"cannot be read by this user .*chown harbour:"):
            create_app(settings.model_copy(update={"key_file": path}))
        result = _cli(monkeypatch, settings.database_url, path, "users", "list")
        assert result.exit_code == 2 and "chown" in result.output and "Traceback" not in result.output
    finally:
        crypto.configure(settings.key_file)


def test_create_app_role_without_createrole(backend, settings, monkeypatch, tmp_path):
    kind, _info = backend
    if kind != "postgresql":
        pytest.skip("database roles are a PostgreSQL feature")
    owner = f"harbour_owner_{uuid.uuid4().hex[:8]}"
    admin = create_engine(settings.database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE ROLE "{owner}" LOGIN NOCREATEROLE'))
    try:
        url = make_url(settings.database_url).set(username=owner).render_as_string(hide_password=False)
        result = _cli(monkeypatch, url, tmp_path / "k.json", "db", "create-app-role",
                      f"harbour_app_{os.getpid()}")
        assert result.exit_code == 2, result.output
        assert result.output.startswith("error: the application role was not created: ") and "CREATEROLE" in \
            result.output and "Traceback" not in result.output
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP OWNED BY "{owner}"'))
            conn.execute(text(f'DROP ROLE "{owner}"'))
        admin.dispose()
