"""a bid's revision numbers are unique

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 00:10:00

Two revisions saved at the same moment could both take the same number (the counter was read unlocked). Any such
duplicates are renumbered in the order they were saved, the bid's counter set to its last number, and a unique
(bid_id, number) constraint keeps it so.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    revision_table = sa.table('bidrevision', sa.column('id', sa.Integer), sa.column('bid_id', sa.Integer),
                              sa.column('number', sa.Integer), sa.column('created_at', sa.DateTime))
    bid = sa.table('bid', sa.column('id', sa.Integer), sa.column('revision', sa.Integer))
    connection = op.get_bind()
    duplicated = connection.execute(
        sa.select(revision_table.c.bid_id).group_by(revision_table.c.bid_id, revision_table.c.number)
        .having(sa.func.count() > 1).distinct()
    ).scalars().all()
    for bid_id in duplicated:
        rows = connection.execute(
            sa.select(revision_table.c.id).where(revision_table.c.bid_id == bid_id)
            .order_by(revision_table.c.number, revision_table.c.created_at, revision_table.c.id)
        ).scalars().all()
        for number, row_id in enumerate(rows, start=1):
            connection.execute(revision_table.update().where(revision_table.c.id == row_id).values(number=number))
        connection.execute(bid.update().where(bid.c.id == bid_id).values(revision=len(rows)))
    with op.batch_alter_table('bidrevision', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_bidrevision_bid_id'), ['bid_id', 'number'])


def downgrade():
    with op.batch_alter_table('bidrevision', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_bidrevision_bid_id'), type_='unique')
