"""organisation name keys transliterate letters of every script instead of dropping them

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-05 21:30:00

A name written with a Cyrillic о in place of a Latin o ("Nоrthwind AI") was keyed without the letter, so it passed
for a new name beside "Northwind AI"; a name written wholly in another script had no key. Every organisation's key
is made again with the new rule; when two organisations now share a key, the earlier keeps it and the later keeps
its id in its key (as in 0005; renaming it fixes that).
"""
from alembic import op
import sqlalchemy as sa

from marketplace.accounts.names import org_name_key


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade():
    connection = op.get_bind()
    organization = sa.table('organization', sa.column('id', sa.Integer), sa.column('name', sa.String),
                            sa.column('name_key', sa.String))
    rows = connection.execute(sa.select(organization.c.id, organization.c.name, organization.c.name_key)
                              .order_by(organization.c.id)).all()
    keys, taken = {}, set()
    for org_id, name, _old in rows:
        key = org_name_key(name) or f"org{org_id}"
        if key in taken:
            key = f"{key}-{org_id}"
        taken.add(key)
        keys[org_id] = key
    changed = [(org_id, keys[org_id]) for org_id, _name, old in rows if keys[org_id] != old]
    # Two passes: a key given to one organisation may still be held by another until its own turn comes.
    for org_id, _key in changed:
        connection.execute(organization.update().where(organization.c.id == org_id)
                           .values(name_key=f"#migrating-{org_id}"))
    for org_id, key in changed:
        connection.execute(organization.update().where(organization.c.id == org_id).values(name_key=key))


def downgrade():
    # The new keys are as unique as the old; the old rule is not kept to make them again.
    pass
