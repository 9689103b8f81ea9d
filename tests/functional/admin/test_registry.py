"""The registry of parties through its pages: search, suggested duplicates, merging, and every refusal."""

import re

import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditRecord
from marketplace.parties import registry
from marketplace.parties.models import Interest, Party, PartyDistinction, PartyIdentifier
from marketplace.parties.service import normalize_identifier
from tests.factories import (
    BuyerFactory,
    InterestFactory,
    PartyFactory,
    PersonFactory,
    VendorFactory,
    VendorOrgFactory,
)

REGISTRY_PAGES = [
    ("get", "/admin/parties/"),
    ("get", "/admin/parties/{keep}"),
    ("get", "/admin/parties/merge?keep={keep}&merge={merge}"),
    ("post", "/admin/parties/merge"),
]


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def cobalt(session):
    """Cobalt Social twice: once with its company number, once as imported from a news report."""
    keep = PartyFactory(name="Cobalt Social Ltd")
    session.add(
        PartyIdentifier(
            party_id=keep.id, scheme="GB-COH", value="SC115530", value_normalized=normalize_identifier("SC115530")
        )
    )
    merged = PartyFactory(name="Cobalt Social Limited")
    session.add(
        PartyIdentifier(
            party_id=merged.id, scheme="GB-COH", value="sc 115530", value_normalized=normalize_identifier("sc 115530")
        )
    )
    session.add(
        PartyIdentifier(
            party_id=merged.id,
            scheme="XI-LEI",
            value="5493001KJTIIGC8Y1R12",
            value_normalized=normalize_identifier("5493001KJTIIGC8Y1R12"),
        )
    )
    vendor = VendorOrgFactory(name="Scalewise Data")
    InterestFactory(interested_party_id=merged.id, subject_party_id=vendor.party_id, share_exact=49.0)
    session.flush()
    return keep, merged


def merge(client, keep, merged):
    return client.post("/admin/parties/merge", data={"keep_id": keep.id, "merge_id": merged.id})


@pytest.mark.parametrize("method, path", REGISTRY_PAGES)
@pytest.mark.parametrize("role", ["buyer", "vendor"])
def test_only_admins_use_the_registry(client, login_as, session, cobalt, method, path, role):
    keep, merged = cobalt
    login_as(BuyerFactory() if role == "buyer" else VendorFactory())
    url = path.format(keep=keep.id, merge=merged.id)
    response = getattr(client, method)(url, data={"keep_id": keep.id, "merge_id": merged.id})
    assert response.status_code == 403
    assert session.get(Party, merged.id).merged_into_id is None


@pytest.mark.parametrize("method, path", REGISTRY_PAGES)
def test_signed_out_visitors_are_sent_to_sign_in(client, cobalt, method, path):
    keep, merged = cobalt
    response = getattr(client, method)(path.format(keep=keep.id, merge=merged.id))
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_search_by_name_and_by_identifier(client, login_as, admin, cobalt):
    keep, merged = cobalt
    login_as(admin)
    by_name = text(client.get("/admin/parties/?q=cobalt"))
    assert by_name.count('data-testid="party-row"') == 2
    by_identifier = text(client.get("/admin/parties/?q=5493-001k"))
    assert by_identifier.count('data-testid="party-row"') == 1 and "Cobalt Social Limited" in by_identifier
    assert "No party matches “Quartz”." in text(client.get("/admin/parties/?q=Quartz"))


def test_suggested_duplicates_lead_to_a_merge_that_keeps_everything(client, login_as, session, admin, cobalt):
    keep, merged = cobalt
    login_as(admin)
    index = text(client.get("/admin/parties/"))
    assert 'data-testid="duplicate"' in index and "same identifier GB-COH SC115530" in index
    assert f"/admin/parties/merge?keep={keep.id}&amp;merge={merged.id}" in index

    confirm = text(client.get(f"/admin/parties/merge?keep={keep.id}&merge={merged.id}"))
    assert "Merge Cobalt Social Limited into Cobalt Social Ltd" in confirm
    assert "Cobalt Social Limited's 2 identifiers" in confirm and "1 tie" in confirm

    response = merge(client, keep, merged)
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/admin/parties/{keep.id}")
    page = text(client.get(response.headers["Location"]))
    assert "Merged into Cobalt Social Ltd: every identifier and tie now belongs to it" in page
    for value in ("SC115530", "sc 115530", "5493001KJTIIGC8Y1R12", "Cobalt Social Limited"):
        assert value in page
    assert "Scalewise Data" in page  # the interest moved with it
    holder_ids = session.execute(select(Interest.interested_party_id)).scalars().all()
    assert holder_ids == [keep.id]

    merged_page = text(client.get(f"/admin/parties/{merged.id}"))
    assert 'data-testid="merged-into"' in merged_page
    assert "No suggested duplicates." in text(client.get("/admin/parties/"))
    record = session.execute(select(AuditRecord).where(AuditRecord.action == "party.merged")).scalar_one()
    assert record.before["merged"]["name"] == "Cobalt Social Limited" and record.after["merged_into"] == keep.id


