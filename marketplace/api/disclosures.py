"""A vendor's ownership disclosure over the API: its versions, and filing one (a draft, its ties and documents, the
officer's attestation), through the same services as the disclosure pages (marketplace.disclosures.views)."""

from typing import cast

from flask import Response, current_app, url_for
from sqlalchemy import select
from sqlmodel import col
from werkzeug.datastructures import FileStorage

from marketplace.accounts.models import User
from marketplace.api.problems import ApiProblem, field_errors
from marketplace.api.routing import Created, operation, page_of
from marketplace.api.schemas import (
    AttestIn,
    DisclosureDetail,
    DisclosureOut,
    DisclosurePage,
    EvidenceOut,
    EvidenceQuery,
    ListQuery,
    TieIn,
    TieOut,
)
from marketplace.db_types import utcnow
from marketplace.disclosures import evidence as evidence_service
from marketplace.disclosures import service
from marketplace.disclosures.diff import TieView
from marketplace.disclosures.models import DisclosureVersion
from marketplace.downloads import send_private_file
from marketplace.errors import NotVisible
from marketplace.extensions import db

VENDOR = ("vendor",)
KINDS = ", ".join(f"`{kind.code}` ({kind.label.lower()})" for kind in service.TIE_KINDS)


def version_out(version: DisclosureVersion) -> DisclosureOut:
    return DisclosureOut(
        id=version.id,
        number=version.number,
        status=str(version.status),
        summary=version.summary,
        created_at=version.created_at,
        submitted_at=version.submitted_at,
        decided_at=version.decided_at,
        decision_reason=version.decision_reason,
    )


def tie_out(view: TieView) -> TieOut:
    return TieOut(
        table=view.table,
        id=view.id,
        kind=view.kind,
        kind_label=view.kind_label,
        section=view.section,
        party_name=view.party_name,
        party_kind=view.party_kind,
        subject_name=view.subject_name,
        role_title=view.role_title,
        share=view.share_text,
        share_exact=view.share_exact,
        share_min=view.share_min,
        share_max=view.share_max,
        share_min_exclusive=view.share_min_exclusive,
        share_max_exclusive=view.share_max_exclusive,
        revenue_share_pct=view.revenue_share_pct,
        start_date=view.start_date,
        end_date=view.end_date,
        note=view.note,
        verification_level=view.verification_level,
    )


def version_detail(version: DisclosureVersion, ties: list[TieView] | None = None) -> DisclosureDetail:
    """The version with its ties, in the pages' section order."""
    views = service.tie_views(db.session, version) if ties is None else ties
    return DisclosureDetail(
        **version_out(version).model_dump(),
        vendor_org_id=version.vendor_org_id,
        attester_name=version.attester_name,
        attester_title=version.attester_title,
        ties=[tie_out(view) for view in views],
        evidence=[
            EvidenceOut(
                id=item.id,
                filename=item.filename,
                description=item.description,
                content_type=item.content_type,
                size_bytes=item.size_bytes,
                sha256=item.sha256,
                uploaded_at=item.uploaded_at,
            )
            for item in evidence_service.evidence_of(db.session, version.id)
        ],
    )


@operation(
    "GET",
    "/disclosures",
    summary="Your disclosure versions",
    scope="disclosures:read",
    response=DisclosurePage,
    query=ListQuery,
    kinds=VENDOR,
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
        items=[version_out(v) for v in versions],
        next=following,
        stale=service.is_stale(approved, utcnow()),
    )


@operation(
    "GET",
    "/disclosures/<int:version_id>",
    summary="Read one of your disclosure versions",
    scope="disclosures:read",
    response=DisclosureDetail,
    kinds=VENDOR,
    tag="disclosures",
)
def get_disclosure(user: User, version_id: int) -> DisclosureDetail:
    """A version of your own disclosure with its ties and the admin's decision; 404 for anyone else's."""
    return version_detail(service.get_own_version(db.session, user, version_id))


@operation(
    "POST",
    "/disclosures",
    summary="Start a new draft version",
    scope="disclosures:write",
    response=DisclosureDetail,
    status=201,
    kinds=VENDOR,
    creates=True,
    tag="disclosures",
)
def start_disclosure(user: User) -> Created:
    """A new draft copied from your latest version (its ties included), as the disclosure page's "new version"
    does; 409 while a draft is open."""
    version = service.start_new_version(db.session, user)
    return Created(version_detail(version), url_for("api.get_disclosure", version_id=version.id))


def _tie_input(body: TieIn) -> service.TieInput:
    return service.TieInput(**body.model_dump())


def _listing_kinds(function):
    """The tie kinds, in the reference's description of the operation (declared from the docstring)."""
    function.__doc__ = (function.__doc__ or "") + KINDS + "."
    return function


