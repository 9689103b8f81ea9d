"""BODS fidelity: what an import reads and an export writes back

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-04 20:30:00.000000

"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.add_column(sa.Column('birth_date', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('nationalities', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('entity_subtype', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False, server_default=''))

    with op.batch_alter_table('interest', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bods_record_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.add_column(sa.Column('direct_or_indirect', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('beneficial_ownership_or_control', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('source_types', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('bods_end_date', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('bods_implied', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_interest_bods_record_id'), ['bods_record_id'], unique=False)

    with op.batch_alter_table('bodsstatement', schema=None) as batch_op:
        batch_op.add_column(sa.Column('content_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('record_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False, server_default='new'))
        batch_op.add_column(sa.Column('content', sa.Text(), nullable=True))

    # Interests imported before: their relationship's record, from the statement log.
    op.execute("UPDATE interest SET bods_record_id = (SELECT bodsstatement.record_id FROM bodsstatement "
               "WHERE bodsstatement.statement_id = interest.bods_statement_id) "
               "WHERE bods_statement_id IS NOT NULL")

    op.create_table('noownersdeclaration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject_party_id', sa.Integer(), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('bods_statement_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('bods_record_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('statement_date', sa.Date(), nullable=True),
    sa.Column('source_types', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('source_description', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('source_url', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('source_date', sa.Date(), nullable=True),
    sa.Column('end_date', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['subject_party_id'], ['party.id'], name=op.f('fk_noownersdeclaration_subject_party_id_party')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_noownersdeclaration'))
    )
    with op.batch_alter_table('noownersdeclaration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_noownersdeclaration_bods_statement_id'), ['bods_statement_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_noownersdeclaration_subject_party_id'), ['subject_party_id'], unique=False)


def downgrade():
    with op.batch_alter_table('noownersdeclaration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_noownersdeclaration_subject_party_id'))
        batch_op.drop_index(batch_op.f('ix_noownersdeclaration_bods_statement_id'))

    op.drop_table('noownersdeclaration')
    with op.batch_alter_table('bodsstatement', schema=None) as batch_op:
        batch_op.drop_column('content')
        batch_op.drop_column('record_status')
        batch_op.drop_column('content_hash')

    with op.batch_alter_table('interest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_interest_bods_record_id'))
        batch_op.drop_column('bods_implied')
        batch_op.drop_column('bods_end_date')
        batch_op.drop_column('source_types')
        batch_op.drop_column('beneficial_ownership_or_control')
        batch_op.drop_column('direct_or_indirect')
        batch_op.drop_column('bods_record_id')

    with op.batch_alter_table('party', schema=None) as batch_op:
        batch_op.drop_column('entity_subtype')
        batch_op.drop_column('nationalities')
        batch_op.drop_column('birth_date')
