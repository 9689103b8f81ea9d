"""Teams: each user's role in its organisation (owner, manager, member), lab approvers, removed members, the lab's
approval amount, and awards waiting for an approver

Existing users become managers, and the earliest user of each organisation its owner: nothing they could do stops.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-06 04:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import marketplace.db_types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0023'
down_revision = '0022'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('user_account', sa.Column('org_role', sa.String(length=32), nullable=False, server_default='manager'))
    op.add_column('user_account', sa.Column('approver', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('user_account', sa.Column('removed_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=True))
    op.add_column('organization', sa.Column('award_approval_above_minor', sa.BigInteger(), nullable=True))
    op.add_column(
        'organization',
        sa.Column('award_approval_currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False, server_default='USD'),
    )
    # The earliest user of each organisation (by creation, then id) owns it.
    op.execute(
        "UPDATE user_account SET org_role = 'owner' WHERE org_id IS NOT NULL AND id IN ("
        " SELECT u.id FROM user_account u WHERE NOT EXISTS ("
        "  SELECT 1 FROM user_account e WHERE e.org_id = u.org_id"
        "   AND (e.created_at < u.created_at OR (e.created_at = u.created_at AND e.id < u.id))))"
    )
    op.create_table(
        'award_request',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=False),
        sa.Column('bid_id', sa.Integer(), nullable=False),
        sa.Column('buyer_org_id', sa.Integer(), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=False),
        sa.Column('total_minor', sa.BigInteger(), nullable=False),
        sa.Column('currency', sqlmodel.sql.sqltypes.AutoString(length=3), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column('created_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['bid_id'], ['bid.id'], name=op.f('fk_award_request_bid_id_bid')),
        sa.ForeignKeyConstraint(['buyer_org_id'], ['organization.id'], name=op.f('fk_award_request_buyer_org_id_organization')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'], name=op.f('fk_award_request_decided_by_id_user_account')),
        sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_award_request_job_id_job')),
        sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'], name=op.f('fk_award_request_requested_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_award_request')),
    )
    op.create_index(op.f('ix_award_request_buyer_org_id'), 'award_request', ['buyer_org_id'], unique=False)
    op.create_index(op.f('ix_award_request_job_id'), 'award_request', ['job_id'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_award_request_job_id'), table_name='award_request')
    op.drop_index(op.f('ix_award_request_buyer_org_id'), table_name='award_request')
    op.drop_table('award_request')
    op.drop_column('organization', 'award_approval_currency')
    op.drop_column('organization', 'award_approval_above_minor')
    op.drop_column('user_account', 'removed_at')
    op.drop_column('user_account', 'approver')
    op.drop_column('user_account', 'org_role')
