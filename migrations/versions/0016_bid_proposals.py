"""a bid's answer to each data-handling requirement, and its files

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06 02:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import marketplace.db_types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMNs: SQLite would otherwise copy the tables, which other tables point at.
    for table in ('bid', 'bidrevision'):
        op.add_column(table, sa.Column('requirement_answers', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    op.create_table(
        'bidattachment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('bid_id', sa.Integer(), nullable=False),
        sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('stored_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
        sa.Column('uploaded_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['bid_id'], ['bid.id'], name=op.f('fk_bidattachment_bid_id_bid')),
        sa.ForeignKeyConstraint(['uploaded_by_id'], ['user_account.id'],
                                name=op.f('fk_bidattachment_uploaded_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bidattachment')),
    )
    with op.batch_alter_table('bidattachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bidattachment_bid_id'), ['bid_id'], unique=False)


def downgrade():
    with op.batch_alter_table('bidattachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bidattachment_bid_id'))
    op.drop_table('bidattachment')
    for table in ('bidrevision', 'bid'):
        op.drop_column(table, 'requirement_answers')
