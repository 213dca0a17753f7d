"""sharing: agencies, agency records, data-sharing agreements, linkage, hits and disclosures

Revision ID: 0020
Revises: 0010

On PostgreSQL every agency-owned table gets row-level security (ENABLE + FORCE) with policies keyed on
the acting agency, which server code sets per transaction with
``set_config('harbour.agency_id', '<id>', true)`` (see harbour.sharing.rls):

* ``harbour_agency_rw`` (all commands): the row's agency is the acting agency, or the server is in
  cross-agency mode (``harbour.all_agencies = 'on'``, set only by the linkage/statistics services).
* ``harbour_agency_granted`` (SELECT only, record tables): the row's agency is in
  ``harbour.granted_agencies``, a list the access gate (harbour.sharing.access.require) fills after it
  has found an agreement allowing the read, for the rest of that transaction only.

When no setting is present the policies compare with NULL: nothing is visible and nothing can be
written (deny by default).  Superusers and roles with BYPASSRLS skip all of this, which is why the
application must connect as a role made by ``harbour db create-app-role``.
"""
import sqlalchemy as sa
from alembic import op

import harbour.core.db

revision = '0020'
down_revision = '0010'
branch_labels = None
depends_on = None

ALL_AGENCIES = "current_setting('harbour.all_agencies', true) = 'on'"
ACTING = "NULLIF(current_setting('harbour.agency_id', true), '')::integer"
GRANTED = "string_to_array(NULLIF(current_setting('harbour.granted_agencies', true), ''), ',')::integer[]"

# table -> columns naming the owning agency (empty: only the server's cross-agency mode may touch it)
RLS_TABLES = {
    "sharing_ingest_batch": ("agency_id",),
    "sharing_person": ("agency_id",),
    "sharing_person_key": ("agency_id",),
    "sharing_phone": ("agency_id",),
    "sharing_handle": ("agency_id",),
    "sharing_vehicle": ("agency_id",),
    "sharing_location": ("agency_id",),
    "sharing_occurrence": ("agency_id",),
    "sharing_occurrence_person": ("agency_id",),
    "sharing_hit": ("agency_id",),
    "sharing_pprl_submission": ("agency_id",),
    "sharing_disclosure_request": ("requester_agency_id", "owner_agency_id"),
    "sharing_match": (),
    "sharing_entity_member": (),
}
# records another agency may read once the access gate has granted it (for this transaction)
GRANTABLE = ("sharing_person", "sharing_person_key", "sharing_phone", "sharing_handle", "sharing_vehicle",
             "sharing_location", "sharing_occurrence", "sharing_occurrence_person", "sharing_hit")


def _row_level_security() -> None:
    for table, columns in RLS_TABLES.items():
        own = " OR ".join([ALL_AGENCIES] + [f"{c} = {ACTING}" for c in columns])
        op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
        op.execute(f"CREATE POLICY harbour_agency_rw ON {table} FOR ALL USING ({own}) WITH CHECK ({own})")
        if table in GRANTABLE:
            op.execute(f"CREATE POLICY harbour_agency_granted ON {table} FOR SELECT "
                       f"USING (agency_id = ANY ({GRANTED}))")


