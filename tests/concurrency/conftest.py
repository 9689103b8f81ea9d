"""Fixtures of the race and fault tests: an app on its own migrated database, with data committed for real."""

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy.engine import make_url

from marketplace.extensions import db
from tests.concurrency.harness import PROJECT_ROOT, Server, committed, signed_in_client
from tests.conftest import make_app, migrated_database
from tests.functional.payments.stripe_support import (  # noqa: F401  (fixtures)
    FEE_BPS,
    TEST_KEY,
    WEBHOOK_SECRET,
    stripe_sim,
    webhook_inbox,
)


@pytest.fixture(scope="session")
def race_database_url(tmp_path_factory):
    return migrated_database(tmp_path_factory.mktemp("races"), "races")


@pytest.fixture(scope="session")
def race_app(race_database_url, tmp_path_factory):
    """The app on the race database: no test transaction around it, so each thread commits for real."""
    app = make_app(
        race_database_url,
        UPLOAD_FOLDER=str(tmp_path_factory.mktemp("race-uploads")),
        PROPAGATE_EXCEPTIONS=False,
        MAIL_SERVER="",
    )
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


# ---------------------------------------------------------------- the fault tests' test bed


@dataclass
class FaultBed:
    """A fault test's own migrated database, the app on it (to build data and look at it), and the servers it ran.

    On SQLite its servers obey file permissions even when the tests run as root (see
    harness.bound_by_file_permissions_prefix), so that a test can take the file away from them with chmod, as from
    any real deployment.
    """

    url: str
    app: Flask
    logs: Path
    stripe_url: str
    servers: list[Server] = field(default_factory=list)

    @property
    def sqlite(self) -> bool:
        return self.url.startswith("sqlite")

    @property
    def database_file(self) -> Path:
        return Path(make_url(self.url).database)

    def build(self, fn):
        return committed(self.app, fn)

    def env(self, database_url: str | None = None) -> dict:
        """What the server and the command line are given: the database and the local Stripe."""
        return {
            "DATABASE_URL": database_url or self.url,
            "STRIPE_SECRET_KEY": TEST_KEY,
            "STRIPE_API_BASE": self.stripe_url,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PLATFORM_FEE_BPS": str(FEE_BPS),
        }

    def server(self, database_url: str | None = None) -> Server:
        """A gunicorn server with 4 workers on the bed's database (or the same through a proxy), started."""
        server = Server(
            database_url or self.url, self.logs, extra_env=self.env(database_url), bound_by_file_permissions=self.sqlite
        )
        self.servers.append(server)
        return server.start()

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        """`flask --app marketplace ARGS` in its own process, on the bed's database, as an operator runs it."""
        return subprocess.run(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "flask", "--app", "marketplace", *args],
            cwd=PROJECT_ROOT,
            env={**os.environ, **self.env(), "SECRET_KEY": "fault-secret"},
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture
def fault_bed(request, tmp_path, stripe_sim):  # noqa: F811 (the fixture imported above)
    url = migrated_database(tmp_path, "faults_" + request.node.name.removeprefix("test_")[:30])
    app = make_app(url, UPLOAD_FOLDER=str(tmp_path / "uploads"), PROPAGATE_EXCEPTIONS=False, MAIL_SERVER="")
    bed = FaultBed(url, app, tmp_path, stripe_sim.url)
    yield bed
    for server in bed.servers:
        server.kill()
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
