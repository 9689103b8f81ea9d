"""marketplace.changes: a change of ties is always answered by screening, or refused."""

import pytest

from marketplace import changes
from marketplace.screening.services import queued


def test_the_app_registers_screening_once(app):
    from marketplace import create_app

    create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "x"})  # a second app: still one listener
    assert changes._listeners.count(queued.ties_changed) == 1


def test_a_change_nobody_answers_is_an_error_not_a_silent_skip(monkeypatch):
    monkeypatch.setattr(changes, "_listeners", [])
    with pytest.raises(changes.NobodyListening):
        changes.ties_changed(None, None, party_ids=[1])


def test_every_listener_hears_the_parties_and_vendors(monkeypatch):
    heard = []
    monkeypatch.setattr(changes, "_listeners", [])
    changes.listen(lambda session, actor, **kwargs: heard.append((session, actor, kwargs)))
    changes.ties_changed("session", "admin", party_ids=(p for p in (3, 4)), vendor_org_ids={7})
    changes.ties_changed("session", None, party_ids=None)
    assert heard == [
        ("session", "admin", {"party_ids": [3, 4], "vendor_org_ids": [7]}),
        ("session", None, {"party_ids": None, "vendor_org_ids": []}),
    ]
