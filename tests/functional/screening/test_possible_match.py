"""A rival's stake under a slightly different name: the possible-match finding, and an admin settling it."""

import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditRecord
from marketplace.disclosures.models import DisclosureVersion
from marketplace.parties.models import Interest, Party, PartyDistinction
from marketplace.screening.models import Rival, VerdictRecord
from marketplace.screening.services.refresh import refresh_verdicts
from tests.factories import AdminFactory, BuyerFactory, VendorFactory
from tests.functional.screening.test_policy import policy_form


def text(response) -> str:
    return response.get_data(as_text=True)


def party_named(session, name: str) -> Party:
    return session.execute(select(Party).where(Party.name == name, Party.merged_into_id.is_(None))).scalar_one()


@pytest.fixture
def story(client, login_as, session):
    """A vendor files "Halcyon Research GmbH" as its 30% owner; the lab names "Halcyon Research" as a rival."""
    vendor = VendorFactory(name="Ines Duarte")
    login_as(vendor)
    assert client.post("/disclosure/new").status_code == 303
    version = session.execute(select(DisclosureVersion)).scalar_one()
    added = client.post(
        f"/disclosure/{version.id}/ties",
        data={
            "kind": "shareholding",
            "party_kind": "entity",
            "party_name": "Halcyon Research GmbH",
            "share_exact": "30",
        },
    )
    assert added.status_code == 303
    filed = client.post(
        f"/disclosure/{version.id}/submit",
        data={"attester_name": "Ana Officer", "attester_title": "CEO", "attest": "y"},
    )
    assert filed.status_code == 303

    buyer = BuyerFactory(name="Maya Lab")
    login_as(buyer)
    assert client.post("/rivals", data={"name": "Halcyon Research"}).status_code == 303
    return vendor, buyer, version


def screening_page(client, login_as, buyer, vendor) -> str:
    login_as(buyer)
    return text(client.get(f"/vendors/{vendor.org_id}/screening"))


def test_the_lab_sees_a_possible_match_naming_both_parties(client, login_as, session, story):
    vendor, buyer, _ = story
    page = screening_page(client, login_as, buyer, vendor)
    assert "Possible match" in page
    assert "Halcyon Research GmbH may be Halcyon Research under another name" in page
    assert "100% alike" in page and "holds 30%" in page
    assert "an admin merges the two parties in the registry, or marks them as not the same" in page
    stored = session.execute(
        select(VerdictRecord).where(
            VerdictRecord.buyer_org_id == buyer.org_id, VerdictRecord.vendor_org_id == vendor.org_id
        )
    ).scalar_one()
    assert stored.verdict == "review"
    assert "possible_match" in {finding["rule"] for finding in stored.findings}


def test_marked_not_the_same_the_finding_is_gone_and_withdrawing_brings_it_back(client, login_as, session, story):
    vendor, buyer, _ = story
    variant, rival = party_named(session, "Halcyon Research GmbH"), party_named(session, "Halcyon Research")
    admin = login_as(AdminFactory())
    pair_page = text(client.get(f"/admin/parties/merge?keep={rival.id}&merge={variant.id}"))
    assert "Not the same party" in pair_page

    response = client.post(
        "/admin/parties/distinct",
        data={
            "first_id": rival.id,
            "second_id": variant.id,
            "reason": "German GmbH, HRB 1234; the rival is a US firm.",
        },
    )
    assert response.status_code == 303
    distinction = session.execute(select(PartyDistinction)).scalar_one()
    record = session.execute(select(AuditRecord).where(AuditRecord.action == "party.marked_distinct")).scalar_one()
    assert record.actor_id == admin.id and "HRB 1234" in str(record.after)
    assert "Possible match" not in screening_page(client, login_as, buyer, vendor)

    login_as(admin)
    shown = text(client.get(f"/admin/parties/{rival.id}"))
    assert 'data-testid="distinct-party"' in shown and "Halcyon Research GmbH" in shown
    assert client.post(f"/admin/parties/distinctions/{distinction.id}/withdraw").status_code == 303
    assert (
        session.execute(select(AuditRecord).where(AuditRecord.action == "party.distinction_withdrawn")).scalar_one()
        is not None
    )
    assert "Possible match" in screening_page(client, login_as, buyer, vendor)


def test_merged_the_stake_is_the_rivals_own_and_excludes(client, login_as, session, story):
    vendor, buyer, _ = story
    variant, rival = party_named(session, "Halcyon Research GmbH"), party_named(session, "Halcyon Research")
    login_as(AdminFactory())
    assert client.post("/admin/parties/merge", data={"keep_id": rival.id, "merge_id": variant.id}).status_code == 303
    page = screening_page(client, login_as, buyer, vendor)
    assert "Possible match" not in page
    assert "Excluded (ownership): Halcyon Research holds 30%" in page
    stored = session.execute(
        select(VerdictRecord).where(
            VerdictRecord.buyer_org_id == buyer.org_id, VerdictRecord.vendor_org_id == vendor.org_id
        )
    ).scalar_one()
    assert stored.verdict == "exclude"


