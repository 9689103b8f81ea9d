"""BODS import runs and their staged statements: a streamed import resumes after an interruption

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-06 00:45:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import marketplace.db_types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0019'
down_revision = '0018'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'bodsimportrun',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column('file_size', sa.BigInteger(), nullable=False),
        sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('statements_staged', sa.Integer(), nullable=False),
        sa.Column('resume_offset', sa.BigInteger(), nullable=False),
        sa.Column('staged', sa.Boolean(), nullable=False),
        sa.Column('started_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bodsimportrun')),
    )
    with op.batch_alter_table('bodsimportrun', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bodsimportrun_fingerprint'), ['fingerprint'], unique=False)
    op.create_table(
        'bodsstagedstatement',
        sa.Column('run_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('statement_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('record_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['run_id'], ['bodsimportrun.id'], name=op.f('fk_bodsstagedstatement_run_id_bodsimportrun'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('run_id', 'number', name=op.f('pk_bodsstagedstatement')),
    )


def downgrade():
    op.drop_table('bodsstagedstatement')
    with op.batch_alter_table('bodsimportrun', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bodsimportrun_fingerprint'))
    op.drop_table('bodsimportrun')
