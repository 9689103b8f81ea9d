"""Platform admins' personal API tokens: an api_token belongs to an organisation or to one admin

Revision ID: 0036
Revises: 0035
Create Date: 2026-12-06 11:15:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401


# revision identifiers, used by Alembic.
revision = '0036'
down_revision = '0035'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.add_column(sa.Column('user_id', sa.Integer(), nullable=True))
        batch_op.alter_column('org_id', existing_type=sa.Integer(), nullable=True)
        batch_op.create_index(batch_op.f('ix_api_token_user_id'), ['user_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_api_token_user_id_user_account'), 'user_account', ['user_id'], ['id']
        )
        batch_op.create_check_constraint('one_holder', '(org_id IS NULL) <> (user_id IS NULL)')


def downgrade():
    op.execute('DELETE FROM api_idempotent_response WHERE token_id IN (SELECT id FROM api_token WHERE org_id IS NULL)')
    op.execute('DELETE FROM api_token WHERE org_id IS NULL')
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_api_token_one_holder'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_api_token_user_id_user_account'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_api_token_user_id'))
        batch_op.alter_column('org_id', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('user_id')
