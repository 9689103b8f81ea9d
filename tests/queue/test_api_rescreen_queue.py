"""The API's rival and policy writes queue their re-screen as the pages do: the request answers at once with
`verdicts_updating`, the stored verdict is the old one until a worker runs, and then it is the new one."""

from sqlalchemy import select

from marketplace import tasks
from marketplace.accounts.models import User
from marketplace.api import tokens
from marketplace.extensions import db
from marketplace.screening.engine.verdicts import Policy
from marketplace.screening.models import PendingRescreen, Rival
from marketplace.screening.services import queued
from marketplace.screening.services.refresh import refresh_verdicts
from tests.queue.test_rescreen_queue import _buyer_with_a_tied_vendor, _pending, _stored


def _token_of(user_id: int) -> str:
    return tokens.create_token(db.session, db.session.get(User, user_id), "Risk sync", ["screening:write"], 30).secret


def _named_without_the_queue(ids) -> None:
    """The rival named and its verdicts stored at once (no queued change, so the policy's is the first)."""
    db.session.add(Rival(buyer_org_id=ids["buyer_org"], party_id=ids["rival_party"], added_by_id=ids["buyer"]))
    db.session.flush()
    refresh_verdicts(db.session, None, buyer_org_ids=[ids["buyer_org"]])


def _api(bed, method: str, path: str, secret: str, body: dict):
    return bed.test_client().open(path, method=method, json=body, headers={"Authorization": f"Bearer {secret}"})


def test_a_rival_named_over_the_api_is_screened_on_the_queue(bed, build, run_worker):
    ids = build(lambda: _buyer_with_a_tied_vendor())
    secret = build(lambda: _token_of(ids["buyer"]))
    response = _api(bed, "POST", "/api/v1/rivals", secret, {"party_id": ids["rival_party"]})
    assert response.status_code == 201 and response.json["verdicts_updating"] is True
    with bed.app_context():
        assert _stored(ids["buyer_org"], ids["tied_org"]) == "clear"  # not re-screened in the request
        [pending] = _pending(ids["buyer_org"])
        assert tasks.queue(bed).job_ids == [queued.job_id(pending.id)]
        db.session.remove()
    run_worker()
    with bed.app_context():
        assert _stored(ids["buyer_org"], ids["tied_org"]) == "exclude"
        assert db.session.execute(select(PendingRescreen)).first() is None
        db.session.remove()


def test_a_policy_changed_over_the_api_is_screened_on_the_queue(bed, build, run_worker):
    ids = build(lambda: _buyer_with_a_tied_vendor())
    secret = build(lambda: _token_of(ids["buyer"]))
    build(lambda: _named_without_the_queue(ids))
    actions = {str(rule): str(action) for rule, action in Policy().actions.items()}
    body = {"exclude_at": 40.0, "review_at": 15.0, "people_window_months": 24, "actions": actions}
    response = _api(bed, "PUT", "/api/v1/screening/policy", secret, body)
    assert response.status_code == 200 and response.json["verdicts_updating"] is True
    with bed.app_context():
        assert _stored(ids["buyer_org"], ids["tied_org"]) == "exclude"  # still the old verdict
        assert len(_pending(ids["buyer_org"])) == 1
        db.session.remove()
    run_worker()
    with bed.app_context():
        assert _stored(ids["buyer_org"], ids["tied_org"]) == "review"  # 30% is under the new 40% threshold
        db.session.remove()
