"""The buyer's vendor search: every vendor organisation with its verdict for this buyer and the reasons.

Excluded vendors are hidden unless the buyer asks for them (DOMAIN.md, "What a verdict does"); when shown they
come with their reasons, so the buyer can see why.
"""

import json
import math
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import Organization, OrgKind, User, VendorProfile
from marketplace.db_types import utcnow
from marketplace.parties.models import Party
from marketplace.screening import service as screening_service
from marketplace.screening.models import Rival, Waiver
from marketplace.screening.picture import Picture, vendor_picture
from marketplace.screening.policies import policy_for
from marketplace.screening.policy_service import waivers_of
from marketplace.screening.verdicts import Finding, Range, Screening, Verdict

PER_PAGE = 25


@dataclass(frozen=True)
class VendorSearch:
    """What the buyer asked for; empty strings mean 'any'."""

    text: str = ""
    verdict: str = ""
    modality: str = ""
    certification: str = ""
    show_excluded: bool = False
    page: int = 1


@dataclass(frozen=True)
class VendorRow:
    org: Organization
    profile: VendorProfile | None
    screening: Screening

    @property
    def verdict(self) -> Verdict:
        return self.screening.verdict

    @property
    def reasons(self) -> list[str]:
        return [finding.explanation for finding in self.screening.findings]


@dataclass
class VendorPage:
    rows: list[VendorRow]
    total: int
    page: int
    pages: int
    # Matching vendors left out because they are excluded and the buyer did not ask to see them.
    hidden_excluded: int = 0
    verdict_counts: dict[str, int] = field(default_factory=dict)


def buyer_screenings(session: Session, buyer_org_id: int, vendors: list[Organization]) -> dict[int, Screening]:
    """Every vendor's screening for the buyer, as refresh_verdicts stored it after the last change.

    The one place that chooses: for live screenings instead, return
    screening_service.screenings_for_buyer(session, buyer_org_id, vendors).
    """
    return _from_records(screening_service.cached_screenings_for_buyer(session, buyer_org_id))


def _from_records(records: dict[int, tuple[Verdict, list[dict]]]) -> dict[int, Screening]:
    """Stored verdicts (findings as dicts) as the Screening every page reads."""
    def finding(record: dict) -> Finding:
        stake = record.get("stake")
        return Finding(rule=record["rule"], verdict=Verdict(record["verdict"]), rival=record.get("rival"),
                       explanation=record.get("explanation", ""), rival_party_id=record.get("rival_party_id"),
                       stake=Range(stake["low"], stake["high"]) if stake else None, paths=record.get("paths") or [],
                       waived=bool(record.get("waived")))

    return {vendor_id: Screening(vendor_id, [finding(f) for f in findings])
            for vendor_id, (_verdict, findings) in records.items()}


def _in_json_list(column, value: str):
    """Whether a JSON list column holds exactly this code (compared as stored, quotes included)."""
    return cast(column, String).contains(json.dumps(value), autoescape=True)


def _matching_vendors(session: Session, search: VendorSearch) -> list[tuple[Organization, VendorProfile | None]]:
    query = (
        select(Organization, VendorProfile)
        .outerjoin(VendorProfile, VendorProfile.org_id == Organization.id)
        .where(Organization.kind == OrgKind.VENDOR, Organization.suspended_at.is_(None))
    )
    for word in search.text.split():
        query = query.where(Organization.name.icontains(word, autoescape=True))
    if search.modality:
        query = query.where(_in_json_list(VendorProfile.modalities, search.modality))
    if search.certification:
        query = query.where(_in_json_list(VendorProfile.certifications, search.certification))
    return [tuple(row) for row in session.execute(query.order_by(Organization.name, Organization.id))]


