"""Screening more pairs than a page holds (a whole register for a lab) skips the store of page answers: it gives what
a page's screening gives, and buyers never share a screening one of them could mark waivers on."""

from marketplace.screening.services import screen as service
from marketplace.screening.services.screen import Verdict
from tests.factories import BuyerOrgFactory, InterestFactory, RivalFactory, VerifiedVendorOrgFactory


def _lab_and_vendors():
    lab = BuyerOrgFactory()
    rival = RivalFactory(buyer_org_id=lab.id)
    owned, clean = VerifiedVendorOrgFactory(), VerifiedVendorOrgFactory()
    InterestFactory(interested_party_id=rival.party_id, subject_party_id=owned.party_id, share_exact=30.0)
    return lab, rival, owned, clean


def test_a_register_is_screened_as_a_page_is(session, monkeypatch):
    lab, _, owned, clean = _lab_and_vendors()
    session.flush()
    page = service.screenings_for_buyer(session, lab.id, [owned, clean])
    monkeypatch.setattr(service, "PAGE_PAIRS_KEPT", 1)
    register = service.screenings_for_buyer(session, lab.id, [owned, clean])
    assert {vendor: s.verdict for vendor, s in register.items()} == {
        owned.id: Verdict.EXCLUDE,
        clean.id: Verdict.CLEAR,
    }
    assert [f.as_dict() for f in register[owned.id].findings] == [f.as_dict() for f in page[owned.id].findings]


def test_buyers_with_the_same_rivals_get_screenings_of_their_own(session, monkeypatch):
    lab, rival, owned, clean = _lab_and_vendors()
    other = BuyerOrgFactory()
    RivalFactory(buyer_org_id=other.id, party_id=rival.party_id)
    session.flush()
    monkeypatch.setattr(service, "PAGE_PAIRS_KEPT", 1)
    pairs = service.screen_pairs_for_page(session, [lab.id, other.id], [owned, clean])
    mine, theirs = pairs[(lab.id, owned.id)], pairs[(other.id, owned.id)]
    assert mine.verdict == theirs.verdict == Verdict.EXCLUDE
    mine.findings[0].waived = True
    assert not theirs.findings[0].waived
