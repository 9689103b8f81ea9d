"""A party likely to be a member of a rival's group under another name: the possible-match finding, and settling it.

Rival "Cobalt Social" holds 100% of "Cobalt Ventures Ltd"; a vendor files "Cobalt Ventures GmbH" as its 30% owner.
"""

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.parties.matching import LIKELY_AT, similarity
from marketplace.parties.models import Interest, Party
from marketplace.screening.commands import screen_command
from marketplace.screening.models import VerdictRecord
from marketplace.screening.services import screen as service
from marketplace.screening.services.refresh import refresh_verdicts
from tests.factories import AdminFactory, BuyerFactory, InterestFactory, PartyFactory, VendorFactory
from tests.functional.screening.test_possible_match import party_named, screening_page, text


def file_owner(client, login_as, session, vendor, name: str, share: str) -> None:
    """The vendor files `name` as its owner of `share` percent, and submits the disclosure."""
    from marketplace.disclosures.models import DisclosureVersion

    login_as(vendor)
    assert client.post("/disclosure/new").status_code == 303
    version = session.execute(select(DisclosureVersion)).scalar_one()
    added = client.post(
        f"/disclosure/{version.id}/ties",
        data={
            "kind": "shareholding",
            "party_kind": "entity",
            "party_name": name,
            "share_exact": share,
            "new_party": "y",
        },
    )
    assert added.status_code == 303
    filed = client.post(
        f"/disclosure/{version.id}/submit",
        data={"attester_name": "Ana Officer", "attester_title": "CEO", "attest": "y"},
    )
    assert filed.status_code == 303


def name_rival(client, login_as, buyer, rival: Party) -> None:
    login_as(buyer)
    assert client.post("/rivals", data={"party_id": rival.id}).status_code == 303


def make_story(client, login_as, session, member_name: str = "Cobalt Ventures Ltd", held: float = 100.0):
    rival = PartyFactory(name="Cobalt Social")
    member = PartyFactory(name=member_name)
    InterestFactory(interested_party_id=rival.id, subject_party_id=member.id, share_exact=held)
    session.flush()
    vendor = VendorFactory(name="Ines Duarte")
    file_owner(client, login_as, session, vendor, "Cobalt Ventures GmbH", "30")
    buyer = BuyerFactory(name="Maya Lab")
    name_rival(client, login_as, buyer, rival)
    return vendor, buyer, rival, member


@pytest.fixture
def story(client, login_as, session):
    return make_story(client, login_as, session)


def org(session, user) -> Organization:
    return session.get(Organization, user.org_id)


def stored(session, buyer, vendor) -> VerdictRecord:
    return session.execute(
        select(VerdictRecord).where(
            VerdictRecord.buyer_org_id == buyer.org_id, VerdictRecord.vendor_org_id == vendor.org_id
        )
    ).scalar_one()


def test_the_lab_sees_a_possible_match_with_a_member_of_the_rivals_group(client, login_as, session, story):
    vendor, buyer, rival, member = story
    page = screening_page(client, login_as, buyer, vendor)
    assert "Possible match" in page
    assert "Cobalt Ventures GmbH may be Cobalt Ventures Ltd under another name" in page
    assert "100% alike" in page
    assert "Cobalt Ventures Ltd belongs to Cobalt Social&#39;s group (controlled by Cobalt Social)" in page
    assert "holds 30%" in page
    assert "an admin merges the two parties in the registry, or marks them as not the same" in page
    record = stored(session, buyer, vendor)
    assert record.verdict == "review"
    [match] = [f for f in record.findings if f["rule"] == "possible_match"]
    variant = party_named(session, "Cobalt Ventures GmbH")
    assert (match["rival_party_id"], match["matched_party_id"], match["matched_as_party_id"]) == (
        rival.id,
        variant.id,
        member.id,
    )
    # The vendor alone (what decides its access) and the batch agree.
    assert service.verdicts_for_vendor(session, org(session, vendor))[buyer.org_id].value == "review"
    batch = service.screenings_for_buyer(session, buyer.org_id, [org(session, vendor)])[vendor.org_id]
    alone = service.screen_vendor(session, buyer.org_id, org(session, vendor))
    assert [f.as_dict() for f in batch.findings] == [f.as_dict() for f in alone.findings]
    # An admin is sent to settle the variant against the member, not the rival.
    login_as(AdminFactory())
    admin_view = text(client.get(f"/vendors/{vendor.org_id}/screening", query_string={"buyer": buyer.org_id}))
    assert f"keep={member.id}&amp;merge={variant.id}" in admin_view


