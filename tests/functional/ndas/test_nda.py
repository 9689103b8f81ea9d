"""A confidential job's brief opens behind the lab's NDA: the lab publishes versions (never naming itself), requires
it on a confidential job, and sees who accepted; a vendor reads the NDA, not the brief, and can neither ask, bid nor
download until its organisation accepts the current version; a new version asks again; every step is refused with a
reason, and each acceptance is in the audit trail."""

import io
import re

import pytest
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.codenames import codename_for
from marketplace.jobs.models import Job, JobAttachment, Visibility
from marketplace.ndas.models import Nda, NdaAcceptance
from marketplace.ndas.service import names_the_lab
from tests.factories import AdminFactory, BuyerFactory, JobFactory, VerifiedVendorFactory

BRIEF = "Transcribe 2,000 hours of clinical dictation for model Orca-7."
NDA_TEXT = "The Receiving Party keeps everything the Disclosing Party shares about this job confidential for 5 years."


def text(response) -> str:
    """The page as it reads: a vendor's copy of a confidential brief carries invisible marks (marketplace.leaks)."""
    return re.sub("[\u200b\u200c\u2060]", "", response.get_data(as_text=True)).replace("\u00a0", " ")


def pdf_saying(words: str, author: str = "") -> bytes:
    """A one-page PDF whose text is `words` (and whose Author is `author`)."""
    writer = PdfWriter()
    page = writer.add_blank_page(612, 792)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 12 Tf 72 712 Td ({words}) Tj ET".encode())
    page[NameObject("/Contents")] = writer._add_object(stream)
    if author:
        writer.add_metadata({"/Author": author})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def publish(client, words: str, pdf: tuple[bytes, str] | None = None):
    fields = MultiDict([("text", words)])
    if pdf is not None:
        fields.add("pdf", FileStorage(io.BytesIO(pdf[0]), pdf[1]))
    boundary, body = encode_multipart(fields)
    return client.post("/nda", data=body, content_type=f"multipart/form-data; boundary={boundary}")


@pytest.fixture
def lab(session, app):
    """A lab with a confidential job (its brief and one attachment), and a clear vendor with two users."""
    buyer = BuyerFactory()
    session.get(Organization, buyer.org_id).name = "Northwind AI"
    job = JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.CONFIDENTIAL, description=BRIEF)
    attachment = JobAttachment(
        job_id=job.id, filename="spec.txt", stored_name="a" * 40, content_type="text/plain", size_bytes=4
    )
    session.add(attachment)
    vendor = VerifiedVendorFactory()
    colleague = VerifiedVendorFactory(org_id=vendor.org_id)
    session.flush()
    return {"buyer": buyer, "job": job, "attachment": attachment, "vendor": vendor, "colleague": colleague}


def test_the_lab_publishes_versions_and_the_nda_may_never_name_it(client, session, login_as, lab, app):
    login_as(lab["buyer"])
    naming = publish(client, "Northwind A.I., Inc. discloses the following.")
    assert naming.status_code == 400
    assert "The text names Northwind AI" in text(naming) and "Northwind A.I., Inc. discloses" in text(naming)
    assert publish(client, "  ").status_code == 400

    pdf_naming = publish(client, NDA_TEXT, (pdf_saying("Signed for NORTHWIND AI"), "nda.pdf"))
    assert pdf_naming.status_code == 400 and "The PDF names Northwind AI" in text(pdf_naming)
    not_pdf = publish(client, NDA_TEXT, (b"hello", "nda.pdf"))
    assert not_pdf.status_code == 400 and "That file is not a PDF." in text(not_pdf)
    assert session.execute(select(func.count()).select_from(Nda)).scalar() == 0

    response = publish(client, NDA_TEXT, (pdf_saying("The Disclosing Party", author="Maya Lindqvist"), "nda.pdf"))
    assert response.status_code == 303
    nda = session.execute(select(Nda)).scalar_one()
    assert nda.version == 1 and "PDF Author" in nda.metadata_note
    with client.get(f"/nda/{nda.id}/pdf") as download:
        assert download.status_code == 200 and b"Maya" not in download.data
    assert publish(client, NDA_TEXT + " Version two.").status_code == 303
    assert [v for (v,) in session.execute(select(Nda.version).order_by(Nda.version))] == [1, 2]
    page = text(client.get("/nda"))
    assert "Version 2" in page and "Earlier versions" in page
    published = session.execute(select(func.count()).where(AuditRecord.action == "nda.published")).scalar()
    assert published == 2


