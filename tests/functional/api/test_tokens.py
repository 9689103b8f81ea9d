"""API tokens: made and revoked by the owner on the team's token page, kept as a hash, shown once; every way a
token is refused."""

import hashlib
from datetime import timedelta

import time_machine

from marketplace.accounts.models import OrgRole
from marketplace.api.models import ApiToken
from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow
from tests.factories import BuyerFactory, VendorFactory


def test_the_owner_makes_a_token_shown_once_and_kept_only_as_its_hash(client, login_as, session):
    owner = login_as(BuyerFactory())
    response = client.post(
        "/team/api-tokens",
        data={"name": "Procurement sync", "scopes": ["jobs:read", "jobs:write"], "expires_in_days": "30"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    secret = page.split('data-testid="token-secret">')[1].split("<")[0]
    assert secret.startswith("alm_") and len(secret) > 40
    stored = session.query(ApiToken).filter_by(org_id=owner.org_id).one()
    assert stored.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(stored.model_dump())
    assert stored.scopes == ["jobs:read", "jobs:write"]
    # Never shown again: the list names it by its first characters only.
    listing = client.get("/team/api-tokens").get_data(as_text=True)
    assert "Procurement sync" in listing and secret not in listing
    record = session.query(AuditRecord).filter_by(action="api_token.created").one()
    assert record.after["name"] == "Procurement sync"


def test_the_token_form_refuses_a_missing_name_and_unknown_scopes_beside_the_fields(client, login_as):
    login_as(BuyerFactory())
    response = client.post("/team/api-tokens", data={"name": "", "scopes": ["jobs:read"], "expires_in_days": "30"})
    assert response.status_code == 400
    assert "Name the token" in response.get_data(as_text=True)
    response = client.post("/team/api-tokens", data={"name": "x", "scopes": ["admin:all"], "expires_in_days": "30"})
    assert response.status_code == 400
    response = client.post("/team/api-tokens", data={"name": "x", "scopes": [], "expires_in_days": "30"})
    assert response.status_code == 400 and "Choose at least one" in response.get_data(as_text=True)


def test_managers_and_members_may_not_make_or_see_tokens(client, login_as, session):
    owner = BuyerFactory()
    for role in (OrgRole.MANAGER, OrgRole.MEMBER):
        login_as(BuyerFactory(org_id=owner.org_id, org_role=role))
        assert client.get("/team/api-tokens").status_code == 403
        response = client.post("/team/api-tokens", data={"name": "x", "scopes": ["jobs:read"], "expires_in_days": "30"})
        assert response.status_code == 403
    assert session.query(ApiToken).count() == 0


def test_a_revoked_token_is_refused_at_once(client, login_as, api, token_for, session):
    owner = login_as(BuyerFactory())
    secret = token_for(owner)
    assert api("GET", "/api/v1/jobs", secret).status_code == 200
    token = session.query(ApiToken).one()
    assert client.post(f"/team/api-tokens/{token.id}/revoke").status_code == 303
    response = api("GET", "/api/v1/jobs", secret)
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"
    assert session.query(AuditRecord).filter_by(action="api_token.revoked").count() == 1


def test_another_organisations_owner_cannot_revoke_a_token(client, login_as, token_for, session):
    token_for(BuyerFactory())
    token = session.query(ApiToken).one()
    login_as(BuyerFactory())
    assert client.post(f"/team/api-tokens/{token.id}/revoke").status_code == 404
    assert session.get(ApiToken, token.id).revoked_at is None


def test_an_expired_token_is_refused(api, token_for):
    secret = token_for(BuyerFactory(), days=7)
    with time_machine.travel(utcnow() + timedelta(days=7, seconds=1), tick=False):
        response = api("GET", "/api/v1/jobs", secret)
    assert response.status_code == 401
    assert response.json["type"].endswith("unauthenticated")


def test_no_token_or_an_unknown_one_is_a_401_problem(api):
    for token in (None, "alm_not-a-token", ""):
        response = api("GET", "/api/v1/jobs", token)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert response.json["status"] == 401


def test_the_browser_session_cookie_is_never_accepted(client, login_as, api):
    """Signed in on the pages, a request to the API without a token is still refused: no cookie reaches it (an
    API exempt from CSRF that took the cookie would let any site act for the user)."""
    login_as(BuyerFactory())
    assert client.get("/jobs/").status_code == 200
    response = client.post("/api/v1/jobs", json={"title": "x"})
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers


def test_a_token_without_the_scope_is_refused_with_a_403_problem(api, token_for):
    secret = token_for(BuyerFactory(), scopes=["bids:read"])
    response = api("GET", "/api/v1/jobs", secret)
    assert response.status_code == 403
    assert response.json["type"].endswith("missing-scope")
    assert "jobs:read" in response.json["detail"]


def test_a_vendors_token_cannot_post_jobs(api, token_for):
    from tests.functional.api.conftest import job_body

    response = api("POST", "/api/v1/jobs", token_for(VendorFactory()), json=job_body())
    assert response.status_code == 403
    assert response.json["type"].endswith("wrong-kind")


def test_the_token_acts_as_the_owner_and_the_trail_names_the_token(api, token_for, session):
    from tests.functional.api.conftest import job_body

    owner = BuyerFactory()
    secret = token_for(owner, name="Procurement sync")
    response = api("POST", "/api/v1/jobs", secret, json=job_body(publish=True))
    assert response.status_code == 201, response.json
    record = session.query(AuditRecord).filter_by(action="job.published").one()
    assert record.actor_id == owner.id
    assert record.actor_label == f"{owner.email} through API token “Procurement sync”"


def test_a_handover_moves_the_token_to_the_new_owner(api, token_for, session):
    from marketplace.jobs.models import Job
    from tests.functional.api.conftest import job_body

    owner = BuyerFactory()
    secret = token_for(owner)
    colleague = BuyerFactory(org_id=owner.org_id, org_role=OrgRole.MANAGER)
    owner.org_role, colleague.org_role = OrgRole.MANAGER, OrgRole.OWNER
    session.flush()
    assert api("POST", "/api/v1/jobs", secret, json=job_body()).status_code == 201
    assert session.query(Job).filter_by(buyer_org_id=owner.org_id).one().created_by_id == colleague.id


def test_an_organisation_without_an_owner_has_no_working_token(api, token_for, session):
    from marketplace.db_types import utcnow as now

    owner = BuyerFactory()
    secret = token_for(owner)
    owner.removed_at = now()
    session.flush()
    assert api("GET", "/api/v1/jobs", secret).status_code == 401


def test_a_suspended_organisations_token_cannot_act(api, token_for, session):
    from marketplace.accounts.models import Organization
    from tests.functional.api.conftest import job_body

    owner = BuyerFactory()
    secret = token_for(owner)
    org = session.get(Organization, owner.org_id)
    org.suspended_at, org.suspended_reason = utcnow(), "Payment fraud under investigation"
    session.flush()
    response = api("POST", "/api/v1/jobs", secret, json=job_body())
    assert response.status_code == 403
    assert response.json["type"].endswith("suspended")


def test_reads_write_the_tokens_last_use_at_most_once_a_minute(api, token_for, session):
    """A busy tool's GETs do not each write a row: the token's last use is written when it is a minute old."""
    from sqlalchemy import event

    from marketplace.extensions import db

    secret = token_for(BuyerFactory(), scopes=["jobs:read"])
    token = session.query(ApiToken).filter_by(token_hash=hashlib.sha256(secret.encode()).hexdigest()).one()
    writes: list[str] = []

    def count(_conn, _cursor, statement, *_rest):
        if statement.lstrip().upper().startswith("UPDATE API_TOKEN"):
            writes.append(statement)

    start = utcnow().replace(microsecond=0)
    event.listen(db.engine, "before_cursor_execute", count)
    try:
        with time_machine.travel(start, tick=False):
            for _ in range(3):
                assert api("GET", "/api/v1/jobs", secret).status_code == 200
        assert len(writes) == 1 and token.last_used_at == start
        with time_machine.travel(start + timedelta(seconds=59), tick=False):
            assert api("GET", "/api/v1/jobs", secret).status_code == 200
        assert len(writes) == 1 and token.last_used_at == start
        with time_machine.travel(start + timedelta(seconds=61), tick=False):
            assert api("GET", "/api/v1/jobs", secret).status_code == 200
        assert len(writes) == 2 and token.last_used_at == start + timedelta(seconds=61)
    finally:
        event.remove(db.engine, "before_cursor_execute", count)
