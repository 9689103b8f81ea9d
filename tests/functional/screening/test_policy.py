"""The buyer's screening policy page: thresholds, what each rule does, the people window."""

import re

import pytest
from flask import url_for
from sqlalchemy import select

from marketplace.accounts.models import Organization, User
from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow
from marketplace.disclosures.models import DisclosureStatus
from marketplace.jobs.models import Visibility
from marketplace.notifications.models import Notification
from marketplace.screening.models import ScreeningPolicy, VerdictRecord
from marketplace.screening.services.refresh import refresh_verdicts
from tests.factories import (
    AdminFactory,
    BuyerFactory,
    DisclosureFactory,
    InterestFactory,
    JobFactory,
    PartyFactory,
    RivalFactory,
    VendorFactory,
)

DEFAULT_ACTIONS = {
    "control_action": "exclude",
    "ownership_action": "threshold",
    "board_action": "exclude",
    "people_action": "review",
    "contract_action": "review",
    "unknown_action": "review",
    "unverified_action": "review",
    "possible_match_action": "review",
}


def policy_form(**overrides) -> dict:
    data = {"exclude_at": "25", "review_at": "10", "people_window_months": "24", **DEFAULT_ACTIONS}
    data.update(overrides)
    return data


def field_block(html: str, name: str) -> str:
    """The rendered field (label, input, hint, errors) holding the input or select called `name`."""
    for block in html.split('<div class="field')[1:]:
        if f'name="{name}"' in block:
            return block
    raise AssertionError(f"no field {name} on the page")


def saved_policy(session, org_id):
    return session.execute(select(ScreeningPolicy).where(ScreeningPolicy.buyer_org_id == org_id)).scalar_one_or_none()


