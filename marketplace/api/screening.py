"""A lab's screening over the API, read only: its rivals and policy, the vendor search with verdicts and findings,
and one vendor's screening with routes and sources. Secret to everyone but the lab: labs' tokens only."""

from typing import Any, cast

from flask import url_for
from itsdangerous import BadSignature

from marketplace.accounts.models import Organization, OrgKind, User
from marketplace.api.problems import ApiProblem
from marketplace.api.routing import cursors, operation
from marketplace.api.schemas import (
    FindingOut,
    PolicyOut,
    RivalList,
    RivalOut,
    ScreeningOut,
    SourceOut,
    StakeOut,
    VendorSearchQuery,
    VendorVerdict,
    VendorVerdictPage,
)
from marketplace.errors import NotVisible
from marketplace.extensions import db
from marketplace.screening.engine.verdicts import Finding
from marketplace.screening.services import rivals, vendor_search
from marketplace.screening.store.policies import policy_for

LAB = ("buyer",)


def _finding(finding: Finding) -> FindingOut:
    return FindingOut(
        rule=str(finding.rule),
        verdict=str(finding.verdict),
        rival=finding.rival,
        explanation=finding.explanation,
        stake=StakeOut(low=finding.stake.low, high=finding.stake.high) if finding.stake else None,
        routes=[list(route) for route in finding.paths],
        sources=[
            SourceOut(description=s.description, verification_level=s.verification_level, recorded=s.recorded)
            for s in finding.sources
        ],
        waived=finding.waived,
    )


@operation(
    "GET",
    "/rivals",
    summary="Your lab's rivals",
    scope="screening:read",
    response=RivalList,
    kinds=LAB,
    tag="screening",
)
def list_rivals(user: User) -> RivalList:
    """Each rival your lab names, with how many platform vendors it ties to."""
    return RivalList(
        items=[
            RivalOut(id=e.rival.id, party_id=e.party.id, name=e.party.name, tied_vendors=e.tied_vendor_count)
            for e in rivals.rivals_of(db.session, user)
        ]
    )


@operation(
    "GET",
    "/screening/policy",
    summary="Your lab's policy",
    scope="screening:read",
    response=PolicyOut,
    kinds=LAB,
    tag="screening",
)
def get_policy(user: User) -> PolicyOut:
    """Your thresholds and what each rule does (the defaults until you set your own)."""
    policy = policy_for(db.session, cast(int, user.org_id))
    return PolicyOut(
        exclude_at=policy.exclude_at,
        review_at=policy.review_at,
        people_window_months=policy.people_window_months,
        actions={str(rule): str(action) for rule, action in policy.actions.items()},
    )


@operation(
    "GET",
    "/vendors",
    summary="Search vendors, with your verdicts and findings",
    scope="screening:read",
    response=VendorVerdictPage,
    query=VendorSearchQuery,
    kinds=LAB,
    tag="screening",
)
def search_vendors(user: User, query: VendorSearchQuery) -> VendorVerdictPage:
    """Every vendor with its verdict for your lab and the findings behind it; excluded ones only when asked for,
    as on the vendor list. The cursor carries the page."""
    page_number = 1
    if query.cursor:
        try:
            page_number = int(cursors("search_vendors").loads(query.cursor))
        except (BadSignature, ValueError):
            raise ApiProblem(
                400, "This cursor was not given by this list: start again without it.", "invalid-cursor"
            ) from None
    search = vendor_search.VendorSearch(
        text=query.q.strip(), verdict=query.verdict, show_excluded=query.show_excluded, page=page_number
    )
    page = vendor_search.search_vendors(db.session, user, search)
    following = None
    if page.page < page.pages:
        filters: dict[str, Any] = {"q": query.q or None, "verdict": query.verdict or None}
        cursor = cursors("search_vendors").dumps(page.page + 1)
        shown = "true" if query.show_excluded else None
        following = url_for("api.search_vendors", cursor=cursor, show_excluded=shown, **filters)
    return VendorVerdictPage(
        items=[
            VendorVerdict(
                vendor_id=row.org.id,
                vendor=row.org.name,
                verdict=str(row.verdict),
                findings=[_finding(f) for f in row.screening.findings],
            )
            for row in page.rows
        ],
        next=following,
        hidden_excluded=page.hidden_excluded,
    )


@operation(
    "GET",
    "/vendors/<int:org_id>/screening",
    summary="One vendor's screening for your lab",
    scope="screening:read",
    response=ScreeningOut,
    kinds=LAB,
    tag="screening",
)
def vendor_screening(user: User, org_id: int) -> ScreeningOut:
    """The vendor's verdict for your lab today, each finding with its figure, routes and sources; 404 for an
    organisation that is not a vendor."""
    vendor_org = db.session.get(Organization, org_id)
    if vendor_org is None or vendor_org.kind != OrgKind.VENDOR:
        raise NotVisible(f"vendor {org_id}")
    buyer_org = cast(Organization, db.session.get(Organization, user.org_id))
    report = vendor_search.vendor_report(db.session, buyer_org, vendor_org)
    return ScreeningOut(
        vendor_id=vendor_org.id,
        vendor=vendor_org.name,
        verdict=str(report.screening.verdict),
        findings=[_finding(row.finding) for row in report.findings],
        as_of=report.as_of,
    )
