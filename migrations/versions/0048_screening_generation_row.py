"""The screening generation becomes the row named '' of table_generation: a commit that changed what screening reads
bumps it in the same sorted upsert as its tables' own rows, one statement and one lock order instead of an UPDATE of
its own table before the upsert (a tie's commit from four writers at once cost about a quarter more with the two).

Revision ID: 0048
Revises: 0047
Create Date: 2026-12-07 09:45:00
"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0048'
down_revision = '0047'
branch_labels = None
depends_on = None


def upgrade():
    # Carried on from its value (random since 0025), one past it: no key an older process kept answers under repeats.
    op.execute(
        "INSERT INTO table_generation (name, generation) SELECT '', generation + 1 FROM screening_generation"
    )
    op.drop_table('screening_generation')


def downgrade():
    op.create_table(
        'screening_generation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_screening_generation')),
    )
    op.execute(
        "INSERT INTO screening_generation (id, generation) "
        f"SELECT 1, coalesce(max(generation), {secrets.randbits(48)}) + 1 FROM table_generation WHERE name = ''"
    )
    op.execute("DELETE FROM table_generation WHERE name = ''")