@operation(
    "POST",
    "/disclosures/<int:version_id>/ties",
    summary="Add a tie to your draft",
    scope="disclosures:write",
    response=DisclosureDetail,
    body=TieIn,
    status=201,
    kinds=VENDOR,
    creates=True,
    tag="disclosures",
)
@_listing_kinds
def add_tie(user: User, version_id: int, body: TieIn) -> Created:
    """Add one tie, self-declared, as the draft page's tie form does. A name the registry may already know under
    another spelling is refused (422) with the parties `found`: send again with one's `party_id`, or with
    `new_party: true`. 409 for a filed version. Kinds:"""
    try:
        service.add_tie(db.session, user, version_id, _tie_input(body))
    except service.LookalikeParties as lookalikes:
        raise ApiProblem(
            422,
            str(lookalikes),
            "validation",
            errors=field_errors({"party_name": str(lookalikes)}),
            found=[
                {"party_id": each.party.id, "name": each.party.name, "kind": str(each.party.kind)}
                for each in lookalikes.found
            ],
        ) from None
    version = service.get_own_version(db.session, user, version_id)
    return Created(version_detail(version), url_for("api.get_disclosure", version_id=version.id))


def _remove(user: User, version_id: int, table: str, tie_id: int) -> None:
    service.remove_tie(db.session, user, version_id, table, tie_id)


@operation(
    "DELETE",
    "/disclosures/<int:version_id>/interests/<int:tie_id>",
    summary="Remove an interest from your draft",
    scope="disclosures:write",
    response=None,
    status=204,
    kinds=VENDOR,
    tag="disclosures",
)
def remove_interest(user: User, version_id: int, tie_id: int) -> None:
    """Remove a tie whose `table` is `interest`; 404 for one not in your draft, 409 for a filed version."""
    _remove(user, version_id, service.INTEREST_TABLE, tie_id)


@operation(
    "DELETE",
    "/disclosures/<int:version_id>/commercial-ties/<int:tie_id>",
    summary="Remove a commercial tie from your draft",
    scope="disclosures:write",
    response=None,
    status=204,
    kinds=VENDOR,
    tag="disclosures",
)
def remove_commercial_tie(user: User, version_id: int, tie_id: int) -> None:
    """Remove a tie whose `table` is `commercial`; 404 for one not in your draft, 409 for a filed version."""
    _remove(user, version_id, service.COMMERCIAL_TABLE, tie_id)


@operation(
    "POST",
    "/disclosures/<int:version_id>/evidence",
    summary="Attach a document to your draft",
    scope="disclosures:write",
    response=DisclosureDetail,
    query=EvidenceQuery,
    status=201,
    kinds=VENDOR,
    creates=True,
    upload="file",
    tag="disclosures",
)
def attach_evidence(user: User, version_id: int, query: EvidenceQuery, file: FileStorage) -> Created:
    """Send a PDF, PNG, JPEG, GIF or WebP file of at most 10 MB (a share register extract, a board minute) as
    multipart/form-data, as the draft page's evidence form does; a refused file is a 422 beside `file`."""
    # One byte past the limit is enough for the service to refuse a file that is too large.
    data = file.stream.read(evidence_service.MAX_EVIDENCE_BYTES + 1)
    evidence_service.attach_evidence(
        db.session,
        user,
        version_id,
        filename=file.filename or "",
        data=data,
        upload_folder=current_app.config["UPLOAD_FOLDER"],
        description=query.description,
    )
    version = service.get_own_version(db.session, user, version_id)
    return Created(version_detail(version), url_for("api.get_disclosure", version_id=version.id))


@operation(
    "GET",
    "/disclosures/<int:version_id>/evidence/<int:evidence_id>",
    summary="Download a document of one of your versions",
    scope="disclosures:read",
    response=None,
    kinds=VENDOR,
    download=True,
    tag="disclosures",
)
def download_evidence(user: User, version_id: int, evidence_id: int) -> Response:
    """The document's bytes as it was uploaded (its `sha256` in the version's `evidence` list checks them); 404 for a
    document not on that version."""
    return evidence_file(user, version_id, evidence_id)


def evidence_file(user: User, version_id: int, evidence_id: int) -> Response:
    """A version's document the user may read, as a download: the pages' rule (`readable_file`), and 404 when it is
    not on that version."""
    evidence, path = evidence_service.readable_file(db.session, user, current_app.config["UPLOAD_FOLDER"], evidence_id)
    if evidence.version_id != version_id:
        raise NotVisible(f"evidence {evidence_id} of version {version_id}")
    return send_private_file(path.parent, path.name, filename=evidence.filename, content_type=evidence.content_type)


@operation(
    "DELETE",
    "/disclosures/<int:version_id>/evidence/<int:evidence_id>",
    summary="Take a document off your draft",
    scope="disclosures:write",
    response=None,
    status=204,
    kinds=VENDOR,
    tag="disclosures",
)
def remove_evidence(user: User, version_id: int, evidence_id: int) -> None:
    """404 for a document not on your draft, 409 for a filed version."""
    evidence_service.remove_evidence(db.session, user, version_id, evidence_id, current_app.config["UPLOAD_FOLDER"])


@operation(
    "POST",
    "/disclosures/<int:version_id>/submit",
    summary="Attest and submit your draft for review",
    scope="disclosures:write",
    response=DisclosureDetail,
    body=AttestIn,
    kinds=VENDOR,
    tag="disclosures",
)
def submit_disclosure(user: User, version_id: int, body: AttestIn) -> DisclosureDetail:
    """The officer attests and files the draft, as the draft page's submit does: admins are told, and screening
    counts it at once, before review. 409 for a filed version or a draft without ties."""
    version = service.submit_version(
        db.session,
        user,
        version_id,
        attester_name=body.attester_name,
        attester_title=body.attester_title,
        attested=body.attest,
        summary=body.summary,
    )
    return version_detail(version)
