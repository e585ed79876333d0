"""Sign-in throttling: one row per failed sign-in (page or POST /auth/token), keyed by an HMAC of the e-mail
address and one of the client address, so that every worker counts the same failures.

Reviewed by hand: no foreign key to accounts (a failure for an unknown address is counted the same way, and
nothing in the row says whether the account exists); the two keys are 64 hex digits; an index per key with the
time serves the window count, and one on the time alone the clean-up of old rows. Not in the audit chain: a
failure changes no register data (like access_log).

Revision ID: 0006_sign_in_failures
Revises: 0005_mobility
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = '0006_sign_in_failures'
down_revision = '0005_mobility'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sign_in_failures',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email_key', sa.String(length=64), nullable=False),
    sa.Column('client_key', sa.String(length=64), nullable=False),
    sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_failures'))
    )
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.create_index('ix_sign_in_failures_client_key_failed_at', ['client_key', 'failed_at'], unique=False)
        batch_op.create_index('ix_sign_in_failures_email_key_failed_at', ['email_key', 'failed_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sign_in_failures_failed_at'), ['failed_at'], unique=False)


def downgrade():
    with op.batch_alter_table('sign_in_failures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sign_in_failures_failed_at'))
        batch_op.drop_index('ix_sign_in_failures_email_key_failed_at')
        batch_op.drop_index('ix_sign_in_failures_client_key_failed_at')

    op.drop_table('sign_in_failures')
