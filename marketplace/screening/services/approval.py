"""What approving a disclosure version would change in screening, for the admin who reviews it: each buyer's verdict
of the vendor and of every other vendor its ties reach, the possible matches a verdict would rest on, whom a claim
about another party reaches, and the picture of the vendor with every buyer's rivals marked.

The effect of approving is computed, not guessed: inside a SAVEPOINT the version is marked approved (its ties
admin-verified), every buyer screens the vendor again, and every other platform vendor the version's ties can
reach, and the savepoint is rolled back, so nothing is written. A tie about another party counts, before approval,
only in the filing vendor's own screening: approving is what lets it count against that other party.
"""

from dataclasses import dataclass, field
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import transaction_cache
from marketplace.accounts.models import Organization, OrgKind, User
from marketplace.db_types import utcnow
from marketplace.disclosures import service as disclosures
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.parties.models import Interest, Party, TieOrigin
from marketplace.screening.engine.verdicts import Rule, Screening, Verdict, worst
from marketplace.screening.models import Rival
from marketplace.screening.services.screen import screen_pairs_for_page
from marketplace.screening.store.affected import affected_vendor_ids
from marketplace.screening.store.picture import vendor_picture


@dataclass(frozen=True)
class VerdictShift:
    buyer_org_id: int
    buyer_name: str
    before: Verdict
    after: Verdict
    vendor_org_id: int | None = None
    vendor_name: str = ""

    @property
    def text(self) -> str:
        return f"{self.buyer_name} {self.before} → {self.after}"


@dataclass(frozen=True)
class MatchWarning:
    """After approval, a buyer's verdict of the vendor would rest on a possible match no admin has settled."""

    buyer_name: str
    variant_id: int
    variant_name: str
    rival_id: int
    rival_name: str
    verdict: Verdict  # the possible-match finding's verdict under the buyer's policy
    clears_otherwise: bool  # every other finding would be clear: settling it as "not the same" clears the vendor
    matched_id: int | None = None  # the party the variant may be when it is a member of the rival's group
    matched_name: str = ""

    @property
    def keep_id(self) -> int:
        """The party an admin would merge the variant into: the rival, or the member of its group."""
        return self.matched_id or self.rival_id

    @property
    def keep_name(self) -> str:
        return self.matched_name or self.rival_name

    @property
    def text(self) -> str:
        lead = (
            f"Approving would clear this vendor for {self.buyer_name} but for an unsettled likely match"
            if self.clears_otherwise
            else f"For {self.buyer_name}, approving leaves an unsettled likely match"
        )
        who = (
            f"{self.rival_name}, a rival of {self.buyer_name}"
            if not self.matched_name
            else f"{self.matched_name}, in the group of {self.rival_name}, a rival of {self.buyer_name}"
        )
        return (
            f"{lead}: {self.variant_name} may be {who}. Merge them or mark them as not the same before relying "
            "on this verdict."
        )


@dataclass(frozen=True)
class ApprovalEffect:
    shifts: list[VerdictShift]  # the filing vendor's verdicts
    buyers_screened: int
    # Other platform vendors' verdicts, changed by the version's ties about other parties once verified.
    others: list[VerdictShift] = field(default_factory=list)
    others_screened: int = 0
    match_warnings: list[MatchWarning] = field(default_factory=list)

    @property
    def summary(self) -> str:
        if not self.shifts:
            return f"Approving would change no buyer's verdict ({self.buyers_screened} screened)."
        count = len(self.shifts)
        whose = "1 buyer's verdict" if count == 1 else f"{count} buyers' verdicts"
        return f"Approving would change {whose}: " + ", ".join(shift.text for shift in self.shifts) + "."

    @property
    def others_summary(self) -> str:
        if not self.others_screened:
            return "No other platform vendor is reached by this version's ties."
        if not self.others:
            return (
                f"Approving would change no verdict of the {self.others_screened} other platform "
                f"vendor{'s' if self.others_screened != 1 else ''} its ties reach."
            )
        texts = [f"{shift.vendor_name} for {shift.text}" for shift in self.others]
        return "Approving would also change " + ", ".join(texts) + "."

    def shifts_of(self, vendor_org_id: int) -> list[VerdictShift]:
        return [shift for shift in self.others if shift.vendor_org_id == vendor_org_id]


