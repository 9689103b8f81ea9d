"""Rotating SECRET_KEY (after a leak, or on a schedule): sessions signed with the old key stay valid while it is a
fallback, and each vendor's codename tag and leak mark stay the same when MARKING_KEY keeps them apart from it."""

from contextlib import contextmanager

import pytest
from flask import g

from marketplace.codenames import derived, tag_for
from marketplace.config import load_config
from tests.factories import BuyerFactory

OLD, NEW = "test-secret", "a-new-secret-after-the-old-one-leaked"


@contextmanager
def keys(app, **config):
    saved = {name: app.config.get(name) for name in ("SECRET_KEY", "SECRET_KEY_FALLBACKS", "MARKING_KEY")}
    app.config.update(config)
    try:
        yield
    finally:
        app.config.update(saved)


@pytest.fixture
def signed_in(app, client, login_as):
    assert app.config["SECRET_KEY"] == OLD
    login_as(BuyerFactory())
    assert client.get("/jobs/").status_code == 200
    g.pop("_login_user", None)
    return client


def _page(client):
    g.pop("_login_user", None)  # the tests share one app context: a real request starts without Flask-Login's user
    return client.get("/jobs/")


def test_a_session_signed_with_the_old_key_stays_valid_while_it_is_a_fallback(app, signed_in):
    with keys(app, SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[OLD]):
        assert _page(signed_in).status_code == 200


def test_without_the_fallback_the_old_session_is_signed_out(app, signed_in):
    with keys(app, SECRET_KEY=NEW, SECRET_KEY_FALLBACKS=[]):
        page = _page(signed_in)
    assert page.status_code == 302 and "/sign-in" in page.headers["Location"]


def test_tags_and_marks_follow_the_marking_key_not_the_rotated_secret(app):
    before = (tag_for(7, 42), derived(b"leak-marks", 7, 42))
    with keys(app, SECRET_KEY=NEW, MARKING_KEY=OLD):
        assert (tag_for(7, 42), derived(b"leak-marks", 7, 42)) == before
    with keys(app, SECRET_KEY=NEW, MARKING_KEY=""):
        assert derived(b"leak-marks", 7, 42) != before[1]  # what MARKING_KEY is for: without it, every mark moves


def test_the_environment_names_the_fallbacks_and_the_marking_key(tmp_path):
    config = load_config(
        {"SECRET_KEY": NEW, "SECRET_KEY_FALLBACKS": f"{OLD}, , older ", "MARKING_KEY": OLD}, instance_dir=tmp_path
    )
    assert config["SECRET_KEY_FALLBACKS"] == [OLD, "older"] and config["MARKING_KEY"] == OLD
    assert load_config({"SECRET_KEY": NEW}, instance_dir=tmp_path)["SECRET_KEY_FALLBACKS"] == []
