"""Mobility: exchange programmes (participating states and professions, places in all and per host
state), secondments and their event history (cascade steps name the licence or recognition event
that caused them), and the notices host boards receive.

Reviewed by hand: statuses are VARCHAR with CHECK constraints; a secondment's host differs from its
home and ends on or after it starts; capacities are never negative; a suspension names exactly one
cause; a notice belongs to one secondment event (unique event_id).

Revision ID: 0005_mobility
Revises: 0004_certificates
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0005_mobility'
down_revision = '0004_certificates'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('exchange_programmes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('coordinating_state_code', sa.String(length=2), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('required_courses', sa.JSON(), nullable=False),
    sa.Column('recognition_required', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('planned', 'open', 'closed', name='programme_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity >= 0', name=op.f('ck_exchange_programmes_capacity_not_negative')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_exchange_programmes_dates_in_order')),
    sa.ForeignKeyConstraint(['coordinating_state_code'], ['member_states.code'], name=op.f('fk_exchange_programmes_coordinating_state_code_member_states')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exchange_programmes')),
    sa.UniqueConstraint('code', name=op.f('uq_exchange_programmes_code'))
    )
    op.create_table('programme_host_capacities',
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('state_code', sa.String(length=2), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.CheckConstraint('capacity >= 0', name=op.f('ck_programme_host_capacities_capacity_not_negative')),
    sa.ForeignKeyConstraint(['programme_id'], ['exchange_programmes.id'], name=op.f('fk_programme_host_capacities_programme_id_exchange_programmes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['state_code'], ['member_states.code'], name=op.f('fk_programme_host_capacities_state_code_member_states')),
    sa.PrimaryKeyConstraint('programme_id', 'state_code', name=op.f('pk_programme_host_capacities'))
    )
    op.create_table('programme_professions',
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('profession_code', sa.String(length=4), nullable=False),
    sa.ForeignKeyConstraint(['profession_code'], ['professions.code'], name=op.f('fk_programme_professions_profession_code_professions')),
    sa.ForeignKeyConstraint(['programme_id'], ['exchange_programmes.id'], name=op.f('fk_programme_professions_programme_id_exchange_programmes'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('programme_id', 'profession_code', name=op.f('pk_programme_professions'))
    )
    op.create_table('programme_states',
    sa.Column('programme_id', sa.Integer(), nullable=False),
    sa.Column('state_code', sa.String(length=2), nullable=False),
    sa.ForeignKeyConstraint(['programme_id'], ['exchange_programmes.id'], name=op.f('fk_programme_states_programme_id_exchange_programmes'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['state_code'], ['member_states.code'], name=op.f('fk_programme_states_state_code_member_states')),
    sa.PrimaryKeyConstraint('programme_id', 'state_code', name=op.f('pk_programme_states'))
    )
    op.create_table('secondments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinician_id', sa.Integer(), nullable=False),
    sa.Column('profession_code', sa.String(length=4), nullable=False),
    sa.Column('home_state_code', sa.String(length=2), nullable=False),
    sa.Column('host_state_code', sa.String(length=2), nullable=False),
    sa.Column('host_institution', sa.String(length=200), nullable=False),
    sa.Column('supervisor', sa.String(length=200), nullable=False),
    sa.Column('programme_id', sa.Integer(), nullable=True),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('home_licence_id', sa.Integer(), nullable=False),
    sa.Column('recognition_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.Enum('proposed', 'approved', 'active', 'completed', 'terminated', 'cancelled', 'suspended', name='secondment_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('proposed_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_secondments_dates_in_order')),
    sa.CheckConstraint('host_state_code <> home_state_code', name=op.f('ck_secondments_host_differs_from_home')),
    sa.ForeignKeyConstraint(['clinician_id'], ['clinicians.id'], name=op.f('fk_secondments_clinician_id_clinicians')),
    sa.ForeignKeyConstraint(['home_licence_id'], ['licences.id'], name=op.f('fk_secondments_home_licence_id_licences')),
    sa.ForeignKeyConstraint(['home_state_code'], ['member_states.code'], name=op.f('fk_secondments_home_state_code_member_states')),
    sa.ForeignKeyConstraint(['host_state_code'], ['member_states.code'], name=op.f('fk_secondments_host_state_code_member_states')),
    sa.ForeignKeyConstraint(['profession_code'], ['professions.code'], name=op.f('fk_secondments_profession_code_professions')),
    sa.ForeignKeyConstraint(['programme_id'], ['exchange_programmes.id'], name=op.f('fk_secondments_programme_id_exchange_programmes')),
    sa.ForeignKeyConstraint(['proposed_by_id'], ['accounts.id'], name=op.f('fk_secondments_proposed_by_id_accounts')),
    sa.ForeignKeyConstraint(['recognition_id'], ['recognitions.id'], name=op.f('fk_secondments_recognition_id_recognitions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_secondments'))
    )
    with op.batch_alter_table('secondments', schema=None) as batch_op:
        batch_op.create_index('ix_secondments_clinician_dates', ['clinician_id', 'starts_on'], unique=False)
        batch_op.create_index('ix_secondments_flow', ['starts_on', 'home_state_code', 'host_state_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_secondments_home_licence_id'), ['home_licence_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_secondments_host_state_code'), ['host_state_code'], unique=False)
        batch_op.create_index('ix_secondments_programme_status', ['programme_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_secondments_recognition_id'), ['recognition_id'], unique=False)

    op.create_table('secondment_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('secondment_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('propose', 'approve', 'cancel', 'terminate', 'suspend', 'reinstate', name='secondment_action', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('cause_licence_event_id', sa.Integer(), nullable=True),
    sa.Column('cause_recognition_event_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("action <> 'suspend' OR cause_licence_event_id IS NOT NULL OR cause_recognition_event_id IS NOT NULL", name=op.f('ck_secondment_events_suspension_has_cause')),
    sa.CheckConstraint("action NOT IN ('cancel', 'terminate', 'suspend') OR reason IS NOT NULL", name=op.f('ck_secondment_events_reason_required')),
    sa.CheckConstraint('cause_licence_event_id IS NULL OR cause_recognition_event_id IS NULL', name=op.f('ck_secondment_events_one_cause')),
    sa.ForeignKeyConstraint(['actor_id'], ['accounts.id'], name=op.f('fk_secondment_events_actor_id_accounts')),
    sa.ForeignKeyConstraint(['cause_licence_event_id'], ['licence_events.id'], name=op.f('fk_secondment_events_cause_licence_event_id_licence_events')),
    sa.ForeignKeyConstraint(['cause_recognition_event_id'], ['recognition_events.id'], name=op.f('fk_secondment_events_cause_recognition_event_id_recognition_events')),
    sa.ForeignKeyConstraint(['secondment_id'], ['secondments.id'], name=op.f('fk_secondment_events_secondment_id_secondments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_secondment_events'))
    )
    with op.batch_alter_table('secondment_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_secondment_events_cause_licence_event_id'), ['cause_licence_event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_secondment_events_cause_recognition_event_id'), ['cause_recognition_event_id'], unique=False)
        batch_op.create_index('ix_secondment_events_order', ['secondment_id', 'effective_on', 'id'], unique=False)

    op.create_table('mobility_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('host_state_code', sa.String(length=2), nullable=False),
    sa.Column('secondment_id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['secondment_events.id'], name=op.f('fk_mobility_notices_event_id_secondment_events')),
    sa.ForeignKeyConstraint(['host_state_code'], ['member_states.code'], name=op.f('fk_mobility_notices_host_state_code_member_states')),
    sa.ForeignKeyConstraint(['secondment_id'], ['secondments.id'], name=op.f('fk_mobility_notices_secondment_id_secondments')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mobility_notices')),
    sa.UniqueConstraint('event_id', name=op.f('uq_mobility_notices_event_id'))
    )
    with op.batch_alter_table('mobility_notices', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mobility_notices_host_state_code'), ['host_state_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_mobility_notices_secondment_id'), ['secondment_id'], unique=False)


def downgrade():
    with op.batch_alter_table('mobility_notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_mobility_notices_secondment_id'))
        batch_op.drop_index(batch_op.f('ix_mobility_notices_host_state_code'))

    op.drop_table('mobility_notices')
    with op.batch_alter_table('secondment_events', schema=None) as batch_op:
        batch_op.drop_index('ix_secondment_events_order')
        batch_op.drop_index(batch_op.f('ix_secondment_events_cause_recognition_event_id'))
        batch_op.drop_index(batch_op.f('ix_secondment_events_cause_licence_event_id'))

    op.drop_table('secondment_events')
    with op.batch_alter_table('secondments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_secondments_recognition_id'))
        batch_op.drop_index('ix_secondments_programme_status')
        batch_op.drop_index(batch_op.f('ix_secondments_host_state_code'))
        batch_op.drop_index(batch_op.f('ix_secondments_home_licence_id'))
        batch_op.drop_index('ix_secondments_flow')
        batch_op.drop_index('ix_secondments_clinician_dates')

    op.drop_table('secondments')
    op.drop_table('programme_states')
    op.drop_table('programme_professions')
    op.drop_table('programme_host_capacities')
    op.drop_table('exchange_programmes')