@pytest.mark.parametrize(
    ("words", "names"),
    [
        ("NORTHWIND AI shares", True),
        ("Northwind-AI GmbH shares", True),
        ("shared by NorthwindAI.", True),
        ("Nоrthwind AI shares", True),  # a Cyrillic о
        ("the north wind shares", False),
        ("Northwind shares", False),
        ("the Disclosing Party shares", False),
    ],
)
def test_what_counts_as_naming_the_lab(words, names):
    assert names_the_lab(words, "Northwind AI, Inc.") is names


def test_a_vendor_reads_the_nda_not_the_brief_until_its_organisation_accepts(client, session, login_as, lab):
    job = lab["job"]
    login_as(lab["buyer"])
    assert client.post(f"/jobs/{job.id}/nda", data={"required": "1"}).status_code == 303
    assert "Publish your NDA first" in text(client.get(f"/jobs/{job.id}"))
    assert session.get(Job, job.id).requires_nda is False
    publish(client, NDA_TEXT)
    client.post(f"/jobs/{job.id}/nda", data={"required": "1"})
    assert session.get(Job, job.id).requires_nda is True
    own_page = text(client.get(f"/jobs/{job.id}"))
    assert BRIEF in own_page and "Stop requiring the NDA" in own_page  # the lab reads its own brief

    login_as(lab["vendor"])
    page = text(client.get(f"/jobs/{job.id}"))
    assert 'data-testid="nda-gate"' in page and NDA_TEXT in page
    assert BRIEF not in page and "spec.txt" not in page and "Northwind" not in page
    seen_as = codename_for(job.codename, job.id, lab["vendor"].org_id)  # the job's codename and this vendor's tag
    assert f"{seen_as} asks vendors to accept its NDA (version 1)" in page
    assert client.get(f"/jobs/{job.id}/attachments/{lab['attachment'].id}").status_code == 403
    asked = client.post(f"/jobs/{job.id}/questions", data={"text": "What accent mix?"})
    assert "Accept the lab&#39;s NDA on the job&#39;s page first" in text(asked)
    bid = client.post(
        f"/jobs/{job.id}/bid", data={"price_per_unit": "1.00", "total": "2000.00", "turnaround_days": "10"}
    )
    assert "Accept the lab&#39;s NDA on the job&#39;s page first" in text(bid)

    # Not ticking the box accepts nothing.
    client.post(f"/jobs/{job.id}/nda/accept", data={"version": "1"})
    assert session.execute(select(func.count()).select_from(NdaAcceptance)).scalar() == 0
    response = client.post(f"/jobs/{job.id}/nda/accept", data={"version": "1", "agree": "y"})
    assert response.status_code == 303
    assert BRIEF in text(client.get(f"/jobs/{job.id}"))

    # The organisation accepted: a colleague reads the brief too.
    login_as(lab["colleague"])
    assert BRIEF in text(client.get(f"/jobs/{job.id}"))

    event = session.execute(select(AuditRecord).where(AuditRecord.action == "nda.accepted")).scalar_one()
    assert event.actor_id == lab["vendor"].id and event.vendor_org_id == lab["vendor"].org_id
    login_as(lab["buyer"])
    listed = text(client.get("/nda"))
    vendor_org = session.get(Organization, lab["vendor"].org_id)
    assert vendor_org.name in listed and lab["vendor"].name in listed and lab["vendor"].email not in listed


