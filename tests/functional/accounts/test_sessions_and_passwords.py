"""Each sign-in is a session the user sees and can end; a password change ends every other one."""

from flask import g, url_for

from marketplace.accounts.models import AccountSession, User
from marketplace.accounts.passwords import verify_password
from marketplace.audit.models import AuditRecord
from tests.factories import PASSWORD, BuyerFactory

NEW = "a brand new password"


def _signed_in(app, email, agent="Firefox on Linux"):
    """Another browser, signed in with the password."""
    browser = app.test_client()
    g.pop("_login_user", None)  # the test's app context is shared by every client's requests
    response = browser.post("/sign-in", data={"email": email, "password": PASSWORD}, headers={"User-Agent": agent})
    assert response.status_code == 303
    g.pop("_login_user", None)
    return browser


def _get(browser, path):
    g.pop("_login_user", None)
    g.pop("account_session", None)
    return browser.get(path)


def test_each_sign_in_is_listed_with_device_and_address(app, session):
    BuyerFactory(email="maya@lab.example")
    laptop = _signed_in(app, "maya@lab.example", "Firefox on Linux")
    _signed_in(app, "maya@lab.example", "Safari on iPhone")
    page = _get(laptop, "/settings/sessions").get_data(as_text=True)
    assert "Firefox on Linux" in page and "Safari on iPhone" in page and "127.0.0.1" in page
    assert page.count("This session") == 1


def test_ending_a_session_signs_that_device_out_at_once(app, session):
    maya = BuyerFactory(email="maya@lab.example")
    laptop = _signed_in(app, "maya@lab.example", "Firefox on Linux")
    phone = _signed_in(app, "maya@lab.example", "Safari on iPhone")
    record = session.query(AccountSession).filter_by(user_id=maya.id, user_agent="Safari on iPhone").one()
    g.pop("_login_user", None)
    assert laptop.post(url_for("security.end_session", session_id=record.id)).status_code == 303
    assert _get(phone, "/team").status_code == 302
    assert _get(laptop, "/team").status_code == 200
    assert session.query(AuditRecord).filter_by(action="user.session_ended", subject_id=maya.id).count() == 1


def test_nobody_ends_another_users_session(app, session, client, login_as):
    BuyerFactory(email="maya@lab.example")
    _signed_in(app, "maya@lab.example")
    theirs = session.query(AccountSession).one()
    login_as(BuyerFactory())
    assert client.post(url_for("security.end_session", session_id=theirs.id)).status_code == 404
    assert session.get(AccountSession, theirs.id).ended_at is None


def test_ending_your_own_session_signs_you_out(client, login_as, session):
    user = login_as(BuyerFactory())
    record = session.query(AccountSession).filter_by(user_id=user.id).one()
    response = client.post(url_for("security.end_session", session_id=record.id))
    assert response.headers["Location"] == "/sign-in"
    g.pop("_login_user", None)
    assert client.get("/team").status_code == 302


def test_the_session_cookie_holds_a_key_stored_only_as_a_hash(app, session):
    BuyerFactory(email="maya@lab.example")
    _signed_in(app, "maya@lab.example")
    record = session.query(AccountSession).one()
    assert len(record.key_hash) == 64


def test_change_password_needs_the_current_one(client, login_as, session):
    user = login_as(BuyerFactory())
    response = client.post("/settings/password", data={"current_password": "not it", "password": NEW, "confirm": NEW})
    assert response.status_code == 400
    assert b"That is not your current password." in response.data
    assert verify_password(session.get(User, user.id).password_hash, PASSWORD)


def test_change_password_refuses_a_short_or_same_password(client, login_as):
    login_as(BuyerFactory())
    short = client.post(
        "/settings/password", data={"current_password": PASSWORD, "password": "short", "confirm": "short"}
    )
    assert short.status_code == 400 and b"Use at least 12 characters." in short.data
    same = client.post(
        "/settings/password", data={"current_password": PASSWORD, "password": PASSWORD, "confirm": PASSWORD}
    )
    assert same.status_code == 400 and b"different from the current one" in same.data


def test_change_password_ends_every_other_session_and_tells_the_owner(app, session, outbox):
    maya = BuyerFactory(email="maya@lab.example")
    laptop = _signed_in(app, "maya@lab.example", "Firefox on Linux")
    phone = _signed_in(app, "maya@lab.example", "Safari on iPhone")
    g.pop("_login_user", None)
    changed = laptop.post("/settings/password", data={"current_password": PASSWORD, "password": NEW, "confirm": NEW})
    assert changed.status_code == 303
    assert _get(phone, "/team").status_code == 302
    assert _get(laptop, "/team").status_code == 200
    assert verify_password(session.get(User, maya.id).password_hash, NEW)
    record = session.query(AuditRecord).filter_by(action="user.password_changed", subject_id=maya.id).one()
    assert record.after == {"sessions_ended": 1}
    assert [m["Subject"] for m in outbox.to("maya@lab.example")] == ["Your password was changed"]
    assert NEW not in repr(record.after)


def test_sign_out_ends_only_this_session(app, session):
    BuyerFactory(email="maya@lab.example")
    laptop = _signed_in(app, "maya@lab.example", "Firefox on Linux")
    phone = _signed_in(app, "maya@lab.example", "Safari on iPhone")
    g.pop("_login_user", None)
    laptop.post("/sign-out")
    assert _get(laptop, "/team").status_code == 302
    assert _get(phone, "/team").status_code == 200
