"""Recognition and alerts: agreements (with their states and professions), recognitions and their
event history (cascade steps name the licence event that caused them), alerts raised by licence
measures and each receiving state's acknowledgement.

Reviewed by hand: statuses are VARCHAR with CHECK constraints; an alert has one cause event
(unique); each state acknowledges an alert once (unique alert_id, state_code).

Revision ID: 0003_recognition
Revises: 0002_curricula
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0003_recognition'
down_revision = '0002_curricula'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('agreements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('in_force_from', sa.Date(), nullable=False),
    sa.Column('in_force_until', sa.Date(), nullable=True),
    sa.Column('required_courses', sa.JSON(), nullable=False),
    sa.Column('language_level', sa.String(length=2), nullable=True),
    sa.Column('adaptation_months', sa.Integer(), nullable=False),
    sa.Column('validity_months', sa.Integer(), nullable=True),
    sa.Column('decision_deadline_days', sa.Integer(), nullable=False),
    sa.Column('silence_is_approval', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('adaptation_months BETWEEN 0 AND 60', name=op.f('ck_agreements_adaptation_range')),
    sa.CheckConstraint('decision_deadline_days BETWEEN 1 AND 365', name=op.f('ck_agreements_deadline_range')),
    sa.CheckConstraint('in_force_until IS NULL OR in_force_until >= in_force_from', name=op.f('ck_agreements_in_force_order')),
    sa.CheckConstraint('validity_months IS NULL OR validity_months BETWEEN 1 AND 240', name=op.f('ck_agreements_validity_range')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_agreements')),
    sa.UniqueConstraint('code', name=op.f('uq_agreements_code'))
    )
    op.create_table('agreement_professions',
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('profession_code', sa.String(length=4), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_agreement_professions_agreement_id_agreements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['profession_code'], ['professions.code'], name=op.f('fk_agreement_professions_profession_code_professions')),
    sa.PrimaryKeyConstraint('agreement_id', 'profession_code', name=op.f('pk_agreement_professions'))
    )
    op.create_table('agreement_states',
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('state_code', sa.String(length=2), nullable=False),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_agreement_states_agreement_id_agreements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['state_code'], ['member_states.code'], name=op.f('fk_agreement_states_state_code_member_states')),
    sa.PrimaryKeyConstraint('agreement_id', 'state_code', name=op.f('pk_agreement_states'))
    )
    op.create_table('recognitions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinician_id', sa.Integer(), nullable=False),
    sa.Column('licence_id', sa.Integer(), nullable=False),
    sa.Column('host_state_code', sa.String(length=2), nullable=False),
    sa.Column('profession_code', sa.String(length=4), nullable=False),
    sa.Column('agreement_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.Enum('pending', 'granted', 'refused', 'withdrawn', 'suspended', 'revoked', 'expired', name='recognition_status', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('applied_on', sa.Date(), nullable=False),
    sa.Column('decision_due_on', sa.Date(), nullable=False),
    sa.Column('granted_on', sa.Date(), nullable=True),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('conditions', sa.Text(), nullable=True),
    sa.Column('tacit', sa.Boolean(), nullable=False),
    sa.Column('applied_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('valid_until IS NULL OR granted_on IS NULL OR valid_until >= granted_on', name=op.f('ck_recognitions_valid_after_grant')),
    sa.ForeignKeyConstraint(['agreement_id'], ['agreements.id'], name=op.f('fk_recognitions_agreement_id_agreements')),
    sa.ForeignKeyConstraint(['applied_by_id'], ['accounts.id'], name=op.f('fk_recognitions_applied_by_id_accounts')),
    sa.ForeignKeyConstraint(['clinician_id'], ['clinicians.id'], name=op.f('fk_recognitions_clinician_id_clinicians')),
    sa.ForeignKeyConstraint(['host_state_code'], ['member_states.code'], name=op.f('fk_recognitions_host_state_code_member_states')),
    sa.ForeignKeyConstraint(['licence_id'], ['licences.id'], name=op.f('fk_recognitions_licence_id_licences')),
    sa.ForeignKeyConstraint(['profession_code'], ['professions.code'], name=op.f('fk_recognitions_profession_code_professions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recognitions'))
    )
    with op.batch_alter_table('recognitions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recognitions_agreement_id'), ['agreement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_recognitions_clinician_id'), ['clinician_id'], unique=False)
        batch_op.create_index('ix_recognitions_host_status', ['host_state_code', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_recognitions_licence_id'), ['licence_id'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('licence_id', sa.Integer(), nullable=False),
    sa.Column('cause_event_id', sa.Integer(), nullable=False),
    sa.Column('clinician_id', sa.Integer(), nullable=False),
    sa.Column('profession_code', sa.String(length=4), nullable=False),
    sa.Column('board_id', sa.Integer(), nullable=False),
    sa.Column('origin_state_code', sa.String(length=2), nullable=False),
    sa.Column('measure', sa.Enum('issue', 'renew', 'restrict', 'suspend', 'reinstate', 'revoke', 'surrender', name='alert_measure', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('scope', sa.Text(), nullable=True),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('effective_from', sa.Date(), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('closed_on', sa.Date(), nullable=True),
    sa.Column('closing_event_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("measure IN ('suspend', 'restrict', 'revoke')", name=op.f('ck_alerts_alerting_measure')),
    sa.CheckConstraint('closed_on IS NULL OR closed_on >= effective_from', name=op.f('ck_alerts_closed_after_start')),
    sa.ForeignKeyConstraint(['board_id'], ['organisations.id'], name=op.f('fk_alerts_board_id_organisations')),
    sa.ForeignKeyConstraint(['cause_event_id'], ['licence_events.id'], name=op.f('fk_alerts_cause_event_id_licence_events')),
    sa.ForeignKeyConstraint(['clinician_id'], ['clinicians.id'], name=op.f('fk_alerts_clinician_id_clinicians')),
    sa.ForeignKeyConstraint(['closing_event_id'], ['licence_events.id'], name=op.f('fk_alerts_closing_event_id_licence_events')),
    sa.ForeignKeyConstraint(['licence_id'], ['licences.id'], name=op.f('fk_alerts_licence_id_licences')),
    sa.ForeignKeyConstraint(['origin_state_code'], ['member_states.code'], name=op.f('fk_alerts_origin_state_code_member_states')),
    sa.ForeignKeyConstraint(['profession_code'], ['professions.code'], name=op.f('fk_alerts_profession_code_professions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('cause_event_id', name=op.f('uq_alerts_cause_event_id'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_clinician_id'), ['clinician_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alerts_licence_id'), ['licence_id'], unique=False)

    op.create_table('recognition_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('recognition_id', sa.Integer(), nullable=False),
    sa.Column('action', sa.Enum('apply', 'grant', 'refuse', 'withdraw', 'suspend', 'reinstate', 'revoke', name='recognition_action', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('effective_on', sa.Date(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('cause_licence_event_id', sa.Integer(), nullable=True),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("action NOT IN ('refuse', 'suspend', 'revoke') OR reason IS NOT NULL", name=op.f('ck_recognition_events_reason_required')),
    sa.ForeignKeyConstraint(['actor_id'], ['accounts.id'], name=op.f('fk_recognition_events_actor_id_accounts')),
    sa.ForeignKeyConstraint(['cause_licence_event_id'], ['licence_events.id'], name=op.f('fk_recognition_events_cause_licence_event_id_licence_events')),
    sa.ForeignKeyConstraint(['recognition_id'], ['recognitions.id'], name=op.f('fk_recognition_events_recognition_id_recognitions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recognition_events'))
    )
    with op.batch_alter_table('recognition_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recognition_events_cause_licence_event_id'), ['cause_licence_event_id'], unique=False)
        batch_op.create_index('ix_recognition_events_order', ['recognition_id', 'effective_on', 'id'], unique=False)

    op.create_table('alert_recipients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('state_code', sa.String(length=2), nullable=False),
    sa.Column('acknowledged_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['acknowledged_by_id'], ['accounts.id'], name=op.f('fk_alert_recipients_acknowledged_by_id_accounts')),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_alert_recipients_alert_id_alerts')),
    sa.ForeignKeyConstraint(['state_code'], ['member_states.code'], name=op.f('fk_alert_recipients_state_code_member_states')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_recipients')),
    sa.UniqueConstraint('alert_id', 'state_code', name=op.f('uq_alert_recipients_alert_id_state_code'))
    )
    with op.batch_alter_table('alert_recipients', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_recipients_state_code'), ['state_code'], unique=False)



def downgrade():
    with op.batch_alter_table('alert_recipients', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_recipients_state_code'))

    op.drop_table('alert_recipients')
    with op.batch_alter_table('recognition_events', schema=None) as batch_op:
        batch_op.drop_index('ix_recognition_events_order')
        batch_op.drop_index(batch_op.f('ix_recognition_events_cause_licence_event_id'))

    op.drop_table('recognition_events')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_licence_id'))
        batch_op.drop_index(batch_op.f('ix_alerts_clinician_id'))

    op.drop_table('alerts')
    with op.batch_alter_table('recognitions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recognitions_licence_id'))
        batch_op.drop_index('ix_recognitions_host_status')
        batch_op.drop_index(batch_op.f('ix_recognitions_clinician_id'))
        batch_op.drop_index(batch_op.f('ix_recognitions_agreement_id'))

    op.drop_table('recognitions')
    op.drop_table('agreement_states')
    op.drop_table('agreement_professions')
    op.drop_table('agreements')
