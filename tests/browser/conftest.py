"""Browser tests: Playwright driving Debian's chromium against the app in a live server process.

The live server runs in another process, so these tests use a real file (or PostgreSQL) database that is
rebuilt from the migrations for each test, not the rolled-back transaction of the other tests.
"""

import os
import shutil
import time

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from flask_migrate import upgrade
from playwright.sync_api import expect

from marketplace.extensions import db
from tests.conftest import database_url_for, fresh_database, make_app
from tests.factories import ADMIN_TOTP_SECRET, PASSWORD

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    # A missing browser must fail the run, never skip it.
    assert shutil.which(CHROMIUM), f"{CHROMIUM} is missing: apt-get install -y chromium"
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_FLAGS}


@pytest.fixture
def app(tmp_path, mailbox):
    """A fresh, migrated database per test, with CSRF on as in production; its mail goes to the test's mailbox."""
    url = database_url_for(tmp_path, "browser")
    fresh_database(url)
    app = make_app(url, WTF_CSRF_ENABLED=True, UPLOAD_FOLDER=str(tmp_path / "uploads"), MAIL_PORT=mailbox.port)
    with app.app_context():
        upgrade()
        # pytest-flask forks the live server before the test body runs: no pooled connection may cross that
        # fork, or the parent closing its copy deletes SQLite's WAL (and ends a PostgreSQL session) under the
        # server.
        db.engine.dispose()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def commit_data(app):
    """Run a function that writes data in the app's context, commit it, and release connections before fork."""

    def _commit(build):
        with app.app_context():
            result = build()
            db.session.commit()
            db.session.remove()
            db.engine.dispose()
        return result

    return _commit


class AuthenticatorApp:
    """What a user's authenticator app does for the factory's admins: the code of the moment. The app accepts each
    time step once, so a second sign-in within one step takes the next step's code (accepted, as clocks drift), and
    a third waits for the clock."""

    def __init__(self, secret: str = ADMIN_TOTP_SECRET):
        self.totp = pyotp.TOTP(secret)
        self.last_step = -1

    def code(self) -> str:
        while True:
            current = int(time.time() // 30)
            step = max(current, self.last_step + 1)
            if step <= current + 1:
                self.last_step = step
                return self.totp.at(step * 30)
            time.sleep(1)


@pytest.fixture
def authenticator():
    return AuthenticatorApp()


@pytest.fixture
def sign_in(page, live_server, authenticator):
    def _sign_in(email, password):
        page.goto(live_server.url("/sign-in"))
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state()
        if page.url.endswith("/sign-in/code"):
            # Accounts with a second factor (every admin): the code from the authenticator app.
            page.get_by_label("Authentication code").fill(authenticator.code())
            page.get_by_role("button", name="Verify").click()
            page.wait_for_load_state()

    return _sign_in


@pytest.fixture
def sign_out(page):
    def _sign_out():
        page.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("status").filter(has_text="You are signed out.")).to_be_visible()

    return _sign_out


@pytest.fixture
def switch_user(page, sign_in, sign_out):
    """Sign the current user out (if any) and sign in as another, checking that it worked."""

    def _switch(email, password=PASSWORD):
        if page.get_by_role("button", name="Sign out").count():
            sign_out()
        sign_in(email, password)
        expect(page.get_by_role("status").filter(has_text="Welcome back")).to_be_visible()

    return _switch


# What axe-core must not find on a page: anything serious or critical, and the table rules the lab's comparison and
# the admins' queue once broke (a column without a header).
_AXE_ALWAYS = {"empty-table-header", "th-has-data-cells", "td-headers-attr"}


@pytest.fixture(scope="session")
def axe():
    return Axe()


@pytest.fixture
def assert_accessible(page, axe):
    """Run axe-core (bundled with axe-playwright-python, no download) on the page as it is now."""

    def _check(name: str) -> None:
        results = axe.run(page)
        found = [
            violation
            for violation in results.response["violations"]
            if violation["impact"] in ("serious", "critical") or violation["id"] in _AXE_ALWAYS
        ]
        report = "; ".join(
            f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}" for v in found
        )
        assert not found, f"{name}: {report}"

    return _check