def test_the_flask_screen_command_names_the_member(app, session, story):
    vendor, _, _, _ = story
    result = app.test_cli_runner().invoke(
        screen_command, ["--vendor", org(session, vendor).name, "--rival", "Cobalt Social"]
    )
    assert result.exit_code == 0, result.output
    assert "Cobalt Ventures GmbH may be Cobalt Ventures Ltd under another name" in result.output
    assert "belongs to Cobalt Social's group" in result.output


def test_a_member_whose_name_is_not_alike_enough_gives_no_finding(client, login_as, session):
    assert similarity("Cobalt Venture Partners Ltd", "Cobalt Ventures GmbH") < LIKELY_AT
    vendor, buyer, _, _ = make_story(client, login_as, session, member_name="Cobalt Venture Partners Ltd")
    page = screening_page(client, login_as, buyer, vendor)
    assert "Possible match" not in page
    assert stored(session, buyer, vendor).verdict == "clear" or "possible_match" not in {
        f["rule"] for f in stored(session, buyer, vendor).findings
    }


def test_a_variant_of_a_company_the_rival_holds_only_20_percent_of_gives_no_finding(client, login_as, session):
    vendor, buyer, _, _ = make_story(client, login_as, session, held=20.0)
    page = screening_page(client, login_as, buyer, vendor)
    assert "Possible match" not in page
    assert "possible_match" not in {f["rule"] for f in stored(session, buyer, vendor).findings}


def test_marked_not_the_same_the_finding_is_gone(client, login_as, session, story):
    vendor, buyer, _, member = story
    variant = party_named(session, "Cobalt Ventures GmbH")
    login_as(AdminFactory())
    response = client.post(
        "/admin/parties/distinct",
        data={"first_id": member.id, "second_id": variant.id, "reason": "GmbH in Berlin, HRB 99; not the rival's Ltd."},
    )
    assert response.status_code == 303
    assert "Possible match" not in screening_page(client, login_as, buyer, vendor)
    assert "possible_match" not in {f["rule"] for f in stored(session, buyer, vendor).findings}
    assert service.verdicts_for_vendor(session, org(session, vendor))[buyer.org_id].value != "exclude"


def test_merged_into_the_member_the_stake_is_the_groups_and_excludes(client, login_as, session, story):
    vendor, buyer, _, member = story
    variant = party_named(session, "Cobalt Ventures GmbH")
    login_as(AdminFactory())
    assert client.post("/admin/parties/merge", data={"keep_id": member.id, "merge_id": variant.id}).status_code == 303
    page = screening_page(client, login_as, buyer, vendor)
    assert "Possible match" not in page
    assert "Excluded (ownership): Cobalt Social" in page
    assert stored(session, buyer, vendor).verdict == "exclude"
    assert service.verdicts_for_vendor(session, org(session, vendor))[buyer.org_id].value == "exclude"


def test_a_variant_already_in_the_group_gives_its_real_finding_only(client, login_as, session, story):
    vendor, buyer, rival, _ = story
    variant = party_named(session, "Cobalt Ventures GmbH")
    InterestFactory(interested_party_id=rival.id, subject_party_id=variant.id, share_exact=60.0)
    session.flush()
    refresh_verdicts(session, buyer)
    page = screening_page(client, login_as, buyer, vendor)
    assert "Possible match" not in page
    assert "Excluded (ownership): Cobalt Social" in page


def test_a_stake_below_every_threshold_gives_no_finding(client, login_as, session, story):
    vendor, buyer, _, _ = story
    variant = party_named(session, "Cobalt Ventures GmbH")
    interest = session.execute(select(Interest).where(Interest.interested_party_id == variant.id)).scalar_one()
    interest.share_exact = 5.0
    session.flush()
    refresh_verdicts(session, buyer)
    assert "Possible match" not in screening_page(client, login_as, buyer, vendor)
