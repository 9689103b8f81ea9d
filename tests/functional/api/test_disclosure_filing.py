"""A vendor files its ownership disclosure over the API, through the disclosure pages' own service: a draft, its
ties, the officer's attestation; every refusal as a problem naming the field, never a 500; nobody else's version."""

import hashlib
import io
from pathlib import Path

from sqlalchemy import func, select

from marketplace.accounts.models import Organization, User
from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow
from marketplace.disclosures.models import DisclosureEvidence, DisclosureStatus, DisclosureVersion
from marketplace.notifications.models import Notification
from marketplace.parties.models import Interest, PartyKind, TieOrigin
from tests.factories import (
    AdminFactory,
    BuyerFactory,
    DisclosureFactory,
    InterestFactory,
    PartyFactory,
    VendorFactory,
    VerifiedVendorFactory,
)

HOLDER = {"kind": "shareholding", "party_name": "Harrow Capital", "share_exact": 30, "new_party": True}
ATTEST = {"attester_name": "Ana Officer", "attester_title": "CEO", "attest": True, "summary": "Harrow bought 30%."}


def _draft(api, token) -> dict:
    response = api("POST", "/api/v1/disclosures", token)
    assert response.status_code == 201, response.json
    return response.json


def test_a_vendor_files_a_version_from_draft_to_submitted(api, token_for, session):
    vendor = VerifiedVendorFactory()  # its approved version 1 is copied into the draft
    admin = AdminFactory()
    token = token_for(vendor, name="Compliance sync")

    draft = _draft(api, token)
    assert draft["number"] == 2 and draft["status"] == "draft" and draft["ties"] == []
    added = api("POST", f"/api/v1/disclosures/{draft['id']}/ties", token, json=HOLDER)
    assert added.status_code == 201, added.json
    assert added.headers["Location"].endswith(f"/api/v1/disclosures/{draft['id']}")
    [tie] = added.json["ties"]
    assert (tie["party_name"], tie["share"], tie["verification_level"]) == ("Harrow Capital", "30%", "self-declared")

    submitted = api("POST", f"/api/v1/disclosures/{draft['id']}/submit", token, json=ATTEST)
    assert submitted.status_code == 200, submitted.json
    assert submitted.json["status"] == "submitted" and submitted.json["attester_name"] == "Ana Officer"
    assert submitted.json["summary"] == "Harrow bought 30%."
    # As on the pages: the admins are told, the trail names the token, and the version is filed for good.
    assert session.query(Notification).filter_by(user_id=admin.id, kind="disclosure_submitted").count() == 1
    record = session.query(AuditRecord).filter_by(action="disclosure.submitted").one()
    assert record.actor_id == vendor.id and "Compliance sync" in record.actor_label
    again = api("POST", f"/api/v1/disclosures/{draft['id']}/ties", token, json=HOLDER)
    assert again.status_code == 409 and "can no longer change" in again.json["detail"]
    read = api("GET", f"/api/v1/disclosures/{draft['id']}", token).json
    assert [t["party_name"] for t in read["ties"]] == ["Harrow Capital"]


def test_a_refused_tie_is_a_422_problem_naming_the_field_and_nothing_is_added(api, token_for, session):
    token = token_for(VendorFactory())
    draft = _draft(api, token)
    path = f"/api/v1/disclosures/{draft['id']}/ties"
    for body, field in [
        ({**HOLDER, "share_exact": 120}, "share_exact"),
        ({**HOLDER, "kind": "friendship"}, "kind"),
        ({**HOLDER, "share_exact": None, "share_min": 40, "share_max": 20}, "share_min"),
        ({"kind": "customer", "party_name": "Big Lab", "new_party": True}, "revenue_share_pct"),
        ({**HOLDER, "party_name": ""}, "party_name"),
        ({**HOLDER, "unknown": 1}, "unknown"),
        ({**HOLDER, "start_date": "2025-02-30"}, "start_date"),
    ]:
        response = api("POST", path, token, json=body)
        assert response.status_code == 422, (body, response.json)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert [e["field"] for e in response.json["errors"]] == [field], response.json
    assert api("POST", path, token, data="not json", content_type="application/json").status_code == 400
    assert session.query(Interest).filter_by(disclosure_id=draft["id"]).count() == 0


def test_shares_adding_up_past_100_percent_are_refused(api, token_for):
    token = token_for(VendorFactory())
    draft = _draft(api, token)
    path = f"/api/v1/disclosures/{draft['id']}/ties"
    assert api("POST", path, token, json={**HOLDER, "share_exact": 70}).status_code == 201
    response = api("POST", path, token, json={**HOLDER, "party_name": "Other Fund", "share_exact": 40})
    assert response.status_code == 422 and "more than 100%" in response.json["detail"]


