"""parties keep their names' numbers and single letters as a block of their own

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 22:30:00

A likely match must share a name's numbers and single letters exactly: a numbered name is looked up among the
few names with its numbers, not among every name starting like it.
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

from marketplace.parties.matching import telling_block


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.add_column(sa.Column('match_telling', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False,
                                      server_default=''))
        batch_op.create_index(batch_op.f('ix_party_match_telling'), ['match_telling'], unique=False)
    party = sa.table('party', sa.column('id', sa.Integer), sa.column('match_key', sa.String),
                     sa.column('match_telling', sa.String))
    connection = op.get_bind()
    for party_id, key in connection.execute(sa.select(party.c.id, party.c.match_key)).all():
        telling = telling_block(key or '')
        if telling:
            connection.execute(party.update().where(party.c.id == party_id).values(match_telling=telling))


def downgrade():
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_party_match_telling'))
        batch_op.drop_column('match_telling')
