"""stats: statistics: release log and privacy-budget ledger

Revision ID: 0030
Revises: 0020
"""
from alembic import op
import sqlalchemy as sa
import harbour.core.db


revision = '0030'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('stats_release',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('years', sa.JSON(), nullable=False),
    sa.Column('epsilon', sa.Float(), nullable=True),
    sa.Column('store_fingerprint', sa.String(length=64), nullable=False),
    sa.Column('standard_version', sa.String(length=20), nullable=False),
    sa.Column('cells_published', sa.Integer(), nullable=False),
    sa.Column('cells_withheld', sa.Integer(), nullable=False),
    sa.Column('files', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_by', sa.String(length=120), nullable=False),
    sa.Column('created_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_stats_release_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_release')),
    sa.UniqueConstraint('reference', name=op.f('uq_stats_release_reference'))
    )
    op.create_index(op.f('ix_stats_release_created_at'), 'stats_release', ['created_at'], unique=False)
    op.create_table('stats_privacy_spend',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('release_id', sa.Integer(), nullable=False),
    sa.Column('data_year', sa.Integer(), nullable=False),
    sa.Column('epsilon', sa.Float(), nullable=False),
    sa.Column('mechanism', sa.String(length=40), nullable=False),
    sa.Column('at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['release_id'], ['stats_release.id'], name=op.f('fk_stats_privacy_spend_release_id_stats_release')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stats_privacy_spend'))
    )
    op.create_index(op.f('ix_stats_privacy_spend_data_year'), 'stats_privacy_spend', ['data_year'], unique=False)
    op.create_index(op.f('ix_stats_privacy_spend_release_id'), 'stats_privacy_spend', ['release_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_stats_privacy_spend_release_id'), table_name='stats_privacy_spend')
    op.drop_index(op.f('ix_stats_privacy_spend_data_year'), table_name='stats_privacy_spend')
    op.drop_table('stats_privacy_spend')
    op.drop_index(op.f('ix_stats_release_created_at'), table_name='stats_release')
    op.drop_table('stats_release')
