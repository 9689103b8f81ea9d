"""Fixtures of the race and fault tests: an app on its own migrated database, with data committed for real."""

import pytest

from marketplace.extensions import db
from tests.concurrency.harness import committed, signed_in_client
from tests.conftest import make_app, migrated_database


@pytest.fixture(scope="session")
def race_database_url(tmp_path_factory):
    return migrated_database(tmp_path_factory.mktemp("races"), "races")


@pytest.fixture(scope="session")
def race_app(race_database_url, tmp_path_factory):
    """The app on the race database: no test transaction around it, so each thread commits for real."""
    app = make_app(race_database_url, UPLOAD_FOLDER=str(tmp_path_factory.mktemp("race-uploads")),
                   PROPAGATE_EXCEPTIONS=False, MAIL_SERVER="")
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def build(race_app):
    """build(fn): run fn in the race app's context and commit what it wrote."""
    return lambda fn: committed(race_app, fn)


@pytest.fixture
def client_for(race_app):
    """client_for(user_id): a test client of the race app, signed in as that user."""
    return lambda user_id: signed_in_client(race_app, user_id)
