"""A lab changes its screening over the API: names rivals (by name or by a registry company's id), removes them,
and replaces its policy, through the rivals and policy pages' own services: the same refusals (as 422 or 409
problems), the same audit records (naming the token), and the same re-screen (in the request without a queue;
tests/queue covers the queued one). Vendors and other labs get what they get on the pages: 403 and 404."""

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow
from marketplace.screening.engine.verdicts import Policy
from marketplace.screening.models import Rival, ScreeningPolicy, VerdictRecord
from tests.factories import (
    BuyerFactory,
    InterestFactory,
    PartyFactory,
    PersonFactory,
    RivalFactory,
    VerifiedVendorFactory,
)

POLICY = "/api/v1/screening/policy"


@pytest.fixture
def lab(token_for):
    owner = BuyerFactory()
    return owner, token_for(owner, name="Risk sync")


def _tied_vendor(session, holder_name: str):
    """A vendor 30% held by a company named `holder_name` (not anyone's rival yet)."""
    vendor = VerifiedVendorFactory()
    holder = PartyFactory(name=holder_name)
    vendor_party = session.get(Organization, vendor.org_id).party_id
    InterestFactory(interested_party_id=holder.id, subject_party_id=vendor_party, share_exact=30.0)
    return vendor, holder


def _stored_verdict(session, buyer_org_id: int, vendor_org_id: int) -> str | None:
    return session.execute(
        select(VerdictRecord.verdict).where(
            VerdictRecord.buyer_org_id == buyer_org_id, VerdictRecord.vendor_org_id == vendor_org_id
        )
    ).scalar_one_or_none()


def _records(session, action: str) -> list[AuditRecord]:
    return list(session.execute(select(AuditRecord).where(AuditRecord.action == action)).scalars())


def _actions(**changes) -> dict[str, str]:
    """Every rule's default action, some changed."""
    return {**{str(rule): str(action) for rule, action in Policy().actions.items()}, **changes}


def _policy_body(**overrides):
    body = {"exclude_at": 40.0, "review_at": 15.0, "people_window_months": 24, "actions": _actions()}
    body.update(overrides)
    return body


def test_a_lab_names_a_rival_by_name_and_its_vendors_are_screened_again(api, lab, session):
    owner, token = lab
    vendor, holder = _tied_vendor(session, "Quarry Analytics")
    response = api("POST", "/api/v1/rivals", token, json={"name": "quarry analytics"})
    assert response.status_code == 201, response.json
    assert response.headers["Location"].endswith("/api/v1/rivals")
    assert response.json["party_id"] == holder.id and response.json["name"] == "Quarry Analytics"
    assert response.json["tied_vendors"] == 1 and response.json["verdicts_updating"] is False
    assert _stored_verdict(session, owner.org_id, vendor.org_id) == "exclude"
    [record] = _records(session, "rival.added")
    assert record.after == {"party_id": holder.id, "name": "Quarry Analytics"}
    assert record.actor_label == f"{owner.email} through API token “Risk sync”"
    listed = api("GET", "/api/v1/rivals", token).json["items"]
    assert [row["id"] for row in listed] == [response.json["id"]]


def test_a_new_name_adds_the_company_to_the_registry(api, lab, session):
    owner, token = lab
    response = api("POST", "/api/v1/rivals", token, json={"name": "Brand New Rival Co"})
    assert response.status_code == 201
    rival = session.execute(select(Rival).where(Rival.buyer_org_id == owner.org_id)).scalar_one()
    assert rival.party_id == response.json["party_id"]


