"""Deals before they close (issue 17): an admin records a pending transaction from the news or a filing ("Cobalt
Social to acquire 49% of Scalewise Data, announced 2026-06-12, expected to close Q3"). Each lab sees, before it
closes, which of its vendors would change verdict if it closed, with their live bids, open contracts and the share of
its labeling spend they hold: a what-if screening, the deal's tie added inside a SAVEPOINT that is rolled back (as the
admin's approval preview does), so nothing is written. Labs it would change are told when it is recorded. When it
closes it becomes a tie like any other, with its source, and screening answers as for any change of ties.

A lab sees only its own verdicts, as on its vendor list: nothing of another lab's rivals or screening.
"""

from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import changes, visibility
from marketplace.accounts.models import Organization, OrgKind, User
from marketplace.accounts.suspension import ensure_active
from marketplace.audit.service import record_event
from marketplace.bids.models import Bid, BidStatus
from marketplace.concentration import service as concentration
from marketplace.contracts.models import Contract, ContractStatus
from marketplace.db_types import utcnow
from marketplace.deals.models import DealStatus, PendingDeal
from marketplace.errors import Refusal
from marketplace.jobs.models import Job
from marketplace.notifications.service import notify_org
from marketplace.parties.models import Interest, Party, TieOrigin, VerificationLevel
from marketplace.parties.service import canonical_party, find_party_by_identifier, normalize_name
from marketplace.screening.engine.verdicts import Verdict
from marketplace.screening.services.screen import screen_pairs
from marketplace.screening.store.affected import affected_vendor_ids

OPEN_CONTRACTS = (ContractStatus.ACTIVE, ContractStatus.FLAGGED, ContractStatus.PAUSED)


class DealError(Refusal):
    """A refusal the admin can understand; `field` names the form field it belongs to."""


@dataclass(frozen=True)
class DealInput:
    acquirer: str
    target: str
    share_pct: float | None
    announced_on: date | None
    expected_close: str = ""
    source_url: str = ""
    source_description: str = ""


def find_party(session: Session, text: str) -> Party | None:
    """The register's party written as a name, or as an identifier `scheme:value` (GB-COH:01234567)."""
    text = " ".join(text.split())
    if ":" in text:
        scheme, value = text.split(":", 1)
        found = find_party_by_identifier(session, scheme.strip(), value.strip())
        if found is not None:
            return found
    return session.execute(
        select(Party)
        .where(col(Party.name_normalized) == normalize_name(text), col(Party.merged_into_id).is_(None))
        .order_by(col(Party.id))
        .limit(1)
    ).scalar_one_or_none()


def _checked(session: Session, data: DealInput) -> dict:
    errors: dict[str, str] = {}
    parties = {}
    for name in ("acquirer", "target"):
        text = getattr(data, name).strip()
        party = find_party(session, text) if text else None
        if not text:
            errors[name] = "Name the party, or give its identifier as scheme:value."
        elif party is None:
            errors[name] = f"The register has no party “{text}”: add it on the registry first."
        parties[name] = party
    if parties["acquirer"] is not None and parties["acquirer"] is parties["target"]:
        errors["target"] = "A party cannot acquire itself."
    if data.share_pct is None or not 0 < data.share_pct <= 100:
        errors["share_pct"] = "The stake is a percentage above 0 and at most 100."
    if data.announced_on is None:
        errors["announced_on"] = "Give the date it was announced."
    elif data.announced_on > utcnow().date():
        errors["announced_on"] = "A deal is recorded once it is announced: that date is in the future."
    if len(data.expected_close) > 60:
        errors["expected_close"] = "Keep this under 60 characters (Q3 2026, by 2027-01-31)."
    url = data.source_url.strip()
    if url and not url.lower().startswith(("https://", "http://")) or len(url) > 1000:
        errors["source_url"] = "Give the source as a web address (https://…)."
    if len(data.source_description) > 1000:
        errors["source_description"] = "Keep this under 1,000 characters."
    if errors:
        first = next(iter(errors))
        raise DealError(errors[first], first)
    return {
        "acquirer_party_id": cast(Party, parties["acquirer"]).id,
        "target_party_id": cast(Party, parties["target"]).id,
        "share_pct": float(cast(float, data.share_pct)),
        "announced_on": data.announced_on,
        "expected_close": data.expected_close.strip(),
        "source_url": url,
        "source_description": data.source_description.strip(),
    }


# ------------------------------------------------------------------------------------------------ what if


@dataclass
class VendorImpact:
    vendor: Organization
    before: Verdict
    after: Verdict
    live_bids: list[tuple[Bid, Job]] = field(default_factory=list)
    open_contracts: list[tuple[Contract, Job]] = field(default_factory=list)
    # {currency: (this vendor's spend, the lab's whole spend)}, minor units, contracts not ended.
    spend: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def worse(self) -> bool:
        order = [Verdict.CLEAR, Verdict.REVIEW, Verdict.EXCLUDE]
        return order.index(self.after) > order.index(self.before)


