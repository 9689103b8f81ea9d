"""A BODS file sent to the API by an admin's token is imported on the task queue: the answer (201) says it is
queued, its Location says so until a worker has imported it, and then says what it added.

Real Redis, real database, RQ's in-process worker.
"""

import io
from pathlib import Path

from sqlalchemy import delete, select

from marketplace.accounts.two_factor import current_code
from marketplace.api import tokens
from marketplace.extensions import db
from marketplace.parties.models import BodsUpload
from tests.factories import AdminFactory

EXAMPLE = Path(__file__).resolve().parents[1] / "data" / "bods" / "official" / "indirect-ownership.json"


def _admin_token() -> str:
    admin = AdminFactory()
    db.session.flush()
    code = current_code(admin.totp_secret)
    return tokens.create_admin_token(db.session, admin, "Registry sync", ["admin:bods"], 7, code).secret


def test_an_upload_through_the_api_is_queued_and_polled_until_a_worker_imports_it(bed, build, run_worker):
    secret = build(_admin_token)
    client = bed.test_client()
    headers = {"Authorization": f"Bearer {secret}"}
    try:
        response = client.post(
            "/api/v1/admin/bods/imports",
            data={"file": (io.BytesIO(EXAMPLE.read_bytes()), "indirect.json")},
            content_type="multipart/form-data",
            headers=headers,
        )
        assert response.status_code == 201, response.get_json()
        assert response.get_json()["status"] == "queued"
        location = response.headers["Location"]
        assert client.get(location, headers=headers).get_json()["status"] == "queued"

        run_worker()

        done = client.get(location, headers=headers).get_json()
        assert done["status"] == "done", done
        assert done["summary"].startswith("indirect.json: ") and done["finished_at"]
    finally:
        # The queue's database outlives this test: leave no upload for the next one to count.
        with bed.app_context():
            ids = db.session.execute(select(BodsUpload.id).where(BodsUpload.file_name == "indirect.json")).scalars()
            db.session.execute(delete(BodsUpload).where(BodsUpload.id.in_(list(ids))))
            db.session.commit()
            db.session.remove()
