"""A generation per table: answers kept between requests from a few tables (a party's row, a vendor's checklist,
organisation names) are kept under the counters of those tables alone, so that a commit changing another table (a
tie, a payout account) no longer drops them. The row named '*' counts the commits whose tables are not known (raw
SQL, COPY): every such answer is kept under it too.

Revision ID: 0047
Revises: 0046
Create Date: 2026-12-07 06:40:00
"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0047'
down_revision = '0046'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'table_generation',
        sa.Column('name', sa.String(length=64), nullable=False),
        sa.Column('generation', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('name', name=op.f('pk_table_generation')),
    )
    # A random start for '*', which every kept answer's key holds: a database made again at the same address never
    # repeats a key an older process kept answers under. The other rows are made by the first commit to their table.
    op.execute(f"INSERT INTO table_generation (name, generation) VALUES ('*', {secrets.randbits(48)})")


def downgrade():
    op.drop_table('table_generation')
