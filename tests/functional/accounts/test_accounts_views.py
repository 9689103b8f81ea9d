from flask import url_for

from marketplace.accounts.models import Organization, User, VendorProfile
from marketplace.extensions import limiter
from tests.factories import PASSWORD, BuyerFactory, VendorFactory

SIGN_UP = {
    "kind": "buyer",
    "org_name": "Quasar Research",
    "name": "Priya",
    "email": "priya@quasar.example",
    "password": "a long enough password",
    "confirm": "a long enough password",
    "timezone": "Europe/Paris",
}


def test_sign_up_mails_a_link_and_the_address_is_confirmed_before_first_use(client, session, outbox):
    response = client.post("/sign-up", data=SIGN_UP)
    assert response.status_code == 303
    assert response.headers["Location"] == "/sign-up/check-email"
    assert b"Check your email to confirm your address" in client.get("/sign-up/check-email").data
    user = session.query(User).filter_by(email="priya@quasar.example").one()
    assert user.timezone == "Europe/Paris" and not user.email_verified
    # Signed in, an unconfirmed user sees only the page asking to confirm.
    client.post("/sign-in", data={"email": "priya@quasar.example", "password": SIGN_UP["password"]})
    blocked = client.get("/team")
    assert blocked.status_code == 302 and blocked.headers["Location"] == "/confirm-email"
    link = outbox.last_link("priya@quasar.example", "/confirm-email/")
    path = link.split("localhost", 1)[1]
    assert b"Confirm my address" in client.get(path).data
    assert not session.get(User, user.id).email_verified  # nothing changes on GET
    assert client.post(path).status_code == 303
    assert session.get(User, user.id).email_verified
    assert client.get("/team").status_code == 200


def test_sign_up_with_a_short_password_keeps_what_was_typed(client):
    response = client.post("/sign-up", data={**SIGN_UP, "password": "short", "confirm": "short"})
    assert response.status_code == 400
    assert b"Use at least 12 characters." in response.data
    assert b'value="Quasar Research"' in response.data
    assert b'value="priya@quasar.example"' in response.data


def test_sign_up_with_a_taken_email_answers_the_same_and_tells_the_owner(client, session, outbox):
    BuyerFactory(email="priya@quasar.example")
    fresh = client.post("/sign-up", data={**SIGN_UP, "email": "new@quasar.example", "org_name": "Fresh Lab"})
    taken = client.post("/sign-up", data=SIGN_UP)
    assert (taken.status_code, taken.headers["Location"]) == (fresh.status_code, fresh.headers["Location"])
    assert b"already exists" not in taken.data
    [warning] = outbox.to("priya@quasar.example")
    assert warning["Subject"] == "Someone tried to sign up with your address"
    assert session.query(Organization).filter_by(name="Quasar Research").count() == 0


def test_sign_in_with_a_wrong_password_is_refused_and_keeps_the_email(client):
    BuyerFactory(email="maya@lab.example")
    response = client.post("/sign-in", data={"email": "maya@lab.example", "password": "nope"})
    assert response.status_code == 400
    assert b"do not match an account" in response.data
    assert b'value="maya@lab.example"' in response.data


def test_sign_in_follows_next_inside_the_site_only(client):
    BuyerFactory(email="maya@lab.example")
    ok = client.post("/sign-in?next=/team", data={"email": "maya@lab.example", "password": PASSWORD})
    assert ok.headers["Location"] == "/team"
    client.post("/sign-out")
    evil = client.post("/sign-in?next=//evil.example/", data={"email": "maya@lab.example", "password": PASSWORD})
    assert "evil.example" not in evil.headers["Location"]


