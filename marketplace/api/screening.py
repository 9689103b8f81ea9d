"""A lab's screening over the API: its rivals and policy (read, and changed through the pages' own services, with
their checks, audit records and re-screens), the vendor search with verdicts and findings, and one vendor's
screening with routes and sources. Secret to everyone but the lab: labs' tokens only."""

from typing import Any, cast

from flask import url_for
from itsdangerous import BadSignature

from marketplace import tasks
from marketplace.accounts.models import Organization, OrgKind, User
from marketplace.api.problems import ApiProblem, field_errors
from marketplace.api.routing import Created, cursors, operation
from marketplace.api.schemas import (
    FindingOut,
    PolicyIn,
    PolicyOut,
    PolicySaved,
    RivalAdded,
    RivalIn,
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
from marketplace.screening.engine.verdicts import Finding, Rule
from marketplace.screening.services import policy as policy_service
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
    listed = rivals.rival_list(db.session, user)
    return RivalList(
        items=[
            RivalOut(id=e.rival.id, party_id=e.party.id, name=e.party.name, tied_vendors=e.tied_vendor_count)
            for e in listed.entries
        ],
        unscreened=listed.unscreened,
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
    return PolicyOut(**_policy_fields(user))


def _policy_fields(user: User) -> dict[str, Any]:
    policy = policy_for(db.session, cast(int, user.org_id))
    return {
        "exclude_at": policy.exclude_at,
        "review_at": policy.review_at,
        "people_window_months": policy.people_window_months,
        "actions": {str(rule): str(action) for rule, action in policy.actions.items()},
    }


@operation(
    "PUT",
    "/screening/policy",
    summary="Change your lab's policy",
    scope="screening:write",
    response=PolicySaved,
    body=PolicyIn,
    kinds=LAB,
    tag="screening",
)
def update_policy(user: User, body: PolicyIn) -> PolicySaved:
    """Replace your thresholds and each rule's action, as the policy page does: the same checks, an audit record,
    and every vendor screened again (on the task queue when there is one: `verdicts_updating` says so)."""
    values = policy_service.PolicyInput(body.exclude_at, body.review_at, body.people_window_months, dict(body.actions))
    try:
        changed = policy_service.save_policy(db.session, user, values)
    except policy_service.PolicyError as error:
        # The page's field names, as the API's body spells them: `ownership_action` is `actions.ownership`.
        field = error.field or "body"
        rule = field.removesuffix("_action")
        if field.endswith("_action") and rule in {str(r) for r in Rule}:
            field = f"actions.{rule}"
        raise ApiProblem(422, str(error), "validation", errors=field_errors({field: str(error)})) from None
    return PolicySaved(**_policy_fields(user), changed=changed, verdicts_updating=changed and tasks.configured())


@operation(
    "POST",
    "/rivals",
    summary="Name a rival",
    scope="screening:write",
    response=RivalAdded,
    body=RivalIn,
    status=201,
    kinds=LAB,
    creates=True,
    tag="screening",
)
def add_rival(user: User, body: RivalIn) -> Created:
    """Name a rival by its name or by a registry company's `party_id` (exactly one), as the rivals page does:
    the same checks (not your own organisation, not one already named), an audit record, and every vendor
    screened again (on the task queue when there is one: `verdicts_updating` says so)."""
    if (body.name is None) == (body.party_id is None):
        raise ApiProblem(
            422,
            "Give the rival's name or its party_id, not both.",
            "validation",
            errors=field_errors({"body": "Give the rival's name or its party_id, not both."}),
        )
    try:
        if body.party_id is not None:
            party = rivals.add_rival_by_party(db.session, user, body.party_id)
        else:
            party = rivals.add_rival_by_name(db.session, user, cast(str, body.name))
    except rivals.RivalError as error:  # the page puts it beside the name: here, beside what was given
        field = "party_id" if body.party_id is not None else "name"
        raise ApiProblem(422, str(error), "validation", errors=field_errors({field: str(error)})) from None
    entry = next(e for e in rivals.rivals_of(db.session, user) if e.party.id == party.id)
    added = RivalAdded(
        id=entry.rival.id,
        party_id=party.id,
        name=party.name,
        tied_vendors=entry.tied_vendor_count,
        verdicts_updating=tasks.configured(),
    )
    return Created(added, url_for("api.list_rivals"))


@operation(
    "DELETE",
    "/rivals/<int:rival_id>",
    summary="Remove a rival",
    scope="screening:write",
    response=None,
    status=204,
    kinds=LAB,
    tag="screening",
)
def remove_rival(user: User, rival_id: int) -> None:
    """Take a rival off your list, as the rivals page does, and screen every vendor again; 404 for a rival that
    is not on your list, 409 for one taken off a moment ago."""
    rivals.remove_rival(db.session, user, rival_id)


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
        unscreened=page.unscreened,
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