def test_a_buyer_can_set_the_rule_to_exclude_or_ignore(client, login_as, session, story):
    vendor, buyer, _ = story
    login_as(buyer)
    assert client.post("/screening/policy", data=policy_form(possible_match_action="exclude")).status_code == 303
    assert "Excluded (possible match)" in screening_page(client, login_as, buyer, vendor)
    assert client.post("/screening/policy", data=policy_form(possible_match_action="ignore")).status_code == 303
    assert "Possible match" not in screening_page(client, login_as, buyer, vendor)


def test_a_lookalike_that_is_not_alike_enough_gives_no_finding(client, login_as, session, story):
    vendor, buyer, _ = story
    login_as(buyer)
    # "Halcyon Robotics" is not "Halcyon Research": naming it instead finds nothing.
    rival = session.execute(select(Rival)).scalar_one()
    assert client.post(f"/rivals/{rival.id}/remove").status_code == 303
    assert client.post("/rivals", data={"name": "Halcyon Robotics"}).status_code == 303
    page = screening_page(client, login_as, buyer, vendor)
    assert "Possible match" not in page and "Halcyon Robotics" not in page.split("Findings", 1)[-1]


def test_a_variant_with_no_tie_that_matters_gives_no_finding(client, login_as, session, story):
    vendor, buyer, _ = story
    # A 5% stake is below every threshold: were the two one party, nothing would be found.
    interest = session.execute(select(Interest)).scalar_one()
    interest.share_exact = 5.0
    session.flush()
    refresh_verdicts(session, buyer)
    assert "Possible match" not in screening_page(client, login_as, buyer, vendor)


def test_the_admins_review_page_warns_that_approving_would_clear_through_the_match(client, login_as, session, story):
    vendor, buyer, version = story
    variant, rival = party_named(session, "Halcyon Research GmbH"), party_named(session, "Halcyon Research")
    login_as(AdminFactory())
    page = text(client.get(f"/admin/disclosures/{version.id}"))
    assert 'data-testid="match-warning"' in page
    assert "Approving would clear this vendor for " in page
    assert "but for an unsettled likely match: Halcyon Research GmbH may be Halcyon Research, a rival of" in page
    assert f"/admin/parties/merge?keep={rival.id}&amp;merge={variant.id}#not-the-same" in page
    admin_view = text(client.get(f"/vendors/{vendor.org_id}/screening", query_string={"buyer": buyer.org_id}))
    assert 'data-testid="settle-match"' in admin_view
    assert 'data-testid="settle-match"' not in screening_page(client, login_as, buyer, vendor)


def test_no_warning_once_settled(client, login_as, session, story):
    vendor, buyer, version = story
    variant, rival = party_named(session, "Halcyon Research GmbH"), party_named(session, "Halcyon Research")
    login_as(AdminFactory())
    client.post(
        "/admin/parties/distinct",
        data={"first_id": rival.id, "second_id": variant.id, "reason": "Different registers."},
    )
    assert 'data-testid="match-warning"' not in text(client.get(f"/admin/disclosures/{version.id}"))


def test_a_lab_naming_the_other_spelling_gets_its_own_finding_and_the_first_lab_keeps_the_match(
    client, login_as, session, story
):
    vendor, buyer, _ = story
    other = BuyerFactory(name="Theo Other Lab")
    login_as(other)
    found = session.execute(select(Party).where(Party.name == "Halcyon Research GmbH")).scalar_one()
    assert client.post("/rivals", data={"party_id": found.id}).status_code == 303
    theirs = screening_page(client, login_as, other, vendor)
    assert "Excluded (ownership): Halcyon Research GmbH holds 30%" in theirs and "Possible match" not in theirs
    ours = screening_page(client, login_as, buyer, vendor)
    assert "Halcyon Research GmbH may be Halcyon Research under another name" in ours
    assert "Excluded (ownership)" not in ours.split("Were they one party", 1)[0]


def test_a_lab_may_waive_a_possible_match(client, login_as, session, story):
    vendor, buyer, _ = story
    rival = party_named(session, "Halcyon Research")
    login_as(buyer)
    response = client.post(
        f"/vendors/{vendor.org_id}/waivers",
        data={"rule": "possible_match", "rival_party_id": str(rival.id), "reason": "We know the GmbH: another firm."},
    )
    assert response.status_code == 303
    assert 'data-testid="waived"' in screening_page(client, login_as, buyer, vendor)