@dataclass
class DealView:
    deal: PendingDeal
    acquirer: Party
    target: Party
    impacts: list[VendorImpact] = field(default_factory=list)


def _parties(session: Session, deal: PendingDeal) -> tuple[Party, Party]:
    """The deal's parties, followed through any merge since it was recorded."""
    acquirer = canonical_party(session, session.get(Party, deal.acquirer_party_id))
    target = canonical_party(session, session.get(Party, deal.target_party_id))
    return cast(Party, acquirer), cast(Party, target)


def _what_if(
    session: Session, deal: PendingDeal, buyer_ids: list[int]
) -> list[tuple[int, Organization, Verdict, Verdict]]:
    """(buyer id, vendor, verdict now, verdict if the deal closed) for each pair the deal would change."""
    acquirer, target = _parties(session, deal)
    vendor_ids = affected_vendor_ids(session, [acquirer.id, target.id])
    if not vendor_ids or not buyer_ids:
        return []
    vendors = list(session.execute(select(Organization).where(col(Organization.id).in_(vendor_ids))).scalars())
    before = screen_pairs(session, buyer_ids, vendors)
    savepoint = session.begin_nested()
    try:
        session.add(
            Interest(
                interested_party_id=acquirer.id,
                subject_party_id=target.id,
                interest_type="shareholding",
                share_exact=deal.share_pct,
                origin=TieOrigin.ADMIN_FACT,
                verification_level=VerificationLevel.THIRD_PARTY,
                source_description="what if the pending deal closed",
            )
        )
        session.flush()
        after = screen_pairs(session, buyer_ids, vendors)
    finally:
        savepoint.rollback()
    session.expire_all()
    changed = []
    for buyer_id in buyer_ids:
        for vendor in vendors:
            was, would = before[buyer_id, vendor.id].access_verdict, after[buyer_id, vendor.id].access_verdict
            if was != would:
                changed.append((buyer_id, vendor, was, would))
    return changed


def _impacts(
    session: Session, buyer_org_id: int, shifts: list[tuple[Organization, Verdict, Verdict]]
) -> list[VendorImpact]:
    if not shifts:
        return []
    vendor_ids = [vendor.id for vendor, _, _ in shifts]
    bids: dict[int, list[tuple[Bid, Job]]] = defaultdict(list)
    for bid, job in session.execute(
        select(Bid, Job)
        .join(Job, col(Job.id) == Bid.job_id)
        .where(
            col(Job.buyer_org_id) == buyer_org_id,
            col(Bid.vendor_org_id).in_(vendor_ids),
            col(Bid.status) == BidStatus.ACTIVE,
        )
        .order_by(col(Job.bid_deadline))
    ).all():
        bids[bid.vendor_org_id].append((bid, job))
    contracts: dict[int, list[tuple[Contract, Job]]] = defaultdict(list)
    for contract, job in session.execute(
        select(Contract, Job)
        .join(Job, col(Job.id) == Contract.job_id)
        .where(
            col(Contract.buyer_org_id) == buyer_org_id,
            col(Contract.vendor_org_id).in_(vendor_ids),
            col(Contract.status).in_(OPEN_CONTRACTS),
        )
    ).all():
        contracts[contract.vendor_org_id].append((contract, job))
    spend: dict[tuple[int, str], int] = defaultdict(int)
    whole: dict[str, int] = defaultdict(int)
    for vendor_id, currency, total in concentration.spend_rows(session, buyer_org_id):
        spend[vendor_id, currency] += total
        whole[currency] += total
    impacts = []
    for vendor, was, would in shifts:
        impacts.append(
            VendorImpact(
                vendor,
                was,
                would,
                bids[vendor.id],
                contracts[vendor.id],
                {c: (spend[vendor.id, c], whole[c]) for c in sorted(whole) if spend[vendor.id, c]},
            )
        )
    return sorted(impacts, key=lambda i: (not i.worse, i.vendor.name))


def pending_deals(session: Session) -> list[PendingDeal]:
    return list(
        session.execute(
            select(PendingDeal)
            .where(col(PendingDeal.status) == DealStatus.PENDING)
            .order_by(col(PendingDeal.announced_on).desc(), col(PendingDeal.id).desc())
        ).scalars()
    )


def deals_for_buyer(session: Session, user: User) -> list[DealView]:
    """Every pending deal, each with what it would change for the user's lab if it closed now."""
    if not user.is_buyer or user.org_id is None:
        raise visibility.NotVisible("pending deals")
    views = []
    for deal in pending_deals(session):
        acquirer, target = _parties(session, deal)
        shifts = [(vendor, was, would) for _, vendor, was, would in _what_if(session, deal, [user.org_id])]
        views.append(DealView(deal, acquirer, target, _impacts(session, user.org_id, shifts)))
    return views


# ------------------------------------------------------------------------------------------------ recording, closing


