"""Foundation: member states, organisations, professions (seeded), clinicians, licences and
their events, accounts and API keys, the hash-chained audit log and the access log.

Reviewed by hand: instants are timezone-aware; enums are VARCHAR with CHECK constraints so
SQLite and PostgreSQL share one schema; the chain's `prev_hash` is unique so it cannot fork.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None

# ISCO-08 unit groups the compact's agreements name (DOMAIN.md, "Reference data").
ISCO_08_SEED = [
    ("2211", "Generalist medical practitioners"),
    ("2212", "Specialist medical practitioners"),
    ("2221", "Nursing professionals"),
    ("2222", "Midwifery professionals"),
    ("2261", "Dentists"),
    ("2262", "Pharmacists"),
    ("2264", "Physiotherapists"),
    ("3221", "Nursing associate professionals"),
    ("3256", "Medical assistants"),
    ("3258", "Ambulance workers"),
]


def upgrade():
    op.create_table('access_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=200), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('clinician_id', sa.Integer(), nullable=False),
    sa.Column('what', sa.String(length=60), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_access_log'))
    )
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_access_log_clinician_id'), ['clinician_id'], unique=False)

    op.create_table('audit_events',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor_label', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=80), nullable=False),
    sa.Column('object_type', sa.String(length=60), nullable=False),
    sa.Column('object_id', sa.String(length=80), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.Column('request_id', sa.String(length=64), nullable=True),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_events_hash')),
    sa.UniqueConstraint('prev_hash', name=op.f('uq_audit_events_prev_hash'))
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_action'), ['action'], unique=False)
        batch_op.create_index('ix_audit_events_object', ['object_type', 'object_id'], unique=False)

    op.create_table('member_states',
    sa.Column('code', sa.String(length=2), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('official_languages', sa.JSON(), nullable=False),
    sa.Column('joined_on', sa.Date(), nullable=False),
    sa.Column('left_on', sa.Date(), nullable=True),
    sa.CheckConstraint('left_on IS NULL OR left_on >= joined_on', name=op.f('ck_member_states_left_after_joined')),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_member_states')),
    sa.UniqueConstraint('name', name=op.f('uq_member_states_name'))
    )
    op.create_table('professions',
    sa.Column('code', sa.String(length=4), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_professions'))
    )
    op.create_table('clinicians',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('registry_number', sa.String(length=11), nullable=False),
    sa.Column('family_name', sa.String(length=100), nullable=False),
    sa.Column('given_names', sa.String(length=150), nullable=False),
    sa.Column('native_name', sa.String(length=250), nullable=True),
    sa.Column('name_key', sa.String(length=260), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('sex', sa.Enum('female', 'male', 'other', 'unknown', name='sex', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('nationality', sa.String(length=2), nullable=False),
    sa.Column('home_state_code', sa.String(length=2), nullable=False),
    sa.Column('languages', sa.JSON(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['home_state_code'], ['member_states.code'], name=op.f('fk_clinicians_home_state_code_member_states')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinicians')),
    sa.UniqueConstraint('registry_number', name=op.f('uq_clinicians_registry_number'))
    )
    with op.batch_alter_table('clinicians', schema=None) as batch_op:
        batch_op.create_index('ix_clinicians_duplicate_key', ['name_key', 'date_of_birth', 'home_state_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_clinicians_home_state_code'), ['home_state_code'], unique=False)

    op.create_table('organisations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.Enum('licensing_board', 'training_hub', 'secretariat', name='organisation_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('member_state_code', sa.String(length=2), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_state_code'], ['member_states.code'], name=op.f('fk_organisations_member_state_code_member_states')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_organisations')),
    sa.UniqueConstraint('code', name=op.f('uq_organisations_code'))
    )
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_organisations_member_state_code'), ['member_state_code'], unique=False)

    op.create_table('accounts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=True),
    sa.Column('role', sa.Enum('secretariat_admin', 'board_officer', 'hub_officer', 'clinician', name='role', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('clinician_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(role = 'clinician' AND clinician_id IS NOT NULL AND organisation_id IS NULL) OR (role <> 'clinician' AND organisation_id IS NOT NULL AND clinician_id IS NULL)", name=op.f('ck_accounts_bound_to_org_or_clinician')),
    sa.ForeignKeyConstraint(['clinician_id'], ['clinicians.id'], name=op.f('fk_accounts_clinician_id_clinicians')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_accounts_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('clinician_id', name=op.f('uq_accounts_clinician_id')),
    sa.UniqueConstraint('email', name=op.f('uq_accounts_email'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_organisation_id'), ['organisation_id'], unique=False)

    op.create_table('licences',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.String(length=40), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('clinician_id', sa.Integer(), nullable=False),
    sa.Column('profession_code', sa.String(length=4), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['board_id'], ['organisations.id'], name=op.f('fk_licences_board_id_organisations')),
    sa.ForeignKeyConstraint(['clinician_id'], ['clinicians.id'], name=op.f('fk_licences_clinician_id_clinicians')),
    sa.ForeignKeyConstraint(['profession_code'], ['professions.code'], name=op.f('fk_licences_profession_code_professions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_licences')),
    sa.UniqueConstraint('board_id', 'number', name=op.f('uq_licences_board_id_number'))
    )
    with op.batch_alter_table('licences', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_licences_clinician_id'), ['clinician_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_licences_number'), ['number'], unique=False)

    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('prefix', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_used_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_api_keys_account_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('prefix', name=op.f('uq_api_keys_prefix'))
    )
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_keys_account_id'), ['account_id'], unique=False)

    op.create_table('licence_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('licence_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('issue', 'renew', 'restrict', 'suspend', 'reinstate', 'revoke', 'surrender', name='licence_action', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('scope', sa.Text(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("action <> 'renew' OR valid_until IS NOT NULL", name=op.f('ck_licence_events_renewal_sets_validity')),
    sa.CheckConstraint("action <> 'restrict' OR scope IS NOT NULL", name=op.f('ck_licence_events_restriction_has_scope')),
    sa.CheckConstraint("action NOT IN ('restrict', 'suspend', 'revoke') OR reason IS NOT NULL", name=op.f('ck_licence_events_reason_required')),
    sa.CheckConstraint('effective_on >= decided_on', name=op.f('ck_licence_events_effective_after_decision')),
    sa.CheckConstraint('valid_until IS NULL OR valid_until >= effective_on', name=op.f('ck_licence_events_valid_until_after_effect')),
    sa.ForeignKeyConstraint(['actor_id'], ['accounts.id'], name=op.f('fk_licence_events_actor_id_accounts')),
    sa.ForeignKeyConstraint(['licence_id'], ['licences.id'], name=op.f('fk_licence_events_licence_id_licences')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_licence_events'))
    )
    with op.batch_alter_table('licence_events', schema=None) as batch_op:
        batch_op.create_index('ix_licence_events_licence_order', ['licence_id', 'effective_on', 'id'], unique=False)

    professions = sa.table("professions", sa.column("code", sa.String), sa.column("title", sa.String))
    op.bulk_insert(professions, [{"code": code, "title": title} for code, title in ISCO_08_SEED])



def downgrade():
    with op.batch_alter_table('licence_events', schema=None) as batch_op:
        batch_op.drop_index('ix_licence_events_licence_order')

    op.drop_table('licence_events')
    with op.batch_alter_table('api_keys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_keys_account_id'))

    op.drop_table('api_keys')
    with op.batch_alter_table('licences', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_licences_number'))
        batch_op.drop_index(batch_op.f('ix_licences_clinician_id'))

    op.drop_table('licences')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_organisation_id'))

    op.drop_table('accounts')
    with op.batch_alter_table('organisations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_organisations_member_state_code'))

    op.drop_table('organisations')
    with op.batch_alter_table('clinicians', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinicians_home_state_code'))
        batch_op.drop_index('ix_clinicians_duplicate_key')

    op.drop_table('clinicians')
    op.drop_table('professions')
    op.drop_table('member_states')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_events_object')
        batch_op.drop_index(batch_op.f('ix_audit_events_action'))

    op.drop_table('audit_events')
    with op.batch_alter_table('access_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_access_log_clinician_id'))

    op.drop_table('access_log')
