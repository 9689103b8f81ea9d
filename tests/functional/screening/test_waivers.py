"""Waiving a review finding for one vendor, and withdrawing the waiver."""

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow
from marketplace.jobs.models import Visibility
from marketplace.parties.models import Interest
from marketplace.screening.models import Waiver
from tests.factories import (
    AdminFactory,
    BuyerFactory,
    InterestFactory,
    JobFactory,
    PartyFactory,
    RivalFactory,
    VendorFactory,
    VerifiedVendorOrgFactory,
)


@pytest.fixture
def review(session):
    """Helix Dynamics (the buyer's rival) holds 15% of Tagwell: a review finding. A confidential job waits."""
    buyer = BuyerFactory()
    vendor = VerifiedVendorOrgFactory(name="Tagwell")
    helix = PartyFactory(name="Helix Dynamics")
    RivalFactory(buyer_org_id=buyer.org_id, party_id=helix.id)
    stake = InterestFactory(interested_party_id=helix.id, subject_party_id=vendor.party_id, share_exact=15.0)
    job = JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.CONFIDENTIAL, title="Osprey eval set")
    return {
        "buyer": buyer,
        "vendor": vendor,
        "helix": helix,
        "stake": stake,
        "job": job,
        "vendor_user": VendorFactory(org_id=vendor.id),
    }


def waive(client, scene, reason="We audited their cap table ourselves.", rule="ownership", rival=None):
    rival_id = scene["helix"].id if rival is None else rival
    return client.post(
        f"/vendors/{scene['vendor'].id}/waivers",
        data={"rule": rule, "rival_party_id": "" if rival_id == "" else str(rival_id), "reason": reason},
    )


def waivers(session, vendor):
    return session.execute(select(Waiver).where(Waiver.vendor_org_id == vendor.id)).scalars().all()


def audit(session, action):
    return session.execute(select(AuditRecord).where(AuditRecord.action == action)).scalars().all()


def vendor_can_open(client, login_as, scene) -> bool:
    login_as(scene["vendor_user"])
    return client.get(f"/jobs/{scene['job'].id}").status_code == 200


def test_buyer_waives_a_review_finding_and_the_vendor_may_see_confidential_jobs(client, login_as, session, review):
    assert not vendor_can_open(client, login_as, review)
    buyer = login_as(review["buyer"])
    response = waive(client, review)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/vendors/{review['vendor'].id}/screening")
    [saved] = waivers(session, review["vendor"])
    assert (saved.buyer_org_id, saved.rule, saved.rival_party_id) == (buyer.org_id, "ownership", review["helix"].id)
    assert saved.reason == "We audited their cap table ourselves."
    [record] = audit(session, "waiver.added")
    assert record.after["reason"] == saved.reason and record.vendor_org_id == review["vendor"].id
    assert record.buyer_org_id == buyer.org_id

    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Finding waived" in html and 'data-testid="waived"' in html
    assert "We audited their cap table ourselves." in html
    # The buyer is still shown the finding: the verdict stays review, access is what changes.
    assert "badge-review" in html and "Waivers leave it <strong>clear</strong> for access" in html
    assert 'data-testid="waive-form"' not in html
    assert vendor_can_open(client, login_as, review)


@pytest.mark.parametrize(
    "reason, message",
    [
        ("", "Say why you accept this finding: the reason is kept in the audit trail."),
        ("   ", "Say why you accept this finding: the reason is kept in the audit trail."),
        ("x" * 2001, "Use at most 2000 characters."),
    ],
)
def test_a_reason_is_required_and_refused_next_to_the_field(client, login_as, session, review, reason, message):
    login_as(review["buyer"])
    response = waive(client, review, reason=reason)
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    form = html.split('data-testid="waive-form"')[1].split("</form>")[0]
    assert message in form
    if reason.strip():
        assert reason in form
    assert waivers(session, review["vendor"]) == []


def test_an_exclude_finding_cannot_be_waived(client, login_as, session, review):
    review["stake"].share_exact = 49.0
    session.flush()
    login_as(review["buyer"])
    response = waive(client, review)
    assert response.status_code == 400
    assert "An exclude finding cannot be waived; only review findings can." in response.get_data(as_text=True)
    assert waivers(session, review["vendor"]) == []
    assert audit(session, "waiver.added") == []