def upgrade() -> None:
    op.create_table('sharing_agency',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=30), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_fr', sa.String(length=200), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('province', sa.String(length=2), nullable=True),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('contact_email', sa.String(length=200), nullable=True),
    sa.Column('contact_phone', sa.String(length=40), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_agency')),
    sa.UniqueConstraint('code', name=op.f('uq_sharing_agency_code'))
    )
    op.create_table('sharing_model_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.String(length=80), nullable=False),
    sa.Column('settings', sa.JSON(), nullable=False),
    sa.Column('trained_on', sa.Integer(), nullable=False),
    sa.Column('created_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_by', sa.String(length=120), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_model_version')),
    sa.UniqueConstraint('version', name=op.f('uq_sharing_model_version_version'))
    )
    op.create_table('sharing_agreement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('legal_basis', sa.Text(), nullable=False),
    sa.Column('categories', harbour.core.db.JSONList(), nullable=False),
    sa.Column('purposes', harbour.core.db.JSONList(), nullable=False),
    sa.Column('disclosure_level', sa.String(length=10), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('status_changed_at', harbour.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_sharing_agreement_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_agreement')),
    sa.UniqueConstraint('reference', name=op.f('uq_sharing_agreement_reference'))
    )
    op.create_index(op.f('ix_sharing_agreement_status'), 'sharing_agreement', ['status'], unique=False)
    op.create_table('sharing_entity_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('entity_id', sa.String(length=80), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.String(length=120), nullable=False),
    sa.Column('model_version', sa.String(length=80), nullable=True),
    sa.Column('created_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['sharing_agency.id'], name=op.f('fk_sharing_entity_member_agency_id_sharing_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_entity_member')),
    sa.UniqueConstraint('agency_id', 'record_id', name=op.f('uq_sharing_entity_member_agency_id'))
    )
    op.create_index(op.f('ix_sharing_entity_member_agency_id'), 'sharing_entity_member', ['agency_id'], unique=False)
    op.create_index(op.f('ix_sharing_entity_member_entity_id'), 'sharing_entity_member', ['entity_id'], unique=False)
    op.create_table('sharing_ingest_batch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('record_type', sa.String(length=20), nullable=False),
    sa.Column('source_system', sa.String(length=120), nullable=False),
    sa.Column('fmt', sa.String(length=10), nullable=False),
    sa.Column('filename', sa.String(length=200), nullable=True),
    sa.Column('created_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('rows_total', sa.Integer(), nullable=False),
    sa.Column('rows_created', sa.Integer(), nullable=False),
    sa.Column('rows_updated', sa.Integer(), nullable=False),
    sa.Column('rows_unchanged', sa.Integer(), nullable=False),
    sa.Column('rows_failed', sa.Integer(), nullable=False),
    sa.Column('problems', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['sharing_agency.id'], name=op.f('fk_sharing_ingest_batch_agency_id_sharing_agency')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_sharing_ingest_batch_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_ingest_batch')),
    sa.UniqueConstraint('id', 'agency_id', name=op.f('uq_sharing_ingest_batch_id'))
    )
    op.create_index(op.f('ix_sharing_ingest_batch_agency_id'), 'sharing_ingest_batch', ['agency_id'], unique=False)
    op.create_table('sharing_match',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('agency_a_id', sa.Integer(), nullable=False),
    sa.Column('record_a', sa.String(length=120), nullable=False),
    sa.Column('agency_b_id', sa.Integer(), nullable=False),
    sa.Column('record_b', sa.String(length=120), nullable=False),
    sa.Column('match_weight', sa.Float(), nullable=True),
    sa.Column('match_probability', sa.Float(), nullable=False),
    sa.Column('agreed', harbour.core.db.JSONList(), nullable=False),
    sa.Column('model_version', sa.String(length=80), nullable=True),
    sa.Column('created_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['agency_a_id'], ['sharing_agency.id'], name=op.f('fk_sharing_match_agency_a_id_sharing_agency')),
    sa.ForeignKeyConstraint(['agency_b_id'], ['sharing_agency.id'], name=op.f('fk_sharing_match_agency_b_id_sharing_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_match')),
    sa.UniqueConstraint('method', 'agency_a_id', 'record_a', 'agency_b_id', 'record_b', name=op.f('uq_sharing_match_method'))
    )
    op.create_index(op.f('ix_sharing_match_agency_a_id'), 'sharing_match', ['agency_a_id'], unique=False)
    op.create_index(op.f('ix_sharing_match_agency_b_id'), 'sharing_match', ['agency_b_id'], unique=False)
    op.create_table('sharing_membership',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('created_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['sharing_agency.id'], name=op.f('fk_sharing_membership_agency_id_sharing_agency')),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_sharing_membership_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_sharing_membership_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_membership')),
    sa.UniqueConstraint('user_id', name=op.f('uq_sharing_membership_user_id'))
    )
    op.create_index(op.f('ix_sharing_membership_agency_id'), 'sharing_membership', ['agency_id'], unique=False)
    op.create_table('sharing_pprl_submission',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('record_count', sa.Integer(), nullable=False),
    sa.Column('schema_id', sa.String(length=64), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['sharing_agency.id'], name=op.f('fk_sharing_pprl_submission_agency_id_sharing_agency')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'], name=op.f('fk_sharing_pprl_submission_uploaded_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_pprl_submission'))
    )
    op.create_index(op.f('ix_sharing_pprl_submission_agency_id'), 'sharing_pprl_submission', ['agency_id'], unique=False)
    op.create_table('sharing_agreement_party',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('provides', sa.Boolean(), nullable=False),
    sa.Column('receives', sa.Boolean(), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['sharing_agency.id'], name=op.f('fk_sharing_agreement_party_agency_id_sharing_agency')),
    sa.ForeignKeyConstraint(['agreement_id'], ['sharing_agreement.id'], name=op.f('fk_sharing_agreement_party_agreement_id_sharing_agreement'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_agreement_party')),
    sa.UniqueConstraint('agreement_id', 'agency_id', name=op.f('uq_sharing_agreement_party_agreement_id'))
    )
    op.create_index(op.f('ix_sharing_agreement_party_agency_id'), 'sharing_agreement_party', ['agency_id'], unique=False)
    op.create_index(op.f('ix_sharing_agreement_party_agreement_id'), 'sharing_agreement_party', ['agreement_id'], unique=False)
    op.create_table('sharing_hit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.String(length=120), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('other_agency_id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('seen_at', harbour.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['agency_id'], ['sharing_agency.id'], name=op.f('fk_sharing_hit_agency_id_sharing_agency')),
    sa.ForeignKeyConstraint(['match_id'], ['sharing_match.id'], name=op.f('fk_sharing_hit_match_id_sharing_match'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['other_agency_id'], ['sharing_agency.id'], name=op.f('fk_sharing_hit_other_agency_id_sharing_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_hit')),
    sa.UniqueConstraint('agency_id', 'match_id', name=op.f('uq_sharing_hit_agency_id'))
    )
    op.create_index(op.f('ix_sharing_hit_agency_id'), 'sharing_hit', ['agency_id'], unique=False)
    op.create_index(op.f('ix_sharing_hit_match_id'), 'sharing_hit', ['match_id'], unique=False)
    op.create_index(op.f('ix_sharing_hit_other_agency_id'), 'sharing_hit', ['other_agency_id'], unique=False)
    op.create_index(op.f('ix_sharing_hit_status'), 'sharing_hit', ['status'], unique=False)
    op.create_table('sharing_occurrence',
    sa.Column('occurred_on', sa.Date(), nullable=False),
    sa.Column('jurisdiction', sa.String(length=2), nullable=False),
    sa.Column('offence_codes', harbour.core.db.JSONList(), nullable=False),
    sa.Column('status', sa.String(length=40), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.String(length=120), nullable=False),
    sa.Column('source_system', sa.String(length=120), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('ingested_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ingested_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['sharing_agency.id'], name=op.f('fk_sharing_occurrence_agency_id_sharing_agency')),
    sa.ForeignKeyConstraint(['batch_id', 'agency_id'], ['sharing_ingest_batch.id', 'sharing_ingest_batch.agency_id'], name='fk_sharing_occurrence_batch_agency'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_occurrence')),
    sa.UniqueConstraint('agency_id', 'record_id', name=op.f('uq_sharing_occurrence_agency_id')),
    sa.UniqueConstraint('id', 'agency_id', name=op.f('uq_sharing_occurrence_id'))
    )
    op.create_index(op.f('ix_sharing_occurrence_agency_id'), 'sharing_occurrence', ['agency_id'], unique=False)
    op.create_index(op.f('ix_sharing_occurrence_jurisdiction'), 'sharing_occurrence', ['jurisdiction'], unique=False)
    op.create_index(op.f('ix_sharing_occurrence_occurred_on'), 'sharing_occurrence', ['occurred_on'], unique=False)
    op.create_table('sharing_person',
    sa.Column('given_name', sa.Text(), nullable=True),
    sa.Column('middle_name', sa.Text(), nullable=True),
    sa.Column('surname', sa.Text(), nullable=True),
    sa.Column('aliases', sa.Text(), nullable=True),
    sa.Column('date_of_birth', sa.Text(), nullable=True),
    sa.Column('sex', sa.String(length=1), nullable=True),
    sa.Column('phones', sa.Text(), nullable=True),
    sa.Column('emails', sa.Text(), nullable=True),
    sa.Column('addresses', sa.Text(), nullable=True),
    sa.Column('identity_documents', sa.Text(), nullable=True),
    sa.Column('province', sa.String(length=2), nullable=True),
    sa.Column('needs_linkage', sa.Boolean(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.String(length=120), nullable=False),
    sa.Column('source_system', sa.String(length=120), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('ingested_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ingested_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['sharing_agency.id'], name=op.f('fk_sharing_person_agency_id_sharing_agency')),
    sa.ForeignKeyConstraint(['batch_id', 'agency_id'], ['sharing_ingest_batch.id', 'sharing_ingest_batch.agency_id'], name='fk_sharing_person_batch_agency'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_person')),
    sa.UniqueConstraint('agency_id', 'record_id', name=op.f('uq_sharing_person_agency_id')),
    sa.UniqueConstraint('id', 'agency_id', name=op.f('uq_sharing_person_id'))
    )
    op.create_index(op.f('ix_sharing_person_agency_id'), 'sharing_person', ['agency_id'], unique=False)
    op.create_index(op.f('ix_sharing_person_needs_linkage'), 'sharing_person', ['needs_linkage'], unique=False)
    op.create_index(op.f('ix_sharing_person_province'), 'sharing_person', ['province'], unique=False)
    op.create_table('sharing_disclosure_request',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hit_id', sa.Integer(), nullable=False),
    sa.Column('match_id', sa.Integer(), nullable=False),
    sa.Column('category', sa.String(length=20), nullable=False),
    sa.Column('requester_agency_id', sa.Integer(), nullable=False),
    sa.Column('owner_agency_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('purpose', sa.String(length=40), nullable=False),
    sa.Column('level_requested', sa.String(length=10), nullable=False),
    sa.Column('justification', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('level_granted', sa.String(length=10), nullable=True),
    sa.Column('decided_by_id', sa.Integer(), nullable=True),
    sa.Column('decided_at', harbour.core.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('decision_note', sa.Text(), nullable=True),
    sa.Column('created_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_sharing_disclosure_request_decided_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['hit_id'], ['sharing_hit.id'], name=op.f('fk_sharing_disclosure_request_hit_id_sharing_hit'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['match_id'], ['sharing_match.id'], name=op.f('fk_sharing_disclosure_request_match_id_sharing_match'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['owner_agency_id'], ['sharing_agency.id'], name=op.f('fk_sharing_disclosure_request_owner_agency_id_sharing_agency')),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_sharing_disclosure_request_requested_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['requester_agency_id'], ['sharing_agency.id'], name=op.f('fk_sharing_disclosure_request_requester_agency_id_sharing_agency')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_disclosure_request'))
    )
    op.create_index(op.f('ix_sharing_disclosure_request_hit_id'), 'sharing_disclosure_request', ['hit_id'], unique=False)
    op.create_index(op.f('ix_sharing_disclosure_request_match_id'), 'sharing_disclosure_request', ['match_id'], unique=False)
    op.create_index(op.f('ix_sharing_disclosure_request_owner_agency_id'), 'sharing_disclosure_request', ['owner_agency_id'], unique=False)
    op.create_index(op.f('ix_sharing_disclosure_request_requester_agency_id'), 'sharing_disclosure_request', ['requester_agency_id'], unique=False)
    op.create_index(op.f('ix_sharing_disclosure_request_status'), 'sharing_disclosure_request', ['status'], unique=False)
    op.create_table('sharing_handle',
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('platform', sa.String(length=60), nullable=False),
    sa.Column('handle', sa.Text(), nullable=False),
    sa.Column('handle_bi', sa.String(length=64), nullable=False),
    sa.Column('ad_url', sa.Text(), nullable=True),
    sa.Column('first_seen', sa.Date(), nullable=True),
    sa.Column('last_seen', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.String(length=120), nullable=False),
    sa.Column('source_system', sa.String(length=120), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('ingested_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ingested_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['sharing_agency.id'], name=op.f('fk_sharing_handle_agency_id_sharing_agency')),
    sa.ForeignKeyConstraint(['batch_id', 'agency_id'], ['sharing_ingest_batch.id', 'sharing_ingest_batch.agency_id'], name='fk_sharing_handle_batch_agency'),
    sa.ForeignKeyConstraint(['person_id', 'agency_id'], ['sharing_person.id', 'sharing_person.agency_id'], name='fk_sharing_handle_person_agency'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_handle')),
    sa.UniqueConstraint('agency_id', 'record_id', name=op.f('uq_sharing_handle_agency_id')),
    sa.UniqueConstraint('id', 'agency_id', name=op.f('uq_sharing_handle_id'))
    )
    op.create_index(op.f('ix_sharing_handle_agency_id'), 'sharing_handle', ['agency_id'], unique=False)
    op.create_index(op.f('ix_sharing_handle_handle_bi'), 'sharing_handle', ['handle_bi'], unique=False)
    op.create_index(op.f('ix_sharing_handle_person_id'), 'sharing_handle', ['person_id'], unique=False)
    op.create_table('sharing_location',
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('street_address', sa.Text(), nullable=True),
    sa.Column('city', sa.String(length=120), nullable=True),
    sa.Column('province', sa.String(length=2), nullable=True),
    sa.Column('postal_code', sa.Text(), nullable=True),
    sa.Column('address_bi', sa.String(length=64), nullable=True),
    sa.Column('latitude', sa.Float(), nullable=True),
    sa.Column('longitude', sa.Float(), nullable=True),
    sa.Column('first_seen', sa.Date(), nullable=True),
    sa.Column('last_seen', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.String(length=120), nullable=False),
    sa.Column('source_system', sa.String(length=120), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('ingested_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ingested_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['sharing_agency.id'], name=op.f('fk_sharing_location_agency_id_sharing_agency')),
    sa.ForeignKeyConstraint(['batch_id', 'agency_id'], ['sharing_ingest_batch.id', 'sharing_ingest_batch.agency_id'], name='fk_sharing_location_batch_agency'),
    sa.ForeignKeyConstraint(['person_id', 'agency_id'], ['sharing_person.id', 'sharing_person.agency_id'], name='fk_sharing_location_person_agency'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_location')),
    sa.UniqueConstraint('agency_id', 'record_id', name=op.f('uq_sharing_location_agency_id')),
    sa.UniqueConstraint('id', 'agency_id', name=op.f('uq_sharing_location_id'))
    )
    op.create_index(op.f('ix_sharing_location_address_bi'), 'sharing_location', ['address_bi'], unique=False)
    op.create_index(op.f('ix_sharing_location_agency_id'), 'sharing_location', ['agency_id'], unique=False)
    op.create_index(op.f('ix_sharing_location_person_id'), 'sharing_location', ['person_id'], unique=False)
    op.create_index(op.f('ix_sharing_location_province'), 'sharing_location', ['province'], unique=False)
    op.create_table('sharing_occurrence_person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('occurrence_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['sharing_agency.id'], name=op.f('fk_sharing_occurrence_person_agency_id_sharing_agency')),
    sa.ForeignKeyConstraint(['occurrence_id', 'agency_id'], ['sharing_occurrence.id', 'sharing_occurrence.agency_id'], name='fk_sharing_occurrence_person_occ_agency', ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id', 'agency_id'], ['sharing_person.id', 'sharing_person.agency_id'], name='fk_sharing_occurrence_person_person_agency', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_occurrence_person')),
    sa.UniqueConstraint('occurrence_id', 'person_id', name=op.f('uq_sharing_occurrence_person_occurrence_id'))
    )
    op.create_index(op.f('ix_sharing_occurrence_person_agency_id'), 'sharing_occurrence_person', ['agency_id'], unique=False)
    op.create_index(op.f('ix_sharing_occurrence_person_occurrence_id'), 'sharing_occurrence_person', ['occurrence_id'], unique=False)
    op.create_index(op.f('ix_sharing_occurrence_person_person_id'), 'sharing_occurrence_person', ['person_id'], unique=False)
    op.create_table('sharing_person_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['sharing_agency.id'], name=op.f('fk_sharing_person_key_agency_id_sharing_agency')),
    sa.ForeignKeyConstraint(['person_id', 'agency_id'], ['sharing_person.id', 'sharing_person.agency_id'], name='fk_sharing_person_key_person_agency', ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_person_key'))
    )
    op.create_index(op.f('ix_sharing_person_key_agency_id'), 'sharing_person_key', ['agency_id'], unique=False)
    op.create_index('ix_sharing_person_key_digest', 'sharing_person_key', ['kind', 'digest'], unique=False)
    op.create_index(op.f('ix_sharing_person_key_person_id'), 'sharing_person_key', ['person_id'], unique=False)
    op.create_table('sharing_phone',
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('number', sa.Text(), nullable=False),
    sa.Column('number_bi', sa.String(length=64), nullable=False),
    sa.Column('first_seen', sa.Date(), nullable=True),
    sa.Column('last_seen', sa.Date(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.String(length=120), nullable=False),
    sa.Column('source_system', sa.String(length=120), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('ingested_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ingested_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['sharing_agency.id'], name=op.f('fk_sharing_phone_agency_id_sharing_agency')),
    sa.ForeignKeyConstraint(['batch_id', 'agency_id'], ['sharing_ingest_batch.id', 'sharing_ingest_batch.agency_id'], name='fk_sharing_phone_batch_agency'),
    sa.ForeignKeyConstraint(['person_id', 'agency_id'], ['sharing_person.id', 'sharing_person.agency_id'], name='fk_sharing_phone_person_agency'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_phone')),
    sa.UniqueConstraint('agency_id', 'record_id', name=op.f('uq_sharing_phone_agency_id')),
    sa.UniqueConstraint('id', 'agency_id', name=op.f('uq_sharing_phone_id'))
    )
    op.create_index(op.f('ix_sharing_phone_agency_id'), 'sharing_phone', ['agency_id'], unique=False)
    op.create_index(op.f('ix_sharing_phone_number_bi'), 'sharing_phone', ['number_bi'], unique=False)
    op.create_index(op.f('ix_sharing_phone_person_id'), 'sharing_phone', ['person_id'], unique=False)
    op.create_table('sharing_vehicle',
    sa.Column('person_id', sa.Integer(), nullable=True),
    sa.Column('plate', sa.Text(), nullable=False),
    sa.Column('plate_bi', sa.String(length=64), nullable=False),
    sa.Column('plate_province', sa.String(length=2), nullable=True),
    sa.Column('make', sa.String(length=60), nullable=True),
    sa.Column('model', sa.String(length=60), nullable=True),
    sa.Column('colour', sa.String(length=40), nullable=True),
    sa.Column('year', sa.Integer(), nullable=True),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('agency_id', sa.Integer(), nullable=False),
    sa.Column('record_id', sa.String(length=120), nullable=False),
    sa.Column('source_system', sa.String(length=120), nullable=False),
    sa.Column('batch_id', sa.Integer(), nullable=True),
    sa.Column('ingested_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ingested_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', harbour.core.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['sharing_agency.id'], name=op.f('fk_sharing_vehicle_agency_id_sharing_agency')),
    sa.ForeignKeyConstraint(['batch_id', 'agency_id'], ['sharing_ingest_batch.id', 'sharing_ingest_batch.agency_id'], name='fk_sharing_vehicle_batch_agency'),
    sa.ForeignKeyConstraint(['person_id', 'agency_id'], ['sharing_person.id', 'sharing_person.agency_id'], name='fk_sharing_vehicle_person_agency'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sharing_vehicle')),
    sa.UniqueConstraint('agency_id', 'record_id', name=op.f('uq_sharing_vehicle_agency_id')),
    sa.UniqueConstraint('id', 'agency_id', name=op.f('uq_sharing_vehicle_id'))
    )
    op.create_index(op.f('ix_sharing_vehicle_agency_id'), 'sharing_vehicle', ['agency_id'], unique=False)
    op.create_index(op.f('ix_sharing_vehicle_person_id'), 'sharing_vehicle', ['person_id'], unique=False)
    op.create_index(op.f('ix_sharing_vehicle_plate_bi'), 'sharing_vehicle', ['plate_bi'], unique=False)

    if op.get_bind().dialect.name == "postgresql":
        _row_level_security()


def downgrade() -> None:
    op.drop_table('sharing_vehicle')
    op.drop_table('sharing_phone')
    op.drop_table('sharing_person_key')
    op.drop_table('sharing_occurrence_person')
    op.drop_table('sharing_location')
    op.drop_table('sharing_handle')
    op.drop_table('sharing_disclosure_request')
    op.drop_table('sharing_person')
    op.drop_table('sharing_occurrence')
    op.drop_table('sharing_hit')
    op.drop_table('sharing_agreement_party')
    op.drop_table('sharing_pprl_submission')
    op.drop_table('sharing_membership')
    op.drop_table('sharing_match')
    op.drop_table('sharing_ingest_batch')
    op.drop_table('sharing_entity_member')
    op.drop_table('sharing_agreement')
    op.drop_table('sharing_model_version')
    op.drop_table('sharing_agency')