def test_a_registry_lookalike_is_offered_and_can_be_picked_by_id(api, token_for, session):
    known = PartyFactory(name="Harrow Capital Partners GmbH", kind=PartyKind.ENTITY)
    InterestFactory(interested_party_id=known.id)  # on file: an admin's fact names it
    token = token_for(VendorFactory())
    draft = _draft(api, token)
    path = f"/api/v1/disclosures/{draft['id']}/ties"
    response = api(
        "POST", path, token, json={**HOLDER, "party_name": "Harrow Capital Partners Ltd", "new_party": False}
    )
    assert response.status_code == 422, response.json
    assert known.id in [found["party_id"] for found in response.json["found"]]
    picked = api("POST", path, token, json={**HOLDER, "party_name": "", "party_id": known.id, "new_party": False})
    assert picked.status_code == 201, picked.json
    assert session.query(Interest).filter_by(disclosure_id=draft["id"]).one().interested_party_id == known.id


def test_a_tie_is_removed_from_the_draft_by_its_table(api, token_for, session):
    token = token_for(VendorFactory())
    draft = _draft(api, token)
    tie = api("POST", f"/api/v1/disclosures/{draft['id']}/ties", token, json=HOLDER).json["ties"][0]
    assert api("DELETE", f"/api/v1/disclosures/{draft['id']}/commercial-ties/{tie['id']}", token).status_code == 404
    assert api("DELETE", f"/api/v1/disclosures/{draft['id']}/interests/{tie['id']}", token).status_code == 204
    assert session.query(Interest).filter_by(disclosure_id=draft["id"]).count() == 0


def test_the_same_idempotency_key_adds_the_tie_once(api, token_for, session):
    token = token_for(VendorFactory())
    draft = _draft(api, token)
    path = f"/api/v1/disclosures/{draft['id']}/ties"
    first = api("POST", path, token, json=HOLDER, headers={"Idempotency-Key": "tie-1"})
    second = api("POST", path, token, json=HOLDER, headers={"Idempotency-Key": "tie-1"})
    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true" and second.json == first.json
    assert session.query(Interest).filter_by(disclosure_id=draft["id"]).count() == 1
    other = api("POST", path, token, json={**HOLDER, "share_exact": 20}, headers={"Idempotency-Key": "tie-1"})
    assert other.status_code == 422 and other.json["type"].endswith("idempotency-conflict")


def test_what_the_service_refuses_as_things_stand_is_a_409(api, token_for, session):
    token = token_for(VendorFactory())
    draft = _draft(api, token)
    second = api("POST", "/api/v1/disclosures", token)
    assert second.status_code == 409 and "already a draft" in second.json["detail"]
    empty = api("POST", f"/api/v1/disclosures/{draft['id']}/submit", token, json=ATTEST)
    assert empty.status_code == 409 and "Add your ties first" in empty.json["detail"]
    unattested = api("POST", f"/api/v1/disclosures/{draft['id']}/submit", token, json={**ATTEST, "attest": False})
    assert unattested.status_code == 422 and unattested.json["errors"][0]["field"] == "attest"
    assert session.get(DisclosureVersion, draft["id"]).status == DisclosureStatus.DRAFT


def test_another_vendors_version_is_404_whatever_is_asked(api, token_for, session):
    owner = VendorFactory()
    version = DisclosureFactory(vendor_org_id=owner.org_id, status=DisclosureStatus.DRAFT)
    tie = InterestFactory(
        subject_party_id=session.get(Organization, owner.org_id).party_id,
        origin=TieOrigin.DISCLOSURE,
        disclosure_id=version.id,
    )
    stranger = token_for(VendorFactory())
    base = f"/api/v1/disclosures/{version.id}"
    for method, path, body in [
        ("GET", base, None),
        ("POST", f"{base}/ties", HOLDER),
        ("DELETE", f"{base}/interests/{tie.id}", None),
        ("POST", f"{base}/submit", ATTEST),
    ]:
        response = api(method, path, stranger, json=body)
        assert response.status_code == 404, (method, path, response.json)
        assert response.json["detail"] == "There is nothing at this address."
    assert session.get(Interest, tie.id) is not None


def test_labs_and_read_only_tokens_cannot_file(api, token_for):
    lab = api("POST", "/api/v1/disclosures", token_for(BuyerFactory()))
    assert lab.status_code == 403 and lab.json["type"].endswith("wrong-kind")
    reader = api("POST", "/api/v1/disclosures", token_for(VendorFactory(), scopes=["disclosures:read"]))
    assert reader.status_code == 403 and "disclosures:write" in reader.json["detail"]


def test_a_suspended_vendor_cannot_file(api, token_for, session):
    vendor = VendorFactory()
    token = token_for(vendor)
    org = session.get(Organization, vendor.org_id)
    org.suspended_at, org.suspended_reason = utcnow(), "Ownership under investigation"
    session.flush()
    response = api("POST", "/api/v1/disclosures", token)
    assert response.status_code == 403 and response.json["type"].endswith("suspended")
    assert session.execute(select(func.count()).select_from(DisclosureVersion)).scalar_one() == 0