def test_a_new_version_asks_again_and_a_stale_acceptance_is_refused(client, session, login_as, lab):
    job = lab["job"]
    login_as(lab["buyer"])
    publish(client, NDA_TEXT)
    client.post(f"/jobs/{job.id}/nda", data={"required": "1"})
    login_as(lab["vendor"])
    client.post(f"/jobs/{job.id}/nda/accept", data={"version": "1", "agree": "y"})

    login_as(lab["buyer"])
    publish(client, NDA_TEXT + " Now seven years.")
    assert "(not the current version)" in text(client.get("/nda"))

    login_as(lab["vendor"])
    page = text(client.get(f"/jobs/{job.id}"))
    assert "(version 2)" in page and BRIEF not in page
    stale = client.post(f"/jobs/{job.id}/nda/accept", data={"version": "1", "agree": "y"}, follow_redirects=True)
    assert "The lab published version 2 while you were reading version 1" in text(stale)
    assert BRIEF not in text(stale)
    client.post(f"/jobs/{job.id}/nda/accept", data={"version": "2", "agree": "y"})
    assert BRIEF in text(client.get(f"/jobs/{job.id}"))
    # The audit trail records each acceptance, with its version; the stale attempt recorded nothing.
    accepted = session.execute(
        select(AuditRecord).where(AuditRecord.action == "nda.accepted").order_by(AuditRecord.id)
    ).scalars()
    assert [(r.actor_id, r.vendor_org_id, r.after["version"]) for r in accepted] == [
        (lab["vendor"].id, lab["vendor"].org_id, 1),
        (lab["vendor"].id, lab["vendor"].org_id, 2),
    ]


def test_only_a_confidential_job_requires_an_nda_and_only_its_lab_may_say_so(client, session, login_as, lab):
    login_as(lab["buyer"])
    publish(client, NDA_TEXT)
    public = JobFactory(buyer_org_id=lab["buyer"].org_id, visibility=Visibility.PUBLIC)
    refused = client.post(f"/jobs/{public.id}/nda", data={"required": "1"}, follow_redirects=True)
    assert "Only a confidential job can require an NDA" in text(refused)
    assert session.get(Job, public.id).requires_nda is False

    for outsider, status in ((BuyerFactory(), 404), (lab["vendor"], 403)):
        login_as(outsider)
        assert client.post(f"/jobs/{lab['job'].id}/nda", data={"required": "1"}).status_code == status
    assert session.get(Job, lab["job"].id).requires_nda is False


def test_nobody_but_the_lab_and_the_vendors_it_guards_a_job_from_reads_the_nda(client, session, login_as, lab):
    login_as(lab["buyer"])
    publish(client, NDA_TEXT, (pdf_saying("The Disclosing Party"), "nda.pdf"))
    nda = session.execute(select(Nda)).scalar_one()
    vendor = lab["vendor"]
    login_as(vendor)
    assert client.get(f"/nda/{nda.id}/pdf").status_code == 404  # no job of the lab requires it yet
    login_as(lab["buyer"])
    client.post(f"/jobs/{lab['job'].id}/nda", data={"required": "1"})
    login_as(vendor)
    with client.get(f"/nda/{nda.id}/pdf") as download:
        assert download.status_code == 200
    for outsider in (BuyerFactory(), AdminFactory()):
        login_as(outsider)
        assert client.get(f"/nda/{nda.id}/pdf").status_code == 404
        accepted = client.post(f"/jobs/{lab['job'].id}/nda/accept", data={"version": "1", "agree": "y"})
        assert accepted.status_code == 403  # only vendors accept an NDA
    assert client.get("/nda").status_code == 403  # admins have no NDA page


def test_a_vendor_excluded_by_the_lab_never_sees_the_nda_either(client, session, login_as, lab, exclude_vendor):
    login_as(lab["buyer"])
    publish(client, NDA_TEXT)
    client.post(f"/jobs/{lab['job'].id}/nda", data={"required": "1"})
    exclude_vendor(lab["buyer"].org_id, lab["vendor"].org_id)
    session.flush()
    login_as(lab["vendor"])
    assert client.get(f"/jobs/{lab['job'].id}").status_code == 404
    assert client.post(f"/jobs/{lab['job'].id}/nda/accept", data={"version": "1", "agree": "y"}).status_code == 404
    assert session.execute(select(func.count()).select_from(NdaAcceptance)).scalar() == 0
