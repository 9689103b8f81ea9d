"""re-screens waiting on the task queue: one row per change until its task has stored the verdicts

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05 22:00:00

While a row names a buyer (or none: every buyer), that buyer's stored verdicts may be behind the graph, and
access decided from them is screened live instead (marketplace.visibility).
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import marketplace.db_types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'pendingrescreen',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('buyer_org_id', sa.Integer(), nullable=True),
        sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column('requested_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['buyer_org_id'], ['organization.id'],
                                name=op.f('fk_pendingrescreen_buyer_org_id_organization')),
        sa.ForeignKeyConstraint(['requested_by_id'], ['user_account.id'],
                                name=op.f('fk_pendingrescreen_requested_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_pendingrescreen')),
    )
    with op.batch_alter_table('pendingrescreen', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pendingrescreen_buyer_org_id'), ['buyer_org_id'], unique=False)


def downgrade():
    with op.batch_alter_table('pendingrescreen', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pendingrescreen_buyer_org_id'))
    op.drop_table('pendingrescreen')
