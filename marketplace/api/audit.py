"""The lab's audit export over the API: the same records, redactions included, as the page's JSON-lines export
(a sealed bid's terms and their hash stay out until the deadline), paged oldest first."""

from itertools import islice

from flask import url_for
from itsdangerous import BadSignature

from marketplace.accounts.models import User
from marketplace.api.problems import ApiProblem
from marketplace.api.routing import cursors, operation
from marketplace.api.schemas import AuditLine, AuditPage, ListQuery
from marketplace.audit import service
from marketplace.extensions import db


@operation(
    "GET",
    "/audit/records",
    summary="Your lab's audit records",
    scope="audit:read",
    response=AuditPage,
    query=ListQuery,
    kinds=("buyer",),
    tag="audit",
)
def audit_records(user: User, query: ListQuery) -> AuditPage:
    """The records the lab exports on its audit page, oldest first, each line checkable alone against its hash.
    Every page reads the trail from its start: what is withheld depends on the records before it."""
    after = 0
    if query.cursor:
        try:
            after = int(cursors("audit_records").loads(query.cursor))
        except (BadSignature, ValueError):
            raise ApiProblem(
                400, "This cursor was not given by this list: start again without it.", "invalid-cursor"
            ) from None
    lines = (line for line in service.export_for_buyer(db.session, user) if line["id"] > after)
    page = list(islice(lines, query.limit + 1))
    following = None
    if len(page) > query.limit:
        page = page[: query.limit]
        following = url_for(
            "api.audit_records", cursor=cursors("audit_records").dumps(page[-1]["id"]), limit=query.limit
        )
    return AuditPage(items=[AuditLine.model_validate(line) for line in page], next=following)