def test_a_finding_the_vendor_does_not_have_is_refused(client, login_as, session, review):
    login_as(review["buyer"])
    response = waive(client, review, rule="board")
    assert response.status_code == 400
    assert "That finding is no longer there" in response.get_data(as_text=True)
    response = waive(client, review, rival=PartyFactory().id)
    assert response.status_code == 400
    assert waivers(session, review["vendor"]) == []


def test_waiving_twice_is_refused(client, login_as, session, review):
    login_as(review["buyer"])
    assert waive(client, review).status_code == 303
    response = waive(client, review, reason="Again")
    assert response.status_code == 400
    assert "You have already waived that finding." in response.get_data(as_text=True)
    assert len(waivers(session, review["vendor"])) == 1


def test_buyer_withdraws_a_waiver_and_the_vendor_loses_sight_again(client, login_as, session, review):
    login_as(review["buyer"])
    waive(client, review)
    [saved] = waivers(session, review["vendor"])
    response = client.post(f"/vendors/{review['vendor'].id}/waivers/{saved.id}/remove")
    assert response.status_code == 303
    assert waivers(session, review["vendor"]) == []
    [record] = audit(session, "waiver.removed")
    assert record.before["reason"] == "We audited their cap table ourselves."
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Waiver withdrawn" in html and 'data-testid="waive-form"' in html
    assert not vendor_can_open(client, login_as, review)


def test_a_waiver_whose_finding_is_gone_is_listed_and_can_be_removed(client, login_as, session, review):
    login_as(review["buyer"])
    waive(client, review)
    session.delete(session.get(Interest, review["stake"].id))
    session.flush()
    html = client.get(f"/vendors/{review['vendor'].id}/screening").get_data(as_text=True)
    assert 'data-testid="idle-waiver"' in html and "We audited their cap table ourselves." in html
    [saved] = waivers(session, review["vendor"])
    assert f"/vendors/{review['vendor'].id}/waivers/{saved.id}/remove" in html


def test_another_buyers_waiver_cannot_be_removed(client, login_as, session, review):
    login_as(review["buyer"])
    waive(client, review)
    [saved] = waivers(session, review["vendor"])
    login_as(BuyerFactory())
    assert client.post(f"/vendors/{review['vendor'].id}/waivers/{saved.id}/remove").status_code == 404
    login_as(review["buyer"])
    other_vendor = VerifiedVendorOrgFactory(name="Elsewhere")
    assert client.post(f"/vendors/{other_vendor.id}/waivers/{saved.id}/remove").status_code == 404
    assert client.post(f"/vendors/{review['vendor'].id}/waivers/999999/remove").status_code == 404
    assert len(waivers(session, review["vendor"])) == 1


def test_waiving_for_an_organisation_that_is_not_a_vendor_is_404(client, login_as, review):
    login_as(review["buyer"])
    assert (
        client.post(f"/vendors/{review['buyer'].org_id}/waivers", data={"rule": "ownership", "reason": "x"}).status_code
        == 404
    )
    assert client.post("/vendors/999999/waivers", data={"rule": "ownership", "reason": "x"}).status_code == 404


@pytest.mark.parametrize("make_user", [VendorFactory, AdminFactory], ids=["vendor", "admin"])
def test_only_buyers_waive(client, login_as, session, review, make_user):
    login_as(make_user())
    assert waive(client, review).status_code == 403
    assert client.post(f"/vendors/{review['vendor'].id}/waivers/1/remove").status_code == 403
    assert waivers(session, review["vendor"]) == []


def test_a_waiver_is_the_buyers_own(client, login_as, session, review):
    """Another buyer naming the same rival still sees the finding unwaived."""
    login_as(review["buyer"])
    waive(client, review)
    other = login_as(BuyerFactory())
    RivalFactory(buyer_org_id=other.org_id, party_id=review["helix"].id)
    html = client.get(f"/vendors/{review['vendor'].id}/screening").get_data(as_text=True)
    assert 'data-testid="waive-form"' in html and 'data-testid="waived"' not in html


def test_a_suspended_buyer_may_read_but_not_waive(client, login_as, session, review):
    buyer_org = session.get(Organization, review["buyer"].org_id)
    buyer_org.suspended_at, buyer_org.suspended_reason = utcnow(), "Unpaid invoices."
    session.flush()
    login_as(review["buyer"])
    assert client.get(f"/vendors/{review['vendor'].id}/screening").status_code == 200
    response = waive(client, review)
    assert response.status_code == 403 and "Unpaid invoices." in response.get_data(as_text=True)
    assert waivers(session, review["vendor"]) == []
