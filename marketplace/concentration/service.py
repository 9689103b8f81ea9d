"""Spend concentration (issue 17): how much of a lab's labeling spend sits under any one owner or investor, rivals or
not. A vendor's owners are the parties holding at least OWNER_AT% of it through the ownership graph, directly or
along a chain of stakes (the shares multiplied, the low ends of ranges counted), current ties only. A lab may cap
the share of its spend (per currency: contracts made, not ended) under any one owner; the comparison and the award
page warn when an award would pass the cap; a change of ties that puts two of a lab's contracted vendors under one
owner is reported to the lab, once per owner and set of vendors.

A lab learns here only owners of vendors it has contracts with or bids from, as its vendor screening page shows them.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import visibility
from marketplace.accounts.models import Organization, User
from marketplace.accounts.suspension import ensure_active
from marketplace.audit.service import record_event
from marketplace.bids.models import Bid
from marketplace.concentration.models import OwnerGroupReport, SpendCap
from marketplace.contracts.models import Contract, ContractStatus
from marketplace.db_types import in_ids, utcnow
from marketplace.errors import Refusal
from marketplace.money import format_money
from marketplace.notifications.service import notify_org
from marketplace.parties.models import Interest, Party
from marketplace.screening.store.affected import affected_vendor_ids

OWNER_AT = 25.0  # percent: a stake this large, held through any chain, makes an owner
MAX_DEPTH = 12
STAKE_TYPES = ("shareholding", "votingRights")
SPENDING = (ContractStatus.ACTIVE, ContractStatus.FLAGGED, ContractStatus.PAUSED, ContractStatus.COMPLETED)


class CapError(Refusal):
    """A refusal the lab can understand; `field` names the form field."""


def _low(interest: Interest) -> float:
    if interest.share_exact is not None:
        return interest.share_exact
    return interest.share_min or 0.0


def owners_of(session: Session, party_ids: set[int]) -> dict[int, dict[int, float]]:
    """{vendor party: {owner party: look-through stake, percent}} for owners holding OWNER_AT% or more. One query a
    level of the graph, for all vendors together."""
    today = utcnow().date()
    result: dict[int, dict[int, float]] = {pid: {} for pid in party_ids}
    # (vendor party, party reached) -> the stake reached through the best chain so far
    frontier: dict[tuple[int, int], float] = {(pid, pid): 100.0 for pid in party_ids}
    for _ in range(MAX_DEPTH):
        if not frontier:
            break
        subjects = {reached for _, reached in frontier}
        rows = session.execute(
            select(Interest).where(
                col(Interest.subject_party_id).in_(subjects),
                col(Interest.interest_type).in_(STAKE_TYPES),
                or_(col(Interest.end_date).is_(None), col(Interest.end_date) > today),
            )
        ).scalars()
        held: dict[int, list[Interest]] = defaultdict(list)
        for interest in rows:
            held[interest.subject_party_id].append(interest)
        next_frontier: dict[tuple[int, int], float] = {}
        for (vendor, reached), stake in frontier.items():
            # the stakes each holder has in `reached`, added up (capped at 100%), as screening adds a pair's shares
            by_holder: dict[int, float] = defaultdict(float)
            for interest in held.get(reached, []):
                by_holder[interest.interested_party_id] += _low(interest)
            for holder, share in by_holder.items():
                through = stake * min(share, 100.0) / 100.0
                if through < OWNER_AT or holder == vendor:
                    continue
                if through > result[vendor].get(holder, 0.0):
                    result[vendor][holder] = through
                    next_frontier[vendor, holder] = max(next_frontier.get((vendor, holder), 0.0), through)
        frontier = next_frontier
    return result


@dataclass
class OwnerSpend:
    owner: Party
    currency: str
    amount_minor: int
    whole_minor: int
    vendors: list[str] = field(default_factory=list)

    @property
    def share_pct(self) -> float:
        return 100.0 * self.amount_minor / self.whole_minor if self.whole_minor else 0.0


def spend_rows(session: Session, buyer_org_id: int) -> list[tuple[int, str, int]]:
    """The lab's labeling spend: (vendor, currency, total) for each contract made and not ended."""
    return [
        (vendor_id, currency, int(total))
        for vendor_id, currency, total in session.execute(
            select(col(Contract.vendor_org_id), col(Contract.currency), col(Contract.total_minor)).where(
                col(Contract.buyer_org_id) == buyer_org_id, col(Contract.status).in_(SPENDING)
            )
        ).all()
    ]


