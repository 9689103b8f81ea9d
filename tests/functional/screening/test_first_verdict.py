"""A pair's first stored verdict is no change: nobody is told and the trail is quiet, unless it excludes."""

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.bids.models import Bid
from marketplace.contracts.models import Contract, ContractStatus
from marketplace.disclosures import service as disclosures
from marketplace.notifications.models import Notification
from marketplace.parties.models import Interest
from marketplace.screening.engine.verdicts import Verdict
from marketplace.screening.models import VerdictRecord
from marketplace.screening.services.refresh import VerdictChange, refresh_verdicts
from tests.factories import (
    AdminFactory,
    BidFactory,
    BuyerFactory,
    ContractFactory,
    InterestFactory,
    JobFactory,
    PartyFactory,
    RivalFactory,
    VendorFactory,
    VerifiedVendorOrgFactory,
)
from tests.unit.disclosures.helpers import file_version, tie


def told(session, user) -> list[str]:
    return (
        session.execute(
            select(Notification.message).where(Notification.user_id == user.id, Notification.kind == "verdict_changed")
        )
        .scalars()
        .all()
    )


def verdict_changes(session) -> list[AuditRecord]:
    return session.execute(select(AuditRecord).where(AuditRecord.action == "screening.verdict_changed")).scalars().all()


def stored(session, buyer, vendor_org_id) -> str | None:
    return session.execute(
        select(VerdictRecord.verdict).where(
            VerdictRecord.buyer_org_id == buyer.org_id, VerdictRecord.vendor_org_id == vendor_org_id
        )
    ).scalar()


@pytest.fixture
def cobalt(session):
    return PartyFactory(name="Cobalt Social")


def contract_with(session, buyer, vendor_org) -> tuple[Bid, Contract]:
    """An awarded, active contract between them, and a live bid of the vendor on another of the buyer's jobs."""
    contract = ContractFactory(buyer_org_id=buyer.org_id, vendor_org_id=vendor_org.id)
    live = BidFactory(job_id=JobFactory(buyer_org_id=buyer.org_id).id, vendor_org_id=vendor_org.id)
    return live, contract


def test_a_new_vendors_first_filing_tells_no_buyer_of_a_change(session, cobalt):
    northwind, quill = BuyerFactory(), BuyerFactory()
    RivalFactory(buyer_org_id=northwind.org_id, party_id=cobalt.id)
    vendor = VendorFactory()

    version = file_version(session, vendor, tie(name="Founder Holdings", share_exact=100.0))

    # Filed, not yet approved: unverified, so review for both, stored without a word.
    assert stored(session, northwind, vendor.org_id) == stored(session, quill, vendor.org_id) == "review"
    assert told(session, northwind) == told(session, quill) == []
    assert verdict_changes(session) == []

    # From there on a change is a change: approval clears the vendor, and both buyers hear of it.
    disclosures.decide_version(session, AdminFactory(), version.id, "approved")
    assert stored(session, northwind, vendor.org_id) == "clear"
    [message] = told(session, northwind)
    assert "improved: review → clear" in message
    assert len(told(session, quill)) == 1 and len(verdict_changes(session)) == 2


def test_a_first_review_verdict_leaves_bids_and_contracts_alone(session, cobalt):
    buyer = BuyerFactory()
    RivalFactory(buyer_org_id=buyer.org_id, party_id=cobalt.id)
    vendor_org = VerifiedVendorOrgFactory()
    InterestFactory(interested_party_id=cobalt.id, subject_party_id=vendor_org.party_id, share_exact=15.0)
    bid, contract = contract_with(session, buyer, vendor_org)

    assert refresh_verdicts(session, None, vendor_org_ids=[vendor_org.id]) == []

    assert stored(session, buyer, vendor_org.id) == "review"
    assert told(session, buyer) == [] and verdict_changes(session) == []
    assert contract.status == ContractStatus.ACTIVE and bid.conflicted is False

    # Worsening from the stored review is acted on as before.
    stake = session.execute(select(Interest).where(Interest.subject_party_id == vendor_org.party_id)).scalar_one()
    stake.share_exact = 49.0
    session.flush()
    changes = refresh_verdicts(session, None, vendor_org_ids=[vendor_org.id])
    assert changes == [VerdictChange(buyer.org_id, vendor_org.id, Verdict.REVIEW, Verdict.EXCLUDE)]
    # Flagged, then paused by its change-of-control playbook (which winds down by default: tests/functional/playbook).
    assert contract.status == ContractStatus.PAUSED and bid.conflicted is True
    [message] = told(session, buyer)
    assert "worsened: review → exclude" in message


