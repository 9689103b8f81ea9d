"""SCIM 2.0 as identity providers use it (RFC 7644): pages of users, the userName filter, PATCH of the address and
the name as Okta and Entra ID send it, PUT of a whole user, and SCIM errors for every refusal."""

import pytest
from sqlalchemy import select

from marketplace.accounts.models import OrgRole, User
from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow
from tests.factories import BuyerFactory
from tests.functional.sso.conftest import PATCH, scim_auth

ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
USER = "urn:ietf:params:scim:schemas:core:2.0:User"


@pytest.fixture
def members(session, sso_org):
    """The owner and four members (one removed), oldest first, and people of other organisations."""
    BuyerFactory(email="outsider@other.example")
    made = [
        BuyerFactory(email=f"m{n}@northwind.example", org_id=sso_org.org.id, org_role=OrgRole.MEMBER)
        for n in range(1, 5)
    ]
    made[2].removed_at = utcnow()
    session.flush()
    return [sso_org.owner, *made]


def _list(client, token, **args):
    response = client.get("/scim/v2/Users", query_string=args, headers=scim_auth(token))
    assert response.status_code == 200, response.json
    return response.json


def test_a_page_says_where_it_starts_how_many_it_holds_and_how_many_there_are(client, members, scim_token):
    page = _list(client, scim_token, startIndex=2, count=2)
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == (5, 2, 2)
    assert [r["userName"] for r in page["Resources"]] == [members[1].email, members[2].email]


def test_walking_the_pages_gives_every_user_once_in_a_stable_order(client, members, scim_token):
    seen, start = [], 1
    while True:
        page = _list(client, scim_token, startIndex=start, count=2)
        seen += [r["id"] for r in page["Resources"]]
        start += page["itemsPerPage"]
        if start > page["totalResults"]:
            break
    assert seen == [str(user.id) for user in members]
    assert [r["active"] for r in _list(client, scim_token)["Resources"]] == [True, True, True, False, True]


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ({"count": 0}, (5, 1, 0)),  # totals only
        ({"startIndex": 0, "count": 1}, (5, 1, 1)),  # below 1 counts as 1
        ({"startIndex": -4}, (5, 1, 5)),
        ({"count": -3}, (5, 1, 0)),  # below 0 counts as 0
        ({"startIndex": 6}, (5, 6, 0)),  # past the end: an empty page
        ({"count": 1000}, (5, 1, 5)),  # more than there are
    ],
)
def test_page_arguments_out_of_range_are_read_as_rfc_7644_says(client, members, scim_token, args, expected):
    page = _list(client, scim_token, **args)
    assert (page["totalResults"], page["startIndex"], page["itemsPerPage"]) == expected
    assert len(page["Resources"]) == expected[2]


@pytest.mark.parametrize("args", [{"count": "ten"}, {"startIndex": "1.5"}, {"count": "5_0"}])
def test_page_arguments_that_are_not_numbers_are_refused(client, members, scim_token, args):
    response = client.get("/scim/v2/Users", query_string=args, headers=scim_auth(scim_token))
    assert response.status_code == 400
    assert response.json["schemas"] == [ERROR] and response.json["scimType"] == "invalidValue"


@pytest.mark.parametrize(
    "expression",
    [
        'userName eq "m2@northwind.example"',
        'USERNAME EQ "M2@Northwind.example"',
        'emails.value eq "m2@northwind.example"',
        'emails[type eq "work"].value eq "m2@northwind.example"',
    ],
)
def test_the_filter_identity_providers_send_finds_the_one_user(client, members, scim_token, expression):
    page = _list(client, scim_token, filter=expression, count=10)
    assert page["totalResults"] == 1 and [r["id"] for r in page["Resources"]] == [str(members[2].id)]


def test_the_filter_reads_escaped_quotes_and_finds_nobody_outside_the_organisation(client, members, scim_token):
    assert _list(client, scim_token, filter=r'userName eq "m2\"@northwind.example"')["totalResults"] == 0
    assert _list(client, scim_token, filter='userName eq "outsider@other.example"')["totalResults"] == 0


