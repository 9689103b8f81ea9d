"""Every route under /api/v1, taken from the app's URL map (a new endpoint cannot be forgotten): each is in the
OpenAPI document, refuses a request without a token, or with the browser's session alone, as a 401 problem;
refuses a token without its scope (403); answers every role of both kinds of organisation, and a platform admin's
personal token, without a 500, with JSON; an organisation's token is refused every admin route and an admin's
token every organisation's route (403, as the pages refuse the other kind of account); and no GET changes
anything."""

import io

import pytest
from werkzeug.routing import Rule

from marketplace.api.routing import OPERATIONS
from marketplace.api.spec import openapi_document
from marketplace.api.tokens import ADMIN_SCOPES
from marketplace.audit.models import AuditRecord
from marketplace.notifications.models import Notification
from marketplace.screening.engine.verdicts import Policy
from tests.conftest import make_app
from tests.factories import (
    AdminFactory,
    BidFactory,
    BuyerFactory,
    DisclosureFactory,
    InterestFactory,
    JobFactory,
    QuestionFactory,
    VendorFactory,
)
from tests.functional.api.conftest import job_body, offer_body

# Read without a token: the document, its rendered reference and the reference's files, and the problem answer of
# an unknown address.
OPEN = {"api.openapi", "api.reference", "api.reference_asset", "api.unknown"}
_APP = make_app("sqlite://")
API_RULES = [r for r in _APP.url_map.iter_rules() if r.rule.startswith("/api/v1") and r.endpoint not in OPEN]
DECLARED = {(op.method, "api." + op.endpoint) for op in OPERATIONS}
# What any vendor may do on a public job (the walk's job is one): read it, its answers, ask, bid.
ON_A_PUBLIC_JOB = {"api.get_job", "api.list_questions", "api.ask", "api.place_bid"}
CALLS = [(rule, method) for rule in API_RULES for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]


def _ids(value) -> str:
    return value if isinstance(value, str) else value.endpoint


def _url(rule: Rule, ids: dict[str, int] | None = None) -> str:
    return rule.build({name: (ids or {}).get(name, 1) for name in rule.arguments}, append_unknown=False)[1]


PDF = b"%PDF-1.4\n%%EOF\n"


def _send(rule: Rule) -> dict:
    """The request's body: JSON, or a multipart upload."""
    if rule.endpoint == "api.import_bods":
        return {"data": {"file": (io.BytesIO(b"[]"), "owners.json")}, "content_type": "multipart/form-data"}
    if rule.endpoint == "api.attach_evidence":
        return {"data": {"file": (io.BytesIO(PDF), "minutes.pdf")}, "content_type": "multipart/form-data"}
    return {"json": _body(rule)}


def _body(rule: Rule):
    if rule.endpoint == "api.add_tie":
        return {"kind": "shareholding", "party_name": "Harrow Holdings", "share_exact": 10, "new_party": True}
    if rule.endpoint == "api.submit_disclosure":
        return {"attester_name": "Ana Officer", "attester_title": "CEO", "attest": True}
    if rule.endpoint == "api.decide_disclosure":
        return {"decision": "changes_requested", "reason": "Name the fund's general partner."}
    if rule.endpoint in ("api.create_job", "api.update_job"):
        return job_body()
    if rule.endpoint in ("api.place_bid", "api.revise_bid"):
        return offer_body()
    if rule.endpoint == "api.ask":
        return {"text": "Is it English only?"}
    if rule.endpoint == "api.answer":
        return {"answer": "Yes."}
    if rule.endpoint == "api.add_rival":
        return {"name": "Walk Rival Ltd"}
    if rule.endpoint == "api.update_policy":
        actions = {str(rule): str(action) for rule, action in Policy().actions.items()}
        return {"exclude_at": 30.0, "review_at": 10.0, "people_window_months": 24, "actions": actions}
    return None


def test_the_walk_finds_the_routes():
    assert len(API_RULES) >= 15


@pytest.mark.parametrize(("rule", "method"), CALLS, ids=_ids)
def test_every_route_is_declared_and_in_the_openapi_document(app, rule, method):
    assert (method, rule.endpoint) in DECLARED
    with app.test_request_context():
        paths = openapi_document()["paths"]
    path = "/api/v1" + rule.rule.removeprefix("/api/v1").replace("<int:", "{").replace(">", "}")
    assert method.lower() in paths[path]


@pytest.mark.parametrize(("rule", "method"), CALLS, ids=_ids)
def test_without_a_token_every_route_is_a_401_problem_even_when_signed_in(client, login_as, api, rule, method):
    login_as(BuyerFactory())
    response = api(method, _url(rule), None, **_send(rule))
    assert response.status_code == 401
    assert response.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(("rule", "method"), CALLS, ids=_ids)
