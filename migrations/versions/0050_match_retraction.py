"""sharing: a match that a later relink no longer finds is retracted (its hits and pending requests withdrawn)

Revision ID: 0050
Revises: 0040
"""
from alembic import op
import sqlalchemy as sa
import harbour.core.db


revision = '0050'
down_revision = '0040'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sharing_match', schema=None) as batch_op:
        batch_op.add_column(sa.Column('retracted_at', harbour.core.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sharing_match', schema=None) as batch_op:
        batch_op.drop_column('retracted_at')
