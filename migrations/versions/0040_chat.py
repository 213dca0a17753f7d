"""chat: hotline live chat: sessions, messages, blocks, transcripts, advocate availability

Revision ID: 0040
Revises: 0030
"""
from alembic import op
import sqlalchemy as sa
import harbour.core.db
import harbour.core.crypto


revision = '0040'
down_revision = '0030'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('chat_availability',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('available', sa.Boolean(), nullable=False),
    sa.Column('updated_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_chat_availability_user_id_user_account')),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_chat_availability'))
    )
    op.create_table('chat_block',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_index', sa.String(length=64), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=True),
    sa.Column('session_reference', sa.String(length=20), nullable=False),
    sa.Column('by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['by_id'], ['user_account.id'], name=op.f('fk_chat_block_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_block'))
    )
    with op.batch_alter_table('chat_block', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_block_client_index'), ['client_index'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_block_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_block_token_hash'), ['token_hash'], unique=False)

    op.create_table('chat_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=20), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('queued_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('taken_at', harbour.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', harbour.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('close_reason', sa.String(length=20), nullable=True),
    sa.Column('advocate_id', sa.Integer(), nullable=True),
    sa.Column('last_visitor_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('client_index', sa.String(length=64), nullable=True),
    sa.Column('contact_id', sa.Integer(), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['advocate_id'], ['user_account.id'], name=op.f('fk_chat_session_advocate_id_user_account')),
    sa.ForeignKeyConstraint(['case_id'], ['hotline_case.id'], name=op.f('fk_chat_session_case_id_hotline_case')),
    sa.ForeignKeyConstraint(['contact_id'], ['hotline_contact.id'], name=op.f('fk_chat_session_contact_id_hotline_contact')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_session')),
    sa.UniqueConstraint('reference', name=op.f('uq_chat_session_reference')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_chat_session_token_hash'))
    )
    with op.batch_alter_table('chat_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_session_advocate_id'), ['advocate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_session_closed_at'), ['closed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_session_queued_at'), ['queued_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_session_status'), ['status'], unique=False)

    op.create_table('chat_transcript',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_reference', sa.String(length=20), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.Integer(), nullable=False),
    sa.Column('language', sa.String(length=2), nullable=False),
    sa.Column('message_count', sa.Integer(), nullable=False),
    sa.Column('body', harbour.core.crypto.EncryptedText(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['hotline_case.id'], name=op.f('fk_chat_transcript_case_id_hotline_case')),
    sa.ForeignKeyConstraint(['contact_id'], ['hotline_contact.id'], name=op.f('fk_chat_transcript_contact_id_hotline_contact')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_chat_transcript_created_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_transcript'))
    )
    with op.batch_alter_table('chat_transcript', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_transcript_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_chat_transcript_contact_id'), ['contact_id'], unique=False)

    op.create_table('chat_message',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('sender', sa.String(length=10), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('body', harbour.core.crypto.EncryptedText(), nullable=False),
    sa.Column('at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_chat_message_author_id_user_account')),
    sa.ForeignKeyConstraint(['session_id'], ['chat_session.id'], name=op.f('fk_chat_message_session_id_chat_session'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_chat_message'))
    )
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_chat_message_session_id'), ['session_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('chat_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_message_session_id'))

    op.drop_table('chat_message')
    with op.batch_alter_table('chat_transcript', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_transcript_contact_id'))
        batch_op.drop_index(batch_op.f('ix_chat_transcript_case_id'))

    op.drop_table('chat_transcript')
    with op.batch_alter_table('chat_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_session_status'))
        batch_op.drop_index(batch_op.f('ix_chat_session_queued_at'))
        batch_op.drop_index(batch_op.f('ix_chat_session_closed_at'))
        batch_op.drop_index(batch_op.f('ix_chat_session_advocate_id'))

    op.drop_table('chat_session')
    with op.batch_alter_table('chat_block', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_chat_block_token_hash'))
        batch_op.drop_index(batch_op.f('ix_chat_block_expires_at'))
        batch_op.drop_index(batch_op.f('ix_chat_block_client_index'))

    op.drop_table('chat_block')
    op.drop_table('chat_availability')
