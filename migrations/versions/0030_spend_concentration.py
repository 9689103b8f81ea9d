"""Spend concentration: a lab's cap on its spend under one owner, and the common owners it was told of

Revision ID: 0030
Revises: 0029
Create Date: 2026-12-06 05:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import marketplace.db_types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0030'
down_revision = '0029'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('spendcap',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('buyer_org_id', sa.Integer(), nullable=False),
    sa.Column('cap_pct', sa.Integer(), nullable=False),
    sa.Column('updated_by_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', marketplace.db_types.UTCDateTime(), nullable=False),
    sa.CheckConstraint('cap_pct BETWEEN 1 AND 100', name=op.f('ck_spendcap_cap_range')),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['organization.id'], name=op.f('fk_spendcap_buyer_org_id_organization')),
    sa.ForeignKeyConstraint(['updated_by_id'], ['user_account.id'], name=op.f('fk_spendcap_updated_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_spendcap')),
    sa.UniqueConstraint('buyer_org_id', name=op.f('uq_spendcap_buyer_org_id'))
    )
    op.create_table('ownergroupreport',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('buyer_org_id', sa.Integer(), nullable=False),
    sa.Column('owner_party_id', sa.Integer(), nullable=False),
    sa.Column('vendor_org_ids', sa.JSON(), nullable=False),
    sa.Column('reported_at', marketplace.db_types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['buyer_org_id'], ['organization.id'], name=op.f('fk_ownergroupreport_buyer_org_id_organization')),
    sa.ForeignKeyConstraint(['owner_party_id'], ['party.id'], name=op.f('fk_ownergroupreport_owner_party_id_party')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ownergroupreport')),
    sa.UniqueConstraint('buyer_org_id', 'owner_party_id', name=op.f('uq_ownergroupreport_buyer_org_id'))
    )
    with op.batch_alter_table('ownergroupreport', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ownergroupreport_buyer_org_id'), ['buyer_org_id'], unique=False)


def downgrade():
    with op.batch_alter_table('ownergroupreport', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ownergroupreport_buyer_org_id'))
    op.drop_table('ownergroupreport')
    op.drop_table('spendcap')
