"""Certificates: issuer keys (public JWK, KEK-encrypted private key, validity window, compromise),
Bitstring Status Lists per issuer and purpose, issued certificates (snapshot, signed credential, QR
token, PDF and its SHA-256, status list indexes) and the verification log.

Reviewed by hand: kinds, purposes and algorithms are VARCHAR with CHECK constraints; a status list
index is given once per list (unique (list, index) for revocation and for suspension); a certificate
is issued once (unique current_key, cleared when a correction replaces it); a re-issue links to the
certificate it replaces (unique replaces_id).

Revision ID: 0004_certificates
Revises: 0003_recognition
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = '0004_certificates'
down_revision = '0003_recognition'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('issuer_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('alg', sa.Enum('ES256', 'EdDSA', name='key_algorithm', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('public_jwk', sa.JSON(), nullable=False),
    sa.Column('encrypted_private_key', sa.Text(), nullable=False),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=False),
    sa.Column('not_after', sa.DateTime(timezone=True), nullable=True),
    sa.Column('compromised_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('compromised_at IS NULL OR not_after IS NOT NULL', name=op.f('ck_issuer_keys_compromised_is_retired')),
    sa.CheckConstraint('not_after IS NULL OR not_after >= not_before', name=op.f('ck_issuer_keys_window_order')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_issuer_keys_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_issuer_keys')),
    sa.UniqueConstraint('kid', name=op.f('uq_issuer_keys_kid'))
    )
    with op.batch_alter_table('issuer_keys', schema=None) as batch_op:
        batch_op.create_index('ix_issuer_keys_organisation_current', ['organisation_id', 'not_after'], unique=False)

    op.create_table('status_lists',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('organisation_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.Enum('revocation', 'suspension', name='list_purpose', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('bits', sa.LargeBinary(), nullable=False),
    sa.Column('allocated', sa.Integer(), nullable=False),
    sa.Column('signed', sa.Text(), nullable=True),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('signed_kid', sa.String(length=64), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('size >= 131072 AND size % 8 = 0', name=op.f('ck_status_lists_size_minimum')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_status_lists_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_status_lists')),
    sa.UniqueConstraint('organisation_id', 'purpose', 'number', name=op.f('uq_status_lists_organisation_id_purpose_number'))
    )
    op.create_table('certificates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('credential_id', sa.String(length=45), nullable=False),
    sa.Column('kind', sa.Enum('course_completion', 'recognition', 'good_standing', name='certificate_kind', native_enum=False, create_constraint=True), nullable=False),
    sa.Column('issuer_id', sa.Integer(), nullable=False),
    sa.Column('key_id', sa.Integer(), nullable=False),
    sa.Column('clinician_id', sa.Integer(), nullable=False),
    sa.Column('completion_id', sa.Integer(), nullable=True),
    sa.Column('recognition_id', sa.Integer(), nullable=True),
    sa.Column('licence_id', sa.Integer(), nullable=True),
    sa.Column('current_key', sa.String(length=80), nullable=True),
    sa.Column('verification_code', sa.String(length=14), nullable=False),
    sa.Column('language', sa.String(length=35), nullable=False),
    sa.Column('snapshot', sa.JSON(), nullable=False),
    sa.Column('credential', sa.Text(), nullable=False),
    sa.Column('compact_token', sa.Text(), nullable=False),
    sa.Column('valid_from', sa.DateTime(timezone=True), nullable=False),
    sa.Column('valid_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('signed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('issued_by_id', sa.Integer(), nullable=True),
    sa.Column('revocation_list_id', sa.Integer(), nullable=False),
    sa.Column('revocation_index', sa.Integer(), nullable=False),
    sa.Column('suspension_list_id', sa.Integer(), nullable=False),
    sa.Column('suspension_index', sa.Integer(), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revocation_reason', sa.Text(), nullable=True),
    sa.Column('suspended', sa.Boolean(), nullable=False),
    sa.Column('replaces_id', sa.Integer(), nullable=True),
    sa.Column('pdf', sa.LargeBinary(), nullable=False),
    sa.Column('pdf_sha256', sa.String(length=64), nullable=False),
    sa.CheckConstraint("(kind = 'course_completion' AND completion_id IS NOT NULL) OR (kind = 'recognition' AND recognition_id IS NOT NULL) OR (kind = 'good_standing' AND licence_id IS NOT NULL)", name=op.f('ck_certificates_subject_of_kind')),
    sa.CheckConstraint('revoked_at IS NULL OR revocation_reason IS NOT NULL', name=op.f('ck_certificates_revocation_has_reason')),
    sa.CheckConstraint('valid_until IS NULL OR valid_until > valid_from', name=op.f('ck_certificates_valid_until_after_from')),
    sa.ForeignKeyConstraint(['clinician_id'], ['clinicians.id'], name=op.f('fk_certificates_clinician_id_clinicians')),
    sa.ForeignKeyConstraint(['completion_id'], ['completions.id'], name=op.f('fk_certificates_completion_id_completions')),
    sa.ForeignKeyConstraint(['issued_by_id'], ['accounts.id'], name=op.f('fk_certificates_issued_by_id_accounts')),
    sa.ForeignKeyConstraint(['issuer_id'], ['organisations.id'], name=op.f('fk_certificates_issuer_id_organisations')),
    sa.ForeignKeyConstraint(['key_id'], ['issuer_keys.id'], name=op.f('fk_certificates_key_id_issuer_keys')),
    sa.ForeignKeyConstraint(['licence_id'], ['licences.id'], name=op.f('fk_certificates_licence_id_licences')),
    sa.ForeignKeyConstraint(['recognition_id'], ['recognitions.id'], name=op.f('fk_certificates_recognition_id_recognitions')),
    sa.ForeignKeyConstraint(['replaces_id'], ['certificates.id'], name=op.f('fk_certificates_replaces_id_certificates')),
    sa.ForeignKeyConstraint(['revocation_list_id'], ['status_lists.id'], name=op.f('fk_certificates_revocation_list_id_status_lists')),
    sa.ForeignKeyConstraint(['suspension_list_id'], ['status_lists.id'], name=op.f('fk_certificates_suspension_list_id_status_lists')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_certificates')),
    sa.UniqueConstraint('credential_id', name=op.f('uq_certificates_credential_id')),
    sa.UniqueConstraint('current_key', name=op.f('uq_certificates_current_key')),
    sa.UniqueConstraint('replaces_id', name=op.f('uq_certificates_replaces_id')),
    sa.UniqueConstraint('revocation_list_id', 'revocation_index', name=op.f('uq_certificates_revocation_list_id_revocation_index')),
    sa.UniqueConstraint('suspension_list_id', 'suspension_index', name=op.f('uq_certificates_suspension_list_id_suspension_index')),
    sa.UniqueConstraint('verification_code', name=op.f('uq_certificates_verification_code'))
    )
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificates_clinician_id'), ['clinician_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_completion_id'), ['completion_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_issuer_id'), ['issuer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_key_id'), ['key_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_licence_id'), ['licence_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_pdf_sha256'), ['pdf_sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_certificates_recognition_id'), ['recognition_id'], unique=False)

    op.create_table('verifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('occurred_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('method', sa.String(length=20), nullable=False),
    sa.Column('outcome', sa.String(length=30), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=True),
    sa.Column('clinician_id', sa.Integer(), nullable=True),
    sa.Column('organisation_id', sa.Integer(), nullable=True),
    sa.Column('account_id', sa.Integer(), nullable=True),
    sa.Column('pdf_identical', sa.Boolean(), nullable=True),
    sa.ForeignKeyConstraint(['account_id'], ['accounts.id'], name=op.f('fk_verifications_account_id_accounts')),
    sa.ForeignKeyConstraint(['certificate_id'], ['certificates.id'], name=op.f('fk_verifications_certificate_id_certificates')),
    sa.ForeignKeyConstraint(['clinician_id'], ['clinicians.id'], name=op.f('fk_verifications_clinician_id_clinicians')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_verifications_organisation_id_organisations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verifications'))
    )
    with op.batch_alter_table('verifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_verifications_certificate_id'), ['certificate_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_verifications_clinician_id'), ['clinician_id'], unique=False)



def downgrade():
    with op.batch_alter_table('verifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_verifications_clinician_id'))
        batch_op.drop_index(batch_op.f('ix_verifications_certificate_id'))

    op.drop_table('verifications')
    with op.batch_alter_table('certificates', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificates_recognition_id'))
        batch_op.drop_index(batch_op.f('ix_certificates_pdf_sha256'))
        batch_op.drop_index(batch_op.f('ix_certificates_licence_id'))
        batch_op.drop_index(batch_op.f('ix_certificates_key_id'))
        batch_op.drop_index(batch_op.f('ix_certificates_issuer_id'))
        batch_op.drop_index(batch_op.f('ix_certificates_completion_id'))
        batch_op.drop_index(batch_op.f('ix_certificates_clinician_id'))

    op.drop_table('certificates')
    op.drop_table('status_lists')
    with op.batch_alter_table('issuer_keys', schema=None) as batch_op:
        batch_op.drop_index('ix_issuer_keys_organisation_current')

    op.drop_table('issuer_keys')
