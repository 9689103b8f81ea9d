"""a private message thread per bid, between the lab and the bidder, with files

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06 01:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import marketplace.db_types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'bidmessage',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('bid_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('from_buyer', sa.Boolean(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['bid_id'], ['bid.id'], name=op.f('fk_bidmessage_bid_id_bid')),
        sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_bidmessage_author_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bidmessage')),
    )
    with op.batch_alter_table('bidmessage', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bidmessage_bid_id'), ['bid_id'], unique=False)
    op.create_table(
        'messageattachment',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('filename', sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column('stored_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.Column('metadata_note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['bidmessage.id'],
                                name=op.f('fk_messageattachment_message_id_bidmessage')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_messageattachment')),
    )
    with op.batch_alter_table('messageattachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_messageattachment_message_id'), ['message_id'], unique=False)


def downgrade():
    with op.batch_alter_table('messageattachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messageattachment_message_id'))
    op.drop_table('messageattachment')
    with op.batch_alter_table('bidmessage', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bidmessage_bid_id'))
    op.drop_table('bidmessage')
