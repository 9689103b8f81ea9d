"""Migration 0023 on a database with teams: nothing anyone could do stops. The earliest user of each organisation
becomes its owner, everyone else a manager; admins are left alone."""

from datetime import UTC, datetime

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from marketplace.extensions import db
from tests.conftest import make_app, migrated_database
from tests.factories import AdminFactory, BuyerFactory, BuyerOrgFactory, VendorFactory


def test_0023_makes_each_organisations_earliest_user_its_owner_and_the_others_managers(tmp_path):
    app = make_app(migrated_database(tmp_path, "team_roles"))
    with app.app_context():
        lab = BuyerOrgFactory()
        later = BuyerFactory(org_id=lab.id, created_at=datetime(2026, 5, 1, tzinfo=UTC))
        first = BuyerFactory(org_id=lab.id, created_at=datetime(2026, 1, 1, tzinfo=UTC))
        tied = BuyerFactory(org_id=lab.id, created_at=datetime(2026, 1, 1, tzinfo=UTC))
        vendor = VendorFactory()
        admin = AdminFactory()
        ids = {"later": later.id, "first": first.id, "tied": tied.id, "vendor": vendor.id, "admin": admin.id}
        db.session.commit()
        db.session.remove()  # SQLite: no transaction of ours may hold the database while Alembic writes
        downgrade(revision="0019")
        upgrade()
        roles = dict(db.session.execute(text("SELECT id, org_role FROM user_account")).all())
        approvers = {row[0] for row in db.session.execute(text("SELECT id FROM user_account WHERE approver"))}
        db.session.remove()
        db.engine.dispose()

    assert {name: roles[user_id] for name, user_id in ids.items()} == {
        "later": "manager",
        "first": "owner",
        "tied": "manager",  # the same moment: the lower id owns
        "vendor": "owner",
        "admin": "manager",
    }
    assert approvers == set()
