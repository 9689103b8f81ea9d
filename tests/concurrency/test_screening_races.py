"""Races over one buyer's screening: naming the same rival twice, waiving the same finding twice, saving the
policy twice, removing a rival twice; and a lab's re-screening racing a vendor's filing.

Two colleagues (or one buyer's double click) act at once: one rival per party, one waiver per finding, one
audit record per change, the stored verdicts what a live screening says; the loser is told in words, never a 5xx.
"""

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.disclosures.models import DisclosureStatus
from marketplace.extensions import db
from marketplace.parties.models import Party, TieOrigin
from marketplace.screening.engine.verdicts import DEFAULT_ACTIONS
from marketplace.screening.models import Rival, ScreeningPolicy, VerdictRecord, Waiver
from marketplace.screening.services.screen import screen_pairs
from tests.concurrency.harness import flashes, post_and_follow, together
from tests.concurrency.invariants import no_server_errors, told
from tests.factories import (
    BuyerFactory,
    DisclosureFactory,
    InterestFactory,
    PartyFactory,
    RivalFactory,
    UserFactory,
    VendorFactory,
    VerifiedVendorOrgFactory,
)

TRIALS = 3


def _two_buyers(**extra):
    buyer = BuyerFactory()
    return buyer.org_id, buyer.id, UserFactory(role=buyer.role, org_id=buyer.org_id).id


def rivals_of(org_id: int) -> list[int]:
    return db.session.execute(select(Rival.party_id).where(Rival.buyer_org_id == org_id)).scalars().all()


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_new_rival_named_twice_at_once_is_one_rival(race_app, build, client_for, trial):
    org_id, *buyer_ids = build(_two_buyers)
    name = build(lambda: f"Quarry Analytics {PartyFactory().id}")
    clients = [client_for(user_id) for user_id in buyer_ids]
    outcomes = together([lambda c=c: post_and_follow(c, "/rivals", {"name": name}) for c in clients])
    no_server_errors(outcomes)
    assert told(outcomes, "is now on your rival list") == 1, [(o.status, flashes(o.text)) for o in outcomes]
    assert sum(o.status == 400 and f"{name} is already on your rival list." in o.text for o in outcomes) == 1
    with race_app.app_context():
        parties = db.session.execute(select(Party.id).where(Party.name == name)).scalars().all()
        assert len(parties) == 1 and rivals_of(org_id) == parties


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_registry_party_added_twice_at_once_is_one_rival(race_app, build, client_for, trial):
    org_id, *buyer_ids = build(_two_buyers)
    party_id = build(lambda: PartyFactory().id)
    clients = [client_for(user_id) for user_id in buyer_ids]
    outcomes = together([lambda c=c: post_and_follow(c, "/rivals", {"party_id": str(party_id)}) for c in clients])
    no_server_errors(outcomes)
    assert told(outcomes, "is now on your rival list") == 1, [(o.status, flashes(o.text)) for o in outcomes]
    assert sum(o.status == 400 and "is already on your rival list." in o.text for o in outcomes) == 1
    with race_app.app_context():
        assert rivals_of(org_id) == [party_id]


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_rival_removed_twice_at_once_is_removed_once(race_app, build, client_for, trial):
    org_id, *buyer_ids = build(_two_buyers)
    rival_id = build(lambda: RivalFactory(buyer_org_id=org_id).id)
    clients = [client_for(user_id) for user_id in buyer_ids]
    outcomes = together([lambda c=c: post_and_follow(c, f"/rivals/{rival_id}/remove") for c in clients])
    no_server_errors(outcomes)
    assert told(outcomes, "is no longer on your rival list") == 1, [(o.status, flashes(o.text)) for o in outcomes]
    assert told(outcomes, "was already taken off your list.") == 1
    with race_app.app_context():
        assert rivals_of(org_id) == []
        removed = db.session.execute(
            select(func.count())
            .select_from(AuditRecord)
            .where(AuditRecord.action == "rival.removed", AuditRecord.buyer_org_id == org_id)
        ).scalar_one()
        assert removed == 1


def _review_finding():
    """The buyer's rival holds 15% of a vendor: a review finding, which a buyer may waive."""
    org_id, buyer_id, other_id = _two_buyers()
    vendor = VerifiedVendorOrgFactory()
    rival = PartyFactory()
    RivalFactory(buyer_org_id=org_id, party_id=rival.id)
    InterestFactory(interested_party_id=rival.id, subject_party_id=vendor.party_id, share_exact=15.0)
    return org_id, buyer_id, other_id, vendor.id, rival.id


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_finding_waived_twice_at_once_has_one_waiver(race_app, build, client_for, trial):
    org_id, buyer_id, other_id, vendor_org_id, rival_id = build(_review_finding)
    clients = [client_for(buyer_id), client_for(other_id)]
    form = {"rule": "ownership", "rival_party_id": str(rival_id), "reason": "We audited their cap table."}
    outcomes = together([lambda c=c: post_and_follow(c, f"/vendors/{vendor_org_id}/waivers", form) for c in clients])
    no_server_errors(outcomes)
    assert told(outcomes, "Finding waived") == 1, [(o.status, flashes(o.text)) for o in outcomes]
    assert sum(o.status == 400 and "You have already waived that finding." in o.text for o in outcomes) == 1
    with race_app.app_context():
        assert (
            db.session.execute(
                select(func.count())
                .select_from(Waiver)
                .where(Waiver.buyer_org_id == org_id, Waiver.vendor_org_id == vendor_org_id)
            ).scalar_one()
            == 1
        )


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_waiver_withdrawn_twice_at_once_is_withdrawn_once(race_app, build, client_for, trial):
    org_id, buyer_id, other_id, vendor_org_id, rival_id = build(_review_finding)
    waiver_id = build(lambda: _waiver(org_id, vendor_org_id, rival_id))
    clients = [client_for(buyer_id), client_for(other_id)]
    outcomes = together(
        [lambda c=c: post_and_follow(c, f"/vendors/{vendor_org_id}/waivers/{waiver_id}/remove") for c in clients]
    )
    no_server_errors(outcomes)
    assert told(outcomes, "Waiver withdrawn") == 1, [(o.status, flashes(o.text)) for o in outcomes]
    assert told(outcomes, "That waiver was already withdrawn.") == 1
    with race_app.app_context():
        assert db.session.get(Waiver, waiver_id) is None
        assert (
            db.session.execute(
                select(func.count())
                .select_from(AuditRecord)
                .where(AuditRecord.action == "waiver.removed", AuditRecord.buyer_org_id == org_id)
            ).scalar_one()
            == 1
        )


