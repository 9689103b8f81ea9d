"""The screening generation: one counter that every commit changing what screening reads bumps, so that verdicts
can be kept between requests and never outlive the facts they came from

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-06 04:30:00
"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0025'
down_revision = '0024'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'screening_generation',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('generation', sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_screening_generation')),
    )
    # A random start: a database made again at the same address never repeats a value an older process kept
    # answers for.
    op.execute(f"INSERT INTO screening_generation (id, generation) VALUES (1, {secrets.randbits(48)})")


def downgrade():
    op.drop_table('screening_generation')
