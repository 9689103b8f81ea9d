"""A pending re-screen's id is never given again (SQLite AUTOINCREMENT): its id names its job on the queue

Revision ID: 0040
Revises: 0036
Create Date: 2026-12-06 11:15:00
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0040'
down_revision = '0036'
branch_labels = None
depends_on = None


def upgrade():
    # PostgreSQL's sequences never give an id twice; SQLite gives the highest deleted one again unless the table is
    # AUTOINCREMENT, which only a new table can be.
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('pendingrescreen', recreate='always',
                                  table_kwargs={'sqlite_autoincrement': True}) as batch_op:
            pass


def downgrade():
    if op.get_bind().dialect.name == 'sqlite':
        with op.batch_alter_table('pendingrescreen', recreate='always',
                                  table_kwargs={'sqlite_autoincrement': False}) as batch_op:
            pass
