"""Every route, walked by an owner, a manager and a member of a lab and of a vendor: each role is refused exactly
the routes its role may not use (403 naming who may), and nothing else."""

import pytest

from marketplace.accounts.models import OrgRole
from tests.factories import BuyerFactory, VendorFactory
from tests.functional.test_route_security import _RULES, PUBLIC, _ids, _url

MANAGER, OWNER = OrgRole.MANAGER, OrgRole.OWNER
POST = frozenset({"POST"})

# What each role may do (docs/architecture.md, "Teams"): the least role per route, and the methods it guards.
LEAST_ROLE: dict[str, tuple[OrgRole, frozenset[str] | None]] = {
    # The lab runs its jobs, screening and NDAs: managers and the owner.
    "jobs.new": (MANAGER, None),
    "jobs.edit": (MANAGER, None),
    "jobs.publish": (MANAGER, None),
    "jobs.cancel": (MANAGER, None),
    "jobs.invite": (MANAGER, None),
    "jobs.invite_from_list": (MANAGER, None),
    "screening.rivals": (MANAGER, POST),
    "screening.remove_rival": (MANAGER, None),
    "screening.policy": (MANAGER, POST),
    "screening.waive": (MANAGER, None),
    "screening.unwaive": (MANAGER, None),
    "audit.export": (MANAGER, None),
    "ndas.publish": (MANAGER, None),
    "ndas.require": (MANAGER, None),
    "ndas.accept": (MANAGER, None),
    # Deciding among bids.
    "bids.award": (MANAGER, None),
    "bids.shortlist": (MANAGER, None),
    "bids.final_offers": (MANAGER, None),
    # The team: managers invite; the owner changes it.
    "accounts.team": (MANAGER, POST),
    "teams.change_role": (OWNER, None),
    "teams.remove": (OWNER, None),
    "teams.transfer": (OWNER, None),
    "teams.approval_amount": (OWNER, None),
    # The vendor's profile and ownership disclosure speak for the organisation.
    "accounts.profile": (MANAGER, POST),
    "disclosures.new_version": (MANAGER, None),
    "disclosures.add_tie": (MANAGER, None),
    "disclosures.remove_tie": (MANAGER, None),
    "disclosures.submit": (MANAGER, None),
    "disclosures.attach_evidence": (MANAGER, None),
    "disclosures.remove_evidence": (MANAGER, None),
    # Money settings: the owner.
    "payments.connect": (OWNER, None),
    "payments.refresh": (OWNER, None),
    # Contracts: money moves and decisions are a manager's; delivering is day-to-day work.
    "contracts.plan": (MANAGER, None),
    "contracts.fund": (MANAGER, None),
    "contracts.accept": (MANAGER, None),
    "contracts.reject": (MANAGER, None),
    "contracts.cancel": (MANAGER, None),
    "contracts.retry_payout": (MANAGER, None),
    "contracts.pause": (MANAGER, None),
    "contracts.resume": (MANAGER, None),
    "contracts.end": (MANAGER, None),
    "contracts.rate": (MANAGER, None),
    "payment_documents.purchase_order": (MANAGER, POST),
    # Paid pilots spend money; statements, deals reported and leak traces speak for the organisation.
    "bids.start_pilot": (MANAGER, None),
    "concentration.spend": (MANAGER, POST),
    "deals.report": (MANAGER, POST),
    "neutrality.index": (MANAGER, POST),
    "leaks.trace": (MANAGER, POST),
    # A dispute is a decision about the contract's money.
    "disputes.open_dispute": (MANAGER, POST),
    "disputes.add_statement": (MANAGER, None),
    "disputes.withdraw": (MANAGER, None),
    # The change-of-control playbook: the lab's managers decide; a vendor's officer (a manager) attests.
    "playbook.settings": (MANAGER, None),
    "playbook.change": (MANAGER, None),
    "playbook.grant": (MANAGER, None),
    "playbook.revoke": (MANAGER, None),
    "playbook.go_on": (MANAGER, None),
    "playbook.settle": (MANAGER, None),
    "playbook.attest": (MANAGER, None),
    # Webhook endpoints speak for the lab to its own systems: members read them, managers change them.
    "webhooks.register": (MANAGER, None),
    "webhooks.rotate": (MANAGER, None),
    "webhooks.set_enabled": (MANAGER, None),
    "webhooks.delete": (MANAGER, None),
    "webhooks.replay": (MANAGER, None),
    "webhooks.edit": (MANAGER, None),
    # Single sign-on and provisioning tokens: the owner alone.
    "sso.settings": (OWNER, None),
    "sso.claim_domain": (OWNER, None),
    "sso.remove_domain": (OWNER, None),
    "sso.create_scim_token": (OWNER, None),
    "sso.revoke_scim_token": (OWNER, None),
    # API tokens act as the owner: the owner alone makes, sees and revokes them.
    "api_tokens.index": (OWNER, None),
    "api_tokens.create": (OWNER, None),
    "api_tokens.revoke": (OWNER, None),
}
RANK = {OrgRole.MEMBER: 0, OrgRole.MANAGER: 1, OrgRole.OWNER: 2}

WALK = [
    (rule, method)
    for rule in _RULES
    if rule.endpoint not in PUBLIC and not rule.endpoint.startswith("admin")
    for method in sorted(rule.methods & {"GET", "POST"})
]


def refused_for_role(endpoint: str, method: str, role: OrgRole) -> bool:
    least, methods = LEAST_ROLE.get(endpoint, (OrgRole.MEMBER, None))
    return RANK[role] < RANK[least] and (methods is None or method in methods)


def test_the_table_names_only_routes_that_exist():
    assert set(LEAST_ROLE) <= {rule.endpoint for rule in _RULES}


@pytest.mark.parametrize(("rule", "method"), WALK, ids=lambda v: v if isinstance(v, str) else _ids(v))
def test_each_role_is_refused_exactly_what_its_role_may_not_do(client, login_as, rule, method):
    for factory in (BuyerFactory, VendorFactory):
        # A route of the other kind of account (a vendor's page, for a lab) refuses every role alike, before roles.
        other_kind = None
        for role in (OrgRole.OWNER, OrgRole.MANAGER, OrgRole.MEMBER):
            user = login_as(factory(org_role=role))
            response = client.open(_url(rule), method=method, data={})
            text = response.get_data(as_text=True)
            refused = 'data-testid="role-refusal"' in text
            where = f"{user.role} {role} {method} {rule.endpoint}"
            assert response.status_code < 500, where
            if other_kind is None:
                other_kind = response.status_code == 403 and "Your role cannot use this page" in text
            expected = not other_kind and refused_for_role(rule.endpoint, method, role)
            assert refused == expected, where
            if refused:
                assert response.status_code == 403, where
                assert f"As a {role.value} of your organisation you cannot" in text, where
