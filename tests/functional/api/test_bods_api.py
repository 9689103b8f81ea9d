"""BODS over the API, for platform admins: a file imported as the registry's import page imports it (here without a
task queue, so before the answer; tests/queue runs it on a queue), its upload's status to poll, a bad file refused
whole, every malformed request a 4xx problem; and a vendor's ownership exported as BODS 0.4 that the official schema
accepts."""

import io
import json
from pathlib import Path

from sqlalchemy import func, select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.parties.bods_export import schema_errors
from marketplace.parties.models import BodsUpload, Party
from tests.factories import AdminFactory, BuyerFactory, InterestFactory, PartyFactory, VendorFactory

OFFICIAL = Path(__file__).resolve().parents[2] / "data" / "bods" / "official"
IMPORTS = "/api/v1/admin/bods/imports"


def _send(api, token, name: str, content: bytes, **kwargs):
    return api(
        "POST",
        IMPORTS,
        token,
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
        **kwargs,
    )


def _parties(session, name: str) -> int:
    return session.execute(select(func.count()).select_from(Party).where(Party.name == name)).scalar_one()


def test_an_admin_imports_a_bods_file_and_reads_its_upload(api, admin_token_for, session):
    admin = AdminFactory()
    token = admin_token_for(admin, name="Registry sync")
    response = _send(api, token, "tecido.json", (OFFICIAL / "tecido.json").read_bytes())
    assert response.status_code == 201, response.json
    assert response.json["status"] == "done" and response.json["file_name"] == "tecido.json"
    assert response.json["summary"].startswith("tecido.json: ")
    assert _parties(session, "Tecido Ltd") == 1
    polled = api("GET", response.headers["Location"], token)
    assert polled.status_code == 200 and polled.json == response.json
    listed = api("GET", IMPORTS, token).json
    assert [item["id"] for item in listed["items"]] == [response.json["id"]]
    event = session.execute(select(AuditRecord).where(AuditRecord.action == "bods.imported")).scalar_one()
    assert event.actor_id == admin.id


def test_a_file_with_a_bad_statement_is_refused_whole_and_its_upload_says_why(api, admin_token_for, session):
    statements = json.loads((OFFICIAL / "tecido.json").read_text())
    broken = [*statements[:-1], {**statements[-1], "statementDate": "not a date"}]
    before = session.execute(select(func.count()).select_from(Party)).scalar_one()
    response = _send(api, admin_token_for(), "broken.json", json.dumps(broken).encode())
    assert response.status_code == 201
    assert response.json["status"] == "failed" and "broken.json" in response.json["error"]
    assert session.execute(select(func.count()).select_from(Party)).scalar_one() == before


def test_a_malformed_upload_is_a_422_problem_and_nothing_is_kept(api, admin_token_for, session):
    token = admin_token_for()
    wrong_kind = _send(api, token, "owners.csv", b"a,b\n")
    assert wrong_kind.status_code == 422 and wrong_kind.json["errors"] == [
        {"field": "file", "message": "Choose a .json, .jsonl or .ndjson file."}
    ]
    as_json = api("POST", IMPORTS, token, json={"statements": []})
    assert as_json.status_code == 422 and as_json.json["errors"][0]["field"] == "file"
    no_file = api("POST", IMPORTS, token, data={"other": "x"}, content_type="multipart/form-data")
    assert no_file.status_code == 422
    assert session.query(BodsUpload).count() == 0


def test_a_file_over_the_limit_is_a_413_problem(api, admin_token_for, app, session):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    try:
        response = _send(api, admin_token_for(), "big.json", b"[" + b" " * 4096 + b"]")
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    assert response.status_code == 413 and response.headers["Content-Type"] == "application/problem+json"
    assert session.query(BodsUpload).count() == 0


def test_the_same_idempotency_key_imports_once(api, admin_token_for, session):
    token = admin_token_for()
    content = (OFFICIAL / "tecido.json").read_bytes()
    first = _send(api, token, "tecido.json", content, headers={"Idempotency-Key": "upload-1"})
    second = _send(api, token, "tecido.json", content, headers={"Idempotency-Key": "upload-1"})
    assert first.status_code == second.status_code == 201
    assert second.headers["Idempotent-Replayed"] == "true" and second.json["id"] == first.json["id"]
    assert session.query(BodsUpload).count() == 1
    other = _send(api, token, "tecido.json", content + b"\n ", headers={"Idempotency-Key": "upload-1"})
    assert other.status_code == 422 and other.json["type"].endswith("idempotency-conflict")


def test_an_unknown_upload_is_404(api, admin_token_for):
    assert api("GET", f"{IMPORTS}/987654321", admin_token_for()).status_code == 404


def test_a_vendors_ownership_is_exported_as_valid_bods(api, admin_token_for, session):
    vendor = VendorFactory()
    holder = PartyFactory(name="Harrow Capital")
    InterestFactory(
        interested_party_id=holder.id,
        subject_party_id=session.get(Organization, vendor.org_id).party_id,
        share_exact=30.0,
    )
    response = api("GET", f"/api/v1/admin/vendors/{vendor.org_id}/bods", admin_token_for())
    assert response.status_code == 200, response.json
    body = response.json
    assert body["bods_version"] == "0.4" and body["vendor"]["id"] == vendor.org_id
    assert schema_errors(body["statements"]) == []
    names = {s["recordDetails"].get("name") for s in body["statements"] if s["recordType"] == "entity"}
    assert {"Harrow Capital", session.get(Organization, vendor.org_id).name} <= names
    shares = [
        interest["share"]
        for s in body["statements"]
        if s["recordType"] == "relationship"
        for interest in s["recordDetails"]["interests"]
    ]
    assert {"exact": 30} in shares or {"exact": 30.0} in shares


def test_only_a_vendors_id_exports(api, admin_token_for):
    token = admin_token_for()
    for org_id in (BuyerFactory().org_id, 987654321):
        response = api("GET", f"/api/v1/admin/vendors/{org_id}/bods", token)
        assert response.status_code == 404 and response.json["detail"] == "There is nothing at this address."


def test_no_organisations_token_imports_or_exports(api, token_for, session):
    vendor = VendorFactory()
    for user in (vendor, BuyerFactory()):
        token = token_for(user)
        assert _send(api, token, "tecido.json", (OFFICIAL / "tecido.json").read_bytes()).status_code == 403
        assert api("GET", f"/api/v1/admin/vendors/{vendor.org_id}/bods", token).status_code == 403
    assert session.query(BodsUpload).count() == 0