def _verdicts(session: Session, buyers: list[Organization], vendors: list[Organization]) -> dict:
    """{(buyer id, vendor id): Screening}: kept between requests before the approval is tried, computed afresh
    inside its savepoint (marketplace.transaction_cache.shared never shares what a transaction wrote itself)."""
    return screen_pairs_for_page(session, [buyer.id for buyer in buyers], vendors)


def _shifts(buyers: list[Organization], vendors: list[Organization], before: dict, after: dict) -> list[VerdictShift]:
    return [
        VerdictShift(
            buyer.id,
            buyer.name,
            before[buyer.id, vendor.id].verdict,
            after[buyer.id, vendor.id].verdict,
            vendor.id,
            vendor.name,
        )
        for vendor in vendors
        for buyer in buyers
        if before[buyer.id, vendor.id].verdict != after[buyer.id, vendor.id].verdict
    ]


def _reached_vendors(session: Session, version: DisclosureVersion) -> list[Organization]:
    """The other platform vendors whose verdicts the version's ties can change, by name."""
    reached = affected_vendor_ids(session, disclosures.changed_subjects(session, version.vendor_org_id))
    reached.discard(version.vendor_org_id)
    return list(
        session.execute(
            select(Organization)
            .where(col(Organization.id).in_(sorted(reached)))
            .order_by(Organization.name, col(Organization.id))
        ).scalars()
    )


def approval_effect(session: Session, user: User, version_id: int) -> ApprovalEffect | None:
    """How approving this submitted version would change each buyer's verdict of the vendor, and of every other
    platform vendor its ties reach; None for a version that cannot be approved. Nothing is written: the approval
    is tried inside a savepoint rolled back at once.
    Raises NotVisible (404) for a draft or missing version, or a user who is not an admin."""
    version = disclosures.get_filed_version(session, user, version_id)
    if version.status != DisclosureStatus.SUBMITTED:
        return None
    # Made of what screening reads and the date alone: kept while the screening generation stays the same (the
    # trial's own writes are rolled back before it is kept; marketplace.transaction_cache).
    key = ("screening.approval_effect", version.id, utcnow().date())
    return transaction_cache.shared(session, key, lambda: _tried(session, user, version))


def _tried(session: Session, user: User, version: DisclosureVersion) -> ApprovalEffect:
    vendor = cast(Organization, session.get(Organization, version.vendor_org_id))
    buyers = list(
        session.execute(
            select(Organization)
            .where(col(Organization.kind) == OrgKind.BUYER)
            .order_by(Organization.name, col(Organization.id))
        ).scalars()
    )
    vendors = [vendor, *_reached_vendors(session, version)]
    before = _verdicts(session, buyers, vendors)
    savepoint = session.begin_nested()
    try:
        version.status = DisclosureStatus.APPROVED
        version.decided_at = utcnow()
        version.decided_by_id = user.id
        disclosures.verify_ties(session, version)
        session.flush()
        after = _verdicts(session, buyers, vendors)
    finally:
        savepoint.rollback()
    session.expire_all()  # the ties' verification levels were changed in memory too, and rolled back
    shifts = _shifts(buyers, vendors, before, after)
    return ApprovalEffect(
        [s for s in shifts if s.vendor_org_id == vendor.id],
        len(buyers),
        [s for s in shifts if s.vendor_org_id != vendor.id],
        len(vendors) - 1,
        _match_warnings(session, buyers, {buyer.id: after[buyer.id, vendor.id] for buyer in buyers}),
    )


