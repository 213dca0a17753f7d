"""opendata: a release's geography and the SHA-256 of every file kept for the public site

Revision ID: 0071
Revises: 0070
"""
from alembic import op
import sqlalchemy as sa


revision = '0071'
down_revision = '0070'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('stats_release', schema=None) as batch_op:
        batch_op.add_column(sa.Column('geography', sa.String(length=7), server_default='*', nullable=False))
        batch_op.add_column(sa.Column('checksums', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('stats_release', schema=None) as batch_op:
        batch_op.drop_column('checksums')
        batch_op.drop_column('geography')