def test_a_lab_names_a_registry_company_by_its_id(api, lab, session):
    owner, token = lab
    vendor, holder = _tied_vendor(session, "Larch Data")
    response = api("POST", "/api/v1/rivals", token, json={"party_id": holder.id})
    assert response.status_code == 201 and response.json["party_id"] == holder.id
    assert _stored_verdict(session, owner.org_id, vendor.org_id) == "exclude"


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({}, "body", "name or its party_id"),
        ({"name": "A", "party_id": 1}, "body", "name or its party_id"),
        ({"name": "   "}, "name", "Enter the name"),
        ({"name": "x" * 201}, "name", "200"),
        ({"party_id": 2147483647}, "party_id", "no longer in the registry"),
        ({"name": "A", "colour": "red"}, "colour", "Extra inputs"),
    ],
)
def test_a_rival_the_page_would_refuse_is_a_422_problem_naming_the_field(api, lab, session, body, field, words):
    owner, token = lab
    response = api("POST", "/api/v1/rivals", token, json=body)
    assert response.status_code == 422, response.json
    assert response.headers["Content-Type"] == "application/problem+json"
    assert response.json["errors"][0]["field"] == field and words in response.json["detail"]
    assert session.execute(select(Rival).where(Rival.buyer_org_id == owner.org_id)).first() is None
    assert _records(session, "rival.added") == []


def test_the_lab_itself_a_person_and_a_rival_named_twice_are_refused(api, lab, session):
    owner, token = lab
    own = session.get(Organization, owner.org_id)
    assert "your own organisation" in api("POST", "/api/v1/rivals", token, json={"name": own.name}).json["detail"]
    by_id = api("POST", "/api/v1/rivals", token, json={"party_id": own.party_id})
    assert by_id.status_code == 422 and "your own organisation" in by_id.json["detail"]
    person = PersonFactory()
    assert api("POST", "/api/v1/rivals", token, json={"party_id": person.id}).status_code == 422
    rival = RivalFactory(buyer_org_id=owner.org_id)
    again = api("POST", "/api/v1/rivals", token, json={"party_id": rival.party_id})
    assert again.status_code == 422 and "already on your rival list" in again.json["detail"]
    assert again.json["errors"] == [{"field": "party_id", "message": again.json["detail"]}]


def test_naming_a_rival_is_idempotent_by_key(api, lab, session):
    owner, token = lab
    headers = {"Idempotency-Key": "rival-1"}
    first = api("POST", "/api/v1/rivals", token, json={"name": "Keyed Rival Ltd"}, headers=headers)
    second = api("POST", "/api/v1/rivals", token, json={"name": "Keyed Rival Ltd"}, headers=headers)
    assert first.status_code == second.status_code == 201
    assert second.json == first.json and second.headers["Idempotent-Replayed"] == "true"
    assert len(_records(session, "rival.added")) == 1
    other = api("POST", "/api/v1/rivals", token, json={"name": "Another Rival Ltd"}, headers=headers)
    assert other.status_code == 422 and other.json["type"].endswith("idempotency-conflict")


def test_a_lab_removes_its_rival_and_the_vendor_is_clear_again(api, lab, session):
    owner, token = lab
    vendor, holder = _tied_vendor(session, "Osprey Labs")
    rival_id = api("POST", "/api/v1/rivals", token, json={"party_id": holder.id}).json["id"]
    assert _stored_verdict(session, owner.org_id, vendor.org_id) == "exclude"
    response = api("DELETE", f"/api/v1/rivals/{rival_id}", token)
    assert response.status_code == 204 and response.get_data() == b""
    assert _stored_verdict(session, owner.org_id, vendor.org_id) == "clear"
    [record] = _records(session, "rival.removed")
    assert record.before == {"party_id": holder.id, "name": "Osprey Labs"}
    # Removed a moment ago: the page's "already taken off" is a 409 here, and nothing more is recorded.
    again = api("DELETE", f"/api/v1/rivals/{rival_id}", token)
    assert again.status_code == 409 and "already taken off" in again.json["detail"]
    assert len(_records(session, "rival.removed")) == 1


def test_another_labs_rival_is_a_404_and_stays(api, lab, session):
    _, token = lab
    theirs = RivalFactory(buyer_org_id=BuyerFactory().org_id)
    response = api("DELETE", f"/api/v1/rivals/{theirs.id}", token)
    assert response.status_code == 404 and response.json["status"] == 404
    assert session.get(Rival, theirs.id) is not None
    assert api("DELETE", "/api/v1/rivals/2147483647", token).status_code == 404