def test_suggestions_are_paged_newest_first_and_an_old_pair_is_found_on_an_older_page(client, login_as, admin, cobalt):
    keep, merged = cobalt  # the lookalike pair, older than every party added below
    for n in range(registry.DUPLICATE_WINDOW):
        PartyFactory(name=f"Filler Company {n:03d} Plc")
    login_as(admin)
    first = text(client.get("/admin/parties/"))
    assert "No suggested duplicates among these parties." in first
    older = re.search(r'href="(/admin/parties/\?older_than=\d+)"', first).group(1)
    second = text(client.get(older.replace("&amp;", "&")))
    assert f"/admin/parties/merge?keep={keep.id}&amp;merge={merged.id}" in second
    assert 'data-testid="older-duplicates"' not in second


def test_a_party_page_finds_a_party_to_merge_into_it(client, login_as, admin, cobalt):
    keep, merged = cobalt
    login_as(admin)
    page = text(client.get(f"/admin/parties/{keep.id}?q=limited"))
    assert f"/admin/parties/merge?keep={keep.id}&amp;merge={merged.id}" in page
    assert f"merge={keep.id}" not in page  # never offered to merge into itself


def refused(client, keep, merged) -> str:
    response = merge(client, keep, merged)
    assert response.status_code == 400
    return text(response)


def test_a_party_is_not_merged_into_itself(client, login_as, session, admin, cobalt):
    keep, _ = cobalt
    login_as(admin)
    assert "A party cannot be merged into itself: choose two different parties." in refused(client, keep, keep)


def test_a_person_is_not_merged_into_an_organisation(client, login_as, session, admin):
    person, company = PersonFactory(name="Rui Costa"), PartyFactory(name="Rui Costa Ltd")
    login_as(admin)
    confirm = text(client.get(f"/admin/parties/merge?keep={company.id}&merge={person.id}"))
    assert "a person cannot be merged into an organisation" in confirm  # said before the click
    assert "Merge into Rui Costa Ltd</button>" not in confirm
    page = refused(client, company, person)
    assert (
        "Rui Costa is a person and Rui Costa Ltd an organisation: a person cannot be merged into an "
        "organisation." in page
    )
    assert session.get(Party, person.id).merged_into_id is None
    assert session.execute(select(AuditRecord).where(AuditRecord.action == "party.merged")).first() is None


def test_a_merged_party_cannot_be_merged_again_and_missing_ones_are_not_found(client, login_as, session, admin, cobalt):
    keep, merged = cobalt
    login_as(admin)
    assert merge(client, keep, merged).status_code == 303
    third = PartyFactory(name="Cobalt Social Inc")
    assert "Cobalt Social Limited was already merged into another party" in refused(client, third, merged)
    assert client.get("/admin/parties/999999").status_code == 404
    assert client.get(f"/admin/parties/merge?keep={keep.id}&merge=999999").status_code == 404
    assert client.post("/admin/parties/merge", data={"keep_id": keep.id, "merge_id": 999999}).status_code == 404
    incomplete = client.post("/admin/parties/merge", data={"keep_id": keep.id})
    assert incomplete.status_code == 303 and incomplete.headers["Location"].endswith("/admin/parties/")


# --- Not the same party --------------------------------------------------------------------------------------


@pytest.fixture
def halcyon(session):
    """Two parties whose names the matcher finds likely one: the registry suggests them."""
    return PartyFactory(name="Halcyon Research"), PartyFactory(name="Halcyon Research GmbH")


