"""TOTP second factor: set up with a code, asked at sign-in, never accepted twice; recovery codes work once;
admins must have it before anything else."""

import re
import time

import pyotp
import time_machine
from flask import g, url_for

from marketplace.accounts.models import RecoveryCode, Role, User
from marketplace.audit.models import AuditRecord
from tests.factories import ADMIN_TOTP_SECRET, PASSWORD, AdminFactory, BuyerFactory, UserFactory


def _code(secret: str, steps_ahead: int = 0) -> str:
    return pyotp.TOTP(secret).at(time.time() + 30 * steps_ahead)


def _enable(client, session, user) -> tuple[str, list[str]]:
    """Turn the second factor on through the settings page; returns the secret and the recovery codes."""
    page = client.get(url_for("security.two_factor_settings")).get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7]+)<', page).group(1)
    done = client.post(url_for("security.two_factor_settings"), data={"code": _code(secret)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([0-9a-f-]+)</code></li>", done.get_data(as_text=True))
    return secret, codes


def _password_step(client, email):
    return client.post("/sign-in", data={"email": email, "password": PASSWORD})


def test_set_up_shows_a_qr_code_drawn_here_and_needs_a_right_code(client, login_as, session):
    user = login_as(BuyerFactory())
    page = client.get(url_for("security.two_factor_settings")).get_data(as_text=True)
    assert "<svg" in page and "otpauth" not in page.split("<svg", 1)[0]
    assert session.get(User, user.id).totp_secret == ""  # nothing stored until a code proves the app has it
    wrong = client.post(url_for("security.two_factor_settings"), data={"code": "000000"})
    assert wrong.status_code == 400 and b"That code does not match" in wrong.data
    assert not session.get(User, user.id).has_second_factor
    secret, codes = _enable(client, session, user)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert session.get(User, user.id).has_second_factor
    stored = [r.code_hash for r in session.query(RecoveryCode).filter_by(user_id=user.id)]
    assert not set(codes) & set(stored)
    assert session.query(AuditRecord).filter_by(action="user.two_factor_enabled", subject_id=user.id).count() == 1
    assert secret not in client.get(url_for("security.two_factor_settings")).get_data(as_text=True)


def test_sign_in_asks_for_the_code_and_refuses_a_wrong_one(client, session):
    AdminFactory(email="ada@platform.example")
    first = _password_step(client, "ada@platform.example")
    assert first.status_code == 303 and first.headers["Location"] == "/sign-in/code"
    assert client.get("/admin/organizations").status_code == 302  # not signed in yet
    wrong = client.post("/sign-in/code", data={"code": "123456"})
    assert wrong.status_code == 400 and b"That code is not right" in wrong.data
    ok = client.post("/sign-in/code", data={"code": _code(ADMIN_TOTP_SECRET)})
    assert ok.status_code == 303
    assert client.get("/admin/organizations").status_code == 200


def test_a_code_is_never_accepted_twice(client, app, session):
    AdminFactory(email="ada@platform.example")
    code = _code(ADMIN_TOTP_SECRET)
    _password_step(client, "ada@platform.example")
    assert client.post("/sign-in/code", data={"code": code}).status_code == 303
    other = app.test_client()
    g.pop("_login_user", None)  # the test's app context is shared by both clients' requests
    assert _password_step(other, "ada@platform.example").headers["Location"] == "/sign-in/code"
    replay = other.post("/sign-in/code", data={"code": code})
    assert replay.status_code == 400 and b"already used" in replay.data
    # The next step's code still works (clocks drift by a step either way).
    assert other.post("/sign-in/code", data={"code": _code(ADMIN_TOTP_SECRET, 1)}).status_code == 303


def test_the_code_page_without_a_password_first_sends_to_sign_in(client):
    response = client.post("/sign-in/code", data={"code": "123456"})
    assert response.status_code == 303 and response.headers["Location"] == "/sign-in"


def test_the_password_step_expires_after_five_minutes(client):
    AdminFactory(email="ada@platform.example")
    _password_step(client, "ada@platform.example")
    with time_machine.travel(time.time() + 301):
        late = client.post("/sign-in/code", data={"code": _code(ADMIN_TOTP_SECRET)})
    assert late.status_code == 303 and late.headers["Location"] == "/sign-in"


def test_a_recovery_code_works_once(client, app, login_as, session):
    user = login_as(BuyerFactory(email="maya@lab.example"))
    _secret, codes = _enable(client, session, user)
    client.post("/sign-out")
    _password_step(client, "maya@lab.example")
    used = client.post("/sign-in/code", data={"code": codes[0].upper()})
    assert used.status_code == 303
    assert session.query(AuditRecord).filter_by(action="user.recovery_code_used", subject_id=user.id).one().after == {
        "recovery_codes_left": 9
    }
    client.post("/sign-out")
    _password_step(client, "maya@lab.example")
    again = client.post("/sign-in/code", data={"code": codes[0]})
    assert again.status_code == 400 and b"That code is not right" in again.data


def test_renewed_recovery_codes_replace_the_old(client, login_as, session):
    user = login_as(BuyerFactory(email="maya@lab.example"))
    secret, old = _enable(client, session, user)
    wrong = client.post(url_for("security.renew_recovery_codes"), data={"code": "000000"})
    assert wrong.status_code == 400
    renewed = client.post(url_for("security.renew_recovery_codes"), data={"code": _code(secret, 1)})
    new = re.findall(r"<li><code>([0-9a-f-]+)</code></li>", renewed.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    client.post("/sign-out")
    _password_step(client, "maya@lab.example")
    assert client.post("/sign-in/code", data={"code": old[0]}).status_code == 400
    assert client.post("/sign-in/code", data={"code": new[0]}).status_code == 303


def test_turning_it_off_needs_the_password_and_a_code(client, login_as, session):
    user = login_as(BuyerFactory())
    secret, _codes = _enable(client, session, user)
    bad_password = client.post(
        url_for("security.disable_two_factor"), data={"password": "wrong password", "code": _code(secret, 1)}
    )
    assert bad_password.status_code == 400 and b"That is not your password." in bad_password.data
    bad_code = client.post(url_for("security.disable_two_factor"), data={"password": PASSWORD, "code": "000000"})
    assert bad_code.status_code == 400
    assert session.get(User, user.id).has_second_factor
    ok = client.post(url_for("security.disable_two_factor"), data={"password": PASSWORD, "code": _code(secret, 1)})
    assert ok.status_code == 303
    assert not session.get(User, user.id).has_second_factor
    assert session.query(RecoveryCode).filter_by(user_id=user.id).count() == 0
    assert session.query(AuditRecord).filter_by(action="user.two_factor_disabled", subject_id=user.id).count() == 1


def test_an_admin_cannot_turn_it_off(client, login_as, session):
    admin = login_as(AdminFactory())
    response = client.post(
        url_for("security.disable_two_factor"), data={"password": PASSWORD, "code": _code(ADMIN_TOTP_SECRET)}
    )
    assert response.status_code == 400 and b"Admins must keep" in response.data
    assert session.get(User, admin.id).has_second_factor


def test_an_admin_without_it_is_sent_to_set_it_up_before_anything_else(client, login_as, session):
    admin = login_as(UserFactory(role=Role.ADMIN))
    for path in ("/admin/organizations", "/audit", "/settings", "/notifications"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/settings/two-factor", path
    assert client.post("/admin/organizations/1/verify").headers["Location"] == "/settings/two-factor"
    _enable(client, session, admin)
    assert client.get("/admin/organizations").status_code == 200