def test_session_cookie_is_httponly_and_lax(client):
    BuyerFactory(email="maya@lab.example")
    response = client.post("/sign-in", data={"email": "maya@lab.example", "password": PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_cookie_copied_before_sign_out_stops_working(client, app):
    BuyerFactory(email="maya@lab.example")
    client.post("/sign-in", data={"email": "maya@lab.example", "password": PASSWORD})
    stolen = client.get_cookie("session").value
    client.post("/sign-out")
    client.set_cookie("session", stolen)
    response = client.get("/team")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_sign_in_is_throttled(client, app):
    limiter.reset()
    app.config["LOGIN_RATE_LIMIT"] = "3 per minute"
    try:
        codes = [
            client.post("/sign-in", data={"email": "x@y.example", "password": "nope"}).status_code for _ in range(4)
        ]
    finally:
        app.config["LOGIN_RATE_LIMIT"] = "1000 per minute"
        limiter.reset()
    assert codes == [400, 400, 400, 429]


def test_invite_a_colleague_who_then_joins(client, login_as, session, outbox):
    buyer = login_as(BuyerFactory())
    response = client.post("/team", data={"email": "sam@lab.example"})
    assert response.status_code == 200
    link = response.get_data(as_text=True).split('data-testid="invite-link"')[0].rsplit('value="', 1)[1]
    token = link.split("/invite/")[1].split('"')[0]
    client.post("/sign-out")
    joined = client.post(
        f"/invite/{token}", data={"name": "Sam", "password": "p" * 12, "confirm": "p" * 12, "timezone": "UTC"}
    )
    assert joined.status_code == 303
    sam = session.query(User).filter_by(email="sam@lab.example").one()
    assert sam.org_id == buyer.org_id and not sam.email_verified
    client.post("/sign-out")
    # The link once used says so, whether opened again later or sent twice at once (tests/concurrency).
    again = client.get(f"/invite/{token}")
    assert again.status_code == 303 and again.headers["Location"].endswith("/sign-in")
    assert b"This invitation has been accepted already" in client.get("/sign-in").data
    assert "/confirm-email/" in outbox.last_link("sam@lab.example", "/confirm-email/")


def test_the_invitation_is_mailed_to_the_colleague_with_the_same_link(client, login_as, session, outbox):
    login_as(BuyerFactory(name="Maya Lindqvist"))
    page = client.post("/team", data={"email": "sam@lab.example"}).get_data(as_text=True)
    shown = page.split('data-testid="invite-link"')[0].rsplit('value="', 1)[1].split('"')[0]
    assert "Invitation mailed to sam@lab.example; the link is below too." in page
    assert outbox.last_link("sam@lab.example", "/invite/") == shown


def test_a_time_zone_is_typed_with_suggestions_and_only_a_real_one_is_kept(client, login_as, session):
    user = login_as(BuyerFactory())
    page = client.get("/settings").get_data(as_text=True)
    assert 'list="timezones"' in page and '<option value="Europe/Lisbon">' in page
    assert client.post("/settings", data={"name": "Maya", "timezone": " Europe/Lisbon "}).status_code == 303
    assert session.get(User, user.id).timezone == "Europe/Lisbon"
    refused = client.post("/settings", data={"name": "Maya", "timezone": "Lisbon"})
    assert refused.status_code == 400
    assert "Choose a time zone from the list, e.g. Europe/Paris or America/New_York." in refused.get_data(as_text=True)
    assert 'value="Lisbon"' in refused.get_data(as_text=True)  # what was typed comes back
    assert session.get(User, user.id).timezone == "Europe/Lisbon"


def test_unknown_invitation_is_404(client):
    assert client.get("/invite/not-a-token").status_code == 404


def test_vendor_saves_its_profile(client, login_as, session):
    vendor = login_as(VendorFactory())
    response = client.post(
        "/profile",
        data={
            "summary": "Careful annotators",
            "modalities": ["image", "text"],
            "task_types": ["segmentation"],
            "certifications": ["iso27001"],
            "languages": "English, Japanese",
            "workforce_size": "120",
            "workforce_locations": "Nairobi, Manila",
            "data_handling": ["vpc"],
        },
    )
    assert response.status_code == 303
    profile = session.query(VendorProfile).filter_by(org_id=vendor.org_id).one()
    assert profile.languages == ["English", "Japanese"]
    assert profile.modalities == ["image", "text"]
    page = client.get(url_for("accounts.vendor_profile", org_id=vendor.org_id))
    assert b"Careful annotators" in page.data and b"Nairobi, Manila" in page.data


def test_buyer_cannot_keep_a_vendor_profile(client, login_as):
    login_as(BuyerFactory())
    assert client.get("/profile").status_code == 403


def test_settings_change_the_time_zone(client, login_as, session):
    user = login_as(BuyerFactory())
    response = client.post("/settings", data={"name": "Maya", "timezone": "Asia/Tokyo"})
    assert response.status_code == 303
    assert session.get(User, user.id).timezone == "Asia/Tokyo"


def test_bad_time_zone_is_refused(client, login_as):
    login_as(BuyerFactory())
    response = client.post("/settings", data={"name": "Maya", "timezone": "Mars/Olympus"})
    assert response.status_code == 400