def spend_by_owner(session: Session, buyer_org_id: int, extra: tuple[int, str, int] | None = None) -> list[OwnerSpend]:
    """The lab's spend under each owner of its contracted vendors, per currency, largest share first; `extra` adds a
    (vendor, currency, amount) as if it were awarded."""
    rows = spend_rows(session, buyer_org_id) + ([extra] if extra else [])
    if not rows:
        return []
    vendors = {
        org.id: org
        for org in session.execute(
            select(Organization).where(col(Organization.id).in_({vendor_id for vendor_id, _, _ in rows}))
        ).scalars()
    }
    owners = owners_of(session, {org.party_id for org in vendors.values() if org.party_id is not None})
    whole: dict[str, int] = defaultdict(int)
    under: dict[tuple[int, str], int] = defaultdict(int)
    names: dict[tuple[int, str], set[str]] = defaultdict(set)
    for vendor_id, currency, amount in rows:
        whole[currency] += amount
        vendor = vendors[vendor_id]
        for owner_id in owners.get(cast(int, vendor.party_id), {}):
            under[owner_id, currency] += amount
            names[owner_id, currency].add(vendor.name)
    parties = {
        party.id: party
        for party in session.execute(select(Party).where(col(Party.id).in_({o for o, _ in under}))).scalars()
    }
    spends = [
        OwnerSpend(parties[owner_id], currency, amount, whole[currency], sorted(names[owner_id, currency]))
        for (owner_id, currency), amount in under.items()
    ]
    return sorted(spends, key=lambda s: (-s.share_pct, s.owner.name, s.currency))


def cap_of(session: Session, buyer_org_id: int) -> int | None:
    return session.execute(
        select(col(SpendCap.cap_pct)).where(col(SpendCap.buyer_org_id) == buyer_org_id)
    ).scalar_one_or_none()


def set_cap(session: Session, user: User, cap_pct: int | None) -> None:
    """Set (or, with None, remove) the lab's cap. Buyers only."""
    ensure_active(session, user, "change the spend cap")
    if not user.is_buyer or user.org_id is None:
        raise visibility.NotVisible("spend cap")
    if cap_pct is not None and not 1 <= cap_pct <= 100:
        raise CapError("The cap is a whole percentage from 1 to 100, or empty for none.", "cap_pct")
    row = session.execute(select(SpendCap).where(col(SpendCap.buyer_org_id) == user.org_id)).scalar_one_or_none()
    before = row.cap_pct if row else None
    if cap_pct is None and row is not None:
        session.delete(row)
    elif cap_pct is not None and row is None:
        session.add(SpendCap(buyer_org_id=user.org_id, cap_pct=cap_pct, updated_by_id=user.id))
    elif row is not None and cap_pct is not None:
        row.cap_pct, row.updated_by_id, row.updated_at = cap_pct, user.id, utcnow()
    if before != cap_pct:
        record_event(
            session,
            user,
            "spend_cap.changed",
            "organization",
            user.org_id,
            before={"cap_pct": before},
            after={"cap_pct": cap_pct},
            buyer_org_id=user.org_id,
        )
    session.flush()


