from flask import url_for

from tests.factories import BuyerFactory


def test_landing_page_invites_both_sides(client):
    response = client.get("/")
    assert b"I'm an AI lab" in response.data


def test_sign_in_page_shows_demo_logins(client):
    response = client.get("/sign-in")
    assert b"demo-password-2026" in response.data


def test_signed_in_buyer_is_sent_to_jobs(client, login_as):
    login_as(BuyerFactory())
    response = client.get("/home")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(url_for("jobs.index"))