@pytest.mark.parametrize(
    "expression",
    ['userName co "north"', "userName eq m2@northwind.example", 'displayName eq "x"', 'userName eq "a" or x'],
)
def test_other_filters_are_refused(client, members, scim_token, expression):
    response = client.get("/scim/v2/Users", query_string={"filter": expression}, headers=scim_auth(scim_token))
    assert response.status_code == 400 and response.json["scimType"] == "invalidFilter"


def _patch(client, token, user, *operations):
    return client.patch(
        f"/scim/v2/Users/{user.id}", json={"schemas": [PATCH], "Operations": list(operations)}, headers=scim_auth(token)
    )


def _last_record(session):
    return session.execute(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1)).scalar_one()


def test_a_patch_of_the_name_parts_renames_the_user_and_is_audited(client, session, members, scim_token):
    user = members[1]
    old_name = user.name
    response = _patch(
        client,
        scim_token,
        user,
        {"op": "replace", "path": "name.givenName", "value": "Rosa"},
        {"op": "Add", "path": "name.familyName", "value": "Diaz"},
    )
    assert response.status_code == 200, response.json
    assert user.name == "Rosa Diaz" and response.json["name"]["formatted"] == "Rosa Diaz"
    record = _last_record(session)
    assert record.action == "user.scim_updated" and record.actor_label == "SCIM token “Okta”"
    assert (record.before, record.after) == ({"name": old_name}, {"name": "Rosa Diaz"})


def test_a_patch_with_a_value_object_changes_address_and_name_as_okta_sends_it(client, session, members, scim_token):
    user = members[1]
    response = _patch(
        client,
        scim_token,
        user,
        {"op": "replace", "value": {"userName": "Rosa.Diaz@northwind.example", "name": {"formatted": "Rosa Diaz"}}},
    )
    assert response.status_code == 200, response.json
    assert (user.email, user.name) == ("rosa.diaz@northwind.example", "Rosa Diaz")
    assert response.json["userName"] == "rosa.diaz@northwind.example" and user.email_verified
    assert _list(client, scim_token, filter='userName eq "rosa.diaz@northwind.example"')["totalResults"] == 1


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "path": 'emails[type eq "work"].value', "value": "new@northwind.example"},
        {"op": "add", "path": "emails", "value": [{"value": "new@northwind.example", "type": "work", "primary": True}]},
        {
            "op": "replace",
            "path": "emails",
            "value": [
                {"value": "home@mail.example", "type": "home"},
                {"value": "new@northwind.example", "primary": "true"},
            ],
        },
    ],
    ids=["entra-filter-path", "add-emails", "primary-of-several"],
)
def test_a_patch_of_the_emails_changes_the_address(client, session, members, scim_token, operation):
    response = _patch(client, scim_token, members[1], operation)
    assert response.status_code == 200, response.json
    assert members[1].email == "new@northwind.example"
    assert response.json["emails"] == [{"value": "new@northwind.example", "primary": True}]


def test_attributes_the_marketplace_does_not_keep_are_ignored_not_refused(client, session, members, scim_token):
    user = members[1]
    before = (user.email, user.name)
    response = _patch(
        client,
        scim_token,
        user,
        {"op": "add", "path": "externalId", "value": "00u1"},
        {"op": "replace", "path": "title", "value": "Labeller"},
        {
            "op": "replace",
            "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            "value": "R",
        },
        {"op": "replace", "path": 'phoneNumbers[type eq "work"].value', "value": "+1 555"},
        {"op": "replace", "path": 'emails[type eq "home"].value', "value": "home@mail.example"},
    )
    assert response.status_code == 200, response.json
    assert (user.email, user.name) == before
    assert _last_record(session).action != "user.scim_updated"  # nothing changed, nothing audited


@pytest.mark.parametrize(
    ("operation", "status", "scim_type", "words"),
    [
        ({"op": "replace", "path": "userName", "value": "x@gmail.example"}, 400, "invalidValue", "verified domain"),
        ({"op": "replace", "path": "userName", "value": "m2@northwind.example"}, 409, "uniqueness", "exists already"),
        (
            {
                "op": "replace",
                "value": {"userName": "a@northwind.example", "emails": [{"value": "b@northwind.example"}]},
            },
            400,
            "invalidValue",
            "must be the same address",
        ),
    ],
    ids=["outside-verified-domains", "taken", "user-name-and-email-disagree"],
)
def test_an_address_that_cannot_be_the_users_is_refused(
    client, session, members, scim_token, operation, status, scim_type, words
):
    user = members[1]
    response = _patch(client, scim_token, user, operation)
    assert response.status_code == status, response.json
    assert response.json["scimType"] == scim_type and words in response.json["detail"]
    assert user.email == "m1@northwind.example"


