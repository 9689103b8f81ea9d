"""Sign-up answers the same for a taken address; organisation names are unique; mailed links work once, in time."""

from datetime import timedelta

import pytest
import time_machine

from marketplace.accounts import security
from marketplace.accounts.models import AccountToken, Organization, User
from marketplace.accounts.passwords import verify_password
from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow
from marketplace.notifications.models import Notification
from tests.factories import PASSWORD, AdminFactory, BuyerFactory, BuyerOrgFactory

SIGN_UP = {
    "kind": "buyer",
    "org_name": "Quasar Research",
    "name": "Priya",
    "email": "priya@quasar.example",
    "password": "a long enough password",
    "confirm": "a long enough password",
    "timezone": "UTC",
}


def _path(link: str) -> str:
    return link.split("://", 1)[1].split("/", 1)[1].join(["/", ""])


@pytest.mark.parametrize(
    "name",
    [
        "Northwind AI",
        "northwind ai",
        "Northwind AI, Inc.",
        "NORTHWIND-AI GmbH",
        "Northwind A.I. Ltd",
        "N\u043erthwind AI",  # a Cyrillic о: it looks the same, and was a new name when non-Latin letters were dropped
        "Northw\u0456nd A\u0406",  # Cyrillic і and І
    ],
)
def test_an_existing_labs_name_is_refused_beside_the_field(client, session, name):
    BuyerOrgFactory(name="Northwind AI")
    response = client.post("/sign-up", data={**SIGN_UP, "org_name": name})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "An organisation with this name is already on the marketplace." in page
    assert 'value="priya@quasar.example"' in page  # the form comes back filled
    assert session.query(Organization).filter(Organization.name_key == "northwindai").count() == 1


def test_a_punctuation_only_name_is_refused(client):
    response = client.post("/sign-up", data={**SIGN_UP, "org_name": "..."})
    assert response.status_code == 400
    assert b"with letters or digits" in response.data


def test_a_name_in_another_script_is_a_name(client, session):
    """Letters of any script count (transliterated); they used to be dropped, so such a name was refused."""
    response = client.post("/sign-up", data={**SIGN_UP, "org_name": "\u041d\u043e\u0440\u0442\u0432\u0438\u043d\u0434"})
    assert response.status_code == 303
    assert session.query(Organization).filter(Organization.name_key == "nortvind").count() == 1


def test_renaming_keeps_the_name_key(session):
    org = BuyerOrgFactory(name="Old Name Labs")
    org.name = "New Name Labs Inc"
    session.flush()
    assert org.name_key == "newnamelabs"


def test_a_new_lab_awaits_verification_and_admins_are_told(client, session, outbox):
    admin = AdminFactory()
    client.post("/sign-up", data=SIGN_UP)
    [notice] = session.query(Notification).filter_by(user_id=admin.id).all()
    assert "Quasar Research" in notice.message and "verification" in notice.message
    org = session.query(Organization).filter_by(name="Quasar Research").one()
    assert org.awaiting_verification
    created = session.query(AuditRecord).filter_by(action="organization.created", subject_id=org.id).one()
    assert created.after["verified"] is False


def test_confirmation_link_works_once(client, session, outbox):
    client.post("/sign-up", data=SIGN_UP)
    path = _path(outbox.last_link("priya@quasar.example", "/confirm-email/"))
    assert client.post(path).status_code == 303
    again = client.post(path)
    assert again.status_code == 404
    assert b"already used" in again.data
    assert client.get(path).status_code == 404
    assert session.query(AuditRecord).filter_by(action="user.email_confirmed").count() == 1


def test_confirmation_link_expires_after_two_days(client, session, outbox):
    client.post("/sign-up", data=SIGN_UP)
    path = _path(outbox.last_link("priya@quasar.example", "/confirm-email/"))
    with time_machine.travel(utcnow() + timedelta(days=2, minutes=1)):
        assert client.post(path).status_code == 404
    assert not session.query(User).filter_by(email="priya@quasar.example").one().email_verified


def test_an_unknown_link_is_refused(client):
    assert client.post("/confirm-email/not-a-token").status_code == 404
    assert client.get("/reset-password/not-a-token").status_code == 404
    assert (
        client.post("/reset-password/not-a-token", data={"password": "p" * 12, "confirm": "p" * 12}).status_code == 404
    )


def test_a_new_confirmation_link_voids_the_old_one(client, session, outbox):
    client.post("/sign-up", data=SIGN_UP)
    first = _path(outbox.last_link("priya@quasar.example", "/confirm-email/"))
    client.post("/sign-in", data={"email": "priya@quasar.example", "password": SIGN_UP["password"]})
    assert client.post("/confirm-email/resend").status_code == 303
    second = _path(outbox.last_link("priya@quasar.example", "/confirm-email/"))
    assert first != second
    assert client.post(first).status_code == 404
    assert client.post(second).status_code == 303


