"""A BODS file uploaded from the registry's import page is imported on the task queue: the request only keeps it,
the page shows the job waiting and then how far it got, a worker imports it (and the re-screen of every pair it
asks for), and the upload's job queued twice imports once.

Real Redis, real database, RQ's in-process worker.
"""

import io
from pathlib import Path

from rq.job import Job
from sqlalchemy import func, select

from marketplace import tasks
from marketplace.extensions import db
from marketplace.parties import uploads
from marketplace.parties.models import BodsUpload, Party, UploadStatus
from marketplace.screening.models import PendingRescreen
from tests.concurrency.harness import flashes
from tests.factories import AdminFactory

TECIDO = Path(__file__).resolve().parents[1] / "data" / "bods" / "official" / "tecido.json"


def _tecido_parties() -> int:
    return db.session.execute(select(func.count()).select_from(Party).where(Party.name == "Tecido Ltd")).scalar_one()


def test_an_uploaded_file_is_imported_by_a_worker_not_by_the_request(bed, build, client_for, run_worker):
    admin = client_for(build(lambda: AdminFactory().id))
    response = admin.post(
        "/admin/parties/imports",
        data={"file": (io.BytesIO(TECIDO.read_bytes()), "tecido.json")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 303
    page = admin.get("/admin/parties/imports").get_data(as_text=True)
    assert "tecido.json is being imported: this page shows how far it got." in flashes(page)
    assert "Waiting for the queue" in page

    with bed.app_context():
        upload = db.session.execute(select(BodsUpload)).scalar_one()
        assert upload.status == UploadStatus.QUEUED
        assert _tecido_parties() == 0  # nothing imported in the request
        key = uploads.job_id(upload.id)
        assert tasks.queue(bed).job_ids == [key]
        # Queued again (a retried request, a second click's job id): nothing added.
        assert tasks.enqueue(uploads.TASK, upload.id, job_id=key, description="again", app=bed) is None
        # What the page shows while the worker reports progress.
        job = Job.fetch(key, connection=tasks.connection(bed))
        job.meta.update(done=5, total=21)
        job.save_meta()
        db.session.remove()
    assert "Importing: 5 of 21 statements" in admin.get("/admin/parties/imports").get_data(as_text=True)

    run_worker()

    with bed.app_context():
        upload = db.session.execute(select(BodsUpload)).scalar_one()
        assert upload.status == UploadStatus.DONE, upload.error
        assert _tecido_parties() == 1
        # The import asked for a re-screen of every pair, and the same worker did it.
        assert db.session.execute(select(func.count()).select_from(PendingRescreen)).scalar_one() == 0
        result = Job.fetch(key, connection=tasks.connection(bed)).return_value()
        assert result["summary"].startswith("tecido.json: ")
        # The job run again finds the upload done, and imports nothing twice.
        assert uploads.run_upload(upload.id) == {"upload_id": upload.id, "done": "already"}
        assert _tecido_parties() == 1
        db.session.remove()
    page = admin.get("/admin/parties/imports").get_data(as_text=True)
    assert "Imported" in page and "Waiting for the queue" not in page
