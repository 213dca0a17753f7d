"""Run Alembic migrations programmatically (``harbour db upgrade`` and tests)."""

from __future__ import annotations

from alembic import command
from alembic.config import Config

from harbour.core.config import REPO_ROOT
from harbour.core.db import ensure_sqlite_dir


def alembic_config(url: str) -> Config:
    cfg = Config(str(REPO_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    command.downgrade(alembic_config(url), revision)
