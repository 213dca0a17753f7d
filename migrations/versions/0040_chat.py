"""chat: hotline live chat: sessions, messages, blocks

Revision ID: 0040
Revises: 0030
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import harbour.core.db  # noqa: F401


revision = '0040'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the chat module's work in progress


def downgrade() -> None:
    pass
