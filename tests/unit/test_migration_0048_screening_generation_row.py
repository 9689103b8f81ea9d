"""Migration 0048: the screening generation moves into table_generation as the row named '', one past its value, and
the kept answers follow it; downgraded, its own table comes back one past the row, and the row is gone."""

from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from marketplace import transaction_cache
from marketplace.extensions import db
from tests.conftest import make_app, migrated_database
from tests.factories import BuyerOrgFactory


def _rows(sql: str) -> list:
    return list(db.session.execute(text(sql)).all())


def test_0048_moves_the_screening_generation_into_its_row_and_back(tmp_path):
    app = make_app(migrated_database(tmp_path, "generation_row"))
    with app.app_context():
        db.session.remove()
        downgrade(revision="0047")
        [(before,)] = _rows("SELECT generation FROM screening_generation")
        db.session.remove()

        upgrade(revision="0048")  # 0048 alone: a later revision writing a kept table bumps the row too
        assert not inspect(db.engine).has_table("screening_generation")
        assert _rows("SELECT generation FROM table_generation WHERE name = ''") == [(before + 1,)]
        assert transaction_cache.generation(db.session) == before + 1
        db.session.remove()
        BuyerOrgFactory()  # a commit writing a watched table bumps the row with its table's own
        db.session.commit()
        assert _rows("SELECT generation FROM table_generation WHERE name = ''") == [(before + 2,)]
        assert transaction_cache.generation(db.session) == before + 2
        db.session.remove()

        downgrade(revision="0047")
        assert _rows("SELECT generation FROM screening_generation") == [(before + 3,)]
        assert _rows("SELECT name FROM table_generation WHERE name = ''") == []
        assert transaction_cache.generation(db.session) == before + 3
        db.session.remove()
        upgrade()
        db.session.remove()
        db.engine.dispose()
