"""BODS files uploaded from the registry's import page, imported on the task queue

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06 01:00:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import marketplace.db_types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'bodsupload',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('file_name', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('stored_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=False),
        sa.Column('uploaded_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('statements_done', sa.Integer(), nullable=False),
        sa.Column('statements_total', sa.Integer(), nullable=True),
        sa.Column('summary', sa.Text(), nullable=False),
        sa.Column('error', sa.Text(), nullable=False),
        sa.Column('finished_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'],
                                name=op.f('fk_bodsupload_uploaded_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bodsupload')),
    )
    with op.batch_alter_table('bodsupload', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bodsupload_uploaded_by_id'), ['uploaded_by_id'], unique=False)


def downgrade():
    with op.batch_alter_table('bodsupload', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bodsupload_uploaded_by_id'))
    op.drop_table('bodsupload')
