"""Screening a vendor for a buyer.

This is the direct-ties stand-in of the core issue: a rival holding shares, voting rights, a board seat or
board-appointment rights directly in the vendor. The full seven rules replace it behind the same functions.
"""

from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Organization, OrgKind
from marketplace.db_types import utcnow
from marketplace.disclosures.counting import counted_version_ids
from marketplace.parties.models import Interest, Party, TieOrigin
from marketplace.screening.models import Rival
from marketplace.screening.policies import apply_waivers, waiver_keys
from marketplace.screening.verdicts import Finding, Screening, Verdict, worst  # noqa: F401  (re-exported)

EXCLUDE_AT = 25.0
REVIEW_AT = 10.0
BOARD_TYPES = ("boardMember", "boardChair", "appointmentOfBoard")
SHARE_TYPES = ("shareholding", "votingRights")


def share_range(interest: Interest) -> tuple[float, float]:
    """The share as an interval [low, high] in percent; no share on a countable interest is [0, 100]."""
    if interest.share_exact is not None:
        return interest.share_exact, interest.share_exact
    low = interest.share_min if interest.share_min is not None else 0.0
    high = interest.share_max if interest.share_max is not None else 100.0
    return low, high


def _format_share(low: float, high: float) -> str:
    return f"{low:g}%" if low == high else f"{low:g}–{high:g}%"


def counted_interests_query(session: Session, vendor_party_ids, as_of: date):
    """Interests in the given vendors that count at as_of: not rejected, started, not yet ended."""
    versions = counted_version_ids(session)
    return select(Interest).where(
        Interest.subject_party_id.in_(vendor_party_ids),
        or_(Interest.origin != TieOrigin.DISCLOSURE, Interest.disclosure_id.in_(versions)),
        or_(Interest.start_date.is_(None), Interest.start_date <= as_of),
        or_(Interest.end_date.is_(None), Interest.end_date > as_of),
    )


def _finding_for(interest: Interest, rival: Party, vendor_name: str, as_of: date) -> Finding | None:
    source = f"{interest.interest_type}, {interest.verification_level}"
    when = f"as of {as_of.isoformat()}"
    if interest.interest_type in BOARD_TYPES:
        return Finding("board", Verdict.EXCLUDE, rival.name,
                       f"Excluded: {rival.name} holds {interest.interest_type} in {vendor_name} ({source}, {when}).")
    low, high = share_range(interest)
    figure = _format_share(low, high)
    if low >= EXCLUDE_AT:
        return Finding("ownership", Verdict.EXCLUDE, rival.name,
                       f"Excluded: {rival.name} holds {figure} of {vendor_name} ({source}, {when}).")
    if high >= REVIEW_AT:
        return Finding("ownership", Verdict.REVIEW, rival.name,
                       f"Review: {rival.name} may hold {figure} of {vendor_name} ({source}, {when}).")
    return None


def screen_pairs(session: Session, buyer_org_ids, vendor_orgs, as_of: date | None = None):
    """Screen every given vendor for every given buyer: {(buyer_id, vendor_id): Screening}."""
    as_of = as_of or utcnow().date()
    vendor_orgs = [v for v in vendor_orgs if v.kind == OrgKind.VENDOR]
    results = {(b, v.id): Screening(v.id) for b in buyer_org_ids for v in vendor_orgs}
    rivals = session.execute(
        select(Rival.buyer_org_id, Party).join(Party, Party.id == Rival.party_id)
        .where(Rival.buyer_org_id.in_(list(buyer_org_ids)))
    ).all()
    if not rivals or not vendor_orgs:
        return results
    by_party = {v.party_id: v for v in vendor_orgs if v.party_id}
    interests = session.execute(
        counted_interests_query(session, list(by_party), as_of).where(
            and_(Interest.interest_type.in_(BOARD_TYPES + SHARE_TYPES),
                 Interest.interested_party_id.in_({p.id for _, p in rivals}))
        )
    ).scalars().all()
    for interest in interests:
        vendor = by_party[interest.subject_party_id]
        for buyer_id, rival in rivals:
            if rival.id == interest.interested_party_id:
                finding = _finding_for(interest, rival, vendor.name, as_of)
                if finding:
                    finding.rival_party_id = rival.id
                    results[(buyer_id, vendor.id)].findings.append(finding)
    keys = waiver_keys(session, buyer_org_ids, [v.id for v in vendor_orgs])
    for (buyer_id, vendor_id), screening in results.items():
        apply_waivers(screening.findings, buyer_id, vendor_id, keys)
    return results


def screen_vendor(session: Session, buyer_org_id: int, vendor_org: Organization, as_of=None) -> Screening:
    """Screen one vendor for one buyer."""
    return screen_pairs(session, [buyer_org_id], [vendor_org], as_of)[(buyer_org_id, vendor_org.id)]


def verdicts_for_vendor(session: Session, vendor_org: Organization, as_of=None) -> dict[int, Verdict]:
    """The verdict that decides access, under every buyer that has named rivals (waived findings do not count)."""
    buyer_ids = session.execute(select(Rival.buyer_org_id).distinct()).scalars().all()
    pairs = screen_pairs(session, buyer_ids, [vendor_org], as_of)
    return {buyer_id: screening.access_verdict for (buyer_id, _), screening in pairs.items()}


def screenings_for_buyer(session: Session, buyer_org_id: int, vendor_orgs, as_of=None) -> dict[int, Screening]:
    """Each vendor's screening for one buyer, keyed by vendor organisation id."""
    pairs = screen_pairs(session, [buyer_org_id], vendor_orgs, as_of)
    return {vendor_id: screening for (_, vendor_id), screening in pairs.items()}
