"""When the vendors that may see a job were told of a question's answer: at once, or by a worker when the lab's
verdicts were being re-screened as it answered (jobs.tasks.tell_answer). An answer never told has an empty one,
which a starting worker queues again. Answers given before this revision were told as they were given.

Revision ID: 0049
Revises: 0048
Create Date: 2026-12-07 15:10:00
"""
from alembic import op
import sqlalchemy as sa

import marketplace.db_types


# revision identifiers, used by Alembic.
revision = '0049'
down_revision = '0048'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('question') as batch_op:
        batch_op.add_column(sa.Column('told_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE question SET told_at = answered_at WHERE answered_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table('question') as batch_op:
        batch_op.drop_column('told_at')
