"""Races over accounts and organisations: joining through one invitation twice, signing up with one address
twice, two admins suspending, reinstating or verifying one organisation at once.

What a user was told is what was committed, once (one account per address, one audit record and one notice per
change); the loser is answered in words, never with a 5xx.
"""

import pytest
from sqlalchemy import func, select

from marketplace.accounts import service as accounts
from marketplace.accounts.models import Organization, User
from marketplace.db_types import utcnow
from marketplace.extensions import db
from tests.concurrency.harness import flashes, post_and_follow, together
from tests.concurrency.invariants import audit_count, no_server_errors, notification_count, told
from tests.factories import AdminFactory, BuyerFactory, BuyerOrgFactory, UserFactory

TRIALS = 3
PASSWORD = "a long enough passphrase 42"


def _invitation():
    inviter = BuyerFactory()
    issued = accounts.invite_colleague(db.session, inviter, f"joiner-{inviter.id}@example.com")
    return issued.token, issued.invitation.email, inviter.org_id


@pytest.mark.parametrize("trial", range(TRIALS))
def test_an_invitation_accepted_twice_at_once_makes_one_account(race_app, build, trial):
    token, email, org_id = build(_invitation)
    form = {"name": "Jo Joiner", "password": PASSWORD, "confirm": PASSWORD, "timezone": "UTC"}
    clients = [race_app.test_client() for _ in range(2)]
    outcomes = together([lambda c=c: post_and_follow(c, f"/invite/{token}", form) for c in clients])
    no_server_errors(outcomes)
    # The one who joined is signed in and sent on (to confirm the address first); the other is told, on the
    # sign-in page, that the invitation is used.
    joined = [o for o in outcomes if o.location.endswith("/home")]
    assert len(joined) == 1, [(o.status, o.location, flashes(o.text)) for o in outcomes]
    assert told(outcomes, "This invitation has been accepted already: sign in with its address.") == 1
    with race_app.app_context():
        users = db.session.execute(select(User).where(User.email == email)).scalars().all()
        assert [u.org_id for u in users] == [org_id]


def sign_up_form(org_name: str, email: str) -> dict:
    return {
        "kind": "vendor",
        "org_name": org_name,
        "name": "Sam Signer",
        "email": email,
        "password": PASSWORD,
        "confirm": PASSWORD,
        "timezone": "UTC",
    }


@pytest.mark.parametrize("trial", range(TRIALS))
def test_one_address_signing_up_twice_at_once_gets_the_same_answer_as_one_after_the_other(race_app, trial):
    """Two sign-ups with one address (and two organisation names) at once: one account, and both answered as a
    sign-up with an address in use is, 'check your email', never 'that organisation name is taken'."""
    email = f"signer-{trial}-{utcnow().timestamp()}@example.com"
    names = [f"Racing Signups {trial} {n} {utcnow().timestamp()}" for n in range(2)]
    clients = [race_app.test_client() for _ in range(2)]
    outcomes = together(
        [lambda c=c, n=n: c.post("/sign-up", data=sign_up_form(n, email)) for c, n in zip(clients, names, strict=True)]
    )
    assert [o.status_code if not isinstance(o, Exception) else o for o in outcomes] == [303, 303], [
        o.get_data(as_text=True)[-2000:] for o in outcomes
    ]
    assert all(o.headers["Location"].endswith("/check-email") for o in outcomes)
    with race_app.app_context():
        assert db.session.execute(select(func.count()).select_from(User).where(User.email == email)).scalar_one() == 1
        orgs = db.session.execute(
            select(func.count()).select_from(Organization).where(Organization.name.in_(names))
        ).scalar_one()
        assert orgs == 1


def _organization_and_two_admins(**org_fields):
    org = BuyerOrgFactory(**org_fields)
    member = UserFactory(org_id=org.id)
    return org.id, member.id, AdminFactory().id, AdminFactory().id


@pytest.mark.parametrize("trial", range(TRIALS))
def test_two_admins_suspending_at_once_suspend_once(race_app, build, client_for, trial):
    org_id, member_id, *admin_ids = build(_organization_and_two_admins)
    clients = [client_for(admin_id) for admin_id in admin_ids]
    outcomes = together(
        [
            lambda c=c, n=n: post_and_follow(c, f"/admin/organizations/{org_id}/suspend", {"reason": f"Reason {n}."})
            for n, c in enumerate(clients)
        ]
    )
    no_server_errors(outcomes)
    suspended = [n for n, o in enumerate(outcomes) if told([o], "is suspended. Its users have been told why.")]
    assert len(suspended) == 1, [(o.status, flashes(o.text)) for o in outcomes]
    assert sum(o.status == 400 and "is already suspended." in o.text for o in outcomes) == 1
    with race_app.app_context():
        assert db.session.get(Organization, org_id).suspended_reason == f"Reason {suspended[0]}."
        assert audit_count("organization.suspended", org_id) == 1
        assert notification_count("organization_suspended", user_id=member_id) == 1


@pytest.mark.parametrize("trial", range(TRIALS))
def test_two_admins_reinstating_at_once_reinstate_once(race_app, build, client_for, trial):
    org_id, member_id, *admin_ids = build(
        lambda: _organization_and_two_admins(suspended_at=utcnow(), suspended_reason="Unpaid fees.")
    )
    clients = [client_for(admin_id) for admin_id in admin_ids]
    outcomes = together([lambda c=c: post_and_follow(c, f"/admin/organizations/{org_id}/reinstate") for c in clients])
    no_server_errors(outcomes)
    assert told(outcomes, "is reinstated.") == 1, [(o.status, flashes(o.text)) for o in outcomes]
    assert told(outcomes, "is not suspended.") == 1
    with race_app.app_context():
        assert audit_count("organization.reinstated", org_id) == 1
        assert notification_count("organization_reinstated", user_id=member_id) == 1


@pytest.mark.parametrize("trial", range(TRIALS))
def test_two_admins_verifying_a_lab_at_once_verify_it_once(race_app, build, client_for, trial):
    org_id, member_id, *admin_ids = build(lambda: _organization_and_two_admins(verified_at=None))
    clients = [client_for(admin_id) for admin_id in admin_ids]
    outcomes = together([lambda c=c: post_and_follow(c, f"/admin/organizations/{org_id}/verify") for c in clients])
    no_server_errors(outcomes)
    assert told(outcomes, "is verified: it can publish jobs now.") == 1, [flashes(o.text) for o in outcomes]
    assert told(outcomes, "is already verified.") == 1
    with race_app.app_context():
        assert audit_count("organization.verified", org_id) == 1
        assert notification_count("lab_verified", user_id=member_id) == 1
