"""a confidential job's files say what identifying metadata was removed

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 21:50:00

"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('jobattachment', schema=None) as batch_op:
        batch_op.add_column(sa.Column('metadata_note', sqlmodel.sql.sqltypes.AutoString(length=1000),
                                      nullable=False, server_default=''))


def downgrade():
    with op.batch_alter_table('jobattachment', schema=None) as batch_op:
        batch_op.drop_column('metadata_note')
