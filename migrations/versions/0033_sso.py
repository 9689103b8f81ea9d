"""Single sign-on: an organisation's OpenID Connect settings, its claimed email domains, its SCIM tokens

Revision ID: 0033
Revises: 0032
Create Date: 2026-12-06 07:50:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401

import marketplace.db_types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0033'
down_revision = '0032'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('sso_config',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('issuer', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('client_secret', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('updated_at', marketplace.db_types.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_sso_config_org_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_config')),
    sa.UniqueConstraint('org_id', name=op.f('uq_sso_config_org_id'))
    )
    op.create_table('sso_domain',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('domain', sqlmodel.sql.sqltypes.AutoString(length=253), nullable=False),
    sa.Column('claimed_by_id', sa.Integer(), nullable=False),
    sa.Column('claimed_at', marketplace.db_types.UTCDateTime(), nullable=False),
    sa.Column('verified_at', marketplace.db_types.UTCDateTime(), nullable=True),
    sa.Column('verified_by_id', sa.Integer(), nullable=True),
    sa.Column('verified_domain', sqlmodel.sql.sqltypes.AutoString(length=253), nullable=True),
    sa.ForeignKeyConstraint(['claimed_by_id'], ['user_account.id'], name=op.f('fk_sso_domain_claimed_by_id_user_account')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_sso_domain_org_id_organization')),
    sa.ForeignKeyConstraint(['verified_by_id'], ['user_account.id'], name=op.f('fk_sso_domain_verified_by_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sso_domain')),
    sa.UniqueConstraint('verified_domain', name=op.f('uq_sso_domain_verified_domain'))
    )
    with op.batch_alter_table('sso_domain', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sso_domain_domain'), ['domain'], unique=False)
        batch_op.create_index(batch_op.f('ix_sso_domain_org_id'), ['org_id'], unique=False)
    op.create_table('scim_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('label', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', marketplace.db_types.UTCDateTime(), nullable=False),
    sa.Column('last_used_at', marketplace.db_types.UTCDateTime(), nullable=True),
    sa.Column('revoked_at', marketplace.db_types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_scim_token_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_scim_token_org_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_scim_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_scim_token_token_hash'))
    )
    with op.batch_alter_table('scim_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_scim_token_org_id'), ['org_id'], unique=False)


def downgrade():
    with op.batch_alter_table('scim_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scim_token_org_id'))
    op.drop_table('scim_token')
    with op.batch_alter_table('sso_domain', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sso_domain_org_id'))
        batch_op.drop_index(batch_op.f('ix_sso_domain_domain'))
    op.drop_table('sso_domain')
    op.drop_table('sso_config')
