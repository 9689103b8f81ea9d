"""A buyer's screening policy and its waivers: saving, waiving, un-waiving.

Every change is audited and re-screens: a policy change every vendor of the buyer (on the task queue when there is
one, screening.services.queued), a waiver the one vendor it names, in the same transaction. What a vendor may see
follows the change at once either way: access is screened live (marketplace.visibility).
"""

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import Organization, OrgKind, User
from marketplace.accounts.suspension import ensure_active
from marketplace.audit.service import last_record_of, record_event
from marketplace.db_types import utcnow
from marketplace.errors import NotVisible, Refusal
from marketplace.locking import lock_row
from marketplace.screening.engine.verdicts import Action, Rule, Verdict
from marketplace.screening.models import ScreeningPolicy, Waiver
from marketplace.screening.services.queued import rescreen_buyer
from marketplace.screening.services.refresh import refresh_verdicts
from marketplace.screening.services.screen import screen_vendor
from marketplace.screening.store.policies import policy_for

REASON_LIMIT = 2000
RULE_ACTIONS = {
    rule: ((Action.THRESHOLD,) if rule == Rule.OWNERSHIP else ()) + (Action.EXCLUDE, Action.REVIEW, Action.IGNORE)
    for rule in Rule
}


class PolicyError(Refusal):
    """A refusal the buyer can fix; `field` names the form field it belongs to (None: the whole form)."""


@dataclass(frozen=True)
class PolicyInput:
    """A policy as the buyer typed it; percentages run from 0 to 100."""

    exclude_at: float
    review_at: float
    people_window_months: int
    actions: dict[str, str] = field(default_factory=dict)


def _buyer_org_id(session: Session, user: User, action: str) -> int:
    """The acting buyer's organisation; a suspended one may read but not act (OrganizationSuspended, 403)."""
    if not user.is_buyer or user.org_id is None:
        raise PolicyError("Only buyers set a screening policy.")
    ensure_active(session, user, action)
    # Every change to the buyer's screening takes turns (as rivals do): a second waiver of one finding, or a
    # second first policy, waits and then sees the first (docs/concurrency.md).
    lock_row(session, Organization, user.org_id)
    return user.org_id


def _vendor_org(session: Session, vendor_org_id: int) -> Organization:
    vendor = session.get(Organization, vendor_org_id)
    if vendor is None or vendor.kind != OrgKind.VENDOR:
        raise NotVisible(f"vendor {vendor_org_id}")
    return vendor


def _snapshot(exclude_at: float, review_at: float, window: int, actions: dict) -> dict:
    return {
        "exclude_at": exclude_at,
        "review_at": review_at,
        "people_window_months": window,
        "actions": {str(rule): str(actions[rule]) for rule in Rule},
    }


def _clean(values: PolicyInput) -> PolicyInput:
    """The input checked against every rule of a policy; raises PolicyError naming the first field wrong."""
    for name, label in (("exclude_at", "exclude"), ("review_at", "review")):
        number = getattr(values, name)
        if number is None or not 0 <= number <= 100:
            raise PolicyError(f"Give the {label} threshold as a percentage from 0 to 100.", name)
    if values.review_at > values.exclude_at:
        raise PolicyError(
            f"The review threshold must be at or below the exclude threshold ({values.exclude_at:g}%).", "review_at"
        )
    window = values.people_window_months
    if window is None or not 1 <= window <= 120:
        raise PolicyError("Give the people window in whole months, from 1 to 120.", "people_window_months")
    actions: dict[str, str] = {}
    for rule, allowed in RULE_ACTIONS.items():
        chosen = values.actions.get(str(rule))
        if chosen not in {str(a) for a in allowed}:
            raise PolicyError(f"Choose what the {rule} rule does.", f"{rule}_action")
        actions[rule] = Action(chosen)
    return PolicyInput(float(values.exclude_at), float(values.review_at), int(window), actions)


def save_policy(session: Session, user: User, values: PolicyInput) -> bool:
    """Save the buyer organisation's policy and re-screen its vendors; False when nothing changed.

    Raises OrganizationSuspended (403) for a suspended buyer; PolicyError (with the field) for a threshold
    outside 0-100, a review threshold above the exclude one, a people window outside 1-120 months, or an action
    a rule does not offer.
    """
    org_id = _buyer_org_id(session, user, "change your screening policy")
    clean = _clean(values)
    current = policy_for(session, org_id)
    before = _snapshot(current.exclude_at, current.review_at, current.people_window_months, current.actions)
    after = _snapshot(clean.exclude_at, clean.review_at, clean.people_window_months, clean.actions)
    if before == after:
        return False
    row = session.execute(
        select(ScreeningPolicy).where(col(ScreeningPolicy.buyer_org_id) == org_id)
    ).scalar_one_or_none()
    if row is None:
        row = ScreeningPolicy(buyer_org_id=org_id)
        session.add(row)
    row.exclude_at, row.review_at = clean.exclude_at, clean.review_at
    row.people_window_months = clean.people_window_months
    row.actions = dict(after["actions"])
    row.updated_by_id, row.updated_at = user.id, utcnow()
    session.flush()
    record_event(
        session, user, "policy.changed", "screening_policy", row.id, before=before, after=after, buyer_org_id=org_id
    )
    rescreen_buyer(session, user, org_id, "policy changed")
    return True


