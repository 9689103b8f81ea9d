"""Evidence: a vendor attaches documents to its draft; its own users and admins read them; nobody else does."""

import io
from pathlib import Path

import pytest
from flask import g
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow
from marketplace.disclosures import evidence as evidence_service
from marketplace.disclosures import service
from marketplace.disclosures.models import DisclosureEvidence
from tests.factories import AdminFactory, BuyerFactory, UserFactory, VendorFactory
from tests.unit.disclosures.helpers import submit, tie

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40
HTML = b"<html><script>alert(document.cookie)</script></html>"


def text(response) -> str:
    return response.get_data(as_text=True)


def upload(client, version, data: bytes, filename: str, description: str = ""):
    # Encoded in memory: the test client would spool a large body to a file it never closes.
    fields = MultiDict({"file": FileStorage(io.BytesIO(data), filename), "description": description})
    boundary, body = encode_multipart(fields)
    return client.post(
        f"/disclosure/{version.id}/evidence", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )


def download(client, url: str):
    """The response, read and closed (a file response holds the file open until closed)."""
    with client.get(url) as response:
        response.get_data()
        return response


def switch(login_as, user):
    g.pop("_login_user", None)  # the test's app context outlives each request: forget the previous user
    return login_as(user)


def stored_files(app) -> set[Path]:
    folder = evidence_service.evidence_folder(app.config["UPLOAD_FOLDER"])
    return set(folder.iterdir()) if folder.exists() else set()


def evidence_rows(session, version):
    return list(
        session.execute(select(DisclosureEvidence).where(DisclosureEvidence.version_id == version.id)).scalars()
    )


@pytest.fixture
def draft(session, vendor):
    version = service.start_new_version(session, vendor)
    service.add_tie(session, vendor, version.id, tie(name="Duarte Family Holdings", share_exact=70.0))
    return version


def test_a_vendor_attaches_a_pdf_and_sees_it_listed(app, client, login_as, session, vendor, draft):
    login_as(vendor)
    response = upload(client, draft, PDF, "share-register.pdf", "Share register, March 2025")
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/disclosure/{draft.id}/edit#evidence")

    [row] = evidence_rows(session, draft)
    assert (row.filename, row.content_type, row.size_bytes) == ("share-register.pdf", "application/pdf", len(PDF))
    path = evidence_service.evidence_path(app.config["UPLOAD_FOLDER"], row)
    assert path.read_bytes() == PDF
    assert path.name == row.stored_name and row.stored_name.endswith(".pdf") and "share" not in row.stored_name
    page = text(client.get(f"/disclosure/{draft.id}/edit"))
    assert "share-register.pdf" in page and "Share register, March 2025" in page
    assert f"/disclosure/evidence/{row.id}" in page
    record = session.execute(
        select(AuditRecord).where(AuditRecord.action == "disclosure.evidence_attached")
    ).scalar_one()
    assert record.after["sha256"] == row.sha256


def test_the_type_comes_from_the_content_not_the_name(client, login_as, session, vendor, draft):
    login_as(vendor)
    assert upload(client, draft, PNG, "scan.pdf").status_code == 303
    assert upload(client, draft, JPEG, "photo").status_code == 303
    types = {row.filename: row.content_type for row in evidence_rows(session, draft)}
    assert types == {"scan.pdf": "image/png", "photo": "image/jpeg"}


def test_a_file_of_the_wrong_type_is_refused(app, client, login_as, session, vendor, draft):
    login_as(vendor)
    before = stored_files(app)
    response = upload(client, draft, HTML, "register.pdf", "Looks like a PDF")
    assert response.status_code == 400
    page = text(response)
    assert "“register.pdf” is not a PDF, PNG, JPEG, GIF or WebP file: evidence must be one of those." in page
    assert 'value="Looks like a PDF"' in page  # what was typed is kept
    assert evidence_rows(session, draft) == [] and stored_files(app) == before


def test_a_file_over_10_mb_is_refused(app, client, login_as, session, vendor, draft):
    login_as(vendor)
    before = stored_files(app)
    response = upload(client, draft, PDF + b"0" * (10 * 1024 * 1024), "huge.pdf")
    assert response.status_code == 400
    assert "“huge.pdf” is larger than 10 MB." in text(response)
    assert evidence_rows(session, draft) == [] and stored_files(app) == before

    exactly = PDF + b"0" * (10 * 1024 * 1024 - len(PDF))
    assert upload(client, draft, exactly, "just-fits.pdf").status_code == 303