def test_a_lab_replaces_its_policy_and_its_vendors_are_screened_again(api, lab, session):
    owner, token = lab
    vendor = VerifiedVendorFactory()
    rival = RivalFactory(buyer_org_id=owner.org_id)
    vendor_party = session.get(Organization, vendor.org_id).party_id
    InterestFactory(interested_party_id=rival.party_id, subject_party_id=vendor_party, share_exact=30.0)
    response = api("PUT", POLICY, token, json=_policy_body())
    assert response.status_code == 200, response.json
    assert response.json["exclude_at"] == 40.0 and response.json["review_at"] == 15.0
    assert response.json["changed"] is True and response.json["verdicts_updating"] is False
    assert api("GET", POLICY, token).json["people_window_months"] == 24
    # 30% is below the new exclude threshold of 40%: the stored verdict followed in the same request.
    assert _stored_verdict(session, owner.org_id, vendor.org_id) == "review"
    [record] = _records(session, "policy.changed")
    assert record.after["exclude_at"] == 40.0 and record.actor_label.endswith("“Risk sync”")
    same = api("PUT", POLICY, token, json=_policy_body())
    assert same.status_code == 200 and same.json["changed"] is False
    assert len(_records(session, "policy.changed")) == 1


@pytest.mark.parametrize(
    ("overrides", "field", "words"),
    [
        ({"exclude_at": 101}, "exclude_at", "from 0 to 100"),
        ({"review_at": -1}, "review_at", "from 0 to 100"),
        ({"review_at": 50.0}, "review_at", "at or below the exclude threshold"),
        ({"people_window_months": 0}, "people_window_months", "from 1 to 120"),
        ({"actions": {"ownership": "threshold"}}, "actions.control", "Choose what the control rule does"),
        ({"actions": _actions(ownership="sometimes")}, "actions.ownership", "Choose what the ownership rule does"),
        ({"actions": _actions(control="threshold")}, "actions.control", "Choose what the control rule does"),
        ({"exclude_at": "lots"}, "exclude_at", "valid number"),
    ],
)
def test_a_policy_the_page_would_refuse_is_a_422_problem_and_nothing_changes(
    api, lab, session, overrides, field, words
):
    owner, token = lab
    response = api("PUT", POLICY, token, json=_policy_body(**overrides))
    assert response.status_code == 422, response.json
    assert response.json["errors"][0]["field"] == field and words in response.json["detail"]
    assert session.execute(select(ScreeningPolicy).where(ScreeningPolicy.buyer_org_id == owner.org_id)).first() is None
    assert _records(session, "policy.changed") == []


WRITES = [
    ("POST", "/api/v1/rivals", {"name": "Someone Ltd"}),
    ("DELETE", "/api/v1/rivals/1", None),
    ("PUT", POLICY, _policy_body()),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_a_vendors_token_is_refused_as_a_vendor_is_on_the_pages(api, token_for, client, login_as, method, path, body):
    vendor = VerifiedVendorFactory()
    response = api(method, path, token_for(vendor), json=body)
    assert response.status_code == 403 and response.json["type"].endswith("wrong-kind")
    page = {"POST": "/rivals", "DELETE": "/rivals/1/remove", "PUT": "/screening/policy"}[method]
    login_as(vendor)
    assert client.post(page, data={"name": "Someone Ltd"}).status_code == 403


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_a_read_only_token_changes_nothing(api, lab, token_for, session, method, path, body):
    owner, _ = lab
    response = api(method, path, token_for(owner, scopes=["screening:read"], name="read"), json=body)
    assert response.status_code == 403 and response.json["type"].endswith("missing-scope")
    assert session.execute(select(AuditRecord).where(AuditRecord.action.like("rival.%"))).first() is None


def test_a_suspended_lab_reads_but_does_not_change_its_screening(api, lab, session):
    owner, token = lab
    org = session.get(Organization, owner.org_id)
    org.suspended_at, org.suspended_reason = utcnow(), "Unpaid fees."
    session.flush()
    assert api("GET", "/api/v1/rivals", token).status_code == 200
    response = api("POST", "/api/v1/rivals", token, json={"name": "Blocked Ltd"})
    assert response.status_code == 403 and response.json["type"].endswith("suspended")
    assert api("PUT", POLICY, token, json=_policy_body()).status_code == 403
