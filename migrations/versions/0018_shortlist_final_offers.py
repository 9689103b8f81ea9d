"""a lab's shortlist of bids, and best and final offers due by a time of its choosing

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-06 03:30:00
"""
from alembic import op
import sqlalchemy as sa

import marketplace.db_types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0018'
down_revision = '0017'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'shortlistedbid',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('bid_id', sa.Integer(), nullable=False),
        sa.Column('added_by_id', sa.Integer(), nullable=True),
        sa.Column('added_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['bid_id'], ['bid.id'], name=op.f('fk_shortlistedbid_bid_id_bid')),
        sa.ForeignKeyConstraint(['added_by_id'], ['user_account.id'],
                                name=op.f('fk_shortlistedbid_added_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shortlistedbid')),
        sa.UniqueConstraint('bid_id', name=op.f('uq_shortlistedbid_bid_id')),
    )
    # A plain ADD COLUMN: SQLite would otherwise copy the job table, which every bid and contract points at.
    op.add_column('job', sa.Column('final_offers_due', marketplace.db_types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('job', 'final_offers_due')
    op.drop_table('shortlistedbid')
