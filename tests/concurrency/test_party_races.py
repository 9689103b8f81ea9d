"""Races over the party registry: two admins merging one pair each way at once, marking one pair as not the same
each way at once, withdrawing one such mark twice.

One outcome per pair, told to the admin whose request made it; the other is refused in words; no 5xx (a
deadlock between the two is a 500).
"""

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditRecord
from marketplace.extensions import db
from marketplace.parties.models import Party, PartyDistinction
from tests.concurrency.harness import flashes, post_and_follow, together
from tests.concurrency.invariants import no_server_errors, told
from tests.factories import AdminFactory, PartyFactory

TRIALS = 3


def _two_parties_and_two_admins():
    first, second = PartyFactory(), PartyFactory()
    return first.id, second.id, AdminFactory().id, AdminFactory().id


def audited(action: str, *party_ids: int) -> int:
    return db.session.execute(
        select(func.count())
        .select_from(AuditRecord)
        .where(AuditRecord.action == action, AuditRecord.subject_id.in_(party_ids))
    ).scalar_one()


@pytest.mark.parametrize("trial", range(TRIALS))
def test_one_pair_merged_each_way_at_once_is_merged_once(race_app, build, client_for, trial):
    first, second, *admin_ids = build(_two_parties_and_two_admins)
    clients = [client_for(admin_id) for admin_id in admin_ids]
    outcomes = together(
        [
            lambda: post_and_follow(clients[0], "/admin/parties/merge", {"keep_id": first, "merge_id": second}),
            lambda: post_and_follow(clients[1], "/admin/parties/merge", {"keep_id": second, "merge_id": first}),
        ]
    )
    no_server_errors(outcomes)
    assert told(outcomes, "Merged into") == 1, [(o.status, flashes(o.text)) for o in outcomes]
    assert sum(o.status == 400 and "was already merged into another party" in o.text for o in outcomes) == 1
    with race_app.app_context():
        merged = {
            p.id: p.merged_into_id
            for p in db.session.execute(select(Party).where(Party.id.in_((first, second)))).scalars()
        }
        assert sorted(merged.values(), key=str) == sorted([None, first if merged[first] is None else second], key=str)
        assert audited("party.merged", first, second) == 1


@pytest.mark.parametrize("trial", range(TRIALS))
def test_one_pair_marked_distinct_each_way_at_once_is_marked_once(race_app, build, client_for, trial):
    first, second, *admin_ids = build(_two_parties_and_two_admins)
    clients = [client_for(admin_id) for admin_id in admin_ids]
    reason = "Different registry numbers."
    outcomes = together(
        [
            lambda: post_and_follow(
                clients[0], "/admin/parties/distinct", {"first_id": first, "second_id": second, "reason": reason}
            ),
            lambda: post_and_follow(
                clients[1], "/admin/parties/distinct", {"first_id": second, "second_id": first, "reason": reason}
            ),
        ]
    )
    no_server_errors(outcomes)
    assert told(outcomes, "Marked as not the same party") == 1, [(o.status, flashes(o.text)) for o in outcomes]
    assert sum(o.status == 400 and "are already marked as not the same." in o.text for o in outcomes) == 1
    with race_app.app_context():
        assert (
            db.session.execute(
                select(func.count())
                .select_from(PartyDistinction)
                .where(PartyDistinction.first_party_id == min(first, second))
            ).scalar_one()
            == 1
        )


def _distinction_and_two_admins():
    first, second, *admin_ids = _two_parties_and_two_admins()
    distinction = PartyDistinction(first_party_id=first, second_party_id=second, reason="Not one.")
    db.session.add(distinction)
    db.session.flush()
    return distinction.id, first, admin_ids


@pytest.mark.parametrize("trial", range(TRIALS))
def test_a_distinction_withdrawn_twice_at_once_is_withdrawn_once(race_app, build, client_for, trial):
    distinction_id, first, admin_ids = build(_distinction_and_two_admins)
    clients = [client_for(admin_id) for admin_id in admin_ids]
    outcomes = together(
        [lambda c=c: post_and_follow(c, f"/admin/parties/distinctions/{distinction_id}/withdraw") for c in clients]
    )
    no_server_errors(outcomes)
    assert told(outcomes, "are no longer marked as different parties") == 1, [
        (o.status, flashes(o.text)) for o in outcomes
    ]
    assert told(outcomes, "was already withdrawn") == 1
    with race_app.app_context():
        assert audited("party.distinction_withdrawn", first) == 1
