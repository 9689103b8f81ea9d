"""Migration 0049: an answer given before it was told as it was given (told_at = answered_at), so that a starting
worker queues none of them again; a question still unanswered has none."""

from datetime import timedelta

from flask_migrate import downgrade, upgrade
from sqlalchemy import text

from marketplace.db_types import utcnow
from marketplace.extensions import db
from tests.conftest import make_app, migrated_database
from tests.factories import JobFactory, VendorOrgFactory


def test_0049_dates_the_answers_given_before_it_as_told_when_given(tmp_path):
    app = make_app(migrated_database(tmp_path, "told_at"))
    with app.app_context():
        db.session.remove()
        downgrade(revision="0048")
        job, vendor = JobFactory(), VendorOrgFactory()
        answered_at = (utcnow() - timedelta(days=3)).replace(microsecond=0)
        for n, when in enumerate([answered_at, None]):
            db.session.execute(
                text(
                    "INSERT INTO question (job_id, vendor_org_id, text, asked_at, answer, answered_at) "
                    "VALUES (:job, :vendor, :text, :asked, :answer, :answered)"
                ),
                {
                    "job": job.id,
                    "vendor": vendor.id,
                    "text": f"Question {n}?",
                    "asked": answered_at - timedelta(days=1),
                    "answer": "Yes." if when else "",
                    "answered": when,
                },
            )
        db.session.commit()
        db.session.remove()

        upgrade()
        rows = db.session.execute(text("SELECT text, answered_at, told_at FROM question ORDER BY id")).all()
        assert [(r.text, r.told_at == r.answered_at, r.told_at is None) for r in rows] == [
            ("Question 0?", True, False),
            ("Question 1?", True, True),
        ]
        db.session.remove()
        db.engine.dispose()
