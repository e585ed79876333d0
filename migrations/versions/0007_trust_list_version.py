"""Trust list version: one row holding a number the database itself raises whenever an issuer key or an
organisation is inserted, updated or deleted (or, on PostgreSQL, truncated).

A worker keeps its parsed trust list while the number is unchanged. Before this, every verification read every
key of every issuer (with its organisation) to see whether anything had changed: a cost that grew with the number
of keys. Triggers rather than application code, so that no path that writes keys or organisations (a service,
the CLI, another process, a hand-run UPDATE) can leave a worker trusting a stale list.

Reviewed by hand: a single row (CHECK id = 1), created here with version 1; SQLite gets one trigger per table and
event (it has no statement-level triggers), PostgreSQL one plpgsql function and a statement-level trigger per
table. The downgrade drops the triggers, the function and the table.

Revision ID: 0007_trust_list_version
Revises: 0006_sign_in_failures
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0007_trust_list_version'
down_revision = '0006_sign_in_failures'
branch_labels = None
depends_on = None

TABLES = ('issuer_keys', 'organisations')
EVENTS = ('INSERT', 'UPDATE', 'DELETE')
BUMP = 'UPDATE trust_list_version SET version = version + 1 WHERE id = 1'


def upgrade():
    op.create_table('trust_list_version',
    sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_trust_list_version_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_trust_list_version'))
    )
    op.execute('INSERT INTO trust_list_version (id, version) VALUES (1, 1)')
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f'CREATE FUNCTION bump_trust_list_version() RETURNS trigger LANGUAGE plpgsql AS $$ '
                   f'BEGIN {BUMP}; RETURN NULL; END $$')
        for table in TABLES:
            op.execute(f'CREATE TRIGGER {table}_trust_list_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE '
                       f'ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_trust_list_version()')
    else:
        for table in TABLES:
            for event in EVENTS:
                op.execute(f'CREATE TRIGGER {table}_trust_list_version_{event.lower()} AFTER {event} ON {table} '
                           f'BEGIN {BUMP}; END')


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        for table in TABLES:
            op.execute(f'DROP TRIGGER {table}_trust_list_version ON {table}')
        op.execute('DROP FUNCTION bump_trust_list_version()')
    else:
        for table in TABLES:
            for event in EVENTS:
                op.execute(f'DROP TRIGGER {table}_trust_list_version_{event.lower()}')
    op.drop_table('trust_list_version')