def test_a_token_without_the_scope_is_refused_everywhere(api, token_for, admin_token_for, rule, method):
    op = next(op for op in OPERATIONS if "api." + op.endpoint == rule.endpoint)
    other_scopes = [scope for scope in ("jobs:read", "bids:read", "contracts:read") if scope != op.scope]
    for factory in (BuyerFactory, VendorFactory):
        response = api(method, _url(rule), token_for(factory(), scopes=other_scopes[:1]), **_send(rule))
        assert response.status_code == 403, (factory, rule.endpoint)
    other_admin_scopes = [scope for scope in ADMIN_SCOPES if scope != op.scope]
    response = api(method, _url(rule), admin_token_for(scopes=other_admin_scopes[:1]), **_send(rule))
    assert response.status_code == 403, ("admin", rule.endpoint)


ADMIN_CALLS = [
    (rule, method)
    for rule, method in CALLS
    if rule.endpoint in {"api." + op.endpoint for op in OPERATIONS if op.kinds == ("admin",)}
]


def test_the_admin_endpoints_are_walked():
    assert len(ADMIN_CALLS) >= 7


@pytest.mark.parametrize(("rule", "method"), ADMIN_CALLS, ids=_ids)
def test_an_organisations_token_with_every_scope_is_refused_every_admin_route(api, token_for, rule, method):
    """An organisation's token can hold no admin scope: the owner of a lab or a vendor is refused as on the admin
    pages (403), whatever the id."""
    for factory in (BuyerFactory, VendorFactory):
        response = api(method, _url(rule), token_for(factory()), **_send(rule))
        assert response.status_code == 403, (factory, rule.endpoint)
        assert response.json["type"].endswith("missing-scope")


@pytest.fixture
def world(session):
    """A lab with a job, a question and a bid, a vendor's submitted disclosure with a tie, so that the walk
    reaches real rows too."""
    from marketplace.accounts.models import Organization
    from marketplace.parties.models import TieOrigin

    lab = BuyerFactory()
    vendor = VendorFactory()
    job = JobFactory(buyer_org_id=lab.org_id)
    bid = BidFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    question = QuestionFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    version = DisclosureFactory(vendor_org_id=vendor.org_id)
    tie = InterestFactory(
        subject_party_id=session.get(Organization, vendor.org_id).party_id,
        origin=TieOrigin.DISCLOSURE,
        disclosure_id=version.id,
    )
    return {
        "lab": lab,
        "vendor": vendor,
        "ids": {
            "job_id": job.id,
            "bid_id": bid.id,
            "question_id": question.id,
            "version_id": version.id,
            "tie_id": tie.id,
            "org_id": vendor.org_id,
        },
    }


@pytest.mark.parametrize(("rule", "method"), CALLS, ids=_ids)
def test_every_route_answers_every_kind_with_json_and_never_a_500(
    api, token_for, admin_token_for, session, world, rule, method
):
    op = next(op for op in OPERATIONS if "api." + op.endpoint == rule.endpoint)
    for who in ("lab", "vendor", "stranger_lab", "stranger_vendor", "admin"):
        if who == "admin":
            user = AdminFactory()
            token = admin_token_for(user)
        else:
            user = world.get(who) or (BuyerFactory() if who == "stranger_lab" else VendorFactory())
            token = token_for(user, name=who)
        before = (session.query(AuditRecord).count(), session.query(Notification).count())
        response = api(method, _url(rule, world["ids"]), token, **_send(rule))
        where = (who, method, rule.endpoint, response.get_data(as_text=True)[:300])
        assert response.status_code < 500, where
        assert response.status_code == 204 or response.is_json, where
        if str(user.role) not in op.kinds:
            assert response.status_code == 403, where
        if method == "GET":
            assert (session.query(AuditRecord).count(), session.query(Notification).count()) == before, where
        legitimate = (who == "stranger_vendor" and rule.endpoint in ON_A_PUBLIC_JOB) or (
            who == "stranger_lab" and rule.endpoint == "api.vendor_screening"  # any lab screens any vendor
        )
        if who.startswith("stranger") and rule.arguments and response.status_code != 403 and not legitimate:
            assert response.status_code == 404, where


@pytest.mark.parametrize(("rule", "method"), [c for c in CALLS if c[1] != "GET"], ids=_ids)
def test_no_write_needs_a_csrf_token_and_none_is_taken_from_a_cookie(app, api, token_for, rule, method):
    """The API is exempt from CSRF (no cookie reaches it); a cross-site form has no token to send."""
    app.config["WTF_CSRF_ENABLED"] = True
    response = api(method, _url(rule), token_for(BuyerFactory()), **_send(rule))
    assert response.status_code != 400 or "CSRF" not in response.get_data(as_text=True)
