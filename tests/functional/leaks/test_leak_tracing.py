"""Leak tracing (issue 17): each vendor reads a confidential brief and its text and PDF files with its own invisible
marks; the lab pastes or uploads a leaked copy and the platform names the vendor it came from; public jobs and the
lab's own view are unmarked; only the job's lab may trace."""

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfWriter
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.jobs.models import JobAttachment, Visibility
from tests.factories import BuyerFactory, JobFactory, VendorFactory, VerifiedVendorFactory

BRIEF = (
    "Draw tight boxes around people, forklifts, pallets, totes and spills in frames from shelf-height robot cameras. "
    "Frames are 1280 by 720, often motion-blurred; occluded objects are boxed if more than 30% is visible."
)


def text(response) -> str:
    return response.get_data(as_text=True)


def brief_on(page: str) -> str:
    return re.search(r'data-testid="brief">(.*?)</div>', page, re.S).group(1)


def blank_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture
def world(session, app):
    lab = BuyerFactory()
    job = JobFactory(buyer_org_id=lab.org_id, visibility=Visibility.CONFIDENTIAL, description=BRIEF, codename="Heron")
    folder = Path(app.config["UPLOAD_FOLDER"]) / "jobs"
    folder.mkdir(parents=True, exist_ok=True)
    files = {}
    for name, data, kind in (
        ("guidelines.txt", BRIEF.encode(), "text/plain"),
        ("spec.pdf", blank_pdf(), "application/pdf"),
    ):
        stored = f"leak-test-{job.id}-{name}".replace(".", "-")
        (folder / stored).write_bytes(data)
        files[name] = JobAttachment(
            job_id=job.id, filename=name, stored_name=stored, content_type=kind, size_bytes=len(data)
        )
        session.add(files[name])
    first, second = VerifiedVendorFactory(), VerifiedVendorFactory()
    session.commit()
    return lab, job, first, second, files


def download(client, url: str) -> bytes:
    response = client.get(url)
    try:
        return response.data
    finally:
        response.close()  # a file sent from disk stays open until then


def name_of(session, user) -> str:
    return session.get(Organization, user.org_id).name


def test_a_brief_copied_from_a_vendors_page_names_that_vendor(client, session, login_as, world):
    lab, job, first, second, _ = world
    login_as(first)
    copied = brief_on(text(client.get(f"/jobs/{job.id}")))
    assert (
        copied != BRIEF
        and copied.replace("\u00a0", " ").replace("\u200b", "").replace("\u200c", "").replace("\u2060", "") == BRIEF
    )  # reads the same
    login_as(second)
    assert brief_on(text(client.get(f"/jobs/{job.id}"))) != copied  # each vendor its own
    login_as(lab)
    assert brief_on(text(client.get(f"/jobs/{job.id}"))) == BRIEF  # the lab's own view is unmarked
    result = text(client.post(f"/jobs/{job.id}/leaks", data={"text": "Leaked on a forum:\n" + copied}))
    assert f"This copy carries the marks of {name_of(session, first)}." in result
    assert name_of(session, second) not in result
    assert session.execute(select(AuditRecord).where(AuditRecord.action == "leak.traced")).scalar_one()


def test_a_copy_stripped_of_hidden_characters_is_still_traced_by_its_spacing(client, session, login_as, world):
    lab, job, first, _, _ = world
    login_as(first)
    copied = brief_on(text(client.get(f"/jobs/{job.id}")))
    stripped = re.sub("[\u200b\u200c\u2060]", "", copied)
    login_as(lab)
    assert f"carries the marks of {name_of(session, first)}" in text(
        client.post(f"/jobs/{job.id}/leaks", data={"text": stripped})
    )


def test_leaked_files_name_the_vendor_that_downloaded_them(client, session, login_as, world):
    lab, job, first, second, files = world
    login_as(first)
    leaked_text = download(client, f"/jobs/{job.id}/attachments/{files['guidelines.txt'].id}")
    login_as(second)
    leaked_pdf = download(client, f"/jobs/{job.id}/attachments/{files['spec.pdf'].id}")
    assert leaked_pdf.startswith(b"%PDF")
    login_as(lab)
    own = download(client, f"/jobs/{job.id}/attachments/{files['guidelines.txt'].id}")
    assert own == BRIEF.encode()  # the lab's own download is the file as uploaded
    for data, filename, source in ((leaked_text, "copy.txt", first), (leaked_pdf, "copy.pdf", second)):
        result = text(client.post(f"/jobs/{job.id}/leaks", data={"file": (io.BytesIO(data), filename)}))
        assert f"This copy carries the marks of {name_of(session, source)}." in result, filename


