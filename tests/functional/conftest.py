"""Fixtures shared by functional tests in several folders."""

import pytest

from seed_data.seeding import seed_command


@pytest.fixture
def seed(app):
    """Run `flask seed` with the given arguments against the test's own transaction. The command lives outside the
    app (seed_data/); `flask` finds it through its entry point (tests/functional/test_seed.py checks that)."""

    def _seed(*args):
        return app.test_cli_runner().invoke(seed_command, list(args))

    return _seed