def award_warnings(session: Session, buyer_org_id: int, bids: list[Bid]) -> dict[int, str]:
    """{bid id: why awarding it would pass the lab's cap} for the bids that would; empty without a cap."""
    cap = cap_of(session, buyer_org_id)
    if cap is None or not bids:
        return {}
    vendors = {
        org.id: org
        for org in session.execute(
            select(Organization).where(col(Organization.id).in_({bid.vendor_org_id for bid in bids}))
        ).scalars()
    }
    owners = owners_of(session, {org.party_id for org in vendors.values() if org.party_id is not None})
    warnings = {}
    for bid in bids:
        mine = owners.get(cast(int, vendors[bid.vendor_org_id].party_id), {})
        for spend in spend_by_owner(session, buyer_org_id, (bid.vendor_org_id, bid.currency, bid.total_minor)):
            if spend.currency == bid.currency and spend.share_pct > cap and spend.owner.id in mine:
                warnings[bid.id] = (
                    f"Awarding this bid would put {spend.share_pct:.0f}% of your {spend.currency} labeling spend "
                    f"({format_money(spend.amount_minor, spend.currency)} of "
                    f"{format_money(spend.whole_minor, spend.currency)}) under {spend.owner.name}: your cap is {cap}%."
                )
                break
    return warnings


# ------------------------------------------------------------------------------------------------ new common owners


def report_new_groups(session: Session, actor, *, party_ids=None, vendor_org_ids=()) -> int:
    """After ties changed (the `changes.ties_changed` listener): tell each lab whose contracted vendors now share an
    owner it was not told of, once per owner and set of vendors. The number of reports made."""
    reached = affected_vendor_ids(session, party_ids) if party_ids is not None else None
    if reached is not None:
        reached |= set(vendor_org_ids)
        if not reached:
            return 0
    query = select(col(Contract.buyer_org_id), col(Contract.vendor_org_id)).where(col(Contract.status).in_(SPENDING))
    if reached is not None:
        labs = select(col(Contract.buyer_org_id)).where(in_ids(session, Contract.vendor_org_id, reached))
        query = query.where(col(Contract.buyer_org_id).in_(labs))
    vendors_of: dict[int, set[int]] = defaultdict(set)
    for buyer_id, vendor_id in session.execute(query).all():
        vendors_of[buyer_id].add(vendor_id)
    if not vendors_of:
        return 0
    orgs = {
        org.id: org
        for org in session.execute(
            select(Organization).where(col(Organization.id).in_(set().union(*vendors_of.values())))
        ).scalars()
    }
    owners = owners_of(session, {org.party_id for org in orgs.values() if org.party_id is not None})
    reports = 0
    for buyer_id, vendor_ids in vendors_of.items():
        under: dict[int, set[int]] = defaultdict(set)
        for vendor_id in vendor_ids:
            for owner_id in owners.get(cast(int, orgs[vendor_id].party_id), {}):
                under[owner_id].add(vendor_id)
        for owner_id, group in under.items():
            if len(group) < 2:
                continue
            told = session.execute(
                select(OwnerGroupReport).where(
                    col(OwnerGroupReport.buyer_org_id) == buyer_id, col(OwnerGroupReport.owner_party_id) == owner_id
                )
            ).scalar_one_or_none()
            if told is not None and set(told.vendor_org_ids) >= group:
                continue
            if told is None:
                session.add(OwnerGroupReport(buyer_org_id=buyer_id, owner_party_id=owner_id, vendor_org_ids=[]))
                session.flush()
                told = session.execute(
                    select(OwnerGroupReport).where(
                        col(OwnerGroupReport.buyer_org_id) == buyer_id,
                        col(OwnerGroupReport.owner_party_id) == owner_id,
                    )
                ).scalar_one()
            told.vendor_org_ids, told.reported_at = sorted(group), utcnow()
            owner = cast(Party, session.get(Party, owner_id))
            names = " and ".join(sorted(orgs[v].name for v in group))
            notify_org(
                session,
                buyer_id,
                "common_owner",
                f"{names}, vendors you have contracts with, are now under one owner: {owner.name} "
                f"({OWNER_AT:g}% or more of each). See your spend by owner.",
                "/spend-by-owner",
            )
            reports += 1
    session.flush()
    return reports
