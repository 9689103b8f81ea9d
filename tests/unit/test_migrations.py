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


def test_0009_copies_each_earlier_withdrawal_onto_the_revision_withdrawn(tmp_path):
    """Bids withdrawn before the bid history kept withdrawals get theirs on the revision that was live."""
    from datetime import UTC, datetime

    from flask_migrate import downgrade, upgrade
    from sqlalchemy import select

    from marketplace.bids.models import BidRevision, BidStatus
    from tests.conftest import make_app, migrated_database
    from tests.factories import BidFactory

    app = make_app(migrated_database(tmp_path, "withdrawals"))
    when = datetime(2026, 3, 4, 5, 6, 7, tzinfo=UTC)
    with app.app_context():
        withdrawn = BidFactory(status=BidStatus.WITHDRAWN, withdrawn_at=when, revision=2)
        db.session.add(BidRevision(bid_id=withdrawn.id, number=2, price_per_unit_minor=50, total_minor=500_000,
                                   currency="USD", turnaround_days=9))
        live = BidFactory()
        db.session.commit()
        ids = (withdrawn.id, live.id)
        db.session.remove()
        downgrade(revision="0008")
        upgrade()
        rows = db.session.execute(select(BidRevision.bid_id, BidRevision.number, BidRevision.withdrawn_at)
                                  .order_by(BidRevision.bid_id, BidRevision.number)).all()
        db.session.remove()
        db.engine.dispose()
    assert [tuple(row) for row in rows] == [(ids[0], 1, None), (ids[0], 2, when), (ids[1], 1, None)]
