"""What vendors owe the platform in disclosures, as of a moment.

Three obligations, each with the moment the vendor fell behind (`since`):
- never_filed: the vendor has never submitted a version (since it joined);
- stale: its latest approved version is more than 12 months old, and no newer version awaits review
  (since the version turned 12 months old);
- material_change_overdue: an admin recorded a material change more than 30 days ago (a new owner of 5% or
  more, a board role, or one of its people taking a board or senior role elsewhere) and the vendor has
  submitted no version since (since the 30 days ran out).
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import Organization, OrgKind
from marketplace.db_types import utcnow
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.disclosures.service import STALE_AFTER_MONTHS, _months_after
from marketplace.parties.models import ROLE_INTEREST_TYPES, Interest, Party, TieOrigin, interest_words

STALE = "stale"
MATERIAL_CHANGE_OVERDUE = "material_change_overdue"
NEVER_FILED = "never_filed"
KINDS = (STALE, MATERIAL_CHANGE_OVERDUE, NEVER_FILED)
MATERIAL_CHANGE_DAYS = 30
MATERIAL_SHARE_PCT = 5.0
OWNERSHIP_TYPES = frozenset({"shareholding", "votingRights"})
BOARD_TYPES = frozenset({"boardMember", "boardChair", "appointmentOfBoard"})


@dataclass(frozen=True)
class Obligation:
    vendor_org_id: int
    kind: str  # one of KINDS
    since: datetime  # when the vendor fell behind
    detail: str


def disclosure_obligations(session: Session, as_of: datetime | None = None) -> list[Obligation]:
    """Every vendor's outstanding disclosure obligations at `as_of` (default now), the longest-standing first."""
    as_of = as_of or utcnow()
    vendors = (
        session.execute(
            select(Organization).where(col(Organization.kind) == OrgKind.VENDOR, col(Organization.created_at) <= as_of)
        )
        .scalars()
        .all()
    )
    versions = defaultdict(list)
    for version in session.execute(
        select(DisclosureVersion).where(
            col(DisclosureVersion.status) != DisclosureStatus.DRAFT, col(DisclosureVersion.submitted_at) <= as_of
        )
    ).scalars():
        versions[version.vendor_org_id].append(version)
    obligations = []
    for vendor in vendors:
        filed = versions.get(vendor.id, [])
        obligations += _filing_obligations(vendor, filed, as_of)
    obligations += _material_change_obligations(session, vendors, versions, as_of)
    return sorted(obligations, key=lambda o: (o.since, o.vendor_org_id, KINDS.index(o.kind)))


def _filing_obligations(vendor: Organization, filed: list[DisclosureVersion], as_of: datetime) -> list[Obligation]:
    if not filed:
        return [
            Obligation(
                vendor.id, NEVER_FILED, vendor.created_at, f"{vendor.name} has never filed an ownership disclosure."
            )
        ]
    approved = [v for v in filed if v.status == DisclosureStatus.APPROVED and v.decided_at and v.decided_at <= as_of]
    if not approved:
        return []
    latest = max(approved, key=lambda v: v.number)
    stale_from = _months_after(cast(datetime, latest.decided_at), STALE_AFTER_MONTHS)
    awaiting = any(v.status == DisclosureStatus.SUBMITTED and v.number > latest.number for v in filed)
    if stale_from >= as_of or awaiting:
        return []
    return [
        Obligation(
            vendor.id,
            STALE,
            stale_from,
            f"Version {latest.number} was approved on {latest.decided_at:%Y-%m-%d}, more than "
            f"{STALE_AFTER_MONTHS} months ago, and no newer version awaits review.",
        )
    ]


def _vendor_parties(session: Session, vendors: Sequence[Organization]) -> dict[int, int]:
    """Party id -> vendor organisation id, including parties merged into a vendor's own party."""
    owners = {v.party_id: v.id for v in vendors if v.party_id}
    merged = session.execute(
        select(col(Party.id), col(Party.merged_into_id)).where(col(Party.merged_into_id).in_(list(owners)))
    ).all()
    owners.update({party_id: owners[cast(int, into)] for party_id, into in merged})
    return owners


