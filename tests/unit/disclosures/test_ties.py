"""Adding ties to a draft: every refusal, and what a tie becomes in the graph."""

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.disclosures import service
from marketplace.disclosures.service import DisclosureError
from marketplace.parties.models import CommercialTie, Interest, Party, TieOrigin, VerificationLevel
from marketplace.visibility import NotVisible
from tests.factories import PartyFactory, VendorFactory
from tests.unit.disclosures.helpers import tie


def refusal(session, vendor, draft, typed):
    with pytest.raises(DisclosureError) as raised:
        service.add_tie(session, vendor, draft.id, typed)
    return str(raised.value), raised.value.field


def test_a_shareholding_becomes_a_self_declared_interest_in_the_vendor(session, vendor, draft):
    row = service.add_tie(session, vendor, draft.id, tie(share_exact=49.0, start_date=date(2024, 3, 1)))

    vendor_party_id = session.get(Organization, vendor.org_id).party_id
    assert isinstance(row, Interest)
    assert row.subject_party_id == vendor_party_id
    assert row.interest_type == "shareholding"
    assert row.share_exact == 49.0
    assert row.origin == TieOrigin.DISCLOSURE and row.disclosure_id == draft.id
    assert row.verification_level == VerificationLevel.SELF_DECLARED
    assert session.get(Party, row.interested_party_id).name == "Cobalt Social"


def test_a_tie_names_an_existing_party_by_its_normalised_name(session, vendor, draft):
    cobalt = PartyFactory(name="Cobalt Social")
    row = service.add_tie(session, vendor, draft.id, tie(name="  cobalt   SOCIAL ", share_exact=5.0))
    assert row.interested_party_id == cobalt.id


@pytest.mark.parametrize(
    "existing, typed, total",
    [
        ([60.0], {"share_exact": 52.0}, "112%"),
        ([60.0], {"share_min": 45.0, "share_max": 50.0}, "105%"),
        ([{"share_min": 70.0, "share_max": 80.0}], {"share_exact": 40.0}, "110%"),
        ([33.3, 33.3], {"share_exact": 33.5}, "100.1%"),
    ],
)
def test_shareholdings_may_not_add_up_to_more_than_100_percent(session, vendor, draft, existing, typed, total):
    for index, share in enumerate(existing):
        shares = share if isinstance(share, dict) else {"share_exact": share}
        service.add_tie(session, vendor, draft.id, tie(name=f"Holder {index}", **shares))

    message, field = refusal(session, vendor, draft, tie(name="Newcomer", **typed))

    assert message == f"Shareholdings would add up to {total}, more than 100%."
    assert field == ("share_exact" if "share_exact" in typed else "share_min")


def test_the_total_counts_the_low_ends_of_ranges_so_wide_ranges_fit(session, vendor, draft):
    service.add_tie(session, vendor, draft.id, tie(name="Founder", share_exact=60.0))
    service.add_tie(session, vendor, draft.id, tie(name="Fund", share_min=30.0, share_max=80.0))
    service.add_tie(session, vendor, draft.id, tie(name="Staff pool", share_min=10.0, share_max=40.0))
    service.add_tie(session, vendor, draft.id, tie(name="Unknown holder"))  # no share: counts 0

    assert len(service.tie_views(session, draft)) == 4


def test_shares_add_up_per_kind_and_former_holders_do_not_count(session, vendor, draft):
    service.add_tie(session, vendor, draft.id, tie(name="Founder", share_exact=70.0))
    service.add_tie(session, vendor, draft.id, tie("votingRights", name="Fund", share_exact=70.0))
    yesterday = date.today() - timedelta(days=1)
    service.add_tie(
        session,
        vendor,
        draft.id,
        tie(name="Old fund", share_exact=30.0, start_date=date(2019, 1, 1), end_date=yesterday),
    )

    service.add_tie(session, vendor, draft.id, tie(name="Angel", share_exact=30.0))

    message, _ = refusal(session, vendor, draft, tie("votingRights", name="Angel", share_exact=31.0))
    assert message == "Voting rights would add up to 101%, more than 100%."


@pytest.mark.parametrize(
    "typed, field, message",
    [
        ({"share_exact": 120.0}, "share_exact", "A share is between 0 and 100%; 120% is not."),
        ({"share_min": -5.0}, "share_min", "A share is between 0 and 100%; -5% is not."),
        (
            {"share_min": 10.0, "share_max": 100.5},
            "share_max",
            "A share is between 0 and 100%; 100.5% is not.",
        ),
        (
            {"share_min": 60.0, "share_max": 40.0},
            "share_min",
            "The minimum (60%) is above the maximum (40%).",
        ),
        (
            {"share_exact": 20.0, "share_max": 40.0},
            "share_exact",
            "Give either an exact share or a range, not both.",
        ),
        (
            {"start_date": date(2024, 5, 1), "end_date": date(2024, 4, 30)},
            "end_date",
            "The end date is before the start date.",
        ),
        ({"party_kind": "robot"}, "party_kind", "Say whether this is a person or an organisation."),
    ],
)
def test_refusals_name_their_field(session, vendor, draft, typed, field, message):
    assert refusal(session, vendor, draft, tie(**typed)) == (message, field)


