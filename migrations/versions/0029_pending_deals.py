"""Pending deals: an announced acquisition, screened as if closed for each lab, a tie once it closes

Revision ID: 0029
Revises: 0028
Create Date: 2026-12-06 04:50:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import marketplace.db_types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0029'
down_revision = '0028'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('pendingdeal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('acquirer_party_id', sa.Integer(), nullable=False),
    sa.Column('target_party_id', sa.Integer(), nullable=False),
    sa.Column('share_pct', sa.Float(), nullable=False),
    sa.Column('announced_on', sa.Date(), nullable=False),
    sa.Column('expected_close', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('source_url', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('source_description', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('closed_at', marketplace.db_types.UTCDateTime(), nullable=True),
    sa.Column('closed_interest_id', sa.Integer(), nullable=True),
    sa.Column('created_at', marketplace.db_types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['acquirer_party_id'], ['party.id'], name=op.f('fk_pendingdeal_acquirer_party_id_party')),
    sa.ForeignKeyConstraint(['closed_interest_id'], ['interest.id'], name=op.f('fk_pendingdeal_closed_interest_id_interest')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_pendingdeal_recorded_by_id_user_account')),
    sa.ForeignKeyConstraint(['target_party_id'], ['party.id'], name=op.f('fk_pendingdeal_target_party_id_party')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pendingdeal'))
    )
    with op.batch_alter_table('pendingdeal', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pendingdeal_acquirer_party_id'), ['acquirer_party_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_pendingdeal_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_pendingdeal_target_party_id'), ['target_party_id'], unique=False)


def downgrade():
    with op.batch_alter_table('pendingdeal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pendingdeal_target_party_id'))
        batch_op.drop_index(batch_op.f('ix_pendingdeal_status'))
        batch_op.drop_index(batch_op.f('ix_pendingdeal_acquirer_party_id'))
    op.drop_table('pendingdeal')
