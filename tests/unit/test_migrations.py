"""The migrations are the schema: the migrated database must match the models exactly."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel

import marketplace.models  # noqa: F401
from marketplace.extensions import db


def test_models_and_migrations_agree(app):
    context = MigrationContext.configure(db.session.connection(), opts={"compare_type": True})
    differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []
