"""What each role inside an organisation may do: the one table every page's guard and every service asks.

owner > manager > member. The owner does everything, alone changes the team (roles, removals, ownership), the
money settings (payout account, the lab's approval amount); a manager runs jobs, bids and contracts and invites
members; a member reads everything of the organisation and does the day-to-day work (bids, messages, answers,
deliveries, scores). Admins belong to no organisation and are not limited here.
"""

from marketplace.accounts.models import OrgRole, User
from marketplace.errors import Refusal

RANK = {OrgRole.MEMBER: 0, OrgRole.MANAGER: 1, OrgRole.OWNER: 2}

WHO = {OrgRole.MANAGER: "a manager or the owner", OrgRole.OWNER: "the owner"}


class RoleTooLow(Refusal):
    """The user's role in its organisation does not allow the action: answered as 403, naming who may."""


def has_org_role(user: User, least: OrgRole) -> bool:
    """Whether the user's role is `least` or above; admins (no organisation) pass."""
    if user.org_id is None:
        return True
    return RANK[OrgRole(user.org_role)] >= RANK[least]


def ensure_org_role(user: User, least: OrgRole, action: str = "do this") -> None:
    """Raise RoleTooLow unless the user's role in its organisation is `least` or above."""
    if not has_org_role(user, least):
        raise RoleTooLow(
            f"As a {OrgRole(user.org_role).value} of your organisation you cannot {action}: ask {WHO[least]}."
        )
