"""accounts security: unique organisation names, verified labs, confirmed addresses, sessions, mailed links,
second factor and recovery codes

Existing users count as confirmed and existing labs as verified: they were admitted before these checks existed.

Revision ID: 0005
Revises: 0003
Create Date: 2026-12-04 21:00:00

"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
import marketplace.db_types  # noqa: F401  (UTCDateTime)
from marketplace.accounts.names import org_name_key


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0003'
branch_labels = None
depends_on = None


def _backfill_name_keys(connection) -> None:
    """Each organisation's key; a later one whose key is taken keeps its id in the key (rename it to fix)."""
    organization = sa.table('organization', sa.column('id', sa.Integer), sa.column('name', sa.String),
                            sa.column('name_key', sa.String))
    taken = set()
    for org_id, name in connection.execute(sa.select(organization.c.id, organization.c.name)
                                           .order_by(organization.c.id)).all():
        key = org_name_key(name) or f"org{org_id}"
        if key in taken:
            key = f"{key}-{org_id}"
        taken.add(key)
        connection.execute(organization.update().where(organization.c.id == org_id).values(name_key=key))


def upgrade():
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('verified_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=True))
    _backfill_name_keys(op.get_bind())
    op.execute(sa.text("UPDATE organization SET verified_at = created_at WHERE kind = 'buyer'"))
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.alter_column('name_key', server_default=None)
        batch_op.create_unique_constraint(batch_op.f('uq_organization_name_key'), ['name_key'])

    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_verified_at', marketplace.db_types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('totp_secret', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False,
                                      server_default=''))
        batch_op.add_column(sa.Column('totp_enabled_at', marketplace.db_types.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('totp_last_step', sa.BigInteger(), nullable=False, server_default='0'))
    op.execute(sa.text("UPDATE user_account SET email_verified_at = created_at"))
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.alter_column('totp_secret', server_default=None)
        batch_op.alter_column('totp_last_step', server_default=None)

    op.create_table('account_token',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_account_token_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_token')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_account_token_token_hash'))
    )
    with op.batch_alter_table('account_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_token_user_id'), ['user_id'], unique=False)

    op.create_table('account_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('key_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_agent', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('ip_address', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_account_session_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_account_session')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_account_session_key_hash'))
    )
    with op.batch_alter_table('account_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_account_session_user_id'), ['user_id'], unique=False)

    op.create_table('recovery_code',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_recovery_code_user_id_user_account')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_recovery_code')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_recovery_code_code_hash'))
    )
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_recovery_code_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('recovery_code', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_recovery_code_user_id'))
    op.drop_table('recovery_code')
    with op.batch_alter_table('account_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_session_user_id'))
    op.drop_table('account_session')
    with op.batch_alter_table('account_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_account_token_user_id'))
    op.drop_table('account_token')
    with op.batch_alter_table('user_account', schema=None) as batch_op:
        batch_op.drop_column('totp_last_step')
        batch_op.drop_column('totp_enabled_at')
        batch_op.drop_column('totp_secret')
        batch_op.drop_column('email_verified_at')
    with op.batch_alter_table('organization', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_organization_name_key'), type_='unique')
        batch_op.drop_column('verified_at')
        batch_op.drop_column('name_key')
