"""Races over one disclosure version: submitting it twice, adding to it as it is filed, deciding on it twice.

A filed version never changes and is decided once: whatever races it, what a user was told is what was
committed, once, and the loser is refused in words. No 5xx.
"""

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.extensions import db
from marketplace.parties.models import Interest, TieOrigin
from tests.concurrency.harness import flashes, post_and_follow, together
from tests.concurrency.invariants import audit_count, later, no_server_errors, notification_count, told
from tests.factories import (
    AdminFactory,
    DisclosureFactory,
    InterestFactory,
    PartyFactory,
    UserFactory,
    VerifiedVendorFactory,
)

TRIALS = 3
ATTESTED = {"attester_name": "Ana Officer", "attester_title": "CEO", "attest": "y", "summary": ""}


def _draft_and_two_vendor_users():
    """A vendor's draft version 2 holding one tie (so that it can be submitted), two of its users, an admin."""
    vendor = VerifiedVendorFactory()
    party_id = db.session.get(Organization, vendor.org_id).party_id
    draft = DisclosureFactory(
        vendor_org_id=vendor.org_id,
        number=2,
        status=DisclosureStatus.DRAFT,
        submitted_at=None,
        attester_name="",
        attester_title="",
    )
    InterestFactory(subject_party_id=party_id, disclosure_id=draft.id, origin=TieOrigin.DISCLOSURE)
    other = UserFactory(role=vendor.role, org_id=vendor.org_id)
    return draft.id, vendor.id, other.id, AdminFactory().id


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_draft_submitted_twice_at_once_is_filed_once(race_app, build, client_for, trial):
    version_id, vendor_id, other_id, admin_id = build(_draft_and_two_vendor_users)
    clients = [client_for(vendor_id), client_for(other_id)]
    outcomes = together([lambda c=c: post_and_follow(c, f"/disclosure/{version_id}/submit", ATTESTED) for c in clients])
    no_server_errors(outcomes)
    assert told(outcomes, "Version 2 submitted") == 1, [flashes(o.text) for o in outcomes]
    assert sum(o.status == 400 and "Version 2 is submitted: it can no longer change" in o.text for o in outcomes) == 1
    with race_app.app_context():
        assert db.session.get(DisclosureVersion, version_id).status == DisclosureStatus.SUBMITTED
        assert audit_count("disclosure.submitted", version_id) == 1
        assert notification_count("disclosure_submitted", user_id=admin_id) == 1


# Adding a tie reads the registry for lookalike names first: the submission is sent after a range of delays, so
# that some land between the draft's check and the tie's commit.
@pytest.mark.parametrize("delay_ms", range(0, 100, 20))
def test_a_tie_added_as_the_draft_is_filed_never_enters_the_filed_version(race_app, build, client_for, delay_ms):
    version_id, vendor_id, other_id, _ = build(_draft_and_two_vendor_users)
    adder, submitter = client_for(vendor_id), client_for(other_id)
    name = build(lambda: PartyFactory().name + " Nominees")
    tie = {"kind": "shareholding", "party_kind": "entity", "party_name": name, "new_party": "y", "share_exact": "10"}
    added, submitted = together(
        [
            lambda: post_and_follow(adder, f"/disclosure/{version_id}/ties", tie),
            lambda: later(delay_ms, lambda: post_and_follow(submitter, f"/disclosure/{version_id}/submit", ATTESTED)),
        ]
    )
    no_server_errors([added, submitted])
    assert told([submitted], "Version 2 submitted") == 1
    with race_app.app_context():
        version = db.session.get(DisclosureVersion, version_id)
        recorded = (
            db.session.execute(select(Interest.recorded_at).where(Interest.disclosure_id == version_id)).scalars().all()
        )
        # Every tie of the filed version was there when the officer attested it.
        assert all(moment <= version.submitted_at for moment in recorded)
        # Added, the vendor is sent back to the draft (which, filed meanwhile, may show its flash no more).
        if added.status == 303:
            assert len(recorded) == 2
        else:
            assert len(recorded) == 1
            assert added.status == 400 and "Version 2 is submitted: it can no longer change" in added.text


def _filed_version_and_two_admins():
    version_id, vendor_id, _, admin_id = _draft_and_two_vendor_users()
    version = db.session.get(DisclosureVersion, version_id)
    version.status = DisclosureStatus.SUBMITTED
    db.session.flush()
    return version_id, vendor_id, admin_id, AdminFactory().id


@pytest.mark.parametrize("trial", range(TRIALS))
def test_two_admins_deciding_at_once_record_one_decision(race_app, build, client_for, trial):
    version_id, vendor_id, *admin_ids = build(_filed_version_and_two_admins)
    clients = [client_for(admin_id) for admin_id in admin_ids]
    decisions = [{"decision": "approved", "reason": ""}, {"decision": "rejected", "reason": "The register is old."}]
    outcomes = together(
        [
            lambda c=c, d=d: post_and_follow(c, f"/admin/disclosures/{version_id}/decision", d)
            for c, d in zip(clients, decisions, strict=True)
        ]
    )
    no_server_errors(outcomes)
    recorded = [d["decision"] for d, o in zip(decisions, outcomes, strict=True) if told([o], "Decision recorded")]
    assert len(recorded) == 1, [flashes(o.text) for o in outcomes]
    assert sum(o.status == 400 and "Version 2 is already" in o.text for o in outcomes) == 1
    with race_app.app_context():
        assert db.session.get(DisclosureVersion, version_id).status == recorded[0]
        decided = db.session.execute(
            select(func.count())
            .select_from(AuditRecord)
            .where(
                AuditRecord.subject_id == version_id,
                AuditRecord.action.in_(("disclosure.approved", "disclosure.rejected")),
            )
        ).scalar_one()
        assert decided == 1
        assert notification_count("disclosure_decision", user_id=vendor_id) == 1
