"""stats: statistics: release log and privacy-budget ledger

Revision ID: 0030
Revises: 0020
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import harbour.core.db  # noqa: F401


revision = '0030'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the stats module's work in progress


def downgrade() -> None:
    pass
