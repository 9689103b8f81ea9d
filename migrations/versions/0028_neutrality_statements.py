"""Neutrality statements: signed, time-limited proofs that a vendor has no tie to the parties of a list

Revision ID: 0028
Revises: 0025
Create Date: 2026-12-06 04:40:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import marketplace.db_types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0028'
down_revision = '0025'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('neutralitystatement',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('vendor_org_id', sa.Integer(), nullable=False),
    sa.Column('requested_by_id', sa.Integer(), nullable=True),
    sa.Column('as_of', marketplace.db_types.UTCDateTime(), nullable=False),
    sa.Column('expires_at', marketplace.db_types.UTCDateTime(), nullable=False),
    sa.Column('threshold_pct', sa.Float(), nullable=False),
    sa.Column('list_sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('list_size', sa.Integer(), nullable=False),
    sa.Column('party_ids', sa.JSON(), nullable=False),
    sa.Column('key_id', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('revoked_at', marketplace.db_types.UTCDateTime(), nullable=True),
    sa.Column('revoked_reason', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', marketplace.db_types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_neutralitystatement_requested_by_id_user_account')),
    sa.ForeignKeyConstraint(['vendor_org_id'], ['organization.id'], name=op.f('fk_neutralitystatement_vendor_org_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_neutralitystatement')),
    sa.UniqueConstraint('uid', name=op.f('uq_neutralitystatement_uid'))
    )
    with op.batch_alter_table('neutralitystatement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_neutralitystatement_revoked_at'), ['revoked_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_neutralitystatement_vendor_org_id'), ['vendor_org_id'], unique=False)


def downgrade():
    with op.batch_alter_table('neutralitystatement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_neutralitystatement_vendor_org_id'))
        batch_op.drop_index(batch_op.f('ix_neutralitystatement_revoked_at'))
    op.drop_table('neutralitystatement')
