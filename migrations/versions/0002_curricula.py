"""Curricula: courses with their titles, professions and owners (hubs or member states), hub
accreditations, offerings and enrolments, and completions with their withdrawal history.

Reviewed by hand: instants are timezone-aware; the outcome is VARCHAR with a CHECK constraint; a
hub's reference is unique per hub (the bulk import is idempotent on it); a failed completion earns
no credits, a withdrawal always has a reason, and an owner is a hub or a state, never both.

Revision ID: 0002_curricula
Revises: 0001_foundation
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0002_curricula"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('courses',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=40), nullable=False),
    sa.Column('titles', sa.JSON(), nullable=False),
    sa.Column('fallback_language', sa.String(length=35), nullable=False),
    sa.Column('description', sa.Text(), nullable=True),
    sa.Column('competencies', sa.JSON(), nullable=False),
    sa.Column('cpd_hours', sa.Float(), nullable=False),
    sa.Column('validity_months', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('cpd_hours >= 0', name=op.f('ck_courses_cpd_hours_not_negative')),
    sa.CheckConstraint('validity_months IS NULL OR validity_months > 0', name=op.f('ck_courses_validity_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_courses')),
    sa.UniqueConstraint('code', name=op.f('uq_courses_code'))
    )

    op.create_table('course_professions',
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('profession_code', sa.String(length=4), nullable=False),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_professions_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['profession_code'], ['professions.code'], name=op.f('fk_course_professions_profession_code_professions')),
    sa.PrimaryKeyConstraint('course_id', 'profession_code', name=op.f('pk_course_professions'))
    )

    op.create_table('course_owners',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('member_state_code', sa.String(length=2), nullable=True),
    sa.CheckConstraint('(organisation_id IS NULL) <> (member_state_code IS NULL)', name=op.f('ck_course_owners_hub_or_state')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_course_owners_course_id_courses'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_state_code'], ['member_states.code'], name=op.f('fk_course_owners_member_state_code_member_states')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_course_owners_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_course_owners')),
    sa.UniqueConstraint('course_id', 'member_state_code', name=op.f('uq_course_owners_course_id_member_state_code')),
    sa.UniqueConstraint('course_id', 'organisation_id', name=op.f('uq_course_owners_course_id_organisation_id'))
    )

    op.create_table('offerings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('hub_id', sa.Integer(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('place', sa.String(length=200), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_offerings_capacity_positive')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_offerings_ends_after_start')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_offerings_course_id_courses')),
    sa.ForeignKeyConstraint(['hub_id'], ['organisations.id'], name=op.f('fk_offerings_hub_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offerings'))
    )
    with op.batch_alter_table('offerings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_offerings_course_id'), ['course_id'], unique=False)
        batch_op.create_index('ix_offerings_hub_starts', ['hub_id', 'starts_on'], unique=False)

    op.create_table('accreditations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('hub_id', sa.Integer(), nullable=False),
    sa.Column('granted_by_state_code', sa.String(length=2), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint('valid_until IS NULL OR valid_until >= valid_from', name=op.f('ck_accreditations_until_after_from')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_accreditations_course_id_courses')),
    sa.ForeignKeyConstraint(['granted_by_state_code'], ['member_states.code'], name=op.f('fk_accreditations_granted_by_state_code_member_states')),
    sa.ForeignKeyConstraint(['hub_id'], ['organisations.id'], name=op.f('fk_accreditations_hub_id_organisations')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['accounts.id'], name=op.f('fk_accreditations_recorded_by_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accreditations'))
    )
    with op.batch_alter_table('accreditations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accreditations_course_id'), ['course_id'], unique=False)
        batch_op.create_index('ix_accreditations_hub_course', ['hub_id', 'course_id'], unique=False)

    op.create_table('completions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('clinician_id', sa.Integer(), nullable=False),
    sa.Column('course_id', sa.Integer(), nullable=False),
    sa.Column('hub_id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=True),
    sa.Column('reference', sa.String(length=64), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=False),
    sa.Column('outcome', sa.Enum('passed', 'failed', name='completion_outcome', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('credits', sa.Float(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=True),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('withdrawal_reason', sa.Text(), nullable=True),
    sa.Column('withdrawn_by_id', sa.Integer(), nullable=True),
    sa.CheckConstraint("outcome = 'passed' OR credits = 0", name=op.f('ck_completions_failed_earns_nothing')),
    sa.CheckConstraint('(withdrawn_at IS NULL AND withdrawal_reason IS NULL) OR (withdrawn_at IS NOT NULL AND withdrawal_reason IS NOT NULL)', name=op.f('ck_completions_withdrawal_has_reason')),
    sa.CheckConstraint('credits >= 0', name=op.f('ck_completions_credits_not_negative')),
    sa.CheckConstraint('score IS NULL OR (score >= 0 AND score <= 100)', name=op.f('ck_completions_score_range')),
    sa.CheckConstraint('valid_until IS NULL OR valid_until > completed_on', name=op.f('ck_completions_valid_after_completion')),
    sa.ForeignKeyConstraint(['clinician_id'], ['clinicians.id'], name=op.f('fk_completions_clinician_id_clinicians')),
    sa.ForeignKeyConstraint(['course_id'], ['courses.id'], name=op.f('fk_completions_course_id_courses')),
    sa.ForeignKeyConstraint(['hub_id'], ['organisations.id'], name=op.f('fk_completions_hub_id_organisations')),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'], name=op.f('fk_completions_offering_id_offerings')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['accounts.id'], name=op.f('fk_completions_recorded_by_id_accounts')),
    sa.ForeignKeyConstraint(['withdrawn_by_id'], ['accounts.id'], name=op.f('fk_completions_withdrawn_by_id_accounts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_completions')),
    sa.UniqueConstraint('hub_id', 'reference', name=op.f('uq_completions_hub_id_reference'))
    )
    with op.batch_alter_table('completions', schema=None) as batch_op:
        batch_op.create_index('ix_completions_clinician_completed', ['clinician_id', 'completed_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_completions_course_id'), ['course_id'], unique=False)

    op.create_table('enrolments',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('offering_id', sa.Integer(), nullable=False),
    sa.Column('clinician_id', sa.Integer(), nullable=False),
    sa.Column('enrolled_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('enrolled_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['clinician_id'], ['clinicians.id'], name=op.f('fk_enrolments_clinician_id_clinicians')),
    sa.ForeignKeyConstraint(['enrolled_by_id'], ['accounts.id'], name=op.f('fk_enrolments_enrolled_by_id_accounts')),
    sa.ForeignKeyConstraint(['offering_id'], ['offerings.id'], name=op.f('fk_enrolments_offering_id_offerings')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolments')),
    sa.UniqueConstraint('offering_id', 'clinician_id', name=op.f('uq_enrolments_offering_id_clinician_id'))
    )
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enrolments_clinician_id'), ['clinician_id'], unique=False)


def downgrade():
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enrolments_clinician_id'))

    op.drop_table('enrolments')
    with op.batch_alter_table('completions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_completions_course_id'))
        batch_op.drop_index('ix_completions_clinician_completed')

    op.drop_table('completions')
    with op.batch_alter_table('accreditations', schema=None) as batch_op:
        batch_op.drop_index('ix_accreditations_hub_course')
        batch_op.drop_index(batch_op.f('ix_accreditations_course_id'))

    op.drop_table('accreditations')
    with op.batch_alter_table('offerings', schema=None) as batch_op:
        batch_op.drop_index('ix_offerings_hub_starts')
        batch_op.drop_index(batch_op.f('ix_offerings_course_id'))

    op.drop_table('offerings')
    op.drop_table('course_owners')
    op.drop_table('course_professions')
    op.drop_table('courses')
