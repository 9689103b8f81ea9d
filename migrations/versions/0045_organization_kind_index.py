"""An index on organization.kind: the buyers (a few among a register's vendors) are listed by every re-screen and
every vendor page not served from kept answers; without it each read scanned every organisation (8 to 13 ms at
100,000 vendors)

Revision ID: 0045
Revises: 0044
Create Date: 2026-12-06 15:55:00
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0045'
down_revision = '0044'
branch_labels = None
depends_on = None


def upgrade():
    op.create_index(op.f('ix_organization_kind'), 'organization', ['kind'], unique=False)


def downgrade():
    op.drop_index(op.f('ix_organization_kind'), table_name='organization')
