"""operations: the key check that proves a key ring opens this database, the processes that may encrypt
(read by key rotation), and rate-limit counters shared by every worker

Revision ID: 0070
Revises: 0060
"""
from alembic import op
import sqlalchemy as sa
import harbour.core.crypto
import harbour.core.db


revision = '0070'
down_revision = '0060'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('key_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sealed_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('canary', harbour.core.crypto.EncryptedText(), nullable=False),
    sa.Column('index_canary', sa.String(length=64), nullable=False),
    sa.Column('audit_canary', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_check'))
    )
    op.create_table('key_worker',
    sa.Column('id', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('started_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seen_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('primary_key_id', sa.String(length=40), nullable=False),
    sa.Column('key_ids', harbour.core.db.JSONList(), nullable=False),
    sa.Column('writes_with', harbour.core.db.JSONList(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_key_worker'))
    )
    with op.batch_alter_table('key_worker', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_key_worker_seen_at'), ['seen_at'], unique=False)

    op.create_table('rate_limit',
    sa.Column('bucket', sa.String(length=40), nullable=False),
    sa.Column('client', sa.String(length=64), nullable=False),
    sa.Column('window_start', sa.Integer(), nullable=False),
    sa.Column('hits', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('bucket', 'client', 'window_start', name=op.f('pk_rate_limit'))
    )


def downgrade() -> None:
    op.drop_table('rate_limit')
    with op.batch_alter_table('key_worker', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_key_worker_seen_at'))

    op.drop_table('key_worker')
    op.drop_table('key_check')
