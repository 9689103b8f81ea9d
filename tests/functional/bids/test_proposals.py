"""The lab judges the whole bid: the proposal, an answer to each of the job's data-handling requirements, and the
vendor's files, read beside the comparison; on a sealed job they open with the terms at the deadline; nobody else
reads them; every refusal says why, next to its field, and keeps what was typed."""

import io
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from marketplace.bids.models import Bid, BidAttachment, BidRevision
from marketplace.jobs.models import BiddingMode
from tests.factories import BuyerFactory, JobFactory, VerifiedVendorFactory

PROPOSAL = "Two-pass labeling with a medical reviewer on every disagreement."


def text(response) -> str:
    return response.get_data(as_text=True)


def post_bid(client, url: str, files=(), **answers):
    fields = MultiDict(
        [
            ("price_per_unit", "0.50"),
            ("total", "5000.00"),
            ("turnaround_days", "14"),
            ("proposal", PROPOSAL),
            *((f"answer_{key}", value) for key, value in answers.items()),
            *(("files", FileStorage(io.BytesIO(data), name)) for data, name in files),
        ]
    )
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


@pytest.fixture
def sealed(session):
    buyer = BuyerFactory()
    job = JobFactory(
        buyer_org_id=buyer.org_id,
        bidding_mode=BiddingMode.SEALED,
        data_residency="EU only",
        certifications=["soc2_type2"],
        retention_days=30,
    )
    vendor = VerifiedVendorFactory()
    session.flush()
    return buyer, job, vendor


def test_the_lab_reads_the_whole_bid_at_the_deadline_and_not_before(client, session, login_as, sealed):
    buyer, job, vendor = sealed
    login_as(vendor)
    form = text(client.get(f"/jobs/{job.id}/bid"))
    assert "Data residency: EU only" in form and "Certifications: SOC 2 Type II" in form
    assert "Labeler locations" not in form  # the job sets none
    response = post_bid(
        client,
        f"/jobs/{job.id}/bid",
        files=[(b"%PDF-1.4 methodology", "methodology.pdf"), (b"id,label\n1,cat\n", "sample.csv")],
        data_residency="Frankfurt region, no transfers.",
        certifications="SOC 2 Type II, report dated 2026-03.",
        labeler_locations="Everywhere",  # not asked: dropped
    )
    assert response.status_code == 303, text(response)[:3000]
    bid = session.execute(select(Bid).where(Bid.job_id == job.id)).scalar_one()
    assert bid.requirement_answers == {
        "data_residency": "Frankfurt region, no transfers.",
        "certifications": "SOC 2 Type II, report dated 2026-03.",
    }
    revision = session.execute(select(BidRevision).where(BidRevision.bid_id == bid.id)).scalar_one()
    assert revision.requirement_answers == bid.requirement_answers
    own = text(client.get(f"/bids/{bid.id}"))
    assert "Frankfurt region, no transfers." in own and "methodology.pdf" in own and "sample.csv" in own
    [methodology, _] = session.execute(select(BidAttachment).order_by(BidAttachment.id)).scalars().all()
    with client.get(f"/bids/{bid.id}/files/{methodology.id}") as download:
        assert download.status_code == 200 and download.data == b"%PDF-1.4 methodology"

    # Before the deadline the lab knows neither who bid nor what: no proposal, no file.
    login_as(buyer)
    assert client.get(f"/jobs/{job.id}/bids/{bid.id}").status_code == 404
    assert client.get(f"/bids/{bid.id}/files/{methodology.id}").status_code == 404

    with time_machine.travel(job.bid_deadline + timedelta(minutes=1)):
        assert f'href="/jobs/{job.id}/bids/{bid.id}"' in text(client.get(f"/jobs/{job.id}/bids"))
        page = text(client.get(f"/jobs/{job.id}/bids/{bid.id}"))
        assert PROPOSAL in page
        assert "Data residency: EU only" in page and "Frankfurt region, no transfers." in page
        assert "Retention and deletion: 30 days" in page and "Not answered" in page
        assert "methodology.pdf" in page and "sample.csv" in page
        with client.get(f"/bids/{bid.id}/files/{methodology.id}") as download:
            assert download.status_code == 200

        for outsider in (BuyerFactory(), VerifiedVendorFactory()):
            login_as(outsider)
            assert client.get(f"/jobs/{job.id}/bids/{bid.id}").status_code == (404 if outsider.is_buyer else 403)
            assert client.get(f"/bids/{bid.id}/files/{methodology.id}").status_code == 404


def test_an_open_jobs_proposal_is_read_at_once_and_follows_each_revision(client, session, login_as, sealed):
    buyer, job, vendor = sealed
    job.bidding_mode = BiddingMode.OPEN
    session.flush()
    login_as(vendor)
    post_bid(client, f"/jobs/{job.id}/bid", files=[(b"v1", "plan-v1.txt")], data_residency="EU.")
    bid = session.execute(select(Bid).where(Bid.job_id == job.id)).scalar_one()
    revised = post_bid(client, f"/bids/{bid.id}/revise", files=[(b"v2", "plan-v2.txt")], data_residency="EU, Paris.")
    assert revised.status_code == 303, text(revised)[:2000]

    login_as(buyer)
    page = text(client.get(f"/jobs/{job.id}/bids/{bid.id}"))
    assert "EU, Paris." in page and "plan-v1.txt" in page and "plan-v2.txt" in page
    revisions = session.execute(select(BidRevision).order_by(BidRevision.number)).scalars()
    answers = [revision.requirement_answers for revision in revisions]
    assert answers == [{"data_residency": "EU."}, {"data_residency": "EU, Paris."}]


def test_a_vendor_excluded_since_it_bid_takes_its_proposal_with_it(client, session, login_as, sealed, exclude_vendor):
    buyer, job, vendor = sealed
    job.bidding_mode = BiddingMode.OPEN
    session.flush()
    login_as(vendor)
    post_bid(client, f"/jobs/{job.id}/bid")
    bid = session.execute(select(Bid).where(Bid.job_id == job.id)).scalar_one()
    login_as(buyer)
    assert client.get(f"/jobs/{job.id}/bids/{bid.id}").status_code == 200
    exclude_vendor(buyer.org_id, vendor.org_id)
    session.flush()
    assert client.get(f"/jobs/{job.id}/bids/{bid.id}").status_code == 404


@pytest.mark.parametrize(
    ("files", "answers", "message"),
    [
        ([], {"data_residency": "x" * 2001}, "Keep each answer under 2,000 characters."),
        ([(b"a", f"{n}.txt") for n in range(11)], {}, "A bid can carry at most 10 files."),
        ([(b"0" * (10 * 1024 * 1024 + 1), "huge.bin")], {}, "“huge.bin” is larger than 10 MB."),
        ([(b"", "empty.txt")], {}, "“empty.txt” is empty."),
    ],
)
def test_refusals_say_why_and_keep_what_was_typed(client, session, login_as, sealed, files, answers, message):
    _, job, vendor = sealed
    login_as(vendor)
    response = post_bid(client, f"/jobs/{job.id}/bid", files=files, **answers)
    assert response.status_code == 400
    page = text(response)
    assert message in page and PROPOSAL in page
    assert session.execute(select(Bid).where(Bid.job_id == job.id)).scalar_one_or_none() is None
    assert session.execute(select(BidAttachment)).scalars().all() == []
