"""A buyer exports, as JSON lines, the records about its own jobs, bids, contracts, rivals, policy, waivers and
verdicts, and nothing it could not read in the app: no vendor-private record, no other organisation's staff, and no
sealed bid's terms before the deadline."""

import itertools
import json
from datetime import datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from marketplace.audit.models import AuditRecord
from marketplace.audit.service import _digest, record_event
from marketplace.bids import service as bids
from marketplace.bids.service import Offer
from marketplace.jobs.models import BiddingMode
from tests.factories import (
    AdminFactory,
    BidFactory,
    BuyerFactory,
    BuyerOrgFactory,
    JobFactory,
    VendorFactory,
    VendorOrgFactory,
    VerifiedVendorFactory,
)

EXPORT = "/audit/export.jsonl"


@pytest.fixture
def world(session):
    """Lab A and lab B; a vendor bidding for both; records of every kind, by lab staff, vendor staff and an admin."""
    lab_a, lab_b = BuyerOrgFactory(name="Lab A"), BuyerOrgFactory(name="Lab B")
    job_a = JobFactory(buyer_org_id=lab_a.id, bidding_mode=BiddingMode.OPEN)
    job_b = JobFactory(buyer_org_id=lab_b.id, bidding_mode=BiddingMode.OPEN)
    bidder = VendorOrgFactory(name="Bidder Labelling")
    bid_a = BidFactory(job_id=job_a.id, vendor_org_id=bidder.id)
    bid_b = BidFactory(job_id=job_b.id, vendor_org_id=bidder.id)
    maya = BuyerFactory(org_id=lab_a.id, email="maya@lab-a.example")
    ines = VendorFactory(org_id=bidder.id, email="ines@bidder.example")
    admin = AdminFactory(email="root@platform.example")

    def rec(actor, action, subject_type, subject_id, buyer=None, vendor=None, **after):
        return record_event(
            session,
            actor,
            action,
            subject_type,
            subject_id,
            after=after or {"note": action},
            buyer_org_id=buyer.id if buyer else None,
            vendor_org_id=vendor.id if vendor else None,
        ).id

    ids = {
        # Lab A may export these:
        "a_job": rec(maya, "job.published", "job", job_a.id, buyer=lab_a),
        "a_bid": rec(ines, "bid.placed", "bid", bid_a.id, buyer=lab_a, vendor=bidder, total="1,000.00 USD"),
        "a_rival": rec(maya, "rival.added", "rival", 1, buyer=lab_a),
        "a_verdict": rec(admin, "screening.verdict_changed", "organization", bidder.id, buyer=lab_a, vendor=bidder),
        "a_created": rec(maya, "organization.created", "organization", lab_a.id, buyer=lab_a),
        # ...and never these: vendor-private records, and lab B's.
        "disclosure": rec(admin, "disclosure.approved", "disclosure", 1, vendor=bidder, reason="Checked the filing"),
        "evidence": rec(
            ines, "disclosure.evidence_attached", "disclosure", 1, vendor=bidder, file="cap-table.pdf", sha256="ab" * 32
        ),
        "suspended": rec(
            admin, "organization.suspended", "organization", bidder.id, vendor=bidder, reason="Unpaid fraud review"
        ),
        "payout": rec(
            ines, "payout_account.created", "organization", bidder.id, vendor=bidder, stripe_account="acct_secret123"
        ),
        "fact": rec(admin, "fact.recorded", "interest", 1, vendor=bidder),
        "b_job": rec(admin, "job.published", "job", job_b.id, buyer=lab_b),
        "b_bid": rec(ines, "bid.placed", "bid", bid_b.id, buyer=lab_b, vendor=bidder),
        "b_created": rec(admin, "organization.created", "organization", lab_b.id, buyer=lab_b),
        "party_merged": rec(admin, "party.merged", "party", 1),
    }
    return {"lab_a": lab_a, "lab_b": lab_b, "maya": maya, "ids": ids}


def lines(response) -> list[dict]:
    return [json.loads(line) for line in response.get_data(as_text=True).splitlines()]