def test_a_patch_is_all_or_nothing(client, session, sso_org, members, scim_token):
    owner = sso_org.owner
    name = owner.name
    response = _patch(
        client,
        scim_token,
        owner,
        {"op": "replace", "path": "displayName", "value": "Half Done"},  # would do
        {"op": "replace", "path": "active", "value": False},  # refused: the owner stays
    )
    assert response.status_code == 409
    session.expire_all()
    assert session.get(User, owner.id).name == name


def test_the_owners_address_is_not_changed_through_provisioning_but_its_name_is(
    client, session, sso_org, members, scim_token
):
    owner = sso_org.owner
    refused = _patch(client, scim_token, owner, {"op": "replace", "path": "userName", "value": "it@northwind.example"})
    assert refused.status_code == 409 and refused.json["scimType"] == "mutability"
    assert owner.email == "owner@northwind.example"
    renamed = _patch(client, scim_token, owner, {"op": "replace", "path": "displayName", "value": "Maya Chen"})
    assert renamed.status_code == 200 and owner.name == "Maya Chen"


def _put(client, token, user, body):
    return client.put(f"/scim/v2/Users/{user.id}", json=body, headers=scim_auth(token))


def test_put_replaces_the_address_and_name_from_a_whole_user(client, session, members, scim_token):
    user = members[1]
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": str(user.id),
        "externalId": "00u1",
        "userName": "rosa@northwind.example",
        "name": {"givenName": "Rosa", "familyName": "Diaz"},
        "emails": [{"value": "rosa@northwind.example", "primary": True, "type": "work"}],
        "active": True,
        "meta": {"resourceType": "User"},
        "groups": [],
    }
    response = _put(client, scim_token, user, body)
    assert response.status_code == 200, response.json
    assert (user.email, user.name, user.removed_at) == ("rosa@northwind.example", "Rosa Diaz", None)
    assert response.json["userName"] == "rosa@northwind.example"


def test_put_with_active_false_deactivates_the_user(client, session, members, scim_token):
    user = members[1]
    response = _put(client, scim_token, user, {"userName": user.email, "active": False})
    assert response.status_code == 200 and response.json["active"] is False
    assert user.removed_at is not None
    assert _last_record(session).action == "user.deprovisioned"


@pytest.mark.parametrize(
    ("body", "scim_type"),
    [
        ({"name": {"formatted": "No Address"}}, "invalidValue"),
        ({"userName": "m1@northwind.example", "favouriteColour": "red"}, "invalidPath"),
        ({"userName": "m1@northwind.example", "active": "perhaps"}, "invalidValue"),
    ],
    ids=["no-user-name", "unknown-attribute", "not-a-boolean"],
)
def test_a_put_that_cannot_be_carried_out_is_refused(client, session, members, scim_token, body, scim_type):
    user = members[1]
    name = user.name
    response = _put(client, scim_token, user, body)
    assert response.status_code == 400 and response.json["scimType"] == scim_type
    assert (user.name, user.removed_at) == (name, None)


def test_a_body_that_is_not_json_is_a_scim_error(client, members, scim_token):
    for method in ("PATCH", "PUT", "POST"):
        path = "/scim/v2/Users" if method == "POST" else f"/scim/v2/Users/{members[1].id}"
        response = client.open(path, method=method, data="{not json", headers=scim_auth(scim_token))
        assert response.status_code == 400, method
        assert response.json["schemas"] == [ERROR] and response.json["scimType"] == "invalidSyntax", method


