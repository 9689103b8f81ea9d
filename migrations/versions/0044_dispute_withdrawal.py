"""A dispute can be withdrawn by the side that opened it: who, when and why; a milestone keeps one dispute open or
decided at most, its withdrawn ones beside it (the unique constraint becomes a partial unique index)

Revision ID: 0044
Revises: 0041
Create Date: 2026-12-06 15:00:00
"""
import sqlalchemy as sa
import marketplace.db_types  # noqa: F401  (UTCDateTime)
from alembic import op


# revision identifiers, used by Alembic.
revision = '0044'
down_revision = '0041'
branch_labels = None
depends_on = None

LIVE = sa.text("status != 'withdrawn'")


def upgrade():
    with op.batch_alter_table('dispute') as batch_op:
        batch_op.add_column(sa.Column('withdrawn_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('withdraw_reason', sa.String(length=4000), nullable=False, server_default=''))
        batch_op.create_foreign_key(
            batch_op.f('fk_dispute_withdrawn_by_id_user_account'), 'user_account', ['withdrawn_by_id'], ['id']
        )
        batch_op.drop_constraint('uq_dispute_milestone_id', type_='unique')
        batch_op.create_index(batch_op.f('ix_dispute_milestone_id'), ['milestone_id'], unique=False)
    op.create_index(
        'uq_dispute_milestone_live', 'dispute', ['milestone_id'], unique=True,
        sqlite_where=LIVE, postgresql_where=LIVE,
    )


def downgrade():
    op.drop_index('uq_dispute_milestone_live', table_name='dispute')
    op.execute("DELETE FROM disputefile WHERE dispute_id IN (SELECT id FROM dispute WHERE status = 'withdrawn')")
    op.execute(
        "DELETE FROM disputestatement WHERE dispute_id IN (SELECT id FROM dispute WHERE status = 'withdrawn')"
    )
    op.execute("DELETE FROM dispute WHERE status = 'withdrawn'")
    with op.batch_alter_table('dispute') as batch_op:
        batch_op.drop_index(batch_op.f('ix_dispute_milestone_id'))
        batch_op.create_unique_constraint(batch_op.f('uq_dispute_milestone_id'), ['milestone_id'])
        batch_op.drop_constraint(batch_op.f('fk_dispute_withdrawn_by_id_user_account'), type_='foreignkey')
        batch_op.drop_column('withdraw_reason')
        batch_op.drop_column('withdrawn_at')
        batch_op.drop_column('withdrawn_by_id')