def test_the_export_holds_the_buyers_own_records_and_nothing_vendor_private(client, login_as, world):
    login_as(world["maya"])
    response = client.get(EXPORT)
    assert response.status_code == 200
    assert response.mimetype == "application/jsonl"
    assert "attachment" in response.headers["Content-Disposition"]
    ids = world["ids"]
    assert [r["id"] for r in lines(response)] == [
        ids[key] for key in ("a_job", "a_bid", "a_rival", "a_verdict", "a_created")
    ]
    body = response.get_data(as_text=True)
    for secret in ("Checked the filing", "cap-table.pdf", "Unpaid fraud review", "acct_secret123"):
        assert secret not in body


def test_other_organisations_people_are_named_by_their_organisation(client, login_as, world):
    login_as(world["maya"])
    records = {r["id"]: r for r in lines(client.get(EXPORT))}
    ids = world["ids"]
    assert records[ids["a_job"]]["actor_label"] == "maya@lab-a.example"
    assert "redacted" not in records[ids["a_job"]]
    assert records[ids["a_bid"]]["actor_label"] == "Bidder Labelling"
    assert records[ids["a_verdict"]]["actor_label"] == "platform admin"
    assert records[ids["a_bid"]]["redacted"] == ["actor_label", "hash"]
    body = client.get(EXPORT).get_data(as_text=True)
    assert "ines@bidder.example" not in body and "root@platform.example" not in body


def test_the_other_buyer_gets_its_own_share(client, login_as, world):
    login_as(BuyerFactory(org_id=world["lab_b"].id))
    ids = world["ids"]
    assert [r["id"] for r in lines(client.get(EXPORT))] == [ids[key] for key in ("b_job", "b_bid", "b_created")]


def test_each_line_not_redacted_can_be_checked_against_its_hash(client, login_as, world):
    login_as(world["maya"])
    records = lines(client.get(EXPORT))
    whole = [r for r in records if "redacted" not in r]
    assert whole and len(whole) < len(records)
    for record in whole:
        assert _digest({**record, "at": datetime.fromisoformat(record["at"])}) == record["hash"]


def test_a_sealed_bids_terms_stay_out_of_the_export_until_the_deadline(client, login_as, session):
    lab = BuyerOrgFactory(name="Northwind AI")
    maya = BuyerFactory(org_id=lab.id)
    job = JobFactory(buyer_org_id=lab.id, bidding_mode=BiddingMode.SEALED)
    ines = VerifiedVendorFactory()
    offer = Offer(price_per_unit_minor=4_321, total_minor=987_654, turnaround_days=17)
    bid = bids.place_bid(session, ines, job.id, offer)
    bids.revise_bid(session, ines, bid.id, Offer(price_per_unit_minor=3_999, total_minor=876_543, turnaround_days=13))
    login_as(maya)

    before = lines(client.get(EXPORT))
    sealed = [r for r in before if r["action"] in ("bid.placed", "bid.revised")]
    assert len(sealed) == 2
    assert all(r["before"] is None and r["after"] is None and "before" in r["redacted"] for r in sealed)
    assert all(r["sealed_until"] == job.bid_deadline.isoformat() for r in sealed)
    # Nowhere in the lines but their times, which are times and nothing else (a time's seconds can read "39.99…").
    times = ("at", "sealed_until")
    assert all(datetime.fromisoformat(r[key]) for r in before for key in times if key in r)
    text = json.dumps([{key: value for key, value in r.items() if key not in times} for r in before])
    for figure in ("9,876.54", "8,765.43", "43.21", "39.99", "987654", "876543"):
        assert figure not in text

    with time_machine.travel(job.bid_deadline + timedelta(minutes=1), tick=False):
        after = lines(client.get(EXPORT))
    revised = next(r for r in after if r["action"] == "bid.revised")
    assert "8,765.43" in json.dumps(revised["after"]) and "9,876.54" in json.dumps(revised["before"])
    assert "sealed_until" not in revised


