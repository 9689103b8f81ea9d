"""The buyer's vendor search: every vendor organisation with its verdict for this buyer and the reasons.

Excluded vendors are hidden unless the buyer asks for them (docs/screening.md, "What a verdict does"); when shown they
come with their reasons, so the buyer can see why.

The search reads the verdicts refresh_verdicts stored: the database filters, counts and pages on them, and only
the page's rows have their findings read.
"""

import json
import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import String, and_, case, cast, func, literal, select
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from marketplace import transaction_cache
from marketplace.accounts.models import Organization, OrgKind, User, VendorProfile
from marketplace.db_types import in_ids, utcnow
from marketplace.parties.models import Party
from marketplace.parties.service import no_owners_declarations
from marketplace.screening.engine.verdicts import Finding, Range, Screening, Verdict
from marketplace.screening.models import Rival, VerdictRecord, Waiver
from marketplace.screening.services import screen as screening_service
from marketplace.screening.services.policy import waivers_of
from marketplace.screening.store.picture import Picture, vendor_picture
from marketplace.screening.store.policies import policy_for
from marketplace.transaction_cache import plain

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
    # The verdict the row was filtered and counted by: the stored one (the worst finding, waived or not).
    verdict: Verdict

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
    # Vendors not yet screened for the buyer and left out (more than screen.screened_live_up_to()): they join the
    # list as their verdicts are stored.
    unscreened: int = 0


def _from_record(vendor_id: int, findings: list[dict]) -> Screening:
    """A stored verdict's findings (findings_record dicts) as the Screening every page reads."""

    def finding(record: dict) -> Finding:
        stake = record.get("stake")
        return Finding(
            rule=record["rule"],
            verdict=Verdict(record["verdict"]),
            rival=record.get("rival"),
            explanation=record.get("explanation", ""),
            rival_party_id=record.get("rival_party_id"),
            stake=Range(stake["low"], stake["high"]) if stake else None,
            paths=record.get("paths") or [],
            waived=bool(record.get("waived")),
            matched_party_id=record.get("matched_party_id"),
            matched_as_party_id=record.get("matched_as_party_id"),
        )

    return Screening(vendor_id, [finding(f) for f in findings or []])


def _in_json_list(column, value: str):
    """Whether a JSON list column holds exactly this code (compared as stored, quotes included)."""
    return cast(column, String).contains(json.dumps(value), autoescape=True)


class _Matching:
    """The search as SQL: the vendors that match, each with the buyer's stored verdict joined on.

    A vendor the buyer has no stored verdict for (refresh_verdicts has not run since it appeared) is screened
    live, as cached_screenings_for_buyer does for other lists: nothing is stored, this serves a GET page. Only
    those vendors are screened; when every verdict is stored the screening engine is not touched. When there are
    more of them than screen.screened_live_up_to() (with a queue to store them), they are left out and counted instead.
    """

    def __init__(self, session: Session, buyer_org_id: int, search: VendorSearch):
        self.session, self.buyer_org_id, self.search = session, buyer_org_id, search
        self.record: Any = aliased(VerdictRecord)
        self.joined = and_(self.record.vendor_org_id == col(Organization.id), self.record.buyer_org_id == buyer_org_id)
        self.live: dict[int, Screening] = {}
        self.unscreened = 0
        self.counts = self._count()
        self.verdict = self._verdict_column()

    def where(self, query, with_profile: bool = True):
        """The query over the matching vendors, each with the buyer's stored verdict (if any) joined on; only those
        with one when the others are left out (unscreened)."""
        query = self._filtered(query.select_from(Organization).outerjoin(self.record, self.joined), with_profile)
        return query.where(self.record.id.is_not(None)) if self.unscreened else query

    def _filtered(self, query, with_profile: bool):
        if with_profile:
            query = query.outerjoin(VendorProfile, VendorProfile.org_id == Organization.id)
        query = query.where(Organization.kind == OrgKind.VENDOR, col(Organization.suspended_at).is_(None))
        for word in self.search.text.split():
            query = query.where(col(Organization.name).icontains(word, autoescape=True))
        if self.search.modality:
            query = query.where(_in_json_list(VendorProfile.modalities, self.search.modality))
        if self.search.certification:
            query = query.where(_in_json_list(VendorProfile.certifications, self.search.certification))
        return query

    @property
    def needs_profile(self) -> bool:
        return bool(self.search.modality or self.search.certification)

    def _screen_unstored(self) -> dict[int, Screening]:
        query = self.where(select(Organization), self.needs_profile).where(self.record.id.is_(None))
        unstored = self.session.execute(query).scalars().all()
        return {
            vendor_id: screening
            for (_, vendor_id), screening in screening_service.screen_pairs(
                self.session, [self.buyer_org_id], unstored
            ).items()
        }

    def _verdict_column(self):
        """The verdict each vendor shows: the stored one, or for a vendor without one its live screening's."""
        live: dict[Verdict, list[int]] = {}
        for vendor_id, screening in self.live.items():
            live.setdefault(screening.verdict, []).append(vendor_id)
        unstored = [
            (in_ids(self.session, Organization.id, ids), literal(str(verdict)))
            for verdict, ids in live.items()
            if verdict != Verdict.CLEAR
        ]
        otherwise = case(*unstored, else_=literal(str(Verdict.CLEAR))) if unstored else literal(str(Verdict.CLEAR))
        return func.coalesce(self.record.verdict, otherwise)

    def _count(self) -> dict[str, int]:
        """How many matching vendors have each verdict: the stored ones counted by the database from the index
        on (buyer, verdict, vendor); when they are fewer than the matching vendors, the others screened live (or,
        too many with a queue to store them, left out and counted as unscreened)."""
        stored = self._filtered(
            select(self.record.verdict, func.count())
            .select_from(self.record)
            .join(Organization, Organization.id == self.record.vendor_org_id)
            .where(self.record.buyer_org_id == self.buyer_org_id),
            self.needs_profile,
        )
        found = dict(self.session.execute(stored.group_by(self.record.verdict)).all())
        matching = self.session.scalar(
            self._filtered(select(func.count()).select_from(Organization), self.needs_profile)
        )
        unstored = matching - sum(found.values())
        limit = screening_service.screened_live_up_to()
        if limit is not None and unstored > limit:
            self.unscreened = unstored
        elif unstored > 0:
            self.live = self._screen_unstored()
        for screening in self.live.values():
            found[str(screening.verdict)] = found.get(str(screening.verdict), 0) + 1
        return {str(v): found.get(str(v), 0) for v in Verdict}

    def page(self, conditions, offset: int, limit: int) -> list[VendorRow]:
        query = (
            self.where(select(Organization, VendorProfile, self.verdict, self.record.findings))
            .where(*conditions)
            .order_by(Organization.name, Organization.id)
            .offset(offset)
            .limit(limit)
        )
        rows = []
        for org, profile, verdict, findings in self.session.execute(query):
            screening = self.live[org.id] if org.id in self.live else _from_record(org.id, findings)
            rows.append(VendorRow(plain(org), plain(profile), screening, Verdict(verdict)))
        return rows