def test_an_unmarked_copy_and_an_empty_form_say_so(client, session, login_as, world):
    lab, job, *_ = world
    login_as(lab)
    assert "No mark found in this copy." in text(client.post(f"/jobs/{job.id}/leaks", data={"text": BRIEF}))
    empty = client.post(f"/jobs/{job.id}/leaks", data={"text": "  "})
    assert empty.status_code == 400 and "Paste the leaked text, or choose the leaked file." in text(empty)


def test_public_jobs_are_unmarked_and_only_the_jobs_lab_traces(client, session, login_as, world):
    lab, job, first, _, _ = world
    public = JobFactory(buyer_org_id=lab.org_id, description=BRIEF)
    session.commit()
    login_as(first)
    assert brief_on(text(client.get(f"/jobs/{public.id}"))) == BRIEF
    assert client.get(f"/jobs/{job.id}/leaks").status_code == 403
    login_as(BuyerFactory())
    assert client.get(f"/jobs/{job.id}/leaks").status_code == 404
    login_as(lab)
    refused = client.post(f"/jobs/{public.id}/leaks", data={"text": BRIEF})
    assert refused.status_code == 400 and "Only a confidential job" in text(refused)
    login_as(VendorFactory())
    assert client.post(f"/jobs/{job.id}/leaks", data={"text": BRIEF}).status_code == 403


# ------------------------------------------------------------------------------------------------ codenames, files


def codename_on(page: str) -> str:
    found = re.search(r"Heron [A-Z2-9]{3}\b", page)
    assert found, "the vendor's page shows the job's codename and its own tag"
    return found.group(0)


def test_each_vendor_reads_its_own_codename_and_a_retyped_copy_that_keeps_it_names_the_vendor(
    client, session, login_as, world
):
    lab, job, first, second, _ = world
    login_as(first)
    mine = codename_on(text(client.get(f"/jobs/{job.id}")))
    login_as(second)
    theirs = codename_on(text(client.get(f"/jobs/{job.id}")))
    assert mine != theirs and mine.startswith("Heron ") and theirs.startswith("Heron ")
    login_as(lab)
    assert "followed by a\n        tag of their own" in text(client.get(f"/jobs/{job.id}"))
    # Retyped by hand: no hidden character survives, the codename does (whatever its case and spacing).
    retyped = f"From a forum: the lab behind {mine.lower().replace(' ', '  ')} wants boxes around forklifts."
    result = text(client.post(f"/jobs/{job.id}/leaks", data={"text": retyped}))
    assert f"This copy carries the marks of {name_of(session, first)}." in result
    assert name_of(session, second) not in result


def tiny_png() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (4, 3), (200, 40, 40)).save(out, format="PNG")
    return out.getvalue()


def tiny_jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (10, 120, 200)).save(out, format="JPEG")
    return out.getvalue()


def tiny_docx() -> bytes:
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as package:
        package.writestr(
            "[Content_Types].xml",
            '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>',
        )
        package.writestr(
            "docProps/core.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<cp:coreProperties '
            'xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/"/>',
        )
        package.writestr(
            "word/document.xml",
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r>'
            "<w:t>Box every forklift.</w:t></w:r></w:p></w:body></w:document>",
        )
    return out.getvalue()


DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.mark.parametrize(
    ("name", "make", "kind"),
    [("frame.png", tiny_png, "image/png"), ("frame.jpg", tiny_jpeg, "image/jpeg"), ("rules.docx", tiny_docx, DOCX)],
)
def test_images_and_office_files_carry_the_vendors_mark(client, session, login_as, app, world, name, make, kind):
    lab, job, first, second, _ = world
    data = make()
    folder = Path(app.config["UPLOAD_FOLDER"]) / "jobs"
    stored = f"leak-test-{job.id}-{name}".replace(".", "-")
    (folder / stored).write_bytes(data)
    attachment = JobAttachment(
        job_id=job.id, filename=name, stored_name=stored, content_type=kind, size_bytes=len(data)
    )
    session.add(attachment)
    session.commit()
    url = f"/jobs/{job.id}/attachments/{attachment.id}"
    login_as(first)
    leaked = download(client, url)
    login_as(second)
    other = download(client, url)
    assert leaked != data and other != leaked  # each vendor its own copy
    login_as(lab)
    assert download(client, url) == data  # the lab's own download is the file as uploaded
    result = text(client.post(f"/jobs/{job.id}/leaks", data={"file": (io.BytesIO(leaked), "found-" + name)}))
    assert f"This copy carries the marks of {name_of(session, first)}." in result
    assert name_of(session, second) not in result