def _match_warnings(session: Session, buyers: list[Organization], after: dict[int, Screening]) -> list[MatchWarning]:
    """The possible matches each buyer's verdict would rest on once approved, the ones that alone keep the vendor
    from clear first."""
    warnings = []
    for buyer in buyers:
        findings = after[buyer.id].findings
        others = worst(f.verdict for f in findings if f.rule != Rule.MATCH.value)
        for finding in findings:
            if finding.rule != Rule.MATCH.value or finding.matched_party_id is None:
                continue
            variant = cast(Party, session.get(Party, finding.matched_party_id))
            member = (
                session.get(Party, finding.matched_as_party_id)
                if finding.matched_as_party_id not in (None, finding.rival_party_id)
                else None
            )
            warnings.append(
                MatchWarning(
                    buyer.name,
                    variant.id,
                    variant.name,
                    cast(int, finding.rival_party_id),
                    finding.rival or "",
                    finding.verdict,
                    others == Verdict.CLEAR,
                    member.id if member else None,
                    member.name if member else "",
                )
            )
    return sorted(warnings, key=lambda w: (not w.clears_otherwise, w.buyer_name, w.variant_name))


@dataclass(frozen=True)
class ReachedVendor:
    """A platform vendor a claim reaches, by id and name (kept between requests: no row of any session)."""

    id: int
    name: str


@dataclass(frozen=True)
class ClaimReach:
    """A tie of the version about another party than the vendor: whose screening it reaches once approved."""

    tie_id: int
    subject_name: str
    vendors: list[ReachedVendor]


def claims_about_others(session: Session, user: User, version_id: int) -> dict[int, ClaimReach]:
    """{interest id: its reach} for each tie of the version whose subject is another party: the platform vendors
    whose screening it can change once approved (before that it counts only in the filing vendor's own).
    Raises NotVisible (404) as get_filed_version does."""
    version = disclosures.get_filed_version(session, user, version_id)
    # Made of what screening reads alone (the version's ties, the graph, organisations): kept while the screening
    # generation stays the same, as the approval's effect is.
    key = ("screening.claims_about_others", version.id, version.vendor_org_id)
    return transaction_cache.shared(session, key, lambda: _claims(session, version))


def _claims(session: Session, version: DisclosureVersion) -> dict[int, ClaimReach]:
    vendor = cast(Organization, session.get(Organization, version.vendor_org_id))
    ties = (
        session.execute(
            select(Interest).where(
                col(Interest.disclosure_id) == version.id,
                col(Interest.origin) == TieOrigin.DISCLOSURE,
                col(Interest.subject_party_id) != vendor.party_id,
            )
        )
        .scalars()
        .all()
    )
    out = {}
    for tie in ties:
        reached = affected_vendor_ids(session, [tie.subject_party_id]) - {vendor.id}
        orgs = [
            ReachedVendor(org_id, name)
            for org_id, name in session.execute(
                select(col(Organization.id), col(Organization.name))
                .where(col(Organization.id).in_(sorted(reached)))
                .order_by(Organization.name, col(Organization.id))
            ).all()
        ]
        out[tie.id] = ClaimReach(tie.id, cast(Party, session.get(Party, tie.subject_party_id)).name, orgs)
    return out


def ownership_picture(session: Session, vendor: Organization):
    """The graph around the vendor as screening reads it, with every party some buyer names as a rival marked;
    None when the vendor has no node in the graph."""
    if vendor.party_id is None:
        return None
    party_id, today = vendor.party_id, utcnow().date()

    def draw():
        rivals = session.execute(select(col(Rival.party_id)).distinct()).scalars().all()
        return vendor_picture(session, party_id, Screening(vendor.id), rivals, today)

    # Drawn from what screening reads (the graph, every buyer's rivals) and the date: kept while the screening
    # generation stays the same, as the buyer's picture of a vendor is (vendor_search.vendor_report).
    return transaction_cache.shared(session, ("screening.ownership_picture", vendor.id, party_id, today), draw)
