"""a bid's history keeps its withdrawals: the revision that was live when the vendor withdrew says when

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 10:00:00

A vendor who withdrew may bid again on the same job: the same bid becomes live with a new revision, and the
withdrawal stays visible between the two. Bids withdrawn before this migration have it copied onto their
latest revision.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import marketplace.db_types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('bidrevision', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', marketplace.db_types.UTCDateTime(timezone=True),
                                      nullable=True))
    # One statement, so the stored times are copied as they are (never through Python) on both databases.
    bid = sa.table('bid', sa.column('id', sa.Integer), sa.column('revision', sa.Integer),
                   sa.column('status', sa.String), sa.column('withdrawn_at'))
    revision_ = sa.table('bidrevision', sa.column('bid_id', sa.Integer), sa.column('number', sa.Integer),
                         sa.column('withdrawn_at'))
    its_withdrawn_bid = ((bid.c.id == revision_.c.bid_id) & (bid.c.revision == revision_.c.number)
                         & (bid.c.status == 'withdrawn') & bid.c.withdrawn_at.is_not(None))
    op.execute(revision_.update()
               .where(sa.exists(sa.select(bid.c.id).where(its_withdrawn_bid)))
               .values(withdrawn_at=sa.select(bid.c.withdrawn_at).where(its_withdrawn_bid).scalar_subquery()))


def downgrade():
    with op.batch_alter_table('bidrevision', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_at')