def waivers_of(session: Session, buyer_org_id: int, vendor_org_id: int) -> list[Waiver]:
    """The buyer's waivers for one vendor, oldest first."""
    return list(
        session.execute(
            select(Waiver)
            .where(col(Waiver.buyer_org_id) == buyer_org_id, col(Waiver.vendor_org_id) == vendor_org_id)
            .order_by(col(Waiver.created_at), col(Waiver.id))
        ).scalars()
    )


def add_waiver(
    session: Session, user: User, vendor_org_id: int, rule: str, rival_party_id: int | None, reason: str
) -> Waiver:
    """Waive the vendor's current review finding of this rule (naming this rival), with the buyer's reason.

    Raises NotVisible (404) for an organisation that is not a vendor; OrganizationSuspended (403) for a
    suspended buyer; PolicyError for an empty or too long
    reason (field `reason`), an exclude finding, a finding the vendor does not have, or one already waived.
    """
    org_id = _buyer_org_id(session, user, "waive findings")
    vendor = _vendor_org(session, vendor_org_id)
    reason = (reason or "").strip()
    if not reason:
        raise PolicyError("Say why you accept this finding: the reason is kept in the audit trail.", "reason")
    if len(reason) > REASON_LIMIT:
        raise PolicyError(f"Use at most {REASON_LIMIT} characters.", "reason")
    matching = [
        f
        for f in screen_vendor(session, org_id, vendor).findings
        if str(f.rule) == str(rule) and f.rival_party_id == rival_party_id
    ]
    if not matching:
        raise PolicyError("That finding is no longer there: the screening changed since the page was shown.")
    if any(f.verdict == Verdict.EXCLUDE for f in matching):
        raise PolicyError("An exclude finding cannot be waived; only review findings can.")
    if all(f.waived for f in matching):
        raise PolicyError("You have already waived that finding.")
    waiver = Waiver(
        buyer_org_id=org_id,
        vendor_org_id=vendor.id,
        rule=str(rule),
        rival_party_id=rival_party_id,
        reason=reason,
        created_by_id=user.id,
    )
    session.add(waiver)
    session.flush()
    record_event(
        session,
        user,
        "waiver.added",
        "waiver",
        waiver.id,
        after={
            "rule": waiver.rule,
            "rival_party_id": rival_party_id,
            "rival": matching[0].rival,
            "finding": matching[0].explanation,
            "reason": reason,
        },
        buyer_org_id=org_id,
        vendor_org_id=vendor.id,
    )
    # A waiver changes one pair's verdict: that pair alone is screened again, at once.
    refresh_verdicts(session, user, vendor_org_ids=[vendor.id], buyer_org_ids=[org_id])
    return waiver


def remove_waiver(session: Session, user: User, vendor_org_id: int, waiver_id: int) -> Waiver:
    """Withdraw one of the buyer's waivers: the finding counts again at once.

    Raises NotVisible (404) for a waiver of another organisation or of another vendor.
    """
    org_id = _buyer_org_id(session, user, "withdraw waivers")
    waiver = session.get(Waiver, waiver_id)
    if waiver is None and last_record_of(session, "waiver.removed", waiver_id, buyer_org_id=org_id) is not None:
        raise PolicyError("That waiver was already withdrawn.")  # by a colleague, or by a first click
    if waiver is None or waiver.buyer_org_id != org_id or waiver.vendor_org_id != vendor_org_id:
        raise NotVisible(f"waiver {waiver_id}")
    record_event(
        session,
        user,
        "waiver.removed",
        "waiver",
        waiver.id,
        before={"rule": waiver.rule, "rival_party_id": waiver.rival_party_id, "reason": waiver.reason},
        buyer_org_id=org_id,
        vendor_org_id=vendor_org_id,
    )
    session.delete(waiver)
    session.flush()
    refresh_verdicts(session, user, vendor_org_ids=[vendor_org_id], buyer_org_ids=[org_id])
    return waiver
