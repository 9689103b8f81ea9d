"""A vendor's own disclosure versions over the API, read only (filing stays on the pages for now)."""

from typing import cast

from sqlalchemy import select
from sqlmodel import col

from marketplace.accounts.models import User
from marketplace.api.routing import operation, page_of
from marketplace.api.schemas import DisclosureOut, DisclosurePage, ListQuery
from marketplace.db_types import utcnow
from marketplace.disclosures import service
from marketplace.disclosures.models import DisclosureVersion
from marketplace.extensions import db


@operation(
    "GET",
    "/disclosures",
    summary="Your disclosure versions",
    scope="disclosures:read",
    response=DisclosurePage,
    query=ListQuery,
    kinds=("vendor",),
    tag="disclosures",
)
def list_disclosures(user: User, query: ListQuery) -> DisclosurePage:
    """Every version of your organisation's ownership disclosure, newest first, with the admins' decisions, and
    whether the approved one in force is stale, as the disclosure page shows them."""
    org_id = cast(int, user.org_id)
    statement = select(DisclosureVersion).where(col(DisclosureVersion.vendor_org_id) == org_id)
    versions, following = page_of(statement, DisclosureVersion.id, query.cursor, query.limit, "list_disclosures")
    approved = service.current_approved_version(db.session, org_id)
    return DisclosurePage(
        items=[
            DisclosureOut(
                id=v.id,
                number=v.number,
                status=str(v.status),
                summary=v.summary,
                created_at=v.created_at,
                submitted_at=v.submitted_at,
                decided_at=v.decided_at,
                decision_reason=v.decision_reason,
            )
            for v in versions
        ],
        next=following,
        stale=service.is_stale(approved, utcnow()),
    )