def test_a_body_over_the_size_limit_is_a_scim_413_and_changes_nothing(client, app, session, members, scim_token):
    app.config["MAX_CONTENT_LENGTH"] = 1024
    padding = "x" * 4096
    try:
        for method in ("PATCH", "PUT", "POST"):
            path = "/scim/v2/Users" if method == "POST" else f"/scim/v2/Users/{members[1].id}"
            body = {"userName": "big@northwind.example", "name": {"formatted": padding}, "active": False}
            if method == "PATCH":
                body = {"schemas": [PATCH], "Operations": [{"op": "replace", "path": "active", "value": padding}]}
            response = client.open(path, method=method, json=body, headers=scim_auth(scim_token))
            assert response.status_code == 413, method
            assert response.mimetype == "application/scim+json" and response.json["schemas"] == [ERROR], method
            assert response.json["status"] == "413", method
    finally:
        app.config["MAX_CONTENT_LENGTH"] = 16 * 1024 * 1024
    session.expire_all()
    assert session.get(User, members[1].id).removed_at is None
    assert session.execute(select(User).where(User.email == "big@northwind.example")).first() is None


def test_creating_a_user_reads_the_name_parts_and_ignores_what_is_not_kept(client, session, sso_org, scim_token):
    body = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "lee@northwind.example",
        "name": {"givenName": "Lee", "familyName": "Park"},
        "emails": [{"value": "lee@northwind.example", "primary": True}],
        "externalId": "00u9",
        "locale": "en-GB",
        "password": "never-kept",
    }
    response = client.post("/scim/v2/Users", json=body, headers=scim_auth(scim_token))
    assert response.status_code == 201, response.json
    assert response.json["name"]["formatted"] == "Lee Park"
    assert session.get(User, int(response.json["id"])).name == "Lee Park"


def test_addresses_that_serve_nothing_answer_scim_errors(client, scim_token):
    missing = client.get("/scim/v2/Groups", headers=scim_auth(scim_token))
    assert missing.status_code == 404 and missing.json["schemas"] == [ERROR]
    assert missing.mimetype == "application/scim+json"
    wrong_method = client.put("/scim/v2/Users", json={}, headers=scim_auth(scim_token))
    assert wrong_method.status_code == 405 and wrong_method.json["schemas"] == [ERROR]
    assert wrong_method.headers["Allow"] == "GET, POST"
    no_user = client.get("/scim/v2/Users/999999", headers=scim_auth(scim_token))
    assert no_user.status_code == 404 and no_user.json["detail"] == "No such user."


def test_the_service_provider_config_says_what_is_supported(client, scim_token):
    config = client.get("/scim/v2/ServiceProviderConfig", headers=scim_auth(scim_token)).json
    assert config["patch"] == {"supported": True}
    assert config["filter"] == {"supported": True, "maxResults": 100}
    assert config["bulk"]["supported"] is False and config["authenticationSchemes"][0]["type"] == "oauthbearertoken"


def test_the_resource_types_and_schemas_describe_what_is_served(client, scim_token, members):
    auth = scim_auth(scim_token)
    types = client.get("/scim/v2/ResourceTypes", headers=auth)
    assert types.status_code == 200 and types.mimetype == "application/scim+json"
    [user_type] = types.json["Resources"]
    assert types.json["totalResults"] == 1
    assert (user_type["id"], user_type["endpoint"], user_type["schema"]) == ("User", "/Users", USER)
    assert client.get("/scim/v2/ResourceTypes/User", headers=auth).json == user_type
    group = client.get("/scim/v2/ResourceTypes/Group", headers=auth)
    assert group.status_code == 404 and group.json["schemas"] == [ERROR]

    listed = client.get("/scim/v2/Schemas", headers=auth).json
    [schema] = listed["Resources"]
    assert schema["id"] == USER and client.get(f"/scim/v2/Schemas/{USER}", headers=auth).json == schema
    described = {a["name"]: a for a in schema["attributes"]}
    # Every attribute a user resource carries is described, and nothing it does not carry.
    resource = client.get(f"/scim/v2/Users/{members[0].id}", headers=auth).json
    assert set(described) == set(resource) - {"schemas", "id", "meta"}
    assert described["userName"]["required"] is True and described["userName"]["uniqueness"] == "server"
    assert {a["name"] for a in described["emails"]["subAttributes"]} == set(resource["emails"][0])
    returned = {a["name"] for a in described["name"]["subAttributes"] if a["returned"] != "never"}
    assert returned == set(resource["name"])
    assert described["active"]["type"] == "boolean"
    unknown = client.get("/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:Group", headers=auth)
    assert unknown.status_code == 404 and unknown.json["schemas"] == [ERROR]
    # Discovery needs the token too.
    assert client.get("/scim/v2/Schemas").status_code == 401
