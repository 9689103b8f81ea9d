"""Fixtures shared by functional tests in several folders."""

import pytest


@pytest.fixture
def seed(app):
    """Run `flask seed` with the given arguments against the test's own transaction."""

    def _seed(*args):
        return app.test_cli_runner().invoke(args=["seed", *args])

    return _seed