@pytest.mark.parametrize("make_user", [VendorFactory, AdminFactory], ids=["vendor", "admin"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_only_buyers_set_a_policy(client, login_as, make_user, method):
    login_as(make_user())
    response = getattr(client, method)("/screening/policy", data=policy_form())
    assert response.status_code == 403


def test_a_new_buyer_sees_the_defaults(client, login_as):
    login_as(BuyerFactory())
    html = client.get("/screening/policy").get_data(as_text=True)
    assert re.search(r'name="exclude_at"[^>]*value="25"', html)
    assert re.search(r'name="review_at"[^>]*value="10"', html)
    assert re.search(r'name="people_window_months"[^>]*value="24"', html)
    assert '<option selected value="threshold">' in field_block(html, "ownership_action")
    assert '<option selected value="review">Review' in field_block(html, "people_action")
    # The page links to its neighbours.
    assert 'href="/rivals"' in html and 'href="/vendors"' in html


def test_buyer_saves_a_policy_it_is_audited_and_vendors_are_screened_again(client, login_as, session):
    buyer = login_as(BuyerFactory())
    vendor = VendorFactory()
    DisclosureFactory(vendor_org_id=vendor.org_id, status=DisclosureStatus.APPROVED, decided_at=utcnow())
    response = client.post(
        "/screening/policy",
        data=policy_form(
            exclude_at="40",
            review_at="5",
            people_window_months="36",
            people_action="exclude",
            unverified_action="ignore",
            ownership_action="review",
        ),
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/screening/policy")
    saved = saved_policy(session, buyer.org_id)
    assert (saved.exclude_at, saved.review_at, saved.people_window_months) == (40.0, 5.0, 36)
    assert saved.actions["people"] == "exclude" and saved.actions["unverified"] == "ignore"
    assert saved.actions["ownership"] == "review" and saved.actions["board"] == "exclude"
    [record] = session.execute(select(AuditRecord).where(AuditRecord.action == "policy.changed")).scalars().all()
    assert record.buyer_org_id == buyer.org_id and record.actor_id == buyer.id
    assert record.before["exclude_at"] == 25.0 and record.after["exclude_at"] == 40.0
    assert record.before["actions"]["people"] == "review" and record.after["actions"]["people"] == "exclude"
    # Screening ran again for this buyer: every vendor now has a verdict on record.
    screened = (
        session.execute(select(VerdictRecord.vendor_org_id).where(VerdictRecord.buyer_org_id == buyer.org_id))
        .scalars()
        .all()
    )
    assert vendor.org_id in screened

    html = client.get("/screening/policy").get_data(as_text=True)
    assert "Policy saved" in html
    assert re.search(r'name="exclude_at"[^>]*value="40"', html)


def test_saving_the_same_policy_again_changes_nothing(client, login_as, session):
    login_as(BuyerFactory())
    client.post("/screening/policy", data=policy_form(review_at="12"))
    response = client.post("/screening/policy", data=policy_form(review_at="12"), follow_redirects=True)
    assert "Your policy is unchanged." in response.get_data(as_text=True)
    records = session.execute(select(AuditRecord).where(AuditRecord.action == "policy.changed")).scalars().all()
    assert len(records) == 1


def test_review_threshold_above_exclude_is_refused_next_to_it_with_the_values_kept(client, login_as, session):
    buyer = login_as(BuyerFactory())
    response = client.post("/screening/policy", data=policy_form(exclude_at="20", review_at="30"))
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    block = field_block(html, "review_at")
    assert "The review threshold must be at or below the exclude threshold (20%)." in block
    assert 'value="30"' in block and 'value="20"' in field_block(html, "exclude_at")
    assert saved_policy(session, buyer.org_id) is None


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("exclude_at", "150", "Give the exclude threshold as a percentage from 0 to 100."),
        ("exclude_at", "lots", "Give the exclude threshold as a percentage from 0 to 100."),
        ("review_at", "-1", "Give the review threshold as a percentage from 0 to 100."),
        ("review_at", "", "Give the review threshold as a percentage from 0 to 100."),
        ("people_window_months", "0", "Give the people window in whole months, from 1 to 120."),
        ("people_window_months", "121", "Give the people window in whole months, from 1 to 120."),
        ("people_window_months", "2.5", "Give the people window in whole months, from 1 to 120."),
        ("ownership_action", "sometimes", "Not a valid choice."),
        ("board_action", "threshold", "Not a valid choice."),
    ],
)
def test_bad_values_are_refused_next_to_their_field(client, login_as, session, name, value, message):
    buyer = login_as(BuyerFactory())
    response = client.post("/screening/policy", data=policy_form(**{name: value}))
    assert response.status_code == 400
    block = field_block(response.get_data(as_text=True), name)
    assert message in block
    assert block.count('class="error"') == 1
    if "action" not in name and value:
        assert f'value="{value}"' in block
    assert saved_policy(session, buyer.org_id) is None


def test_a_percent_sign_and_a_decimal_comma_are_understood(client, login_as, session):
    buyer = login_as(BuyerFactory())
    assert client.post("/screening/policy", data=policy_form(exclude_at="30%", review_at="7,5")).status_code == 303
    saved = saved_policy(session, buyer.org_id)
    assert (saved.exclude_at, saved.review_at) == (30.0, 7.5)


def test_the_edges_of_each_range_are_accepted(client, login_as, session):
    buyer = login_as(BuyerFactory())
    response = client.post(
        "/screening/policy", data=policy_form(exclude_at="100", review_at="0", people_window_months="120")
    )
    assert response.status_code == 303
    saved = saved_policy(session, buyer.org_id)
    assert (saved.exclude_at, saved.review_at, saved.people_window_months) == (100.0, 0.0, 120)
    response = client.post(
        "/screening/policy", data=policy_form(exclude_at="15", review_at="15", people_window_months="1")
    )
    assert response.status_code == 303
    assert saved_policy(session, buyer.org_id).review_at == 15.0


def test_each_buyer_has_its_own_policy(client, login_as, session):
    first = login_as(BuyerFactory())
    client.post("/screening/policy", data=policy_form(exclude_at="60"))
    second = login_as(BuyerFactory())
    html = client.get(url_for("screening.policy")).get_data(as_text=True)
    assert re.search(r'name="exclude_at"[^>]*value="25"', html)
    assert saved_policy(session, first.org_id).exclude_at == 60.0
    assert saved_policy(session, second.org_id) is None


def test_a_stricter_policy_excludes_at_once_and_the_buyer_is_told(client, login_as, session):
    buyer = BuyerFactory()
    vendor = VendorFactory()
    DisclosureFactory(vendor_org_id=vendor.org_id, status=DisclosureStatus.APPROVED, decided_at=utcnow())
    rival = RivalFactory(buyer_org_id=buyer.org_id, party_id=PartyFactory(name="Helix Dynamics").id)
    org = session.get(Organization, vendor.org_id)
    InterestFactory(interested_party_id=rival.party_id, subject_party_id=org.party_id, share_exact=15.0)
    job = JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.CONFIDENTIAL)
    refresh_verdicts(session, None, buyer_org_ids=[buyer.org_id])
    login_as(buyer)
    assert 'data-verdict="review"' in client.get("/vendors").get_data(as_text=True)

    assert client.post("/screening/policy", data=policy_form(exclude_at="12", review_at="5")).status_code == 303
    assert 'data-verdict="review"' not in client.get("/vendors", query_string={"show_excluded": "y"}).get_data(
        as_text=True
    )
    messages = (
        session.execute(
            select(Notification.message).join(User, User.id == Notification.user_id).where(User.org_id == buyer.org_id)
        )
        .scalars()
        .all()
    )
    assert any("review → exclude" in message for message in messages)
    login_as(vendor)
    assert client.get(f"/jobs/{job.id}").status_code == 404


def test_a_suspended_buyer_may_read_its_policy_but_not_change_it(client, login_as, session):
    buyer = login_as(BuyerFactory())
    org = session.get(Organization, buyer.org_id)
    org.suspended_at, org.suspended_reason = utcnow(), "Unpaid invoices."
    session.flush()
    assert client.get("/screening/policy").status_code == 200
    response = client.post("/screening/policy", data=policy_form(exclude_at="60"))
    assert response.status_code == 403 and "Unpaid invoices." in response.get_data(as_text=True)
    assert saved_policy(session, buyer.org_id) is None
