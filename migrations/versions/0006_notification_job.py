"""notifications name the job they are about

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04 20:55:00

A notification about a job is shown only while its reader may still see the job.
"""
import re

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.add_column(sa.Column('job_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_notification_job_id'), ['job_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_notification_job_id_job'), 'job', ['job_id'], ['id'])
    # Notifications written before: their job, from the link they carry (/jobs/N..., or /bids/N for a bid's job).
    bind = op.get_bind()
    jobs = set(bind.execute(sa.text("SELECT id FROM job")).scalars())
    bid_jobs = dict(bind.execute(sa.text("SELECT id, job_id FROM bid")).all())
    for notification_id, link in bind.execute(sa.text(
            "SELECT id, link FROM notification WHERE link LIKE '/jobs/%' OR link LIKE '/bids/%'")).all():
        found = re.match(r"/(jobs|bids)/(\d+)", link)
        if not found:
            continue
        job_id = int(found[2]) if found[1] == "jobs" else bid_jobs.get(int(found[2]))
        if job_id in jobs:
            bind.execute(sa.text("UPDATE notification SET job_id = :job WHERE id = :id"),
                         {"job": job_id, "id": notification_id})


def downgrade():
    with op.batch_alter_table('notification', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notification_job_id_job'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_notification_job_id'))
        batch_op.drop_column('job_id')