def _waiver(org_id: int, vendor_org_id: int, rival_id: int) -> int:
    waiver = Waiver(
        buyer_org_id=org_id, vendor_org_id=vendor_org_id, rule="ownership", rival_party_id=rival_id, reason="Audited."
    )
    db.session.add(waiver)
    db.session.flush()
    return waiver.id


def policy_form(exclude_at: str) -> dict:
    actions = {f"{rule}_action": str(action) for rule, action in DEFAULT_ACTIONS.items()}
    return {"exclude_at": exclude_at, "review_at": "5", "people_window_months": "24", **actions}


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_first_policy_saved_twice_at_once_is_one_policy(race_app, build, client_for, trial):
    org_id, *buyer_ids = build(_two_buyers)
    clients = [client_for(user_id) for user_id in buyer_ids]
    outcomes = together(
        [
            lambda c=c, n=n: post_and_follow(c, "/screening/policy", policy_form(str(30 + n)))
            for n, c in enumerate(clients)
        ]
    )
    no_server_errors(outcomes)
    assert all(o.status == 303 for o in outcomes), [(o.status, flashes(o.text)) for o in outcomes]
    with race_app.app_context():
        rows = db.session.execute(select(ScreeningPolicy).where(ScreeningPolicy.buyer_org_id == org_id)).scalars().all()
        assert len(rows) == 1
        # Each save is recorded with what it changed from: the second from the first's values.
        changes = (
            db.session.execute(
                select(AuditRecord)
                .where(AuditRecord.action == "policy.changed", AuditRecord.buyer_org_id == org_id)
                .order_by(AuditRecord.id)
            )
            .scalars()
            .all()
        )
        assert [c.after["exclude_at"] for c in changes][-1] == rows[0].exclude_at
        if len(changes) == 2:
            assert changes[1].before["exclude_at"] == changes[0].after["exclude_at"]


def _vendor_filing_a_tie_to_a_rival():
    """A vendor whose draft names Party P as holding 30%; a lab about to name P as its rival."""
    org_id, buyer_id, _ = _two_buyers()
    vendor = VendorFactory()
    vendor_party_id = db.session.get(Organization, vendor.org_id).party_id
    holder = PartyFactory()
    draft = DisclosureFactory(
        vendor_org_id=vendor.org_id,
        number=1,
        status=DisclosureStatus.DRAFT,
        submitted_at=None,
        attester_name="",
        attester_title="",
    )
    InterestFactory(
        interested_party_id=holder.id,
        subject_party_id=vendor_party_id,
        share_exact=30.0,
        disclosure_id=draft.id,
        origin=TieOrigin.DISCLOSURE,
    )
    return org_id, buyer_id, vendor.id, vendor.org_id, draft.id, holder.id


def test_a_rival_named_as_a_vendor_files_leaves_the_verdict_a_live_screening_gives(race_app, build, client_for):
    """Both re-screen the pair; the second waits for the first (the audit trail's lock, taken before either
    re-screens) and so reads what it wrote: the stored verdict is the live one, whatever the order."""
    org_id, buyer_id, vendor_id, vendor_org_id, draft_id, holder_id = build(_vendor_filing_a_tie_to_a_rival)
    buyer, vendor = client_for(buyer_id), client_for(vendor_id)
    attest = {"attester_name": "Ana Officer", "attester_title": "CEO", "attest": "y"}
    outcomes = together(
        [
            lambda: post_and_follow(buyer, "/rivals", {"party_id": str(holder_id)}),
            lambda: post_and_follow(vendor, f"/disclosure/{draft_id}/submit", attest),
        ]
    )
    no_server_errors(outcomes)
    assert all(o.status == 303 for o in outcomes), [(o.status, flashes(o.text)) for o in outcomes]
    with race_app.app_context():
        vendor_org = db.session.get(Organization, vendor_org_id)
        stored = (
            db.session.execute(
                select(VerdictRecord).where(
                    VerdictRecord.buyer_org_id == org_id, VerdictRecord.vendor_org_id == vendor_org_id
                )
            )
            .scalars()
            .all()
        )
        live = screen_pairs(db.session, [org_id], [vendor_org])[(org_id, vendor_org_id)].verdict
        assert [record.verdict for record in stored] == [live.value]
