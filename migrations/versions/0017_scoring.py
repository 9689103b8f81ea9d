"""scoring bids: a job's weights per criterion, and colleagues' scores by hand

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-06 03:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import marketplace.db_types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'scoringweights',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('job_id', sa.Integer(), nullable=False),
        sa.Column('weights', sa.JSON(), nullable=False),
        sa.Column('updated_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_scoringweights_job_id_job')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_scoringweights')),
        sa.UniqueConstraint('job_id', name=op.f('uq_scoringweights_job_id')),
    )
    op.create_table(
        'bidscore',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('bid_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('criterion', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column('score', sa.Integer(), nullable=False),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
        sa.Column('updated_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('score BETWEEN 0 AND 10', name=op.f('ck_bidscore_score_range')),
        sa.ForeignKeyConstraint(['bid_id'], ['bid.id'], name=op.f('fk_bidscore_bid_id_bid')),
        sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_bidscore_user_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bidscore')),
        sa.UniqueConstraint('bid_id', 'user_id', 'criterion', name=op.f('uq_bidscore_bid_id')),
    )
    with op.batch_alter_table('bidscore', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bidscore_bid_id'), ['bid_id'], unique=False)


def downgrade():
    with op.batch_alter_table('bidscore', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bidscore_bid_id'))
    op.drop_table('bidscore')
    op.drop_table('scoringweights')
