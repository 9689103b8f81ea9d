"""No sequence of actions that needs no admin's approval tells a vendor whether a lab names a party as a rival.

The probe that recovered every lab's rival list: a vendor files a disclosure naming a party as its 30% owner (it
counts at once, unreviewed) and looks, lab by lab, at what changes for it. While the filing awaits review, what
the vendor may see and do is the same for every lab (public jobs only, no bidding), so the two labs below, one
naming the party as a rival and one not, look alike to it; only an admin's review makes its verdicts observable.
"""

import pytest
from flask import url_for

from marketplace.bids.service import Offer, place_bid
from marketplace.disclosures import service as disclosures
from marketplace.disclosures.service import TieInput
from marketplace.jobs.models import BiddingMode, Visibility
from tests.factories import AdminFactory, BuyerFactory, JobFactory, PartyFactory, RivalFactory, VerifiedVendorFactory


@pytest.fixture
def labs(session):
    """Lab A names Cobalt Social as a rival; lab B does not. Each has a public and a confidential job."""
    cobalt = PartyFactory(name="Cobalt Social")
    lab_a, lab_b = BuyerFactory(), BuyerFactory()
    RivalFactory(buyer_org_id=lab_a.org_id, party_id=cobalt.id)
    jobs = {}
    for name, lab in (("a", lab_a), ("b", lab_b)):
        jobs[name] = (
            JobFactory(buyer_org_id=lab.org_id, visibility=Visibility.PUBLIC, bidding_mode=BiddingMode.OPEN),
            JobFactory(buyer_org_id=lab.org_id, visibility=Visibility.CONFIDENTIAL, codename=f"Kite {name}"),
        )
    return {"cobalt": cobalt, "jobs": jobs, "lab_a": lab_a, "lab_b": lab_b}


def observe(client, jobs) -> dict:
    """What the vendor can tell about one lab: its public job's page and bid form, its confidential job."""
    public, confidential = jobs
    shown = client.get(url_for("jobs.show", job_id=public.id))
    form = client.get(url_for("bids.new", job_id=public.id))
    secret = client.get(url_for("jobs.show", job_id=confidential.id))
    text = form.get_data(as_text=True)
    refusal = next(
        (line.strip() for line in text.splitlines() if "Bidding is paused" in line or "cannot bid" in line), ""
    )
    return {
        "public": shown.status_code,
        "bid form": form.status_code,
        "refusal": refusal,
        "confidential": secret.status_code,
    }


def test_an_unreviewed_owner_looks_the_same_from_every_lab(client, login_as, session, labs):
    vendor = VerifiedVendorFactory()
    login_as(vendor)
    before = {name: observe(client, jobs) for name, jobs in labs["jobs"].items()}
    assert before["a"] == before["b"] and before["a"]["confidential"] == 200

    version = disclosures.start_new_version(session, vendor)
    disclosures.add_tie(
        session,
        vendor,
        version.id,
        TieInput(kind="shareholding", party_name="Cobalt Social", party_kind="entity", share_exact=30.0),
    )
    disclosures.submit_version(
        session, vendor, version.id, attester_name="Ana Probe", attester_title="CEO", attested=True
    )
    during = {name: observe(client, jobs) for name, jobs in labs["jobs"].items()}

    # The same for both labs: public jobs readable, every bid refused in one wording, every confidential job absent.
    assert during["a"] == during["b"]
    assert during["a"]["public"] == 200 and during["a"]["confidential"] == 404
    assert "Bidding is paused while your ownership disclosure awaits" in during["a"]["refusal"]
    with pytest.raises(Exception, match="Bidding is paused"):
        place_bid(
            session,
            vendor,
            labs["jobs"]["b"][0].id,
            Offer(price_per_unit_minor=10, total_minor=1_000, turnaround_days=5),
        )

    disclosures.decide_version(session, AdminFactory(), version.id, "approved")
    after = {name: observe(client, jobs) for name, jobs in labs["jobs"].items()}
    # Reviewed, the verdicts show: lab A excludes the vendor, lab B does not.
    assert after["a"]["confidential"] == 404 and after["b"]["confidential"] == 200
    assert "You cannot bid on this job." in after["a"]["refusal"] and after["b"]["refusal"] == ""


def test_a_vendors_live_bids_read_paused_everywhere_while_its_filing_awaits_review(client, login_as, session, labs):
    vendor = VerifiedVendorFactory()
    offer = Offer(price_per_unit_minor=10, total_minor=1_000, turnaround_days=5)
    bids = [place_bid(session, vendor, labs["jobs"][name][0].id, offer) for name in ("a", "b")]
    version = disclosures.start_new_version(session, vendor)
    disclosures.add_tie(
        session,
        vendor,
        version.id,
        TieInput(kind="shareholding", party_name="Cobalt Social", party_kind="entity", share_exact=30.0),
    )
    disclosures.submit_version(
        session, vendor, version.id, attester_name="Ana Probe", attester_title="CEO", attested=True
    )
    login_as(vendor)

    pages = [client.get(url_for("bids.show", bid_id=bid.id)).get_data(as_text=True) for bid in bids]
    for page in pages:
        assert "Your bids are paused while your ownership disclosure awaits" in page
        assert "no longer being considered" not in page
    listing = client.get(url_for("bids.mine")).get_data(as_text=True)
    assert listing.count("badge-paused") == 2 and "badge-not-considered" not in listing
