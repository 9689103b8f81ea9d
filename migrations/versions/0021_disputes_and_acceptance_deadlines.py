"""disputes over a milestone's held money, and the acceptance deadline's reminder

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-06 04:20:00
"""
from alembic import op
import sqlalchemy as sa

import marketplace.db_types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0021'
down_revision = '0020'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'dispute',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('contract_id', sa.Integer(), nullable=False),
        sa.Column('milestone_id', sa.Integer(), nullable=False),
        sa.Column('opened_by_side', sa.String(length=10), nullable=False),
        sa.Column('opened_by_id', sa.Integer(), nullable=True),
        sa.Column('reason', sa.String(length=4000), nullable=False),
        sa.Column('status', sa.String(length=32), nullable=False),
        sa.Column('milestone_status_before', sa.String(length=32), nullable=False),
        sa.Column('held_minor', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('opened_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('respond_by', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('evidence_until', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column('reminded_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column('outcome', sa.String(length=32), nullable=True),
        sa.Column('vendor_minor', sa.BigInteger(), nullable=True),
        sa.Column('buyer_minor', sa.BigInteger(), nullable=True),
        sa.Column('explanation', sa.String(length=4000), nullable=False),
        sa.Column('decided_by_id', sa.Integer(), nullable=True),
        sa.Column('decided_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['contract_id'], ['contract.id'], name=op.f('fk_dispute_contract_id_contract')),
        sa.ForeignKeyConstraint(['milestone_id'], ['milestone.id'], name=op.f('fk_dispute_milestone_id_milestone')),
        sa.ForeignKeyConstraint(['opened_by_id'], ['user_account.id'],
                                name=op.f('fk_dispute_opened_by_id_user_account')),
        sa.ForeignKeyConstraint(['decided_by_id'], ['user_account.id'],
                                name=op.f('fk_dispute_decided_by_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_dispute')),
        sa.UniqueConstraint('milestone_id', name=op.f('uq_dispute_milestone_id')),
    )
    op.create_index(op.f('ix_dispute_contract_id'), 'dispute', ['contract_id'], unique=False)
    op.create_table(
        'disputestatement',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('dispute_id', sa.Integer(), nullable=False),
        sa.Column('side', sa.String(length=10), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('body', sa.String(length=8000), nullable=False),
        sa.Column('created_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['dispute_id'], ['dispute.id'], name=op.f('fk_disputestatement_dispute_id_dispute')),
        sa.ForeignKeyConstraint(['author_id'], ['user_account.id'],
                                name=op.f('fk_disputestatement_author_id_user_account')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_disputestatement')),
    )
    op.create_index(op.f('ix_disputestatement_dispute_id'), 'disputestatement', ['dispute_id'], unique=False)
    op.create_table(
        'disputefile',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('statement_id', sa.Integer(), nullable=False),
        sa.Column('dispute_id', sa.Integer(), nullable=False),
        sa.Column('filename', sa.String(length=255), nullable=False),
        sa.Column('stored_name', sa.String(length=80), nullable=False),
        sa.Column('content_type', sa.String(length=100), nullable=False),
        sa.Column('size_bytes', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['statement_id'], ['disputestatement.id'],
                                name=op.f('fk_disputefile_statement_id_disputestatement')),
        sa.ForeignKeyConstraint(['dispute_id'], ['dispute.id'], name=op.f('fk_disputefile_dispute_id_dispute')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_disputefile')),
        sa.UniqueConstraint('stored_name', name=op.f('uq_disputefile_stored_name')),
    )
    op.create_index(op.f('ix_disputefile_statement_id'), 'disputefile', ['statement_id'], unique=False)
    op.create_index(op.f('ix_disputefile_dispute_id'), 'disputefile', ['dispute_id'], unique=False)
    # Plain ADD COLUMNs: SQLite would otherwise copy the tables that the ledger and deliveries point at.
    op.add_column('milestone', sa.Column('payout_minor', sa.BigInteger(), nullable=True))
    op.add_column('delivery', sa.Column('reminded_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('delivery', 'reminded_at')
    op.drop_column('milestone', 'payout_minor')
    op.drop_index(op.f('ix_disputefile_dispute_id'), table_name='disputefile')
    op.drop_index(op.f('ix_disputefile_statement_id'), table_name='disputefile')
    op.drop_table('disputefile')
    op.drop_index(op.f('ix_disputestatement_dispute_id'), table_name='disputestatement')
    op.drop_table('disputestatement')
    op.drop_index(op.f('ix_dispute_contract_id'), table_name='dispute')
    op.drop_table('dispute')
