"""An admin imports a BODS file from the registry's import page: the official examples go in, a bad file is refused
whole with the statement named, and every other refusal (no file, another kind of file, not an admin) says why.

Without a task queue (these tests) the import runs in the request; tests/queue/test_bods_upload_queue.py runs it on
a real queue.
"""

import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditRecord
from marketplace.parties.models import BodsUpload, Party, UploadStatus
from tests.factories import AdminFactory, BuyerFactory, VendorFactory

OFFICIAL = Path(__file__).resolve().parents[2] / "data" / "bods" / "official"


def text(response) -> str:
    return response.get_data(as_text=True)


def upload(client, name: str, content: bytes):
    return client.post(
        "/admin/parties/imports", data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data"
    )


@pytest.fixture
def admin(login_as):
    return login_as(AdminFactory())


def test_the_official_tecido_example_is_imported_from_the_page(client, session, admin, app):
    page = client.get("/admin/parties/")
    assert 'href="/admin/parties/imports"' in text(page)

    response = upload(client, "tecido.json", (OFFICIAL / "tecido.json").read_bytes())
    assert response.status_code == 303 and response.location.endswith("/admin/parties/imports")

    shown = text(client.get("/admin/parties/imports"))
    assert "tecido.json was imported" in shown
    assert "Imported" in shown
    assert re.search(r"tecido\.json: \d+ statements; parties [1-9]\d* added", shown), shown
    done = session.execute(select(BodsUpload)).scalar_one()
    assert done.status == UploadStatus.DONE and done.uploaded_by_id == admin.id and done.finished_at is not None
    assert session.execute(select(func.count()).select_from(Party).where(Party.name == "Tecido Ltd")).scalar() == 1
    # The audit trail names the admin who imported it; the file itself is not kept once imported.
    event = session.execute(select(AuditRecord).where(AuditRecord.action == "bods.imported")).scalar_one()
    assert event.actor_id == admin.id
    assert not (Path(app.config["UPLOAD_FOLDER"]) / "bods" / done.stored_name).exists()
    assert done.file_name == "tecido.json"


def test_a_file_with_one_bad_statement_is_refused_whole_and_says_which(client, session, admin):
    statements = json.loads((OFFICIAL / "tecido.json").read_text())
    before = session.execute(select(func.count()).select_from(Party)).scalar()
    broken = [*statements[:-1], {**statements[-1], "statementDate": "not a date"}]
    response = upload(client, "broken.json", json.dumps(broken).encode())
    assert response.status_code == 303

    shown = text(client.get("/admin/parties/imports"))
    assert "broken.json was not imported; nothing was written from it." in shown
    assert "Refused" in shown
    failed = session.execute(select(BodsUpload)).scalar_one()
    assert failed.status == UploadStatus.FAILED
    assert "broken.json" in failed.error and "statement" in failed.error
    assert session.execute(select(func.count()).select_from(Party)).scalar() == before


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (None, b"", "Choose a BODS file to import."),
        ("ownership.csv", b"a,b\n", "Choose a .json, .jsonl or .ndjson file."),
    ],
)
def test_no_file_or_another_kind_of_file_is_refused_next_to_the_field(client, session, admin, name, content, message):
    data = {} if name is None else {"file": (io.BytesIO(content), name)}
    response = client.post("/admin/parties/imports", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert message in text(response)
    assert session.execute(select(func.count()).select_from(BodsUpload)).scalar() == 0


def test_unreadable_json_is_refused_with_the_reason(client, session, admin):
    upload(client, "garbled.json", b'[{"statementId": ')
    failed = session.execute(select(BodsUpload)).scalar_one()
    assert failed.status == UploadStatus.FAILED
    assert "garbled.json" in failed.error
    assert "garbled.json" in text(client.get("/admin/parties/imports"))


@pytest.mark.parametrize("factory", [BuyerFactory, VendorFactory])
def test_only_admins_may_upload(client, session, login_as, factory):
    login_as(factory())
    assert client.get("/admin/parties/imports").status_code == 403
    response = upload(client, "tecido.json", (OFFICIAL / "tecido.json").read_bytes())
    assert response.status_code == 403
    assert session.execute(select(func.count()).select_from(BodsUpload)).scalar() == 0
