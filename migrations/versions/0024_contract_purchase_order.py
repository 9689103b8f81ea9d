"""a lab's purchase-order number on a contract, shown on its receipts

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-06 04:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel


# revision identifiers, used by Alembic.
revision = '0024'
down_revision = '0023'
branch_labels = None
depends_on = None


def upgrade():
    # A plain ADD COLUMN: SQLite would otherwise copy the contract table, which milestones and the ledger point at.
    op.add_column(
        'contract',
        sa.Column('purchase_order', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False, server_default=''),
    )


def downgrade():
    op.drop_column('contract', 'purchase_order')
