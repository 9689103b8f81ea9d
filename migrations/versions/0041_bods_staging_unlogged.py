"""BODS staging unlogged: the import's runs and staged statements are written without WAL on PostgreSQL, and the
staged statements no longer have a foreign key to their run (checked per staged row; the import deletes both)

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-06 11:20:00

The staging is scratch: a crash of PostgreSQL empties unlogged tables, both at once (runs and their statements),
and an import run again then starts from the beginning, as for a new file. Every other restart keeps them, so an
interrupted import still resumes.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0041"
down_revision = '0040'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("bodsstagedstatement", schema=None) as batch_op:
        batch_op.drop_constraint("fk_bodsstagedstatement_run_id_bodsimportrun", type_="foreignkey")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE bodsstagedstatement SET UNLOGGED")
        op.execute("ALTER TABLE bodsimportrun SET UNLOGGED")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE bodsimportrun SET LOGGED")
        op.execute("ALTER TABLE bodsstagedstatement SET LOGGED")
    with op.batch_alter_table("bodsstagedstatement", schema=None) as batch_op:
        batch_op.create_foreign_key(
            "fk_bodsstagedstatement_run_id_bodsimportrun", "bodsimportrun", ["run_id"], ["id"], ondelete="CASCADE"
        )