def test_tokens_are_stored_only_as_hashes(client, session, outbox):
    client.post("/sign-up", data=SIGN_UP)
    token = outbox.last_link("priya@quasar.example", "/confirm-email/").rsplit("/", 1)[1]
    stored = session.query(AccountToken).one()
    assert stored.token_hash != token and token not in stored.token_hash


# --- password reset ---------------------------------------------------------------------------------------


def test_reset_answers_the_same_whether_or_not_the_address_exists(client, outbox):
    BuyerFactory(email="maya@lab.example")
    known = client.post("/forgot-password", data={"email": "maya@lab.example"}, follow_redirects=True)
    unknown = client.post("/forgot-password", data={"email": "nobody@lab.example"}, follow_redirects=True)
    assert known.status_code == unknown.status_code == 200
    assert b"If an account uses that address" in known.data and b"If an account uses that address" in unknown.data
    assert len(outbox.to("maya@lab.example")) == 1 and outbox.to("nobody@lab.example") == []


def test_reset_sets_the_password_ends_every_session_and_works_once(client, app, session, outbox, login_as):
    maya = BuyerFactory(email="maya@lab.example")
    other_device = app.test_client()
    other_device.post("/sign-in", data={"email": "maya@lab.example", "password": PASSWORD})
    assert other_device.get("/team").status_code == 200
    client.post("/forgot-password", data={"email": "maya@lab.example"})
    path = _path(outbox.last_link("maya@lab.example", "/reset-password/"))
    assert b"Choose a new password" in client.get(path).data
    done = client.post(path, data={"password": "a brand new password", "confirm": "a brand new password"})
    assert done.status_code == 303
    assert other_device.get("/team").status_code == 302  # signed out everywhere
    assert (
        client.post(path, data={"password": "another new password", "confirm": "another new password"}).status_code
        == 404
    )
    ok = client.post("/sign-in", data={"email": "maya@lab.example", "password": "a brand new password"})
    assert ok.status_code == 303
    assert session.query(AuditRecord).filter_by(action="user.password_reset", subject_id=maya.id).count() == 1


def test_reset_link_expires_after_an_hour(client, session, outbox):
    maya = BuyerFactory(email="maya@lab.example")
    client.post("/forgot-password", data={"email": "maya@lab.example"})
    path = _path(outbox.last_link("maya@lab.example", "/reset-password/"))
    with time_machine.travel(utcnow() + timedelta(hours=1, minutes=1)):
        response = client.post(path, data={"password": "a brand new password", "confirm": "a brand new password"})
    assert response.status_code == 404
    assert verify_password(session.get(User, maya.id).password_hash, PASSWORD)


def test_reset_with_mismatched_passwords_keeps_the_link_usable(client, outbox):
    BuyerFactory(email="maya@lab.example")
    client.post("/forgot-password", data={"email": "maya@lab.example"})
    path = _path(outbox.last_link("maya@lab.example", "/reset-password/"))
    refused = client.post(path, data={"password": "a brand new password", "confirm": "something else"})
    assert refused.status_code == 400 and b"The passwords differ." in refused.data
    assert (
        client.post(path, data={"password": "a brand new password", "confirm": "a brand new password"}).status_code
        == 303
    )


def test_a_newer_reset_link_voids_the_older(client, outbox):
    BuyerFactory(email="maya@lab.example")
    client.post("/forgot-password", data={"email": "maya@lab.example"})
    first = _path(outbox.last_link("maya@lab.example", "/reset-password/"))
    client.post("/forgot-password", data={"email": "maya@lab.example"})
    assert client.get(first).status_code == 404


def test_mail_bodies_carry_the_link_but_the_audit_trail_does_not(client, session, outbox):
    BuyerFactory(email="maya@lab.example")
    client.post("/forgot-password", data={"email": "maya@lab.example"})
    token = outbox.last_link("maya@lab.example", "/reset-password/").rsplit("/", 1)[1]
    for record in session.query(AuditRecord).all():
        assert token not in repr(record.after) and token not in repr(record.before)


def test_reset_confirms_an_unconfirmed_address(client, session, outbox):
    user = BuyerFactory(email="maya@lab.example", email_verified_at=None)
    tokens = security.request_password_reset(session, "maya@lab.example")
    security.reset_password(session, tokens.token, "a brand new password")
    assert session.get(User, user.id).email_verified
