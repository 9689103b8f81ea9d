"""a lab's NDA, versioned, vendors' acceptances, and the confidential jobs that require it

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06 02:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import marketplace.db_types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'nda',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('buyer_org_id', sa.Integer(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('stored_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('metadata_note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=False),
        sa.Column('created_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['buyer_org_id'], ['organization.id'], name=op.f('fk_nda_buyer_org_id_organization')),
        sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_nda_created_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_nda')),
        sa.UniqueConstraint('buyer_org_id', 'version', name=op.f('uq_nda_buyer_org_id')),
    )
    with op.batch_alter_table('nda', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_nda_buyer_org_id'), ['buyer_org_id'], unique=False)
    op.create_table(
        'ndaacceptance',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('nda_id', sa.Integer(), nullable=False),
        sa.Column('vendor_org_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=True),
        sa.Column('accepted_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['nda_id'], ['nda.id'], name=op.f('fk_ndaacceptance_nda_id_nda')),
        sa.ForeignKeyConstraint(['vendor_org_id'], ['organization.id'],
                                name=op.f('fk_ndaacceptance_vendor_org_id_organization')),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_ndaacceptance_user_id_user_account')),
        sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_ndaacceptance_job_id_job')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ndaacceptance')),
        sa.UniqueConstraint('nda_id', 'vendor_org_id', name=op.f('uq_ndaacceptance_nda_id')),
    )
    with op.batch_alter_table('ndaacceptance', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ndaacceptance_nda_id'), ['nda_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_ndaacceptance_vendor_org_id'), ['vendor_org_id'], unique=False)
    # A plain ADD COLUMN: SQLite would otherwise copy the job table, which every bid and contract points at.
    op.add_column('job', sa.Column('requires_nda', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    op.drop_column('job', 'requires_nda')
    with op.batch_alter_table('ndaacceptance', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ndaacceptance_vendor_org_id'))
        batch_op.drop_index(batch_op.f('ix_ndaacceptance_nda_id'))
    op.drop_table('ndaacceptance')
    with op.batch_alter_table('nda', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_nda_buyer_org_id'))
    op.drop_table('nda')
