"""Admins read the trail, newest first, filtered by action, organisation, actor and dates."""

import re
from datetime import UTC, datetime

import pytest
import time_machine

from marketplace.audit.service import record_event
from tests.factories import AdminFactory, BuyerFactory, BuyerOrgFactory, VendorFactory, VendorOrgFactory


def text(response) -> str:
    return response.get_data(as_text=True)


def shown_ids(response) -> list[int]:
    return [int(n) for n in re.findall(r'data-record-id="(\d+)"', text(response))]


@pytest.fixture
def admin(session):
    return AdminFactory(email="ada@platform.example")


@pytest.fixture
def records(session, admin):
    """Four records on different days, about two organisations, by an admin and by a vendor's user."""
    lab = BuyerOrgFactory(name="Northwind AI")
    scalewise = VendorOrgFactory(name="Scalewise Data")
    vendor_user = VendorFactory(org_id=scalewise.id, email="ines@scalewise.example")
    made = {}
    for key, day, actor, action, buyer, vendor in (
        ("submitted", 3, vendor_user, "disclosure.submitted", None, scalewise.id),
        ("approved", 5, admin, "disclosure.approved", None, scalewise.id),
        ("verdict", 7, None, "screening.verdict_changed", lab.id, scalewise.id),
        ("published", 9, BuyerFactory(org_id=lab.id), "job.published", lab.id, None),
    ):
        with time_machine.travel(datetime(2026, 3, day, 12, tzinfo=UTC), tick=False):
            made[key] = record_event(
                session, actor, action, "organization", 1, after={"day": day}, buyer_org_id=buyer, vendor_org_id=vendor
            ).id
    return made


@pytest.mark.parametrize("role", ["buyer", "vendor"])
def test_only_admins_read_the_trail(client, login_as, role):
    login_as(BuyerFactory() if role == "buyer" else VendorFactory())
    assert client.get("/admin/audit").status_code == 403


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/admin/audit")
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_the_trail_shows_every_record_newest_first(client, login_as, admin, records):
    login_as(admin)
    response = client.get("/admin/audit")
    assert response.status_code == 200
    assert shown_ids(response) == [records["published"], records["verdict"], records["approved"], records["submitted"]]
    page = text(response)
    assert "4 records" in page
    # In words, with links to what each record concerns; no dotted codes, no raw JSON.
    assert "ines@scalewise.example" in page and "filed a disclosure version" in page
    assert "approved a disclosure version" in page and "published a job" in page
    assert re.search(r'Vendor: <a href="/admin/organizations/\d+">Scalewise Data</a>', page)
    assert re.search(r'Lab: <a href="/admin/organizations/\d+">Northwind AI</a>', page)
    assert '<a href="/admin/organizations/1">organisation 1</a>' in page
    assert "day: 9" in page and '{"day"' not in page
    assert ">job.published<" not in page and ">disclosure.submitted<" not in page
    # The filter names actions in words too, and still filters by the stored code.
    assert '<option value="disclosure.approved">Approved a disclosure version</option>' in page


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"action": "disclosure.approved"}, ["approved"]),
        ({"organisation": "northwind"}, ["published", "verdict"]),
        ({"organisation": "Scalewise"}, ["verdict", "approved", "submitted"]),
        ({"actor": "ines@"}, ["submitted"]),
        ({"actor": "system"}, ["verdict"]),
        ({"date_from": "2026-03-05", "date_to": "2026-03-07"}, ["verdict", "approved"]),
        ({"date_from": "2026-03-08"}, ["published"]),
        ({"date_to": "2026-03-04"}, ["submitted"]),
        ({"organisation": "Scalewise", "date_from": "2026-03-04", "actor": "ada@"}, ["approved"]),
        ({"actor": "%"}, []),
        ({"organisation": "_"}, []),
    ],
    ids=[
        "action",
        "buyer org",
        "vendor org",
        "actor",
        "system actor",
        "date range",
        "from",
        "to",
        "combined",
        "percent is a character",
        "underscore is a character",
    ],
)
def test_filters_narrow_the_trail(client, login_as, admin, records, query, expected):
    login_as(admin)
    response = client.get("/admin/audit", query_string=query)
    assert response.status_code == 200
    assert shown_ids(response) == [records[key] for key in expected]


def test_dates_are_the_admins_own_calendar_days(client, login_as, session, records):
    """12:00 UTC on 7 March is already 8 March in Tokyo."""
    login_as(AdminFactory(timezone="Asia/Tokyo"))
    response = client.get("/admin/audit", query_string={"date_from": "2026-03-08", "date_to": "2026-03-08"})
    assert shown_ids(response) == []
    response = client.get("/admin/audit", query_string={"date_from": "2026-03-07", "date_to": "2026-03-07"})
    assert shown_ids(response) == [records["verdict"]]