def _high_share(interest: Interest) -> float:
    """The high end of the share: a change of 5% or more may have happened when the high end reaches 5%."""
    if interest.share_exact is not None:
        return interest.share_exact
    return interest.share_max if interest.share_max is not None else 100.0


def _material_facts(session: Session, owners: dict[int, int], due_before: datetime):
    """(vendor_org_id, fact) for every admin-recorded material change old enough to be overdue."""
    facts = (
        session.execute(
            select(Interest)
            .where(
                col(Interest.origin) == TieOrigin.ADMIN_FACT,
                col(Interest.recorded_at) < due_before,
                or_(
                    col(Interest.subject_party_id).in_(list(owners)),
                    col(Interest.interest_type).in_(list(ROLE_INTEREST_TYPES)),
                ),
            )
            .order_by(col(Interest.recorded_at), col(Interest.id))
        )
        .scalars()
        .all()
    )
    # People with a role in a vendor: their role taken elsewhere is the vendor's material change.
    people = defaultdict(set)
    for holder, subject in session.execute(
        select(col(Interest.interested_party_id), col(Interest.subject_party_id)).where(
            col(Interest.subject_party_id).in_(list(owners)), col(Interest.interest_type).in_(list(ROLE_INTEREST_TYPES))
        )
    ).all():
        people[holder].add(owners[subject])
    for fact in facts:
        if fact.subject_party_id in owners:
            kind = fact.interest_type
            if kind in BOARD_TYPES or (kind in OWNERSHIP_TYPES and _high_share(fact) >= MATERIAL_SHARE_PCT):
                yield owners[fact.subject_party_id], fact
        elif fact.interest_type in ROLE_INTEREST_TYPES:
            for vendor_id in sorted(people.get(fact.interested_party_id, ())):
                yield vendor_id, fact


def _describe(fact: Interest, names: dict[int, str]) -> str:
    share = ""
    if fact.interest_type in OWNERSHIP_TYPES:
        if fact.share_exact is not None:
            share = f" {fact.share_exact:g}%"
        elif fact.share_min is not None or fact.share_max is not None:
            share = f" {fact.share_min or 0:g}–{fact.share_max if fact.share_max is not None else 100:g}%"
    return (
        f"{names.get(fact.interested_party_id, '?')}: {interest_words(fact.interest_type)}{share} in "
        f"{names.get(fact.subject_party_id, '?')} (recorded {fact.recorded_at:%Y-%m-%d})"
    )


def _material_change_obligations(session: Session, vendors: Sequence[Organization], versions, as_of: datetime):
    owners = _vendor_parties(session, vendors)
    if not owners:
        return []
    due_before = as_of - timedelta(days=MATERIAL_CHANGE_DAYS)
    unanswered: defaultdict[int, list] = defaultdict(list)
    for vendor_id, fact in _material_facts(session, owners, due_before):
        answered = any(v.submitted_at and v.submitted_at > fact.recorded_at for v in versions.get(vendor_id, []))
        if not answered and fact not in unanswered[vendor_id]:
            unanswered[vendor_id].append(fact)
    party_ids = {p for facts in unanswered.values() for f in facts for p in (f.interested_party_id, f.subject_party_id)}
    names = dict(session.execute(select(col(Party.id), col(Party.name)).where(col(Party.id).in_(party_ids))).all())
    obligations = []
    for vendor_id, facts in unanswered.items():
        oldest = facts[0]
        detail = (
            f"Material change{'s' if len(facts) > 1 else ''} recorded by an admin, with no new version "
            f"filed within {MATERIAL_CHANGE_DAYS} days: " + "; ".join(_describe(f, names) for f in facts)
        )
        obligations.append(
            Obligation(
                vendor_id, MATERIAL_CHANGE_OVERDUE, oldest.recorded_at + timedelta(days=MATERIAL_CHANGE_DAYS), detail
            )
        )
    return obligations