def search_vendors(session: Session, user: User, search: VendorSearch, per_page: int = PER_PAGE) -> VendorPage:
    """One page of the vendors matching the search, each with its screening for the buyer's organisation, as plain
    values: kept between requests for the buyer's organisation while the screening generation stays (the stored
    verdicts, the organisations and their profiles are watched).

    Filtering, counting and paging are done by the database on the stored verdicts; findings are read for the
    page's rows only.
    """
    if not user.is_buyer or user.org_id is None:
        return VendorPage(rows=[], total=0, page=1, pages=1)
    buyer_org_id = user.org_id
    key = ("screening.search_vendors", buyer_org_id, search, per_page, utcnow().date())
    return transaction_cache.shared(session, key, lambda: _search(session, buyer_org_id, search, per_page))


def _search(session: Session, buyer_org_id: int, search: VendorSearch, per_page: int) -> VendorPage:
    matching = _Matching(session, buyer_org_id, search)
    counts = matching.counts
    shown_excluded = search.show_excluded or search.verdict == Verdict.EXCLUDE
    if search.verdict:
        conditions, total, hidden = [matching.verdict == search.verdict], counts.get(search.verdict, 0), 0
    elif shown_excluded:
        conditions, total, hidden = [], sum(counts.values()), 0
    else:
        hidden = counts[Verdict.EXCLUDE]
        conditions, total = [matching.verdict != Verdict.EXCLUDE], sum(counts.values()) - hidden
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, search.page), pages)
    rows = matching.page(conditions, (page - 1) * per_page, per_page) if total else []
    return VendorPage(
        rows=rows,
        total=total,
        page=page,
        pages=pages,
        hidden_excluded=hidden,
        verdict_counts=counts,
        unscreened=matching.unscreened,
    )


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
    # "Declared: no beneficial owners (source, date)", from BODS imports: what the source said, not a tie.
    declarations: list[str] = field(default_factory=list)


def vendor_report(
    session: Session, buyer_org: Organization, vendor_org: Organization, as_of: date | None = None
) -> VendorReport:
    """The vendor's screening for one buyer today: findings with their waivers, and the picture."""
    as_of = as_of or utcnow().date()
    screening = screening_service.screen_vendor(session, buyer_org.id, vendor_org, as_of)
    waivers = {waiver_key(w.rule, w.rival_party_id): w for w in waivers_of(session, buyer_org.id, vendor_org.id)}
    rows = []
    for finding in sorted(screening.findings, key=lambda f: (-Verdict(f.verdict).severity, str(f.rule))):
        key = waiver_key(str(finding.rule), finding.rival_party_id)
        rows.append(FindingRow(finding, figure(finding.stake), key, waivers.get(key) if finding.waived else None))
    used = {row.key for row in rows if row.waiver is not None}
    rivals = dict(
        session.execute(
            select(col(Party.id), col(Party.name))
            .join(Rival, col(Rival.party_id) == Party.id)
            .where(col(Rival.buyer_org_id) == buyer_org.id)
        ).all()
    )
    picture: Picture | None = None
    declarations: list[str] = []
    if vendor_org.party_id is not None:
        party_id = vendor_org.party_id

        def draw() -> tuple[Picture, list[str]]:
            window = policy_for(session, buyer_org.id).people_window_months
            picture = vendor_picture(session, party_id, screening, rivals, as_of, window)
            return picture, no_owners_declarations(session, party_id, as_of)

        # Drawn from what screening reads, like the screening itself: kept while the screening generation stays.
        drawn = ("screening.vendor_picture", buyer_org.id, vendor_org.id, party_id, as_of)
        picture, declarations = transaction_cache.shared(session, drawn, draw)
    return VendorReport(
        buyer_org,
        vendor_org,
        screening,
        as_of,
        rows,
        [w for key, w in waivers.items() if key not in used],
        picture,
        rivals,
        declarations,
    )
