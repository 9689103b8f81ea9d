"""Admins review filed disclosures: the queue, the diff against the last approved version, the decision."""

from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import select

from marketplace.audit.models import AuditRecord
from marketplace.disclosures import service
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.notifications.models import Notification
from tests.factories import BuyerFactory, VendorFactory, VendorOrgFactory
from tests.unit.disclosures.helpers import file_version, submit, tie

ADMIN_PAGES = [
    ("get", "/admin/"),
    ("get", "/admin/disclosures"),
    ("get", "/admin/disclosures/{id}"),
    ("post", "/admin/disclosures/{id}/decision"),
]


def text(response) -> str:
    return response.get_data(as_text=True)


def decide(client, version, decision, reason=""):
    return client.post(f"/admin/disclosures/{version.id}/decision", data={"decision": decision, "reason": reason})


@pytest.fixture
def filed(session, vendor):
    return file_version(session, vendor, tie(name="Founder Fund", share_exact=60.0), tie("lender", name="Big Bank"))


@pytest.mark.parametrize("method, path", ADMIN_PAGES)
@pytest.mark.parametrize("role", ["buyer", "vendor"])
def test_only_admins_see_admin_pages(client, login_as, session, filed, vendor, method, path, role):
    login_as(BuyerFactory() if role == "buyer" else vendor)
    response = getattr(client, method)(path.format(id=filed.id), data={"decision": "approved"})
    assert response.status_code == 403
    assert session.get(DisclosureVersion, filed.id).status == DisclosureStatus.SUBMITTED


@pytest.mark.parametrize("method, path", ADMIN_PAGES)
def test_signed_out_visitors_are_sent_to_sign_in(client, filed, method, path):
    response = getattr(client, method)(path.format(id=filed.id))
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_the_queue_lists_submitted_versions_with_their_age(client, login_as, session, admin, filed):
    filed.submitted_at = filed.submitted_at - timedelta(days=4)
    service.start_new_version(session, VendorFactory(org_id=VendorOrgFactory(name="Drafty Labels").id))
    rejected = file_version(
        session, VendorFactory(org_id=VendorOrgFactory(name="Gone Labels").id), tie(share_exact=1.0)
    )
    service.decide_version(session, admin, rejected.id, "rejected", "Fake.")
    login_as(admin)

    page = text(client.get("/admin/disclosures"))
    assert "Scalewise Data" in page and "Version 1" in page
    assert '<td class="num">4</td>' in page
    assert f"/admin/disclosures/{filed.id}" in page
    assert "Drafty Labels" not in page and "Gone Labels" not in page

    assert "Gone Labels" in text(client.get("/admin/disclosures?status=rejected"))
    everything = text(client.get("/admin/disclosures?status=all"))
    assert "Gone Labels" in everything and "Scalewise Data" in everything
    assert "Drafty Labels" not in everything
    assert "No disclosures here" in text(client.get("/admin/disclosures?status=approved"))
    assert client.get("/admin/").headers["Location"].endswith("/admin/disclosures")


def test_the_review_of_a_first_version_shows_every_tie_as_added(client, login_as, admin, filed):
    login_as(admin)
    page = text(client.get(f"/admin/disclosures/{filed.id}"))
    assert "Scalewise Data: version 1" in page
    assert "No earlier approved version: every tie is new." in page
    assert page.count('data-status="added"') == 2
    assert "self-declared" in page and "Ana Officer, CEO" in page
    assert "Record decision" in page


def test_changes_requested_then_a_new_version_approved(client, login_as, session, admin, vendor, filed):
    login_as(admin)
    approved_first = decide(client, filed, "approved", "Checked against the registry.")
    assert approved_first.status_code == 303 and approved_first.headers["Location"].endswith("/admin/disclosures")

    second = service.start_new_version(session, vendor)
    founder = next(t for t in service.tie_views(session, second) if t.party_name == "Founder Fund")
    service.remove_tie(session, vendor, second.id, founder.table, founder.id)
    service.add_tie(session, vendor, second.id, tie(name="Founder Fund", share_min=40.0, share_max=50.0))
    service.add_tie(session, vendor, second.id, tie("boardMember", name="Rui Costa", party_kind="person"))
    submit(session, vendor, second)

    page = text(client.get(f"/admin/disclosures/{second.id}"))
    assert "Compared with version 1" in page
    assert 'data-status="changed"' in page and "60%" in page and "40% – 50%" in page
    assert 'data-status="added"' in page and "Rui Costa" in page
    assert "1 tie unchanged" in page

    missing = decide(client, second, "changes_requested", "  ")
    assert missing.status_code == 400
    assert "Give a reason to request changes: the vendor sees it." in text(missing)
    assert session.get(DisclosureVersion, second.id).status == DisclosureStatus.SUBMITTED

    sent_back = decide(client, second, "changes_requested", "Who is Rui Costa's employer?")
    assert sent_back.status_code == 303
    assert session.get(DisclosureVersion, second.id).status == DisclosureStatus.CHANGES_REQUESTED
    notes = (
        session.execute(
            select(Notification.message).where(
                Notification.user_id == vendor.id, Notification.kind == "disclosure_decision"
            )
        )
        .scalars()
        .all()
    )
    assert notes[-1].endswith("Reason: Who is Rui Costa's employer?")
    record = session.execute(
        select(AuditRecord).where(AuditRecord.action == "disclosure.changes_requested")
    ).scalar_one()
    assert (record.before, record.after["status"]) == ({"status": "submitted"}, "changes_requested")

    third = file_version(
        session,
        vendor,
        tie("elsewhere:boardMember", name="Rui Costa", other_org="Other Co", start_date=None),
    )
    assert {t.party_name for t in service.tie_views(session, third)} == {
        "Founder Fund",
        "Big Bank",
        "Rui Costa",
    }
    assert decide(client, third, "approved").status_code == 303
    assert session.get(DisclosureVersion, third.id).status == DisclosureStatus.APPROVED
    assert all(t.verification_level == "admin-verified" for t in service.tie_views(session, third))

    again = decide(client, third, "rejected", "Changed my mind.")
    assert again.status_code == 400
    assert "Version 3 is already approved: only a submitted version can be decided." in text(again)


def test_a_reason_is_needed_to_reject_and_the_vendor_sees_it(client, login_as, session, admin, vendor, filed):
    login_as(admin)
    response = decide(client, filed, "rejected")
    assert response.status_code == 400
    assert "Give a reason to reject: the vendor sees it." in text(response)
    assert decide(client, filed, "").status_code == 400

    assert decide(client, filed, "rejected", "The registry shows another owner.").status_code == 303
    g.pop("_login_user", None)  # the test's app context outlives each request: forget the admin
    login_as(vendor)
    page = text(client.get(f"/disclosure/{filed.id}"))
    assert "Rejected" in page and "The registry shows another owner." in page


def test_drafts_and_missing_versions_are_not_found(client, login_as, session, admin):
    draft = service.start_new_version(session, VendorFactory())
    login_as(admin)
    assert client.get(f"/admin/disclosures/{draft.id}").status_code == 404
    assert decide(client, draft, "approved").status_code == 404
    assert client.get("/admin/disclosures/999999").status_code == 404