def test_an_empty_or_missing_file_is_refused(client, login_as, session, vendor, draft):
    login_as(vendor)
    assert "Choose a file: that one is empty." in text(upload(client, draft, b"", "empty.pdf"))
    boundary, body = encode_multipart(MultiDict({"description": "x"}))
    missing = client.post(
        f"/disclosure/{draft.id}/evidence", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert missing.status_code == 400 and "Choose a file to attach." in text(missing)
    assert evidence_rows(session, draft) == []


def test_a_name_with_folders_is_never_used_on_disk(app, client, login_as, session, vendor, draft):
    upload_root = Path(app.config["UPLOAD_FOLDER"])
    login_as(vendor)
    response = upload(client, draft, PDF, "../../x")
    assert response.status_code == 303
    [row] = evidence_rows(session, draft)
    assert row.filename == "x"
    path = evidence_service.evidence_path(app.config["UPLOAD_FOLDER"], row)
    assert path.parent == (upload_root / "evidence").resolve() and path.read_bytes() == PDF
    for folder in (upload_root, upload_root.parent, upload_root.parent.parent, upload_root / "evidence"):
        assert not (folder / "x").exists()

    served = download(client, f"/disclosure/evidence/{row.id}")
    assert served.status_code == 200
    assert served.headers["Content-Disposition"] == "attachment; filename=x"


def test_the_vendors_own_users_download_it_as_an_attachment(client, login_as, session, vendor, draft):
    login_as(vendor)
    upload(client, draft, PDF, "board minutes.pdf")
    [row] = evidence_rows(session, draft)
    colleague = UserFactory(role="vendor", org_id=vendor.org_id)
    switch(login_as, colleague)

    response = download(client, f"/disclosure/evidence/{row.id}")
    assert response.status_code == 200
    assert response.data == PDF
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert "board minutes.pdf" in response.headers["Content-Disposition"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_another_vendor_cannot_read_nor_touch_the_evidence(client, login_as, session, vendor, draft):
    login_as(vendor)
    upload(client, draft, PDF, "register.pdf")
    [row] = evidence_rows(session, draft)
    switch(login_as, VendorFactory())

    assert download(client, f"/disclosure/evidence/{row.id}").status_code == 404
    assert client.get("/disclosure/evidence/999999").status_code == 404
    assert upload(client, draft, PDF, "mine.pdf").status_code == 404
    assert client.post(f"/disclosure/{draft.id}/evidence/{row.id}/remove").status_code == 404
    assert len(evidence_rows(session, draft)) == 1


def test_buyers_are_refused_and_admins_read_only_filed_versions(client, login_as, session, vendor, draft):
    login_as(vendor)
    upload(client, draft, PDF, "register.pdf")
    [row] = evidence_rows(session, draft)

    switch(login_as, BuyerFactory())
    assert download(client, f"/disclosure/evidence/{row.id}").status_code == 403
    assert download(client, f"/admin/evidence/{row.id}").status_code == 403

    admin = switch(login_as, AdminFactory())
    assert download(client, f"/admin/evidence/{row.id}").status_code == 404  # a draft stays private
    submit(session, vendor, draft)
    response = download(client, f"/admin/evidence/{row.id}")
    assert response.status_code == 200 and response.data == PDF
    assert response.headers["Content-Disposition"] == "attachment; filename=register.pdf"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert admin.is_admin


def test_a_filed_version_takes_no_more_evidence_and_lists_what_it_has(client, login_as, session, vendor, draft):
    login_as(vendor)
    upload(client, draft, PDF, "register.pdf")
    submit(session, vendor, draft)

    refused = upload(client, draft, PDF, "late.pdf")
    assert refused.status_code == 400
    assert "Version 1 is submitted: it can no longer change." in text(refused)
    [row] = evidence_rows(session, draft)
    assert client.post(f"/disclosure/{draft.id}/evidence/{row.id}/remove").status_code == 400
    page = text(client.get(f"/disclosure/{draft.id}"))
    assert "register.pdf" in page and "late.pdf" not in page


def test_a_vendor_removes_a_document_from_its_draft(app, client, login_as, session, vendor, draft):
    login_as(vendor)
    upload(client, draft, PDF, "wrong-file.pdf")
    [row] = evidence_rows(session, draft)
    path = evidence_service.evidence_path(app.config["UPLOAD_FOLDER"], row)

    response = client.post(f"/disclosure/{draft.id}/evidence/{row.id}/remove")
    assert response.status_code == 303
    assert evidence_rows(session, draft) == [] and not path.exists()
    assert download(client, f"/disclosure/evidence/{row.id}").status_code == 404


def test_a_suspended_vendor_cannot_attach_evidence(client, login_as, session, vendor, draft):
    org = session.get(Organization, vendor.org_id)
    org.suspended_at, org.suspended_reason = utcnow(), "Undisclosed owner"
    session.flush()
    login_as(vendor)
    assert upload(client, draft, PDF, "register.pdf").status_code == 403
    assert evidence_rows(session, draft) == []
