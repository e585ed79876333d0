"""Clinician merges: one row per record folded into another (DOMAIN.md: "merging two records is an explicit,
audited act").

A table rather than a column on clinicians: SQLite cannot drop a column that carries a foreign key, and rebuilding
`clinicians` (which nine tables reference) is not safe with foreign keys on; a table also keeps who merged, when
and why. `merged_id` is the primary key, so a record is merged at most once.

Reviewed by hand: foreign keys to clinicians (twice), accounts and organisations; an index on survivor_id (the
survivor's list of merged numbers). The downgrade drops the table; the rows that moved stay with the survivor.

Revision ID: 0009_clinician_merges
Revises: 0008_verification_log_index
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = '0009_clinician_merges'
down_revision = '0008_verification_log_index'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('clinician_merges',
    sa.Column('merged_id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('survivor_id', sa.Integer(), nullable=False),
    sa.Column('merged_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=False),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('moved', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_clinician_merges_account_id_accounts')),
    sa.ForeignKeyConstraint(['merged_id'], ['clinicians.id'], name=op.f('fk_clinician_merges_merged_id_clinicians')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'],
                            name=op.f('fk_clinician_merges_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['survivor_id'], ['clinicians.id'],
                            name=op.f('fk_clinician_merges_survivor_id_clinicians')),
    sa.PrimaryKeyConstraint('merged_id', name=op.f('pk_clinician_merges'))
    )
    with op.batch_alter_table('clinician_merges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinician_merges_survivor_id'), ['survivor_id'], unique=False)


def downgrade():
    with op.batch_alter_table('clinician_merges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinician_merges_survivor_id'))
    op.drop_table('clinician_merges')