def test_an_inverted_date_range_is_refused_beside_the_field(client, login_as, admin, records):
    login_as(admin)
    response = client.get("/admin/audit", query_string={"date_from": "2026-03-09", "date_to": "2026-03-01"})
    assert response.status_code == 400
    assert "The end date must be on or after the start date." in text(response)
    assert 'value="2026-03-09"' in text(response)


def older_link(response) -> str | None:
    found = re.search(r'href="([^"]*)" rel="next">Older', text(response))
    return found and found.group(1).replace("&amp;", "&")


def newer_link(response) -> str | None:
    found = re.search(r'href="([^"]*)" rel="prev">', text(response))
    return found and found.group(1).replace("&amp;", "&")


def test_the_trail_is_paged_by_record_older_then_newer(client, login_as, session, admin):
    ids = [record_event(session, admin, "job.published", "job", n).id for n in range(120)]
    newest_first = ids[::-1]
    login_as(admin)
    first = client.get("/admin/audit")
    assert shown_ids(first) == newest_first[:50]
    assert "120 records" in text(first) and newer_link(first) is None
    second = client.get(older_link(first))
    assert shown_ids(second) == newest_first[50:100]
    third = client.get(older_link(second))
    assert shown_ids(third) == newest_first[100:] and older_link(third) is None
    # Back again by the newer links, page by page, to the first page (which has no newer link).
    back = client.get(newer_link(third))
    assert shown_ids(back) == newest_first[50:100]
    top = client.get(newer_link(back))
    assert shown_ids(top) == newest_first[:50] and newer_link(top) is None


def test_pages_keep_the_filters_and_skip_what_they_leave_out(client, login_as, session, admin):
    published = []
    for n in range(60):
        published.append(record_event(session, admin, "job.published", "job", n).id)
        record_event(session, admin, "job.cancelled", "job", n)
    login_as(admin)
    first = client.get("/admin/audit", query_string={"action": "job.published"})
    assert shown_ids(first) == published[::-1][:50] and "60 records" in text(first)
    assert "action=job.published" in older_link(first)
    second = client.get(older_link(first))
    assert shown_ids(second) == published[::-1][50:]
    assert "action=job.published" in newer_link(second)
    assert shown_ids(client.get(newer_link(second))) == published[::-1][:50]


def test_a_page_from_a_record_no_longer_matching_still_pages_from_it(client, login_as, session, admin):
    """The edge of a page is a record id, not a record: a filter changed between pages still pages from there."""
    ids = [record_event(session, admin, "job.published", "job", n).id for n in range(5)]
    login_as(admin)
    response = client.get("/admin/audit", query_string={"before": ids[2]})
    assert shown_ids(response) == [ids[1], ids[0]]
    assert newer_link(response) is not None and older_link(response) is None
    assert shown_ids(client.get(newer_link(response))) == [ids[4], ids[3], ids[2]]
    nothing_newer = client.get("/admin/audit", query_string={"after": ids[4]})
    assert shown_ids(nothing_newer) == [] and "No records match." in text(nothing_newer)
    assert shown_ids(client.get(older_link(nothing_newer))) == ids[::-1]


@pytest.mark.parametrize("query", [{"before": "abc"}, {"after": "-3"}, {"before": "9" * 30}, {"page": "2"}])
def test_a_garbled_or_old_page_address_shows_the_newest_records(client, login_as, session, admin, query):
    ids = [record_event(session, admin, "job.published", "job", n).id for n in range(3)]
    login_as(admin)
    response = client.get("/admin/audit", query_string=query)
    assert response.status_code == 200
    assert shown_ids(response) == ids[::-1]


def test_past_the_count_limit_the_trail_says_more_than(client, login_as, session, admin, app, monkeypatch):
    monkeypatch.setitem(app.config, "AUDIT_TRAIL_COUNTS_UP_TO", 7)
    ids = [record_event(session, admin, "job.published", "job", n).id for n in range(8)]
    record_event(session, admin, "job.cancelled", "job", 1)
    login_as(admin)
    everything = client.get("/admin/audit")
    assert "More than 7 records" in text(everything)
    assert shown_ids(everything)[1:] == ids[::-1]  # every record is still listed
    filtered = client.get("/admin/audit", query_string={"action": "job.published", "date_to": "2999-01-01"})
    assert "More than 7 records" in text(filtered)
    monkeypatch.setitem(app.config, "AUDIT_TRAIL_COUNTS_UP_TO", 8)
    exactly = text(client.get("/admin/audit", query_string={"action": "job.published"}))
    assert "8 records" in exactly and "More than" not in exactly
    assert "1 record<" in text(client.get("/admin/audit", query_string={"action": "job.cancelled"}))


def test_the_action_filter_offers_exactly_the_actions_recorded(client, login_as, session, admin):
    actions = ["webhook.created", "bid.placed", "job.published", "bid.placed", "rival.added", "job.published", "a"]
    for n, action in enumerate(actions):
        record_event(session, admin, action, "job", n)
    login_as(admin)
    offered = re.findall(r'<option value="([^"]*)"', text(client.get("/admin/audit")))
    assert sorted(offered) == sorted({"", *actions})
