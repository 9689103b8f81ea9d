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


def test_duplicate_revision_numbers_are_renumbered_in_saved_order(tmp_path):
    """Migration 0009 on a database where two revisions of one bid took the same number (the old race)."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import select, text

    from marketplace.bids.models import Bid, BidRevision
    from tests.conftest import make_app, migrated_database
    from tests.factories import BidFactory

    app = make_app(migrated_database(tmp_path, "renumber"))
    with app.app_context():
        bid_id = BidFactory().id
        db.session.commit()
        db.session.remove()  # SQLite: no transaction of ours may hold the database while Alembic writes
        downgrade(revision="0008")
        columns = (
            "bid_id, number, created_by_id, created_at, price_per_unit_minor, total_minor, currency, "
            "turnaround_days, quality_guarantee_pct, proposal, data_handling_response"
        )
        copy = text(
            f"INSERT INTO bidrevision ({columns}) SELECT {columns} FROM bidrevision "  # noqa: S608
            "WHERE bid_id = :bid ORDER BY id LIMIT 1"
        )
        with db.engine.begin() as connection:  # two more rows numbered 1, as the lost update left them
            for _ in range(2):
                connection.execute(copy, {"bid": bid_id})
        upgrade()
        db.session.expire_all()
        rows = db.session.execute(
            select(BidRevision.id, BidRevision.number).where(BidRevision.bid_id == bid_id).order_by(BidRevision.id)
        ).all()
        assert [number for _, number in rows] == [1, 2, 3]
        assert db.session.get(Bid, bid_id).revision == 3
        db.session.remove()
        db.engine.dispose()


def test_0010_copies_each_earlier_withdrawal_onto_the_revision_withdrawn(tmp_path):
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
        db.session.add(
            BidRevision(
                bid_id=withdrawn.id,
                number=2,
                price_per_unit_minor=50,
                total_minor=500_000,
                currency="USD",
                turnaround_days=9,
            )
        )
        live = BidFactory()
        db.session.commit()
        ids = (withdrawn.id, live.id)
        db.session.remove()
        downgrade(revision="0009")
        upgrade()
        rows = db.session.execute(
            select(BidRevision.bid_id, BidRevision.number, BidRevision.withdrawn_at).order_by(
                BidRevision.bid_id, BidRevision.number
            )
        ).all()
        db.session.remove()
        db.engine.dispose()
    assert [tuple(row) for row in rows] == [(ids[0], 1, None), (ids[0], 2, when), (ids[1], 1, None)]


def test_0011_makes_every_name_key_again_transliterated(tmp_path):
    """Keys made when non-Latin letters were dropped: a look-alike of an earlier name now shares its key, so it keeps
    its id in its key; a name in another script gets its letters."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import text

    from marketplace.accounts.models import Organization
    from tests.conftest import make_app, migrated_database
    from tests.factories import BuyerOrgFactory

    app = make_app(migrated_database(tmp_path, "name_keys"))
    with app.app_context():
        first = BuyerOrgFactory(name="Northwind AI").id
        lookalike, cyrillic = BuyerOrgFactory().id, BuyerOrgFactory().id
        db.session.commit()
        db.session.remove()
        downgrade(revision="0010")
        renamed = (
            (lookalike, "N\u043erthwind AI", "nrthwindai"),
            (cyrillic, "\u041d\u043e\u0440\u0442\u0432\u0438\u043d\u0434", f"org{cyrillic}"),
        )
        with db.engine.begin() as connection:  # the names, with the keys the old rule made
            for org_id, name, old in renamed:
                connection.execute(
                    text("UPDATE organization SET name = :n, name_key = :k WHERE id = :i"),
                    {"n": name, "k": old, "i": org_id},
                )
        upgrade()
        keys = {org.id: org.name_key for org in db.session.query(Organization)}
        assert keys[first] == "northwindai"
        assert keys[lookalike] == f"northwindai-{lookalike}"
        assert keys[cyrillic] == "nortvind"
        db.session.remove()
        db.engine.dispose()


def test_0020_keeps_every_contract_and_what_points_at_it_while_sqlite_copies_the_table(tmp_path):
    """0020 replaces the contract table's unique job and bid (SQLite copies the table to do it): an awarded contract
    keeps its milestones and its ledger's references, is a full contract after it, and a second full contract for the
    same job is still refused, while a pilot beside it is not."""
    import pytest
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import select, text
    from sqlalchemy.exc import IntegrityError

    from marketplace.bids.service import award_bid
    from marketplace.contracts.models import Contract, ContractKind, Milestone
    from marketplace.jobs.models import BiddingMode
    from tests.conftest import make_app, migrated_database
    from tests.factories import BidFactory, BuyerFactory, JobFactory

    app = make_app(migrated_database(tmp_path, "pilots"))
    with app.app_context():
        buyer = BuyerFactory()
        job = JobFactory(buyer_org_id=buyer.org_id, bidding_mode=BiddingMode.OPEN)
        bids = [BidFactory(job_id=job.id) for _ in range(2)]
        contract = award_bid(db.session, buyer, job.id, bids[0].id)
        db.session.commit()
        ids = (contract.id, job.id, bids[0].id, bids[1].id, contract.buyer_org_id, contract.vendor_org_id)
        db.session.remove()
        downgrade(revision="0019")
        upgrade()
        kept = db.session.execute(select(Contract)).scalar_one()
        assert (kept.id, kept.job_id, kept.bid_id, kept.kind) == (*ids[:3], ContractKind.FULL)
        assert db.session.execute(select(Milestone.contract_id)).scalars().all() == [ids[0]]
        if db.engine.dialect.name == "sqlite":
            assert db.session.execute(text("PRAGMA foreign_key_check")).all() == []
            assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1  # on again after the migration
        common = {"buyer_org_id": ids[4], "vendor_org_id": ids[5], "total_minor": 1, "currency": "USD"}
        db.session.add(Contract(job_id=ids[1], bid_id=ids[3], kind=ContractKind.PILOT, **common))
        db.session.flush()  # a pilot beside the award: allowed
        with pytest.raises(IntegrityError), db.session.begin_nested():
            db.session.add(Contract(job_id=ids[1], bid_id=ids[3], **common))  # a second award of the job
            db.session.flush()
        db.session.rollback()
        db.session.remove()
        db.engine.dispose()
