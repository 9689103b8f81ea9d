"""a vendor's certificates (file, issuer, scope, expiry, an admin's decision) and the expiry reminders sent

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-06 04:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import marketplace.db_types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0022'
down_revision = '0021'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'certificate',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('vendor_org_id', sa.Integer(), nullable=False),
        sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('scope', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column('issued_on', sa.Date(), nullable=False),
        sa.Column('expires_on', sa.Date(), nullable=False),
        sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('stored_name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
        sa.Column('uploaded_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('decision_reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.ForeignKeyConstraint(['vendor_org_id'], ['organization.id'],
                                name=op.f('fk_certificate_vendor_org_id_organization')),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'],
                                name=op.f('fk_certificate_uploaded_by_id_user_account')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'],
                                name=op.f('fk_certificate_decided_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_certificate')),
        sa.UniqueConstraint('stored_name', name=op.f('uq_certificate_stored_name')),
    )
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificate_vendor_org_id'), ['vendor_org_id'], unique=False)
    op.create_table(
        'certificatereminder',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('certificate_id', sa.Integer(), nullable=False),
        sa.Column('days_before', sa.Integer(), nullable=False),
        sa.Column('recipients', sa.Integer(), nullable=False),
        sa.Column('sent_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['certificate_id'], ['certificate.id'],
                                name=op.f('fk_certificatereminder_certificate_id_certificate')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_certificatereminder')),
        sa.UniqueConstraint('certificate_id', 'days_before', name=op.f('uq_certificatereminder_certificate_id')),
    )
    with op.batch_alter_table('certificatereminder', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_certificatereminder_certificate_id'), ['certificate_id'], unique=False)


def downgrade():
    with op.batch_alter_table('certificatereminder', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificatereminder_certificate_id'))
    op.drop_table('certificatereminder')
    with op.batch_alter_table('certificate', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_certificate_vendor_org_id'))
    op.drop_table('certificate')