def distinct(client, first, second, reason="German GmbH, HRB 1234; the other is a US firm."):
    return client.post("/admin/parties/distinct", data={"first_id": first.id, "second_id": second.id, "reason": reason})


def test_marking_not_the_same_ends_the_suggestion_and_is_audited(client, login_as, session, admin, halcyon):
    first, second = halcyon
    login_as(admin)
    assert "names 100% alike" not in text(client.get("/admin/parties/"))  # the same name, legal form aside
    assert "the same name" in text(client.get("/admin/parties/"))
    assert distinct(client, first, second).status_code == 303
    assert 'data-testid="duplicate"' not in text(client.get("/admin/parties/"))
    record = session.execute(select(AuditRecord).where(AuditRecord.action == "party.marked_distinct")).scalar_one()
    assert record.after["reason"].startswith("German GmbH")
    pair = text(client.get(f"/admin/parties/merge?keep={first.id}&merge={second.id}"))
    assert 'data-testid="distinction"' in pair and "HRB 1234" in pair
    refused = merge(client, first, second)
    assert refused.status_code == 400 and "marked as not the same party" in text(refused)


@pytest.mark.parametrize(
    "typed, field_message",
    [
        ({"reason": ""}, "Say how you know they are not the same"),
        ({"reason": "x" * 1001}, "Use at most 1000 characters."),
        ({"second": "first"}, "A party is always the same as itself"),
    ],
)
def test_a_refused_distinction_comes_back_with_the_reason_beside_it(
    client, login_as, session, admin, halcyon, typed, field_message
):
    first, second = halcyon
    login_as(admin)
    other = first if typed.get("second") == "first" else second
    response = distinct(client, first, other, typed.get("reason", "Different companies."))
    assert response.status_code == 400 and field_message in text(response)
    if "reason" in typed:
        assert typed["reason"][:50] in text(response)  # what was typed is kept
    assert session.execute(select(AuditRecord).where(AuditRecord.action == "party.marked_distinct")).first() is None


def test_marking_twice_or_a_merged_party_is_refused(client, login_as, session, admin, halcyon):
    first, second = halcyon
    login_as(admin)
    assert distinct(client, first, second).status_code == 303
    again = distinct(client, second, first)
    assert again.status_code == 400 and "already marked as not the same" in text(again)
    third = PartyFactory(name="Halcyon Research Ltd")
    assert merge(client, first, third).status_code == 303
    gone = distinct(client, third, second)
    assert gone.status_code == 400 and "already merged into another party" in text(gone)
    assert client.post("/admin/parties/distinct", data={"reason": "?"}).status_code == 303  # no parties: back


@pytest.mark.parametrize("role", ["buyer", "vendor"])
def test_only_admins_mark_or_withdraw(client, login_as, session, admin, halcyon, role):
    first, second = halcyon
    login_as(admin)
    assert distinct(client, first, second).status_code == 303
    record = session.execute(select(PartyDistinction)).scalar_one()
    login_as(BuyerFactory() if role == "buyer" else VendorFactory())
    assert distinct(client, first, PartyFactory(name="Halcyon Research SA")).status_code == 403
    assert client.post(f"/admin/parties/distinctions/{record.id}/withdraw").status_code == 403
    assert session.execute(select(PartyDistinction)).scalar_one() is record


def test_get_changes_nothing(client, login_as, session, admin, halcyon):
    first, second = halcyon
    login_as(admin)
    assert distinct(client, first, second).status_code == 303
    record = session.execute(select(PartyDistinction)).scalar_one()
    assert client.get(f"/admin/parties/distinct?first_id={first.id}&second_id={second.id}").status_code == 405
    assert client.get(f"/admin/parties/distinctions/{record.id}/withdraw").status_code == 405
    assert client.post("/admin/parties/distinctions/999999/withdraw").status_code == 404
    assert session.execute(select(PartyDistinction)).scalar_one() is record


def test_a_merge_carries_what_the_merged_party_is_not(client, login_as, session, admin, halcyon):
    first, second = halcyon
    third = PartyFactory(name="Halcyon Research AG")
    login_as(admin)
    assert distinct(client, second, third).status_code == 303
    assert merge(client, first, second).status_code == 303
    record = session.execute(select(PartyDistinction)).scalar_one()
    assert {record.first_party_id, record.second_party_id} == {first.id, third.id}