def search_vendors(session: Session, user: User, search: VendorSearch, per_page: int = PER_PAGE) -> VendorPage:
    """One page of the vendors matching the search, each with its screening for the buyer's organisation."""
    if not user.is_buyer or user.org_id is None:
        return VendorPage(rows=[], total=0, page=1, pages=1)
    found = _matching_vendors(session, search)
    screenings = buyer_screenings(session, user.org_id, [org for org, _ in found])
    rows = [VendorRow(org, profile, screenings.get(org.id) or Screening(org.id)) for org, profile in found]
    counts = {str(v): sum(1 for row in rows if row.verdict == v) for v in Verdict}
    if search.verdict:
        rows = [row for row in rows if row.verdict == search.verdict]
    shown_excluded = search.show_excluded or search.verdict == Verdict.EXCLUDE
    hidden = 0 if shown_excluded else sum(1 for row in rows if row.verdict == Verdict.EXCLUDE)
    if not shown_excluded:
        rows = [row for row in rows if row.verdict != Verdict.EXCLUDE]
    pages = max(1, math.ceil(len(rows) / per_page))
    page = min(max(1, search.page), pages)
    return VendorPage(rows=rows[(page - 1) * per_page: page * per_page], total=len(rows), page=page, pages=pages,
                      hidden_excluded=hidden, verdict_counts=counts)


# --- One vendor's screening, as the buyer (or an admin on its behalf) reads it ---------------------------------


def figure(stake: Range | None) -> str:
    """A stake range in words: "49%" when both ends agree, "30–50%" otherwise."""
    if stake is None:
        return ""
    low, high = round(stake.low, 2), round(stake.high, 2)
    return f"{low:g}%" if low == high else f"{low:g}–{high:g}%"


def waiver_key(rule: str, rival_party_id: int | None) -> str:
    """The waiver a finding answers to, as a string for forms and element ids."""
    return f"{rule}-{rival_party_id or 'none'}"


@dataclass(frozen=True)
class FindingRow:
    finding: Finding
    figure: str
    key: str
    waiver: Waiver | None

    @property
    def waivable(self) -> bool:
        """A review finding not yet waived; exclude findings can never be waived."""
        return self.finding.verdict == Verdict.REVIEW and not self.finding.waived


@dataclass
class VendorReport:
    buyer: Organization
    vendor: Organization
    screening: Screening
    as_of: date
    findings: list[FindingRow]
    # Waivers whose finding is gone (the tie ended, the rival was removed): kept until the buyer removes them.
    idle_waivers: list[Waiver]
    picture: Picture | None
    rivals: dict[int, str] = field(default_factory=dict)


def vendor_report(session: Session, buyer_org: Organization, vendor_org: Organization,
                  as_of: date | None = None) -> VendorReport:
    """The vendor's screening for one buyer today: findings with their waivers, and the picture."""
    as_of = as_of or utcnow().date()
    screening = screening_service.screen_vendor(session, buyer_org.id, vendor_org, as_of)
    waivers = {waiver_key(w.rule, w.rival_party_id): w for w in waivers_of(session, buyer_org.id, vendor_org.id)}
    rows = []
    for finding in sorted(screening.findings, key=lambda f: (-Verdict(f.verdict).severity, str(f.rule))):
        key = waiver_key(str(finding.rule), finding.rival_party_id)
        rows.append(FindingRow(finding, figure(finding.stake), key, waivers.get(key) if finding.waived else None))
    used = {row.key for row in rows if row.waiver is not None}
    rivals = dict(session.execute(
        select(Party.id, Party.name).join(Rival, Rival.party_id == Party.id).where(Rival.buyer_org_id == buyer_org.id)
    ).all())
    picture = None
    if vendor_org.party_id is not None:
        window = policy_for(session, buyer_org.id).people_window_months
        picture = vendor_picture(session, vendor_org.party_id, screening, rivals, as_of, window)
    return VendorReport(buyer_org, vendor_org, screening, as_of, rows,
                        [w for key, w in waivers.items() if key not in used], picture, rivals)
