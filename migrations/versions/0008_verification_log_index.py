"""Verification log: the index on certificate_id dropped.

Every verification appends a row, and each index is one more B-tree page written per row. Nothing reads the log
by certificate: the clinician's view reads it by clinician_id (indexed), and certificates are never deleted, so
the foreign key needs no index for cascades either.

Reviewed by hand: the downgrade creates the index again, as 0004 made it.

Revision ID: 0008_verification_log_index
Revises: 0007_trust_list_version
Create Date: 2026-11-23
"""

from alembic import op

revision = '0008_verification_log_index'
down_revision = '0007_trust_list_version'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('verifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verifications_certificate_id'))


def downgrade():
    with op.batch_alter_table('verifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verifications_certificate_id'), ['certificate_id'], unique=False)
