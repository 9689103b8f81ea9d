"""Platform admins review disclosures over the API with a personal token, through the review pages' own services:
the queue in its order, page by page; a filed version with what changed and what approving it would do; the
decision with its rules (a reason to send back or reject; a decided version stays decided); drafts stay private."""

from datetime import timedelta

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.notifications.models import Notification
from marketplace.parties.models import Interest, TieOrigin, VerificationLevel
from tests.factories import (
    AdminFactory,
    BuyerFactory,
    DisclosureFactory,
    InterestFactory,
    PartyFactory,
    VendorFactory,
)


def _filed(session, vendor, *, number=1, share=30.0, holder=None, **fields):
    """A version of the vendor's filed with one shareholding tie (self-declared, as filed)."""
    version = DisclosureFactory(vendor_org_id=vendor.org_id, number=number, **fields)
    InterestFactory(
        interested_party_id=(holder or PartyFactory(name="Harrow Capital")).id,
        subject_party_id=session.get(Organization, vendor.org_id).party_id,
        share_exact=share,
        origin=TieOrigin.DISCLOSURE,
        disclosure_id=version.id,
        verification_level=VerificationLevel.SELF_DECLARED,
    )
    return version


def test_the_queue_lists_submitted_versions_longest_waiting_first_page_by_page(api, admin_token_for, session):
    now = utcnow()
    waiting = [_filed(session, VendorFactory(), submitted_at=now - timedelta(days=days)).id for days in (3, 9, 1)]
    DisclosureFactory(vendor_org_id=VendorFactory().org_id, status=DisclosureStatus.DRAFT, submitted_at=None)
    token = admin_token_for()
    first = api("GET", "/api/v1/admin/disclosures?limit=2", token)
    assert first.status_code == 200, first.json
    assert [item["version_id"] for item in first.json["items"]] == [waiting[1], waiting[0]]
    assert first.json["items"][0]["age_days"] == 9
    second = api("GET", first.json["next"], token)
    assert [item["version_id"] for item in second.json["items"]] == [waiting[2]] and second.json["next"] is None
    forged = api("GET", "/api/v1/admin/disclosures?cursor=xyz", token)
    assert forged.status_code == 400 and forged.json["type"].endswith("invalid-cursor")
    unknown = api("GET", "/api/v1/admin/disclosures?status=pending", token)
    assert unknown.status_code == 422 and unknown.json["errors"][0]["field"] == "status"


def test_the_queue_lists_vendors_that_never_filed(api, admin_token_for):
    vendor = VendorFactory()
    page = api("GET", "/api/v1/admin/disclosures?status=never_filed", admin_token_for()).json
    row = next(item for item in page["items"] if item["vendor"]["id"] == vendor.org_id)
    assert row["version_id"] is None and row["status"] is None


def test_a_filed_version_shows_its_ties_and_what_changed_since_the_approved_one(api, admin_token_for, session):
    vendor = VendorFactory()
    harrow = PartyFactory(name="Harrow Capital")
    _filed(session, vendor, number=1, share=10.0, holder=harrow, status=DisclosureStatus.APPROVED, decided_at=utcnow())
    version = _filed(session, vendor, number=2, share=40.0, holder=harrow)
    review = api("GET", f"/api/v1/admin/disclosures/{version.id}", admin_token_for())
    assert review.status_code == 200, review.json
    body = review.json
    assert body["vendor"] == {"id": vendor.org_id, "name": session.get(Organization, vendor.org_id).name}
    assert body["baseline_number"] == 1 and body["decidable"] is True
    assert [t["share"] for t in body["version"]["ties"]] == ["40%"]
    [change] = body["changes"]
    assert change["status"] == "changed" and (change["old"]["share"], change["new"]["share"]) == ("10%", "40%")


def test_the_review_says_how_approving_would_change_each_labs_verdict(api, admin_token_for, session):
    """A vendor with no approved version is under review for every lab (unverified); approving clears it."""
    lab = BuyerFactory()
    vendor = VendorFactory()
    version = _filed(session, vendor, share=5.0)
    body = api("GET", f"/api/v1/admin/disclosures/{version.id}", admin_token_for()).json
    shift = next(s for s in body["effect"]["shifts"] if s["buyer_org_id"] == lab.org_id)
    assert (shift["before"], shift["after"]) == ("review", "clear")
    decided = DisclosureFactory(
        vendor_org_id=VendorFactory().org_id, status=DisclosureStatus.REJECTED, decided_at=utcnow()
    )
    rejected = api("GET", f"/api/v1/admin/disclosures/{decided.id}", admin_token_for()).json
    assert rejected["effect"] is None and rejected["decidable"] is False


