"""BODS files uploaded by an admin from the registry's import page, imported on the task queue.

The request only keeps the file and writes a BodsUpload row (queued); the import runs as a job after the commit
(marketplace.tasks), or, without a queue, right after in the same request. A job imports the file as `flask bods
import` does (parties.bods_stream.import_file: a large file streamed and staged, then applied in one transaction):
a bad file leaves nothing but its row, `failed`, with the reason. The job
id is the upload's, so an upload is imported once however often its job is queued, and a job finding its upload
already done or failed does nothing. Progress (statements done of the file's) is the job's, read back by the page.
"""

import logging
import secrets
from pathlib import Path
from typing import cast

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from marketplace import changes, tasks
from marketplace.accounts.models import User
from marketplace.db_types import utcnow
from marketplace.extensions import db
from marketplace.parties.bods import BodsFileError
from marketplace.parties.bods_stream import ImportProgress, import_file
from marketplace.parties.models import BodsUpload, UploadStatus

log = logging.getLogger(__name__)

TASK = "marketplace.parties.uploads.run_upload"
SUFFIXES = (".json", ".jsonl", ".ndjson")
FOLDER = "bods"


def job_id(upload_id: int) -> str:
    return tasks.job_id("bods-upload", upload_id)


def receive(session: Session, admin: User, upload_folder: str, file: FileStorage) -> BodsUpload:
    """Keep the file and queue its import (after the caller commits). The form has checked its name and that it is
    not empty."""
    stored_name = secrets.token_hex(20)
    file_name = secure_filename(file.filename or "")[-200:] or "upload.json"
    # A folder of its own, the file under its own name: the import's messages name the file the admin chose.
    path = Path(upload_folder) / FOLDER / stored_name / file_name
    path.parent.mkdir(parents=True)
    file.save(path)
    upload = BodsUpload(
        file_name=file_name, stored_name=stored_name, size_bytes=path.stat().st_size, uploaded_by_id=admin.id
    )
    session.add(upload)
    session.flush()
    if tasks.configured():
        tasks.enqueue_after_commit(
            session, TASK, upload.id, job_id=job_id(upload.id), description=f"BODS import of {upload.file_name}"
        )
    return upload


def run_upload(upload_id: int) -> dict:
    """Import the uploaded file (the job; also called inline without a queue). Owns its transactions."""
    session = db.session
    upload = session.get(BodsUpload, upload_id)
    if upload is None or upload.status in (UploadStatus.DONE, UploadStatus.FAILED):
        return {"upload_id": upload_id, "done": "already"}
    path = _path(upload)
    upload.status = UploadStatus.RUNNING
    admin = cast(User, session.get(User, upload.uploaded_by_id))
    session.commit()
    try:

        def progress(step: ImportProgress) -> None:
            tasks.report_progress(step.done, step.total or 0, stage=step.stage)  # 0: not known yet

        summary = import_file(session, admin, path, progress=progress)
        changes.ties_changed(session, admin, party_ids=None)
    except BodsFileError as error:
        session.rollback()
        _finish(session, upload_id, UploadStatus.FAILED, error=str(error))
        return {"upload_id": upload_id, "failed": str(error)}
    upload = cast(BodsUpload, session.get(BodsUpload, upload_id))
    upload.statements_done = upload.statements_total = summary.statements
    lines = [summary.line(), *summary.warning_lines()]
    _finish(session, upload_id, UploadStatus.DONE, summary="\n".join(lines))
    return {"upload_id": upload_id, "summary": lines[0]}


def _finish(session: Session, upload_id: int, status: UploadStatus, *, summary: str = "", error: str = "") -> None:
    """Record how the import ended, and remove the file (its statements are in the database, or refused)."""
    upload = cast(BodsUpload, session.get(BodsUpload, upload_id))
    upload.status, upload.summary, upload.error, upload.finished_at = status, summary, error, utcnow()
    session.commit()
    path = _path(upload)
    path.unlink(missing_ok=True)
    if path.parent.exists():
        path.parent.rmdir()


def _path(upload: BodsUpload) -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / FOLDER / upload.stored_name / upload.file_name


def recent(session: Session, limit: int = 20) -> list[tuple[BodsUpload, str, tasks.Progress | None]]:
    """The latest uploads, newest first, each with its uploader's email and, while it runs, its job's progress."""
    rows = session.execute(
        select(BodsUpload, col(User.email))
        .join(User, col(User.id) == col(BodsUpload.uploaded_by_id))
        .order_by(col(BodsUpload.id).desc())
        .limit(limit)
    ).all()
    return [
        (
            upload,
            email,
            tasks.progress_of(job_id(upload.id))
            if tasks.configured() and upload.status in (UploadStatus.QUEUED, UploadStatus.RUNNING)
            else None,
        )
        for upload, email in rows
    ]
