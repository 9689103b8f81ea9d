"""A vendor files its disclosure through the pages: drafts, ties, refusals, attestation, decisions seen."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.disclosures import service
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.notifications.models import Notification
from marketplace.parties.models import Interest
from tests.factories import AdminFactory, BuyerFactory, VendorFactory
from tests.unit.disclosures.helpers import file_version, tie

VENDOR_PAGES = [
    ("get", "/disclosure/"),
    ("post", "/disclosure/new"),
    ("get", "/disclosure/{id}"),
    ("get", "/disclosure/{id}/edit"),
    ("post", "/disclosure/{id}/ties"),
    ("post", "/disclosure/{id}/ties/interest/{tie}/remove"),
    ("post", "/disclosure/{id}/submit"),
]


def text(response) -> str:
    return response.get_data(as_text=True)


def add(client, version, **fields):
    data = {"kind": "shareholding", "party_kind": "entity", **fields}
    return client.post(f"/disclosure/{version.id}/ties", data=data)


def attest(client, version, **fields):
    data = {"attester_name": "Ana Officer", "attester_title": "CEO", "attest": "y", **fields}
    return client.post(f"/disclosure/{version.id}/submit", data={k: v for k, v in data.items() if v is not None})


@pytest.fixture
def stake(session, vendor, draft):
    return service.add_tie(session, vendor, draft.id, tie(name="Founder Fund", share_exact=60.0))


@pytest.mark.parametrize("method, path", VENDOR_PAGES)
@pytest.mark.parametrize("role", ["buyer", "admin"])
def test_only_vendors_see_disclosure_pages(client, login_as, stake, draft, method, path, role):
    login_as(BuyerFactory() if role == "buyer" else AdminFactory())
    response = getattr(client, method)(path.format(id=draft.id, tie=stake.id))
    assert response.status_code == 403


@pytest.mark.parametrize("method, path", VENDOR_PAGES)
def test_signed_out_visitors_are_sent_to_sign_in(client, stake, draft, method, path):
    response = getattr(client, method)(path.format(id=draft.id, tie=stake.id))
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("method, path", VENDOR_PAGES[2:])
def test_another_vendors_version_is_not_found(client, login_as, session, stake, draft, method, path):
    login_as(VendorFactory())
    data = {
        "kind": "shareholding",
        "party_name": "Intruder",
        "party_kind": "entity",
        "share_exact": "1",
        "attester_name": "X",
        "attester_title": "Y",
        "attest": "y",
    }
    response = getattr(client, method)(path.format(id=draft.id, tie=stake.id), data=data)
    assert response.status_code == 404
    assert session.get(DisclosureVersion, draft.id).status == DisclosureStatus.DRAFT
    assert [t.party_name for t in service.tie_views(session, draft)] == ["Founder Fund"]


def test_a_vendor_files_a_first_disclosure(client, login_as, session, vendor):
    admin = AdminFactory()
    login_as(vendor)
    page = client.get("/disclosure/")
    assert "No approved disclosure yet" in text(page)
    assert "Start your disclosure" in text(page)

    started = client.post("/disclosure/new")
    assert started.status_code == 303
    version = session.execute(select(DisclosureVersion)).scalar_one()
    assert started.headers["Location"].endswith(f"/disclosure/{version.id}/edit")

    assert add(client, version, party_name="Founder Fund", share_exact="60").status_code == 303
    assert add(client, version, kind="customer", party_name="Northwind AI", revenue_share_pct="35").status_code == 303
    response = add(
        client,
        version,
        kind="seniorManagingOfficial",
        party_name="Rui Costa",
        party_kind="person",
        role_title="CTO",
        start_date="2021-02-01",
    )
    assert response.status_code == 303
    response = add(
        client,
        version,
        kind="elsewhere:boardMember",
        party_name="Rui Costa",
        party_kind="person",
        other_org="Cobalt Social",
        start_date="2017-01-01",
        end_date="2020-12-31",
    )
    assert response.status_code == 303

    page = text(client.get(f"/disclosure/{version.id}/edit"))
    for shown in (
        "Founder Fund",
        "60%",
        "Northwind AI",
        "35% of revenue",
        "Rui Costa",
        "CTO",
        "since 2021-02-01",
        "Role elsewhere: board member",
        "Cobalt Social",
        "2017-01-01 – 2020-12-31",
        "I attest that this disclosure is complete and true",
    ):
        assert shown in page

    submitted = attest(client, version, summary="Our first filing.")
    assert submitted.status_code == 303
    assert submitted.headers["Location"].endswith(f"/disclosure/{version.id}")
    shown = text(client.get(submitted.headers["Location"], follow_redirects=True))
    assert "Submitted" in shown and "Ana Officer, CEO" in shown and "Our first filing." in shown
    assert session.get(DisclosureVersion, version.id).status == DisclosureStatus.SUBMITTED
    told = session.execute(select(Notification).where(Notification.user_id == admin.id)).scalar_one()
    assert told.kind == "disclosure_submitted" and told.link == f"/admin/disclosures/{version.id}"


@pytest.mark.parametrize(
    "typed, message",
    [
        (
            {"party_name": "Cobalt Social", "share_exact": "52"},
            "Shareholdings would add up to 112%, more than 100%.",
        ),
        (
            {"party_name": "Cobalt Social", "share_min": "45", "share_max": "50"},
            "Shareholdings would add up to 105%, more than 100%.",
        ),
        (
            {"party_name": "Cobalt Social", "share_exact": "150"},
            "A share is between 0 and 100%; 150% is not.",
        ),
        (
            {"party_name": "Cobalt Social", "share_min": "30", "share_max": "20"},
            "The minimum (30%) is above the maximum (20%).",
        ),
        (
            {"party_name": "Cobalt Social", "start_date": "2024-05-01", "end_date": "2024-04-01"},
            "The end date is before the start date.",
        ),
        ({"party_name": "Cobalt Social", "share_exact": "lots"}, "Not a valid float value."),
        ({"party_name": "", "share_exact": "5"}, "Name the person or organisation."),
        (
            {"kind": "seniorManagingOfficial", "party_name": "Cobalt Social"},
            "A senior manager (key person) is a person: choose “person”.",
        ),
        (
            {"kind": "elsewhere:seniorManagingOfficial", "party_kind": "person", "party_name": "Rui Costa"},
            "Name the organisation where they hold this role.",
        ),
    ],
)
def test_a_refused_tie_keeps_what_was_typed_with_the_reason(
    client, login_as, session, vendor, draft, stake, typed, message
):
    login_as(vendor)
    response = add(client, draft, note="Bought in March", **typed)

    assert response.status_code == 400
    page = text(response)
    assert f'<p class="error" role="alert">{message}</p>' in page
    for value in typed.values():
        if value and value not in ("shareholding", "entity", "person"):
            assert f'value="{value}"' in page or f">{value}<" in page
    assert "Bought in March" in page
    assert len(service.tie_views(session, draft)) == 1


def test_removing_a_tie(client, login_as, session, vendor, draft, stake):
    login_as(vendor)
    response = client.post(f"/disclosure/{draft.id}/ties/interest/{stake.id}/remove")
    assert response.status_code == 303
    assert session.get(Interest, stake.id) is None
    assert client.post(f"/disclosure/{draft.id}/ties/interest/{stake.id}/remove").status_code == 404
    assert client.post(f"/disclosure/{draft.id}/ties/bogus/1/remove").status_code == 404


@pytest.mark.parametrize(
    "typed, message",
    [
        ({"attest": None}, "Tick the box to attest that the disclosure is complete and true."),
        ({"attester_name": ""}, "Give the officer&#39;s name."),
    ],
)
def test_submitting_needs_the_attestation(client, login_as, session, vendor, draft, stake, typed, message):
    login_as(vendor)
    response = attest(client, draft, attester_title="Chief Executive", **typed)
    assert response.status_code == 400
    assert message in text(response)
    assert 'value="Chief Executive"' in text(response)
    assert session.get(DisclosureVersion, draft.id).status == DisclosureStatus.DRAFT


def test_an_empty_draft_is_not_submitted(client, login_as, session, vendor, draft):
    login_as(vendor)
    response = attest(client, draft)
    assert response.status_code == 400
    assert "Add your ties first" in text(response)


def test_a_filed_version_cannot_be_changed(client, login_as, session, vendor, draft, stake):
    login_as(vendor)
    assert attest(client, draft).status_code == 303

    edit = client.get(f"/disclosure/{draft.id}/edit")
    assert edit.status_code == 302 and edit.headers["Location"].endswith(f"/disclosure/{draft.id}")
    for response in (
        add(client, draft, party_name="Late Investor", share_exact="5"),
        client.post(f"/disclosure/{draft.id}/ties/interest/{stake.id}/remove"),
        attest(client, draft),
    ):
        assert response.status_code == 400
        assert "Version 1 is submitted: it can no longer change." in text(response)
    assert [t.party_name for t in service.tie_views(session, draft)] == ["Founder Fund"]


def test_only_one_draft_at_a_time(client, login_as, session, vendor, draft):
    login_as(vendor)
    response = client.post("/disclosure/new", follow_redirects=True)
    assert "Version 1 is already a draft" in text(response)
    assert "Continue draft version 1" in text(response)
    assert len(service.versions_of(session, vendor.org_id)) == 1


def test_the_vendor_sees_the_admins_reason_and_answers_with_a_new_version(client, login_as, session, vendor):
    admin = AdminFactory()
    first = file_version(session, vendor, tie(name="Founder Fund", share_exact=60.0))
    service.decide_version(session, admin, first.id, "changes_requested", "Name the owners of Founder Fund.")
    login_as(vendor)

    index = text(client.get("/disclosure/"))
    assert "Changes requested" in index and "Name the owners of Founder Fund." in index
    shown = text(client.get(f"/disclosure/{first.id}"))
    assert "Name the owners of Founder Fund." in shown and "Start a new version to answer" in shown
    notes = text(client.get("/notifications/"))
    assert "Changes requested on disclosure version 1" in notes and "Name the owners of Founder Fund." in notes

    started = client.post("/disclosure/new")
    second = service.draft_of(session, vendor.org_id)
    assert started.headers["Location"].endswith(f"/disclosure/{second.id}/edit")
    assert "Founder Fund" in text(client.get(started.headers["Location"]))
    assert add(client, second, party_name="Ana Founder", party_kind="person", share_exact="40").status_code == 303
    assert attest(client, second).status_code == 303
    service.decide_version(session, admin, second.id, "approved")

    index = text(client.get("/disclosure/"))
    assert "In force: version 2" in index
    assert "Stale" not in index


def test_an_approval_older_than_a_year_is_marked_stale(client, login_as, session, vendor):
    version = file_version(session, vendor, tie(share_exact=10.0))
    service.decide_version(session, AdminFactory(), version.id, "approved")
    version.decided_at = version.decided_at - timedelta(days=400)
    session.flush()
    login_as(vendor)
    page = text(client.get("/disclosure/"))
    assert "In force: version 1" in page
    assert "Stale: approved more than 12 months ago" in page
