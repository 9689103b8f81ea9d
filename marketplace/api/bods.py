"""BODS over the API, for platform admins: import a file as the registry's import page does (kept, then imported
on the task queue, or at once without one), follow the upload, and export a vendor's ownership graph as BODS 0.4,
as `flask bods export` does."""

from pathlib import PurePath
from typing import cast

from flask import current_app, url_for
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from marketplace import tasks
from marketplace.accounts.models import Organization, User
from marketplace.api.problems import ApiProblem, field_errors
from marketplace.api.routing import Created, operation, page_of
from marketplace.api.schemas import BodsExportOut, BodsUploadOut, BodsUploadPage, ListQuery, ProgressOut, VendorRef
from marketplace.extensions import db
from marketplace.parties import uploads
from marketplace.parties.bods_export import BODS_VERSION, BodsExportError, export_organization_report, schema_errors
from marketplace.parties.models import BodsUpload, UploadStatus

ADMIN = ("admin",)


def upload_out(upload: BodsUpload) -> BodsUploadOut:
    running = upload.status in (UploadStatus.QUEUED, UploadStatus.RUNNING)
    progress = tasks.progress_of(uploads.job_id(upload.id)) if running and tasks.configured() else None
    return BodsUploadOut(
        id=upload.id,
        file_name=upload.file_name,
        size_bytes=upload.size_bytes,
        status=str(upload.status),
        uploaded_at=upload.uploaded_at,
        finished_at=upload.finished_at,
        statements_done=upload.statements_done,
        statements_total=upload.statements_total,
        summary=upload.summary,
        error=upload.error,
        progress=None
        if progress is None or progress.done is None
        else ProgressOut(done=progress.done, total=progress.total or 0, stage=progress.stage),
    )


@operation(
    "POST",
    "/admin/bods/imports",
    summary="Import a BODS file",
    scope="admin:bods",
    response=BodsUploadOut,
    status=201,
    kinds=ADMIN,
    creates=True,
    upload="file",
    tag="bods",
)
def import_bods(user: User, file: FileStorage) -> Created:
    """Send the file (a JSON array, {"statements": [...]} or JSON Lines; BODS 0.2 to 0.4; at most 16 MB) as
    multipart/form-data. It is kept and imported in one transaction, all or nothing: on the task queue when there
    is one (poll the upload's address, `Location`, until `done` or `failed`), else before this answer."""
    if PurePath(file.filename or "").suffix.lower() not in uploads.SUFFIXES:
        message = "Choose a .json, .jsonl or .ndjson file."
        raise ApiProblem(422, message, "validation", errors=field_errors({"file": message}))
    received = uploads.receive(db.session, user, current_app.config["UPLOAD_FOLDER"], file)
    if not tasks.configured():
        db.session.commit()  # the import owns its transactions, as on the page
        uploads.run_upload(received.id)
    upload = cast(BodsUpload, db.session.get(BodsUpload, received.id))
    return Created(upload_out(upload), url_for("api.get_bods_import", upload_id=upload.id))


@operation(
    "GET",
    "/admin/bods/imports",
    summary="The BODS uploads",
    scope="admin:bods",
    response=BodsUploadPage,
    query=ListQuery,
    kinds=ADMIN,
    tag="bods",
)
def list_bods_imports(user: User, query: ListQuery) -> BodsUploadPage:
    """Every upload, newest first, with how far its import got, what it added, or why it was refused."""
    rows, following = page_of(select(BodsUpload), BodsUpload.id, query.cursor, query.limit, "list_bods_imports")
    return BodsUploadPage(items=[upload_out(upload) for upload in rows], next=following)


@operation(
    "GET",
    "/admin/bods/imports/<int:upload_id>",
    summary="One BODS upload and its import's status",
    scope="admin:bods",
    response=BodsUploadOut,
    kinds=ADMIN,
    tag="bods",
)
def get_bods_import(user: User, upload_id: int) -> BodsUploadOut:
    """queued, running (with its progress), done (with what it added and any warnings) or failed (nothing of the
    file was written; `error` says why, naming the statement)."""
    upload = db.session.get(BodsUpload, upload_id)
    if upload is None:
        raise ApiProblem(404, "There is nothing at this address.")
    return upload_out(upload)


@operation(
    "GET",
    "/admin/vendors/<int:org_id>/bods",
    summary="Export a vendor's ownership as BODS 0.4",
    scope="admin:bods",
    response=BodsExportOut,
    kinds=ADMIN,
    tag="bods",
)
def export_bods(user: User, org_id: int) -> BodsExportOut:
    """The vendor's entity and everything upstream of it, with each record's history, as `flask bods export`
    writes it (`statements` is the BODS file); 404 for an id that is no vendor's."""
    try:
        result = export_organization_report(db.session, org_id)
    except BodsExportError:
        raise ApiProblem(404, "There is nothing at this address.") from None
    problems = schema_errors(result.statements)
    if problems:  # a bug of ours: never publish what the schema refuses
        raise ApiProblem(500, "The export does not validate against BODS 0.4: " + "; ".join(problems[:5]))
    vendor = cast(Organization, db.session.get(Organization, org_id))
    return BodsExportOut(
        vendor=VendorRef(id=org_id, name=vendor.name),
        bods_version=BODS_VERSION,
        statements=result.statements,
        left_out=result.left_out,
    )
