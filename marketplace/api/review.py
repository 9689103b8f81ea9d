"""Platform admins review disclosures over the API with their personal tokens: the review queue, a filed version
with what changed and what approving it would do, and the decision, through the same services as the admin's
review pages (marketplace.admin.views)."""

from flask import Response

from marketplace.accounts.models import User
from marketplace.api.disclosures import evidence_file, tie_out, version_detail
from marketplace.api.routing import operation, slice_of
from marketplace.api.schemas import (
    ApprovalEffectOut,
    DecisionIn,
    DisclosureDetail,
    FieldChangeOut,
    QueueItem,
    QueuePage,
    QueueQuery,
    ReviewOut,
    TieChangeOut,
    VendorRef,
    VerdictShiftOut,
)
from marketplace.disclosures import queue as review_queue
from marketplace.disclosures import service as disclosures
from marketplace.disclosures.models import DisclosureStatus
from marketplace.extensions import db
from marketplace.screening.services import approval

ADMIN = ("admin",)


@operation(
    "GET",
    "/admin/disclosures",
    summary="The review queue",
    scope="admin:disclosures",
    response=QueuePage,
    query=QueueQuery,
    kinds=ADMIN,
    tag="review",
)
def review_queue_list(user: User, query: QueueQuery) -> QueuePage:
    """Filed versions by status (submitted: the longest-waiting first), or vendors whose disclosure is stale, owes
    a new version after a material change, or was never filed, as the admin's queue page lists them."""
    rows = review_queue.review_queue(db.session, user, query.status)
    page, following = slice_of(rows, query.cursor, query.limit, "review_queue_list", status=query.status)
    return QueuePage(
        items=[
            QueueItem(
                vendor=VendorRef(id=row.vendor_org_id, name=row.vendor_name),
                version_id=row.version.id if row.version else None,
                version_number=row.version.number if row.version else None,
                status=str(row.version.status) if row.version else None,
                age_days=row.age_days,
                since=row.since,
                detail=row.detail,
            )
            for row in page
        ],
        next=following,
    )


def _shift(shift: approval.VerdictShift) -> VerdictShiftOut:
    return VerdictShiftOut(
        buyer_org_id=shift.buyer_org_id,
        buyer=shift.buyer_name,
        vendor_org_id=shift.vendor_org_id,
        vendor=shift.vendor_name,
        before=str(shift.before),
        after=str(shift.after),
    )


@operation(
    "GET",
    "/admin/disclosures/<int:version_id>",
    summary="Review a filed disclosure version",
    scope="admin:disclosures",
    response=ReviewOut,
    kinds=ADMIN,
    tag="review",
)
def review_disclosure(user: User, version_id: int) -> ReviewOut:
    """The version's ties with their verification levels, what changed since the vendor's last approved version
    before it, and how approving it would change each lab's verdict; 404 for a draft (drafts stay private)."""
    found = disclosures.review_of(db.session, user, version_id)
    version = found.version
    effect = approval.approval_effect(db.session, user, version.id)
    return ReviewOut(
        version=version_detail(version, found.ties),
        vendor=VendorRef(id=found.vendor.id, name=found.vendor.name),
        baseline_number=found.baseline.number if found.baseline else None,
        changes=[
            TieChangeOut(
                status=change.status,
                old=tie_out(change.old) if change.old else None,
                new=tie_out(change.new) if change.new else None,
                fields=[FieldChangeOut(label=c.label, old=c.old, new=c.new) for c in change.changes],
            )
            for change in found.changes
        ],
        decidable=version.status == DisclosureStatus.SUBMITTED,
        effect=None
        if effect is None
        else ApprovalEffectOut(
            shifts=[_shift(s) for s in effect.shifts],
            buyers_screened=effect.buyers_screened,
            others=[_shift(s) for s in effect.others],
            others_screened=effect.others_screened,
        ),
    )


@operation(
    "POST",
    "/admin/disclosures/<int:version_id>/decision",
    summary="Approve, send back or reject a submitted version",
    scope="admin:disclosures",
    response=DisclosureDetail,
    body=DecisionIn,
    kinds=ADMIN,
    tag="review",
)
def decide_disclosure(user: User, version_id: int, body: DecisionIn) -> DisclosureDetail:
    """Decide as the review page's decision form does: a reason is required to request changes or reject (the
    vendor sees it), approving marks the ties admin-verified, the vendor is told and screening runs again. 404 for
    a draft; a version already decided is refused beside `decision` (422)."""
    version = disclosures.get_filed_version(db.session, user, version_id)
    decided = disclosures.decide_version(db.session, user, version.id, body.decision, body.reason)
    return version_detail(decided)


@operation(
    "GET",
    "/admin/disclosures/<int:version_id>/evidence/<int:evidence_id>",
    summary="Download a document of a filed version",
    scope="admin:disclosures",
    response=None,
    kinds=ADMIN,
    download=True,
    tag="review",
)
def review_evidence(user: User, version_id: int, evidence_id: int) -> Response:
    """A document the vendor attached to a filed version (a share register extract, a board minute), as the review
    page's link serves it; 404 for a draft's (drafts stay private) or one not on that version."""
    return evidence_file(user, version_id, evidence_id)
