"""party matching: match keys on parties, and pairs an admin marked as not the same

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 20:40:00

"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
import marketplace.db_types  # noqa: F401  (UTCDateTime)
from marketplace.parties.matching import match_columns


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.add_column(sa.Column('match_key', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('match_head', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('match_tail', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False,
                                      server_default=''))
        batch_op.create_index(batch_op.f('ix_party_match_head'), ['match_head'], unique=False)
        batch_op.create_index(batch_op.f('ix_party_match_tail'), ['match_tail'], unique=False)

    # The parties already there get their keys from the same matcher the app uses.
    party = sa.table('party', sa.column('id', sa.Integer), sa.column('name', sa.String),
                     sa.column('match_key', sa.String), sa.column('match_head', sa.String),
                     sa.column('match_tail', sa.String))
    connection = op.get_bind()
    rows = connection.execute(sa.select(party.c.id, party.c.name)).all()
    for party_id, name in rows:
        columns = match_columns(name or '')
        connection.execute(party.update().where(party.c.id == party_id).values(
            match_key=columns['match_key'], match_head=columns['match_head'], match_tail=columns['match_tail']))

    op.create_table('partydistinction',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('first_party_id', sa.Integer(), nullable=False),
    sa.Column('second_party_id', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('recorded_by_id', sa.Integer(), nullable=True),
    sa.Column('recorded_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint('first_party_id < second_party_id', name=op.f('ck_partydistinction_ordered_pair')),
    sa.ForeignKeyConstraint(['first_party_id'], ['party.id'], name=op.f('fk_partydistinction_first_party_id_party')),
    sa.ForeignKeyConstraint(['recorded_by_id'], ['user_account.id'], name=op.f('fk_partydistinction_recorded_by_id_user_account')),
    sa.ForeignKeyConstraint(['second_party_id'], ['party.id'], name=op.f('fk_partydistinction_second_party_id_party')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_partydistinction')),
    sa.UniqueConstraint('first_party_id', 'second_party_id', name=op.f('uq_partydistinction_first_party_id'))
    )
    with op.batch_alter_table('partydistinction', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_partydistinction_first_party_id'), ['first_party_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_partydistinction_second_party_id'), ['second_party_id'], unique=False)


def downgrade():
    with op.batch_alter_table('partydistinction', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_partydistinction_second_party_id'))
        batch_op.drop_index(batch_op.f('ix_partydistinction_first_party_id'))
    op.drop_table('partydistinction')
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_party_match_tail'))
        batch_op.drop_index(batch_op.f('ix_party_match_head'))
        batch_op.drop_column('match_tail')
        batch_op.drop_column('match_head')
        batch_op.drop_column('match_key')
