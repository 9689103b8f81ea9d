"""Webhooks out: a lab's endpoints, the events sent, each delivery and its attempts, passed deadlines announced

Revision ID: 0032
Revises: 0031
Create Date: 2026-12-06 07:30:27.022656

"""
from alembic import op
import sqlalchemy as sa
import sqlmodel  # noqa: F401  (autogenerate writes sqlmodel.sql.sqltypes.AutoString)
import marketplace.db_types  # noqa: F401  (UTCDateTime)


# revision identifiers, used by Alembic.
revision = '0032'
down_revision = '0031'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('outgoingevent',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('event_type', sa.String(length=40), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_outgoingevent_org_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoingevent')),
    sa.UniqueConstraint('uid', name=op.f('uq_outgoingevent_uid'))
    )
    with op.batch_alter_table('outgoingevent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outgoingevent_org_id'), ['org_id'], unique=False)

    op.create_table('webhookendpoint',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('events', sa.JSON(), nullable=False),
    sa.Column('secret', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=False),
    sa.Column('created_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('secret_rotated_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_webhookendpoint_created_by_id_user_account')),
    sa.ForeignKeyConstraint(['org_id'], ['organization.id'], name=op.f('fk_webhookendpoint_org_id_organization')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhookendpoint'))
    )
    with op.batch_alter_table('webhookendpoint', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhookendpoint_org_id'), ['org_id'], unique=False)

    op.create_table('deadlineannounced',
    sa.Column('job_id', sa.Integer(), nullable=False),
    sa.Column('announced_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['job_id'], ['job.id'], name=op.f('fk_deadlineannounced_job_id_job')),
    sa.PrimaryKeyConstraint('job_id', name=op.f('pk_deadlineannounced'))
    )
    op.create_table('webhookdelivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('uid', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('endpoint_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('claimed_until', marketplace.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('replay_requested', sa.Boolean(), nullable=False),
    sa.Column('created_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['endpoint_id'], ['webhookendpoint.id'], name=op.f('fk_webhookdelivery_endpoint_id_webhookendpoint')),
    sa.ForeignKeyConstraint(['event_id'], ['outgoingevent.id'], name=op.f('fk_webhookdelivery_event_id_outgoingevent')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhookdelivery')),
    sa.UniqueConstraint('uid', name=op.f('uq_webhookdelivery_uid'))
    )
    with op.batch_alter_table('webhookdelivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhookdelivery_endpoint_id'), ['endpoint_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhookdelivery_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhookdelivery_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_webhookdelivery_status'), ['status'], unique=False)

    op.create_table('webhookattempt',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('delivery_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('replay', sa.Boolean(), nullable=False),
    sa.Column('started_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', marketplace.db_types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('error', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
    sa.Column('response_excerpt', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['webhookdelivery.id'], name=op.f('fk_webhookattempt_delivery_id_webhookdelivery')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhookattempt')),
    sa.UniqueConstraint('delivery_id', 'number', name=op.f('uq_webhookattempt_delivery_id'))
    )
    with op.batch_alter_table('webhookattempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhookattempt_delivery_id'), ['delivery_id'], unique=False)



def downgrade():
    with op.batch_alter_table('webhookattempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhookattempt_delivery_id'))

    op.drop_table('webhookattempt')
    with op.batch_alter_table('webhookdelivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhookdelivery_status'))
        batch_op.drop_index(batch_op.f('ix_webhookdelivery_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_webhookdelivery_event_id'))
        batch_op.drop_index(batch_op.f('ix_webhookdelivery_endpoint_id'))

    op.drop_table('webhookdelivery')
    op.drop_table('deadlineannounced')
    with op.batch_alter_table('webhookendpoint', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhookendpoint_org_id'))

    op.drop_table('webhookendpoint')
    with op.batch_alter_table('outgoingevent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_outgoingevent_org_id'))

    op.drop_table('outgoingevent')
