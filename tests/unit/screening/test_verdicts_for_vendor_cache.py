"""verdicts_for_vendor is computed once per transaction and forgotten at any write: a page asking several times
screens the vendor once, and no answer outlives a change."""

from sqlalchemy import event, update

from marketplace.parties.models import Interest
from marketplace.screening.services.screen import Verdict, verdicts_for_vendor
from tests.factories import BuyerOrgFactory, InterestFactory, RivalFactory, VerifiedVendorOrgFactory


def test_asked_again_in_one_transaction_it_reads_nothing(session):
    lab, vendor = BuyerOrgFactory(), VerifiedVendorOrgFactory()
    session.flush()
    first = verdicts_for_vendor(session, vendor)
    seen = []

    def count(*_args, **_kwargs):
        seen.append(1)

    event.listen(session.connection(), "before_cursor_execute", count)
    try:
        again = verdicts_for_vendor(session, vendor)
    finally:
        event.remove(session.connection(), "before_cursor_execute", count)
    assert again == first and first[lab.id] == Verdict.CLEAR
    assert seen == []


def test_a_flushed_change_is_seen_at_once(session):
    lab, vendor = BuyerOrgFactory(), VerifiedVendorOrgFactory()
    rival = RivalFactory(buyer_org_id=lab.id)
    session.flush()
    assert verdicts_for_vendor(session, vendor)[lab.id] == Verdict.CLEAR
    InterestFactory(interested_party_id=rival.party_id, subject_party_id=vendor.party_id, share_exact=30.0)
    session.flush()
    assert verdicts_for_vendor(session, vendor)[lab.id] == Verdict.EXCLUDE


def test_an_update_statement_is_seen_at_once(session):
    lab, vendor = BuyerOrgFactory(), VerifiedVendorOrgFactory()
    rival = RivalFactory(buyer_org_id=lab.id)
    tie = InterestFactory(interested_party_id=rival.party_id, subject_party_id=vendor.party_id, share_exact=30.0)
    session.flush()
    assert verdicts_for_vendor(session, vendor)[lab.id] == Verdict.EXCLUDE
    session.execute(update(Interest).where(Interest.id == tie.id).values(share_exact=1.0))
    assert verdicts_for_vendor(session, vendor)[lab.id] == Verdict.CLEAR


def test_a_rolled_back_change_is_forgotten(session):
    lab, vendor = BuyerOrgFactory(), VerifiedVendorOrgFactory()
    rival = RivalFactory(buyer_org_id=lab.id)
    session.flush()
    savepoint = session.begin_nested()
    InterestFactory(interested_party_id=rival.party_id, subject_party_id=vendor.party_id, share_exact=30.0)
    session.flush()
    assert verdicts_for_vendor(session, vendor)[lab.id] == Verdict.EXCLUDE
    savepoint.rollback()
    assert verdicts_for_vendor(session, vendor)[lab.id] == Verdict.CLEAR