def test_a_sealed_bids_hash_is_withheld_too_for_its_terms_can_be_guessed_from_it(client, login_as, session):
    """A sealed line's hash covers the terms, and every other field it covers is in the line but the bidder's email:
    a lab guessing that email and a few round figures would confirm the terms against the hash. So neither the
    sealed line's hash nor the next line's prev_hash (the same value) is exported before the deadline."""
    lab = BuyerOrgFactory(name="Northwind AI")
    maya = BuyerFactory(org_id=lab.id)
    job = JobFactory(buyer_org_id=lab.id, bidding_mode=BiddingMode.SEALED)
    ines = VerifiedVendorFactory(email="ines@clearlabel.example")
    bid = bids.place_bid(session, ines, job.id, Offer(price_per_unit_minor=60, total_minor=600_000, turnaround_days=20))
    placed = session.execute(select(AuditRecord).where(AuditRecord.action == "bid.placed")).scalar_one()
    record_event(session, maya, "job.edited", "job", job.id, after={"note": "next"}, buyer_org_id=lab.id)
    login_as(maya)

    exported = lines(client.get(EXPORT))
    sealed = next(r for r in exported if r["action"] == "bid.placed")
    # The attack: every hashed field from the line, the email guessed, the terms tried until the hash matches.
    guessed = None
    for total, days in itertools.product(range(5_000, 10_001, 500), range(5, 31)):
        terms = {"price_per_unit": "$0.60", "total": f"${total:,}.00"}
        terms |= {"turnaround_days": days, "quality_guarantee_pct": bid.quality_guarantee_pct}
        candidate = {**sealed, "actor_label": "ines@clearlabel.example", "after": terms}
        candidate["at"] = datetime.fromisoformat(sealed["at"])
        if sealed["hash"] is not None and _digest(candidate) == sealed["hash"]:
            guessed = terms
    assert guessed is None
    assert placed.hash not in json.dumps(exported)
    assert "hash" in sealed["redacted"]
    following = next(r for r in exported if r["action"] == "job.edited")
    assert following["prev_hash"] is None and following["redacted"] == ["prev_hash"]

    with time_machine.travel(job.bid_deadline + timedelta(minutes=1), tick=False):
        after = lines(client.get(EXPORT))
    # After the deadline the terms are out, but the hash still covers the bidder's email, which stays redacted.
    opened = next(r for r in after if r["action"] == "bid.placed")
    assert opened["after"] is not None and opened["hash"] is None and opened["redacted"] == ["actor_label", "hash"]
    assert next(r for r in after if r["action"] == "job.edited")["prev_hash"] is None


def test_a_guessed_email_cannot_be_confirmed_against_a_line_that_names_only_the_organisation(
    client, login_as, session, world
):
    """A line naming another organisation's person by the organisation holds every other field its hash covers:
    the hash would confirm a guessed email. So it is withheld, and the next line's prev_hash (the same value)."""
    login_as(world["maya"])
    exported = lines(client.get(EXPORT))
    records = {r["id"]: r for r in exported}
    line = records[world["ids"]["a_bid"]]
    candidate = {**line, "actor_label": "ines@bidder.example", "at": datetime.fromisoformat(line["at"])}
    assert line["hash"] is None and line["redacted"] == ["actor_label", "hash"]
    # Had the stored hash been exported, the right guess would match it: the attack is real, and now has nothing.
    stored = session.get(AuditRecord, line["id"])
    candidate["prev_hash"] = stored.prev_hash
    assert _digest(candidate) == stored.hash
    assert stored.hash not in json.dumps(exported)


def test_a_buyer_with_nothing_gets_an_empty_file(client, login_as, world):
    login_as(BuyerFactory())
    response = client.get(EXPORT)
    assert response.status_code == 200 and response.get_data() == b""


@pytest.mark.parametrize("who", ["vendor", "admin"])
def test_vendors_and_admins_may_not_export(client, login_as, world, who):
    login_as(VendorFactory() if who == "vendor" else AdminFactory())
    assert client.get(EXPORT).status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client, world):
    response = client.get(EXPORT)
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_an_actor_the_export_cannot_find_is_never_named(client, login_as, session, world):
    from marketplace.audit.service import _BuyersReader

    reader = _BuyersReader(session, world["lab_a"].id)
    assert reader.actor_label(987_654_321, "ghost@elsewhere.example") == "someone outside your organisation"
    assert reader.actor_label(world["maya"].id, "maya@lab-a.example") == "maya@lab-a.example"
