"""The demo's accounts: confirmed addresses, verified labs, an admin with a second factor and a way to get codes;
the demo's caught mail readable only in the demo."""

import logging

import pyotp

from marketplace.accounts.models import Organization, OrgKind, User
from marketplace.mail import MailSettings, send_mail
from tests.factories import AdminFactory


def test_the_demo_accounts_are_ready_to_use(seed, session, app):
    assert seed().exit_code == 0
    users = session.query(User).all()
    assert users and all(user.email_verified for user in users)
    assert all(org.verified_at for org in session.query(Organization).filter_by(kind=OrgKind.BUYER))
    admin = session.query(User).filter_by(email="admin@armslength.example").one()
    assert admin.has_second_factor
    result = app.test_cli_runner().invoke(args=["totp-code", "admin@armslength.example"])
    assert result.exit_code == 0
    assert pyotp.TOTP(admin.totp_secret).verify(result.output.strip(), valid_window=1)


def test_totp_code_is_refused_in_production_and_for_accounts_without_it(app):
    AdminFactory(email="ada@platform.example")
    runner = app.test_cli_runner()
    assert runner.invoke(args=["totp-code", "nobody@platform.example"]).exit_code == 1
    app.config["ENV_NAME"] = "production"
    try:
        refused = runner.invoke(args=["totp-code", "ada@platform.example"])
    finally:
        app.config["ENV_NAME"] = "development"
    assert refused.exit_code == 1 and "development only" in refused.output


def test_caught_mail_is_shown_only_in_the_demo(client, app, tmp_path):
    (tmp_path / "1-00001.eml").write_bytes(b"To: a@b.example\r\nSubject: Reset your password\r\n\r\nhttp://x/y\r\n")
    app.config["MAIL_CATCH_DIR"] = str(tmp_path)
    try:
        page = client.get("/dev/mail")
        assert page.status_code == 200 and b"Reset your password" in page.data
        assert b"/dev/mail" in client.get("/sign-in").data
        app.config["DEMO_LOGINS"] = False
        assert client.get("/dev/mail").status_code == 404
    finally:
        app.config["DEMO_LOGINS"] = True
        app.config["MAIL_CATCH_DIR"] = ""
    assert client.get("/dev/mail").status_code == 404


def test_mail_that_cannot_be_sent_is_logged_without_its_body(caplog, monkeypatch):
    # Alembic's logging set-up (migrations/env.py) disables loggers that existed before it ran: enable ours.
    monkeypatch.setattr(logging.getLogger("marketplace.mail"), "disabled", False)
    settings = MailSettings(server="127.0.0.1", port=9, sender="x@y.example", timeout=2)
    assert send_mail(settings, "a@b.example", "Reset your password", "secret-link-123") is False
    assert "secret-link-123" not in caplog.text and "a@b.example" in caplog.text