def test_a_first_clear_verdict_is_stored_silently(session, cobalt):
    buyer = BuyerFactory()
    RivalFactory(buyer_org_id=buyer.org_id, party_id=cobalt.id)
    vendor_org = VerifiedVendorOrgFactory()

    assert refresh_verdicts(session, None, vendor_org_ids=[vendor_org.id]) == []
    assert stored(session, buyer, vendor_org.id) == "clear"
    assert told(session, buyer) == [] and verdict_changes(session) == []


def test_a_first_exclude_verdict_conflicts_bids_flags_the_contract_and_tells_the_buyer(session, cobalt):
    buyer, bystander = BuyerFactory(), BuyerFactory()
    RivalFactory(buyer_org_id=buyer.org_id, party_id=cobalt.id)
    vendor_org = VerifiedVendorOrgFactory()
    InterestFactory(interested_party_id=cobalt.id, subject_party_id=vendor_org.party_id, share_exact=49.0)
    bid, contract = contract_with(session, buyer, vendor_org)
    other_bid, other_contract = contract_with(session, bystander, vendor_org)

    changes = refresh_verdicts(session, None, vendor_org_ids=[vendor_org.id])

    assert changes == [VerdictChange(buyer.org_id, vendor_org.id, Verdict.CLEAR, Verdict.EXCLUDE)]
    assert stored(session, buyer, vendor_org.id) == "exclude"
    assert bid.conflicted is True
    # Flagged, then paused by its change-of-control playbook (which winds down by default: tests/functional/playbook).
    assert contract.status == ContractStatus.PAUSED and "Cobalt Social holds 49%" in contract.flagged_reason
    [message] = told(session, buyer)
    assert "worsened: clear → exclude" in message and "Cobalt Social holds 49%" in message
    [audit] = verdict_changes(session)
    assert (audit.buyer_org_id, audit.vendor_org_id, audit.after) == (
        buyer.org_id,
        vendor_org.id,
        {"verdict": "exclude"},
    )
    # The bystander names no rival: its first verdict is clear and nothing of its own moves.
    assert stored(session, bystander, vendor_org.id) == "clear" and told(session, bystander) == []
    assert other_bid.conflicted is False and other_contract.status == ContractStatus.ACTIVE

    # Nothing changed since: a second refresh is silent.
    assert refresh_verdicts(session, None, vendor_org_ids=[vendor_org.id]) == []
    assert len(told(session, buyer)) == 1 and len(verdict_changes(session)) == 1


def test_a_buyer_naming_its_first_rival_hears_only_of_the_vendors_it_excludes(session, client, login_as, cobalt):
    buyer = login_as(BuyerFactory())
    excluded, reviewed = VerifiedVendorOrgFactory(), VerifiedVendorOrgFactory()
    InterestFactory(interested_party_id=cobalt.id, subject_party_id=excluded.party_id, share_exact=49.0)
    InterestFactory(interested_party_id=cobalt.id, subject_party_id=reviewed.party_id, share_exact=15.0)
    unverified = VendorFactory()

    assert client.post("/rivals", data={"name": "Cobalt Social"}).status_code == 303

    assert {org_id: stored(session, buyer, org_id) for org_id in (excluded.id, reviewed.id, unverified.org_id)} == {
        excluded.id: "exclude",
        reviewed.id: "review",
        unverified.org_id: "review",
    }
    [message] = told(session, buyer)
    name = session.get(Organization, excluded.id).name
    assert f"Screening of {name} worsened: clear → exclude" in message


def test_storing_verdicts_takes_any_number_of_vendors(session):
    """The vendors to re-screen are passed as one parameter, not one each: 70,000 ids (beyond PostgreSQL's 65,535
    parameters a statement, SQLite's 32,766) are a list like any other."""
    buyer = BuyerFactory()
    rival = RivalFactory(buyer_org_id=buyer.org_id)
    vendor = VerifiedVendorOrgFactory()
    InterestFactory(interested_party_id=rival.party_id, subject_party_id=vendor.party_id, share_exact=40.0)
    beyond = range(10_000_000, 10_070_000)  # ids no organisation has
    refresh_verdicts(session, None, vendor_org_ids=[*beyond, vendor.id], buyer_org_ids=[*beyond, buyer.org_id])
    assert stored(session, buyer, vendor.id) == Verdict.EXCLUDE.value
