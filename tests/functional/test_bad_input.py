"""Bad input anywhere gets a clear answer, never a 500: the cases found by probing, and the whole class fuzzed."""

import pytest
from werkzeug.datastructures import MultiDict

from tests.factories import AdminFactory, PartyFactory, VendorFactory


def test_a_profile_without_languages_is_saved_without_them(client, login_as):
    login_as(VendorFactory())
    response = client.post("/profile", data={"summary": "We label audio.", "workforce_size": "12"})
    assert response.status_code == 303


@pytest.mark.parametrize("size", ["9" * 30, "-1", "12.5", "lots"])
def test_an_impossible_workforce_size_is_refused_beside_the_field(client, login_as, size):
    login_as(VendorFactory())
    response = client.post("/profile", data={"summary": "Kept", "languages": "English", "workforce_size": size})
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Kept" in text and f'value="{size}"' in text


@pytest.mark.parametrize("keep_id", ["9" * 30, "-5", "abc"])
def test_a_merge_naming_an_impossible_party_is_refused(client, login_as, keep_id):
    login_as(AdminFactory())
    party = PartyFactory(name="Cobalt Social")
    response = client.post("/admin/parties/merge", data={"keep_id": keep_id, "merge_id": str(party.id), "confirm": "1"})
    assert response.status_code in (303, 400, 404)


@pytest.mark.parametrize(
    "query",
    [
        {"date_to": "9999-12-31"},
        {"date_from": "0001-01-01"},
        {"date_from": "9999-12-31", "date_to": "9999-12-31"},
        {"page": "9" * 30},
    ],
)
def test_extreme_dates_and_pages_on_the_trail_are_answered(client, login_as, query):
    login_as(AdminFactory(timezone="Asia/Tokyo"))
    response = client.get("/admin/audit", query_string=query)
    if "date_to" in query or "date_from" in query:
        assert response.status_code == 400
        assert "Give a date between 2000-01-01 and 2999-12-31." in response.get_data(as_text=True)
    else:
        assert response.status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/jobs/99999999999999999999999999",
        "/bids/9223372036854775808",
        "/contracts/2147483648",
        "/admin/parties/99999999999999999999",
        "/jobs/?page=99999999999999999999",
        "/admin/parties/merge?keep=1&merge=9" + "9" * 25,
    ],
)
def test_an_id_beyond_any_row_is_a_404_or_ignored_never_a_500(client, login_as, path):
    login_as(AdminFactory())
    assert client.get(path).status_code in (200, 302, 404)


@pytest.mark.parametrize("where", ["form", "query", "second value"])
def test_a_nul_byte_is_refused_whole_before_any_form_reads_it(client, login_as, where):
    login_as(VendorFactory())
    if where == "query":
        response = client.get("/jobs/?q=a%00b")
    else:
        data = (
            {"summary": "a\x00b"} if where == "form" else MultiDict([("languages", "English"), ("languages", "a\x00b")])
        )
        response = client.post("/profile", data=data)
    assert response.status_code == 400
    assert "cannot be stored" in response.get_data(as_text=True)
