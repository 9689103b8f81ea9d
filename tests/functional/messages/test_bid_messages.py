"""A private thread per bid: the lab and the bidder write to each other, each told of the other's message; nobody
else may know the thread exists (404), screening applies both ways, a confidential lab stays unnamed and its files
lose their metadata, a sealed job's thread opens at the deadline, and every refusal says why and keeps the text."""

import io
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from pypdf import PdfWriter
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from marketplace.accounts.models import Organization
from marketplace.bids.models import BidStatus
from marketplace.codenames import codename_for
from marketplace.db_types import utcnow
from marketplace.jobs.models import BiddingMode, Visibility
from marketplace.messages.models import BidMessage, MessageAttachment
from marketplace.notifications.models import Notification
from tests.factories import AdminFactory, BidFactory, BuyerFactory, JobFactory, VerifiedVendorFactory

LAB_AUTHOR = "Maya Lindqvist, Northwind AI"


def text(response) -> str:
    return response.get_data(as_text=True)


def pdf_by_maya() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.add_metadata({"/Author": LAB_AUTHOR, "/Creator": "Northwind AI"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def send(client, bid_id: int, body: str = "", files: list[tuple[bytes, str]] = ()):
    # Encoded in memory: the test client would spool a large body to a file it never closes.
    fields = MultiDict([("body", body), *(("files", FileStorage(io.BytesIO(data), name)) for data, name in files)])
    boundary, encoded = encode_multipart(fields)
    return client.post(
        f"/bids/{bid_id}/messages", data=encoded, content_type=f"multipart/form-data; boundary={boundary}"
    )


def notifications_of(session, user) -> list[Notification]:
    return list(
        session.execute(
            select(Notification).where(Notification.user_id == user.id, Notification.kind == "bid_message")
        ).scalars()
    )


@pytest.fixture
def deal(session):
    """A lab (two buyers) with an open-bidding job, and a vendor (two users) that bid on it."""
    buyer = BuyerFactory(name="Maya Lindqvist")
    colleague = BuyerFactory(org_id=buyer.org_id)
    vendor = VerifiedVendorFactory(name="Ravi Patel")
    vendor_colleague = VerifiedVendorFactory(org_id=vendor.org_id)
    job = JobFactory(buyer_org_id=buyer.org_id, bidding_mode=BiddingMode.OPEN, title="Label 40k street scenes")
    bid = BidFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    session.flush()
    return {
        "buyer": buyer,
        "colleague": colleague,
        "vendor": vendor,
        "vendor_colleague": vendor_colleague,
        "job": job,
        "bid": bid,
    }


def test_the_lab_and_the_bidder_write_to_each_other_and_each_side_is_told(client, session, login_as, deal):
    bid, job = deal["bid"], deal["job"]
    vendor_org = session.get(Organization, deal["vendor"].org_id)
    lab_org = session.get(Organization, deal["buyer"].org_id)

    login_as(deal["vendor"])
    assert 'data-testid="messages-link"' in text(client.get(f"/bids/{bid.id}"))
    response = send(client, bid.id, "Can we start with a pilot of 500 images?")
    assert response.status_code == 303 and response.location.endswith(f"/bids/{bid.id}/messages")

    [told] = notifications_of(session, deal["colleague"])
    assert told.message == f"New message from {vendor_org.name} about its bid on “{job.title}”."
    assert told.link == f"/bids/{bid.id}/messages" and told.job_id == job.id
    assert len(notifications_of(session, deal["buyer"])) == 1
    assert notifications_of(session, deal["vendor_colleague"]) == []  # the sender's own side is not notified

    login_as(deal["buyer"])
    assert f'href="/bids/{bid.id}/messages"' in text(client.get(f"/jobs/{job.id}/bids"))
    thread = text(client.get(f"/bids/{bid.id}/messages"))
    assert "Can we start with a pilot of 500 images?" in thread
    assert f"Messages with {vendor_org.name}" in thread
    # The vendor's people stay the vendor's: its organisation's name, never a user's name or address.
    assert "Ravi Patel" not in thread and deal["vendor"].email not in thread
    assert send(client, bid.id, "Yes: 500 images by Friday.").status_code == 303

    [told] = notifications_of(session, deal["vendor_colleague"])
    assert told.message == f"New message from {lab_org.name} about your bid on “{job.title}”."

    login_as(deal["vendor_colleague"])
    thread = text(client.get(f"/bids/{bid.id}/messages"))
    assert thread.index("Can we start with a pilot") < thread.index("Yes: 500 images by Friday.")
    assert "Ravi Patel" in thread  # a colleague's message, by name
    assert "Maya Lindqvist" not in thread and lab_org.name in thread
    assert session.execute(select(func.count()).select_from(BidMessage)).scalar() == 2


def test_on_a_confidential_job_the_lab_stays_unnamed_and_its_files_lose_their_metadata(
    client, session, login_as, deal, app
):
    job, bid = deal["job"], deal["bid"]
    job.visibility = Visibility.CONFIDENTIAL
    session.flush()
    lab_name = session.get(Organization, deal["buyer"].org_id).name

    login_as(deal["buyer"])
    response = send(client, bid.id, "Our labeling guide is attached.", [(pdf_by_maya(), "guide.pdf")])
    assert response.status_code == 303
    stored = session.execute(select(MessageAttachment)).scalar_one()
    data = (Path(app.config["UPLOAD_FOLDER"]) / "messages" / stored.stored_name).read_bytes()
    assert b"Maya" not in data and b"Northwind" not in data
    # The lab sees what was removed from its own file.
    assert f"PDF Author “{LAB_AUTHOR}”" in text(client.get(f"/bids/{bid.id}/messages"))

    [told] = notifications_of(session, deal["vendor"])
    seen_as = codename_for(job.codename, job.id, deal["vendor"].org_id)  # the job's codename and this vendor's tag
    assert told.message == f"New message from {seen_as} about your bid on “{job.title}”."

    login_as(deal["vendor"])
    thread = text(client.get(f"/bids/{bid.id}/messages"))
    assert f"Messages with {job.codename}" in thread
    assert lab_name not in thread and "Maya" not in thread and "Northwind" not in thread
    with client.get(f"/bids/{bid.id}/messages/files/{stored.id}") as download:
        assert download.status_code == 200
        assert b"Maya" not in download.data and download.headers["Cache-Control"] == "private, no-store"


def test_nobody_else_may_know_a_thread_exists(client, session, login_as, deal):
    bid = deal["bid"]
    login_as(deal["buyer"])
    assert send(client, bid.id, "Hello.", [(b"notes", "notes.txt")]).status_code == 303
    file_id = session.execute(select(MessageAttachment.id)).scalar_one()
    other_bid = BidFactory(job_id=deal["job"].id, vendor_org_id=VerifiedVendorFactory().org_id)
    for outsider in (VerifiedVendorFactory(), BuyerFactory(), AdminFactory()):
        login_as(outsider)
        assert client.get(f"/bids/{bid.id}/messages").status_code == 404
        assert client.get(f"/bids/{bid.id}/messages/files/{file_id}").status_code == 404
        assert send(client, bid.id, "Let me in.").status_code == 404
    # A file of one thread is not reachable through another thread's address either.
    login_as(deal["buyer"])
    assert client.get(f"/bids/{other_bid.id}/messages/files/{file_id}").status_code == 404
    assert client.get("/bids/999999/messages").status_code == 404
    assert session.execute(select(func.count()).select_from(BidMessage)).scalar() == 1


def test_a_vendor_the_labs_screening_excludes_loses_the_thread_and_its_notifications(
    client, session, login_as, deal, exclude_vendor
):
    bid, vendor = deal["bid"], deal["vendor"]
    login_as(deal["buyer"])
    assert send(client, bid.id, "One more question about your team.").status_code == 303
    login_as(vendor)
    assert client.get(f"/bids/{bid.id}/messages").status_code == 200
    assert "about your bid on" in text(client.get("/notifications/"))

    exclude_vendor(deal["buyer"].org_id, vendor.org_id)
    session.flush()
    login_as(vendor)
    assert client.get(f"/bids/{bid.id}/messages").status_code == 404
    assert send(client, bid.id, "Still there?").status_code == 404
    assert "about your bid on" not in text(client.get("/notifications/"))
    # The lab no longer compares the bid once it is marked conflicted, and its thread goes with it.
    bid.conflicted = True
    session.flush()
    login_as(deal["buyer"])
    assert client.get(f"/bids/{bid.id}/messages").status_code == 404


def test_a_sealed_jobs_thread_opens_at_the_deadline(client, session, login_as, deal):
    job, bid = deal["job"], deal["bid"]
    job.bidding_mode = BiddingMode.SEALED
    session.flush()

    # Before the deadline the lab does not know who bid: no thread to open.
    login_as(deal["buyer"])
    assert client.get(f"/bids/{bid.id}/messages").status_code == 404
    login_as(deal["vendor"])
    page = text(client.get(f"/bids/{bid.id}/messages"))
    assert "Bids are sealed until the deadline, and so is this thread" in page
    refused = send(client, bid.id, "Psst, we are the cheap ones.")
    assert refused.status_code == 400 and "Bids are sealed until the deadline" in text(refused)
    assert session.execute(select(func.count()).select_from(BidMessage)).scalar() == 0

    with time_machine.travel(job.bid_deadline + timedelta(minutes=1)):
        login_as(deal["buyer"])
        assert client.get(f"/bids/{bid.id}/messages").status_code == 200
        assert send(client, bid.id, "Thanks for bidding.").status_code == 303


def test_refusals_say_why_next_to_the_field_and_keep_the_text(client, session, login_as, deal):
    bid, job = deal["bid"], deal["job"]
    login_as(deal["vendor"])

    empty = send(client, bid.id, "   ")
    assert empty.status_code == 400 and "Write a message or attach a file." in text(empty)

    long = "x" * 5001
    too_long = send(client, bid.id, long)
    assert too_long.status_code == 400 and "Keep a message to 5000 characters." in text(too_long)
    assert long in text(too_long)  # the text comes back in the form

    many = send(client, bid.id, "Six files.", [(b"a", f"{n}.txt") for n in range(6)])
    assert many.status_code == 400 and "Attach at most 5 files to one message." in text(many)
    assert "Six files." in text(many)

    big = send(client, bid.id, "A big one.", [(b"0" * (10 * 1024 * 1024 + 1), "big.csv")])
    assert big.status_code == 400 and "“big.csv” is larger than 10 MB." in text(big)

    job.visibility = Visibility.CONFIDENTIAL
    session.flush()
    fake = send(client, bid.id, "Our sample.", [(b"%PDF-1.7 and then nothing a reader can read", "sample.pdf")])
    assert fake.status_code == 400 and "“sample.pdf”:" in text(fake) and "Our sample." in text(fake)
    assert session.execute(select(func.count()).select_from(BidMessage)).scalar() == 0
    assert session.execute(select(func.count()).select_from(MessageAttachment)).scalar() == 0


def test_a_withdrawn_bids_thread_is_kept_and_closed(client, session, login_as, deal):
    bid = deal["bid"]
    login_as(deal["vendor"])
    assert send(client, bid.id, "Before we withdraw.").status_code == 303
    bid.status, bid.withdrawn_at = BidStatus.WITHDRAWN, utcnow()
    session.flush()
    page = text(client.get(f"/bids/{bid.id}/messages"))
    assert "Before we withdraw." in page and "This bid is withdrawn" in page
    refused = send(client, bid.id, "Hello again.")
    assert refused.status_code == 400 and "closed to new messages" in text(refused)


def test_a_suspended_vendor_cannot_send(client, session, login_as, deal):
    org = session.get(Organization, deal["vendor"].org_id)
    org.suspended_at, org.suspended_reason = utcnow(), "Unpaid fees."
    session.flush()
    login_as(deal["vendor"])
    refused = send(client, deal["bid"].id, "Anyone there?")
    assert refused.status_code == 403
    assert "is suspended" in text(refused) and "Unpaid fees." in text(refused)
    assert session.execute(select(func.count()).select_from(BidMessage)).scalar() == 0
