"""Paid pilots: a job may ask for one before the award, a bid quotes its price, and a pilot is a contract of its own

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-06 04:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0020'
down_revision = '0019'
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMN: SQLite would otherwise copy the job and bid tables, which much else points at.
    op.add_column('job', sa.Column('pilot_scope', sa.String(length=500), nullable=False, server_default=''))
    op.add_column('job', sa.Column('pilot_criteria', sa.String(length=2000), nullable=False, server_default=''))
    for table in ('bid', 'bidrevision'):
        op.add_column(table, sa.Column('pilot_price_minor', sa.BigInteger(), nullable=True))
    # A contract is the award's (one per job) or a pilot's (one per bid): the unique job and bid give way to these.
    # SQLite copies the table for this (migrations/env.py turns its foreign keys off meanwhile).
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=32), nullable=False, server_default='full'))
        batch_op.drop_constraint('uq_contract_job_id', type_='unique')
        batch_op.drop_constraint('uq_contract_bid_id', type_='unique')
        batch_op.create_unique_constraint('uq_contract_bid_kind', ['bid_id', 'kind'])
        batch_op.create_index(batch_op.f('ix_contract_job_id'), ['job_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contract_bid_id'), ['bid_id'], unique=False)
        batch_op.create_index(
            'uq_contract_full_job',
            ['job_id'],
            unique=True,
            sqlite_where=sa.text("kind = 'full'"),
            postgresql_where=sa.text("kind = 'full'"),
        )


def downgrade():
    with op.batch_alter_table('contract', schema=None) as batch_op:
        batch_op.drop_index('uq_contract_full_job')
        batch_op.drop_index(batch_op.f('ix_contract_bid_id'))
        batch_op.drop_index(batch_op.f('ix_contract_job_id'))
        batch_op.drop_constraint('uq_contract_bid_kind', type_='unique')
        batch_op.create_unique_constraint('uq_contract_bid_id', ['bid_id'])
        batch_op.create_unique_constraint('uq_contract_job_id', ['job_id'])
        batch_op.drop_column('kind')
    for table in ('bid', 'bidrevision'):
        op.drop_column(table, 'pilot_price_minor')
    op.drop_column('job', 'pilot_criteria')
    op.drop_column('job', 'pilot_scope')
