"""sharing: agencies, agency records, data-sharing agreements, linkage, hits and disclosures

Revision ID: 0020
Revises: 0010
"""
from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401
import harbour.core.db  # noqa: F401


revision = '0020'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # filled in by the sharing module's work in progress


def downgrade() -> None:
    pass