def test_a_tie_must_name_someone_other_than_the_vendor(session, vendor, draft):
    org = session.get(Organization, vendor.org_id)
    assert refusal(session, vendor, draft, tie(name="")) == ("Name the person or organisation.", "party_name")
    assert refusal(session, vendor, draft, tie(name=org.name.upper(), share_exact=10.0)) == (
        f"Name someone other than {org.name} itself.",
        "party_name",
    )


def test_shares_only_on_shareholdings_and_voting_rights(session, vendor, draft):
    assert refusal(session, vendor, draft, tie("boardMember", share_exact=10.0)) == (
        "A share applies only to shareholdings and voting rights.",
        "share_exact",
    )


def test_key_people_are_people_with_their_roles_elsewhere(session, vendor, draft):
    assert (
        refusal(session, vendor, draft, tie("seniorManagingOfficial", name="Rui Costa", party_kind="entity"))[1]
        == "party_kind"
    )
    service.add_tie(session, vendor, draft.id, tie("seniorManagingOfficial", name="Rui Costa", role_title="CTO"))
    assert refusal(session, vendor, draft, tie("elsewhere:seniorManagingOfficial", name="Rui Costa")) == (
        "Name the organisation where they hold this role.",
        "other_org",
    )

    row = service.add_tie(
        session,
        vendor,
        draft.id,
        tie(
            "elsewhere:seniorManagingOfficial",
            name="Rui Costa",
            other_org="Cobalt Social",
            role_title="VP Data",
            start_date=date(2019, 1, 1),
            end_date=date(2023, 6, 30),
        ),
    )

    assert session.get(Party, row.subject_party_id).name == "Cobalt Social"
    people = next(
        ties for section, ties in service.by_section(service.tie_views(session, draft)) if section.code == "people"
    )
    assert [(t.kind, t.party_name, t.subject_name if t.subject_key else "", t.role_title) for t in people] == [
        ("seniorManagingOfficial", "Rui Costa", "", "CTO"),
        ("elsewhere:seniorManagingOfficial", "Rui Costa", "Cobalt Social", "VP Data"),
    ]
    assert people[1].dates_text == "2019-01-01 – 2023-06-30"


def test_customers_need_a_revenue_share_that_fits_within_100_percent(session, vendor, draft):
    assert refusal(session, vendor, draft, tie("customer", revenue_share_pct=None)) == (
        "Give the share of your revenue that comes from this customer.",
        "revenue_share_pct",
    )
    row = service.add_tie(session, vendor, draft.id, tie("customer", revenue_share_pct=70.0))
    assert isinstance(row, CommercialTie) and row.kind == "customer" and row.revenue_share_pct == 70.0
    assert refusal(session, vendor, draft, tie("customer", name="Other lab", revenue_share_pct=40.0)) == (
        "Revenue shares would add up to 110%, more than 100%.",
        "revenue_share_pct",
    )
    assert refusal(session, vendor, draft, tie("investor", revenue_share_pct=5.0))[1] == "revenue_share_pct"


def test_an_unknown_kind_is_refused(session, vendor, draft):
    typed = service.TieInput(kind="bribery", party_name="X")
    assert refusal(session, vendor, draft, typed) == ("Choose what kind of tie this is.", "kind")


def test_removing_a_tie_leaves_the_others(session, vendor, draft):
    kept = service.add_tie(session, vendor, draft.id, tie(name="Founder", share_exact=60.0))
    gone = service.add_tie(session, vendor, draft.id, tie("lender", name="Big Bank"))

    service.remove_tie(session, vendor, draft.id, "commercial", gone.id)

    assert [t.id for t in service.tie_views(session, draft)] == [kept.id]
    with pytest.raises(NotVisible):
        service.remove_tie(session, vendor, draft.id, "commercial", gone.id)
    with pytest.raises(NotVisible):
        service.remove_tie(session, vendor, draft.id, "parties", kept.id)


def test_another_vendors_draft_is_not_found(session, vendor, draft):
    other = VendorFactory()
    with pytest.raises(NotVisible):
        service.add_tie(session, other, draft.id, tie(share_exact=10.0))
    row = service.add_tie(session, vendor, draft.id, tie(share_exact=10.0))
    with pytest.raises(NotVisible):
        service.remove_tie(session, other, draft.id, "interest", row.id)
    assert session.execute(select(Interest).where(Interest.id == row.id)).scalar_one()