def test_a_draft_is_404_to_admins(api, admin_token_for):
    draft = DisclosureFactory(vendor_org_id=VendorFactory().org_id, status=DisclosureStatus.DRAFT, submitted_at=None)
    token = admin_token_for()
    assert api("GET", f"/api/v1/admin/disclosures/{draft.id}", token).status_code == 404
    decided = api("POST", f"/api/v1/admin/disclosures/{draft.id}/decision", token, json={"decision": "approved"})
    assert decided.status_code == 404
    assert api("GET", "/api/v1/admin/disclosures/987654321", token).status_code == 404


def test_approving_verifies_the_ties_tells_the_vendor_and_names_the_token(api, admin_token_for, session):
    vendor = VendorFactory()
    version = _filed(session, vendor)
    admin = AdminFactory()
    token = admin_token_for(admin, name="Review bot")
    response = api("POST", f"/api/v1/admin/disclosures/{version.id}/decision", token, json={"decision": "approved"})
    assert response.status_code == 200, response.json
    assert response.json["status"] == "approved" and response.json["decided_at"]
    assert {t["verification_level"] for t in response.json["ties"]} == {"admin-verified"}
    assert session.query(Interest).filter_by(disclosure_id=version.id).one().verification_level == (
        VerificationLevel.ADMIN_VERIFIED
    )
    told = session.query(Notification).filter_by(user_id=vendor.id, kind="disclosure_decision").one()
    assert "is approved" in told.message
    record = session.query(AuditRecord).filter_by(action="disclosure.approved").one()
    assert record.actor_id == admin.id and "Review bot" in record.actor_label
    again = api("POST", f"/api/v1/admin/disclosures/{version.id}/decision", token, json={"decision": "rejected"})
    assert again.status_code == 422 and "already approved" in again.json["detail"]


def test_sending_back_or_rejecting_needs_a_reason_the_vendor_reads(api, admin_token_for, session):
    vendor = VendorFactory()
    version = _filed(session, vendor)
    token = admin_token_for()
    path = f"/api/v1/admin/disclosures/{version.id}/decision"
    for body, field in [
        ({"decision": "rejected"}, "reason"),
        ({"decision": "changes_requested", "reason": "   "}, "reason"),
        ({"decision": "maybe"}, "decision"),
        ({"reason": "x"}, "decision"),
        ({"decision": "approved", "extra": 1}, "extra"),
    ]:
        response = api("POST", path, token, json=body)
        assert response.status_code == 422, (body, response.json)
        assert [e["field"] for e in response.json["errors"]] == [field]
    assert session.get(DisclosureVersion, version.id).status == DisclosureStatus.SUBMITTED
    reason = "Name the fund's general partner."
    sent_back = api("POST", path, token, json={"decision": "changes_requested", "reason": reason})
    assert sent_back.status_code == 200 and sent_back.json["decision_reason"] == reason
    told = session.query(Notification).filter_by(user_id=vendor.id, kind="disclosure_decision").one()
    assert reason in told.message
    # The vendor reads the decision over its own token too.
    own = api("GET", f"/api/v1/disclosures/{version.id}", _vendor_token(session, vendor))
    assert own.json["status"] == "changes_requested" and own.json["decision_reason"] == reason


def _vendor_token(session, vendor) -> str:
    from marketplace.api import tokens

    return tokens.create_token(session, vendor, "vendor", ["disclosures:read"], 30).secret


def test_a_vendors_own_token_cannot_decide_its_version(api, token_for, session):
    vendor = VendorFactory()
    version = _filed(session, vendor)
    response = api(
        "POST", f"/api/v1/admin/disclosures/{version.id}/decision", token_for(vendor), json={"decision": "approved"}
    )
    assert response.status_code == 403
    assert session.get(DisclosureVersion, version.id).status == DisclosureStatus.SUBMITTED