def _describe(session: Session, deal: PendingDeal) -> str:
    acquirer, target = _parties(session, deal)
    when = f", expected to close {deal.expected_close}" if deal.expected_close else ""
    return (
        f"{acquirer.name} to acquire {deal.share_pct:g}% of {target.name}, announced "
        f"{deal.announced_on.isoformat()}{when}"
    )


def record_deal(session: Session, user: User, data: DealInput) -> PendingDeal:
    """Record a pending deal; each lab whose screening it would change is told. An admin records any deal; a vendor
    reports one about itself, as a material change (the target is its own organisation, whatever the form said)."""
    if user.is_vendor and user.org_id is not None:
        ensure_active(session, user, "report pending deals")
        vendor = cast(Organization, session.get(Organization, user.org_id))
        own = session.get(Party, vendor.party_id) if vendor.party_id is not None else None
        if own is None:
            raise DealError("Your organisation is not in the register yet: file your disclosure first.", "acquirer")
        values = _checked(session, replace(data, target=own.name))
        values["target_party_id"] = vendor.party_id
        if values["acquirer_party_id"] == vendor.party_id:
            raise DealError("A party cannot acquire itself.", "acquirer")
    elif user.is_admin:
        values = _checked(session, data)
    else:
        raise visibility.NotVisible("pending deals")
    deal = PendingDeal(**values, recorded_by_id=user.id)
    session.add(deal)
    session.flush()
    buyers = list(
        session.execute(select(col(Organization.id)).where(col(Organization.kind) == OrgKind.BUYER)).scalars()
    )
    counts: dict[int, int] = defaultdict(int)
    for buyer_id, _, _, _ in _what_if(session, deal, buyers):
        counts[buyer_id] += 1
    words = _describe(session, deal)
    for buyer_id, count in sorted(counts.items()):
        notify_org(
            session,
            buyer_id,
            "deal_recorded",
            f"A pending deal would change your screening of {count} {'vendor' if count == 1 else 'vendors'} if it "
            f"closed: {words}.",
            "/deals",
        )
    record_event(
        session,
        user,
        "deal.recorded",
        "pending_deal",
        deal.id,
        after={"deal": words, "labs_told": len(counts), "reported_by_the_vendor": bool(user.is_vendor)},
        vendor_org_id=user.org_id if user.is_vendor else None,
    )
    return deal


def _pending(session: Session, admin: User, deal_id: int) -> PendingDeal:
    if not admin.is_admin:
        raise visibility.NotVisible("pending deals")
    deal = session.get(PendingDeal, deal_id, with_for_update=True)
    if deal is None:
        raise visibility.NotVisible(f"deal {deal_id}")
    if deal.status != DealStatus.PENDING:
        raise DealError(f"This deal is already {deal.status}.")
    return deal


def close_deal(session: Session, admin: User, deal_id: int) -> Interest:
    """The deal closed: its stake becomes a tie like any other, with its source, and screening answers."""
    deal = _pending(session, admin, deal_id)
    acquirer, target = _parties(session, deal)
    now = utcnow()
    interest = Interest(
        interested_party_id=acquirer.id,
        subject_party_id=target.id,
        interest_type="shareholding",
        share_exact=deal.share_pct,
        start_date=now.date(),
        origin=TieOrigin.ADMIN_FACT,
        verification_level=VerificationLevel.THIRD_PARTY,
        source_url=deal.source_url,
        source_description=deal.source_description or f"Closed deal, announced {deal.announced_on.isoformat()}",
        source_date=now.date(),
        recorded_by_id=admin.id,
    )
    session.add(interest)
    session.flush()
    deal.status, deal.closed_at, deal.closed_interest_id = DealStatus.CLOSED, now, interest.id
    record_event(
        session,
        admin,
        "deal.closed",
        "pending_deal",
        deal.id,
        before={"status": DealStatus.PENDING.value},
        after={"status": DealStatus.CLOSED.value, "interest_id": interest.id, "deal": _describe(session, deal)},
    )
    vendors = list(
        session.execute(select(col(Organization.id)).where(col(Organization.party_id) == target.id)).scalars()
    )
    changes.ties_changed(session, admin, party_ids=[acquirer.id, target.id], vendor_org_ids=vendors)
    return interest


def abandon_deal(session: Session, admin: User, deal_id: int) -> PendingDeal:
    deal = _pending(session, admin, deal_id)
    deal.status = DealStatus.ABANDONED
    record_event(
        session,
        admin,
        "deal.abandoned",
        "pending_deal",
        deal.id,
        before={"status": DealStatus.PENDING.value},
        after={"status": DealStatus.ABANDONED.value},
    )
    return deal


def all_deals(session: Session, admin: User) -> list[tuple[PendingDeal, str]]:
    """Every deal with its words, pending first: the admin's page."""
    if not admin.is_admin:
        raise visibility.NotVisible("pending deals")
    rows = session.execute(
        select(PendingDeal).order_by(col(PendingDeal.status) != DealStatus.PENDING, col(PendingDeal.id).desc())
    ).scalars()
    return [(deal, _describe(session, deal)) for deal in rows]