def test_the_token_files_as_the_owner_even_for_a_manager_made_draft(api, token_for, session):
    """The token acts as the organisation's owner: a draft a manager started on the pages is the organisation's."""
    from marketplace.accounts.models import OrgRole

    owner = VendorFactory()
    manager = VendorFactory(org_id=owner.org_id, org_role=OrgRole.MANAGER)
    version = DisclosureFactory(
        vendor_org_id=owner.org_id, status=DisclosureStatus.DRAFT, submitted_at=None, created_by_id=manager.id
    )
    response = api("POST", f"/api/v1/disclosures/{version.id}/ties", token_for(owner), json=HOLDER)
    assert response.status_code == 201
    assert session.query(Interest).filter_by(disclosure_id=version.id).one().recorded_by_id == owner.id
    assert isinstance(session.get(User, owner.id), User)


PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"


def _attach(api, token, version_id, name="register.pdf", content=PDF, description="Share register extract"):
    return api(
        "POST",
        f"/api/v1/disclosures/{version_id}/evidence?description={description}",
        token,
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_a_document_is_attached_to_the_draft_and_taken_off_again(api, token_for, session, app):
    token = token_for(VendorFactory())
    draft = _draft(api, token)
    response = _attach(api, token, draft["id"])
    assert response.status_code == 201, response.json
    [document] = response.json["evidence"]
    assert (document["filename"], document["content_type"]) == ("register.pdf", "application/pdf")
    assert document["description"] == "Share register extract" and document["size_bytes"] == len(PDF)
    stored = session.get(DisclosureEvidence, document["id"])
    path = Path(app.config["UPLOAD_FOLDER"]) / "evidence" / stored.stored_name
    assert path.read_bytes() == PDF
    removed = api("DELETE", f"/api/v1/disclosures/{draft['id']}/evidence/{document['id']}", token)
    assert removed.status_code == 204 and not path.exists()
    assert api("GET", f"/api/v1/disclosures/{draft['id']}", token).json["evidence"] == []


def test_a_refused_document_is_a_422_beside_the_file(api, token_for, session):
    token = token_for(VendorFactory())
    draft = _draft(api, token)
    for name, content in (("notes.txt", b"plain words"), ("empty.pdf", b"")):
        response = _attach(api, token, draft["id"], name=name, content=content)
        assert response.status_code == 422, (name, response.json)
        assert response.json["errors"][0]["field"] == "file"
    missing = api("POST", f"/api/v1/disclosures/{draft['id']}/evidence", token, json={})
    assert missing.status_code == 422 and missing.json["errors"][0]["field"] == "file"
    assert session.query(DisclosureEvidence).count() == 0


def test_another_vendors_draft_takes_no_document(api, token_for, session):
    owner = token_for(VendorFactory())
    draft = _draft(api, owner)
    document = _attach(api, owner, draft["id"]).json["evidence"][0]
    stranger = token_for(VendorFactory())
    assert _attach(api, stranger, draft["id"]).status_code == 404
    assert api("DELETE", f"/api/v1/disclosures/{draft['id']}/evidence/{document['id']}", stranger).status_code == 404
    assert session.query(DisclosureEvidence).count() == 1


def test_a_document_is_downloaded_by_its_vendor_and_by_admins_once_filed_and_by_no_one_else(
    api, token_for, admin_token_for, session
):
    vendor = VendorFactory()
    token = token_for(vendor)
    draft = _draft(api, token)
    document = _attach(api, token, draft["id"]).json["evidence"][0]
    address = f"/api/v1/disclosures/{draft['id']}/evidence/{document['id']}"
    admin_address = f"/api/v1/admin/disclosures/{draft['id']}/evidence/{document['id']}"

    got = api("GET", address, token)
    body = got.get_data()
    got.close()  # the file the answer streams from
    assert got.status_code == 200 and body == PDF and got.mimetype == "application/pdf"
    assert got.headers["Content-Disposition"] == "attachment; filename=register.pdf"
    assert got.headers["Cache-Control"] == "private, no-store" and got.headers["X-Content-Type-Options"] == "nosniff"
    assert hashlib.sha256(body).hexdigest() == document["sha256"]
    # Another vendor, a lab, another version's address, a token without the scope: nothing to see.
    assert api("GET", address, token_for(VendorFactory())).status_code == 404
    assert api("GET", address, token_for(BuyerFactory())).status_code == 403
    assert api("GET", f"/api/v1/disclosures/{draft['id'] + 1}/evidence/{document['id']}", token).status_code == 404
    assert api("GET", address, token_for(vendor, scopes=["jobs:read"])).status_code == 403
    # Admins read it once filed, never while a draft; a vendor's token never reaches the admin address.
    admin = admin_token_for()
    assert api("GET", admin_address, admin).status_code == 404
    assert api("GET", admin_address, token).status_code == 403
    assert api("POST", f"/api/v1/disclosures/{draft['id']}/ties", token, json=HOLDER).status_code == 201
    assert api("POST", f"/api/v1/disclosures/{draft['id']}/submit", token, json=ATTEST).status_code == 200
    filed = api("GET", admin_address, admin)
    body = filed.get_data()
    filed.close()
    assert filed.status_code == 200 and body == PDF
    assert api("GET", admin_address, admin_token_for(scopes=["admin:bods"])).status_code == 403
