"""The OpenAPI document and its rendered reference, served by the app with no token and nothing from a CDN."""

from tests.factories import BuyerFactory


def test_the_document_is_openapi_3_1_and_names_every_problem_and_the_bearer_scheme(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    for path, operations in document["paths"].items():
        assert path.startswith("/api/v1/")
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"401", "403", "404", "429"} <= set(responses), (method, path)
            assert "application/problem+json" in responses["401"]["content"]
            if method == "post" and "Idempotency-Key" in str(operation.get("parameters", "")):
                assert operation["responses"].get("201"), (method, path)


def test_every_creating_post_takes_an_idempotency_key(client):
    document = client.get("/api/v1/openapi.json").json
    creating = [
        (path, op)
        for path, operations in document["paths"].items()
        for method, op in operations.items()
        if method == "post" and "201" in op["responses"]
    ]
    assert creating
    for path, op in creating:
        assert any(p["name"] == "Idempotency-Key" for p in op.get("parameters", [])), path


def test_the_reference_page_loads_swagger_ui_from_the_app_itself(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "https://" not in text and "<script>" not in text
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "reference.js"):
        response = client.get(f"/api/v1/docs/assets/{asset}")
        assert response.status_code == 200, asset
        response.close()
    assert client.get("/api/v1/docs/assets/../../../etc/passwd").status_code == 404


def test_the_team_page_leads_the_owner_to_the_tokens(client, login_as):
    login_as(BuyerFactory())
    assert "/team/api-tokens" in client.get("/team").get_data(as_text=True)
