"""`flask screen`: any party of the graph against named rivals, as a report or as one JSON object."""

import json
from datetime import date

import pytest

from marketplace.db_types import utcnow
from marketplace.disclosures.models import DisclosureStatus
from marketplace.screening.commands import screen_command
from tests.factories import DisclosureFactory, InterestFactory, PartyFactory, VendorOrgFactory


@pytest.fixture
def graph(session):
    """Cobalt Social owns Cobalt Holdings, which has held 49% of Labelworks GmbH (no platform vendor) since
    2024-01-01 and 15% of Scalewise Data (a platform vendor with an approved disclosure)."""
    cobalt = PartyFactory(name="Cobalt Social", bods_record_id="gb-coh-cobalt-social")
    holdings = PartyFactory(name="Cobalt Holdings")
    labelworks = PartyFactory(name="Labelworks GmbH")
    scalewise = VendorOrgFactory(name="Scalewise Data")
    DisclosureFactory(vendor_org_id=scalewise.id, number=1, status=DisclosureStatus.APPROVED, decided_at=utcnow())
    InterestFactory(interested_party_id=cobalt.id, subject_party_id=holdings.id, share_exact=100.0)
    InterestFactory(
        interested_party_id=holdings.id, subject_party_id=labelworks.id, share_exact=49.0, start_date=date(2024, 1, 1)
    )
    InterestFactory(interested_party_id=holdings.id, subject_party_id=scalewise.party_id, share_exact=15.0)
    PartyFactory(name="Quill Labs")
    return cobalt


@pytest.fixture
def screen(app):
    runner = app.test_cli_runner()

    def _screen(*args: str):
        return runner.invoke(screen_command, list(args))

    return _screen


def as_json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_names_the_verdict_the_stake_and_the_route(screen, graph):
    report = as_json(screen("--vendor", "labelworks gmbh", "--rival", "Cobalt Social", "--json"))

    assert report["vendor"] == "Labelworks GmbH" and report["as_of"] == utcnow().date().isoformat()
    assert report["verdict"] == "exclude"
    assert report["rivals"] == [{"rival": "Cobalt Social", "verdict": "exclude", "stake": {"low": 49.0, "high": 49.0}}]
    ownership = next(f for f in report["findings"] if f["rule"] == "ownership")
    assert ownership["verdict"] == "exclude" and ownership["rival"] == "Cobalt Social"
    assert ownership["stake"] == {"low": 49.0, "high": 49.0}
    assert ["Cobalt Social", "Cobalt Holdings", "Labelworks GmbH"] in ownership["paths"]
    assert "Cobalt Social" in ownership["explanation"]
    assert set(ownership) == {"rule", "verdict", "rival", "stake", "explanation", "paths"}


def test_the_readable_report_has_the_verdict_the_stakes_and_the_routes(screen, graph):
    result = screen("--vendor", "Labelworks GmbH", "--rival", "Cobalt Social", "--rival", "Quill Labs")

    assert result.exit_code == 0, result.output
    assert "Labelworks GmbH" in result.output and "EXCLUDE" in result.output
    assert "Cobalt Social: exclude, stake 49%" in result.output
    assert "Quill Labs: clear, stake 0%" in result.output
    assert "Cobalt Social → Cobalt Holdings → Labelworks GmbH" in result.output


def test_before_the_interest_started_the_party_is_clear(screen, graph):
    report = as_json(
        screen("--vendor", "Labelworks GmbH", "--rival", "Cobalt Social", "--as-of", "2023-12-31", "--json")
    )

    assert report["as_of"] == "2023-12-31"
    assert report["verdict"] == "clear" and report["findings"] == []
    assert report["rivals"][0]["stake"] == {"low": 0.0, "high": 0.0}


def test_a_rival_can_be_named_by_its_bods_record_id(screen, graph):
    report = as_json(screen("--vendor", "Labelworks GmbH", "--rival", "gb-coh-cobalt-social", "--json"))
    assert report["rivals"][0]["rival"] == "Cobalt Social" and report["verdict"] == "exclude"


@pytest.mark.parametrize(
    "flags, verdict",
    [
        ((), "review"),
        (("--review-at", "20"), "clear"),
        (("--exclude-at", "15"), "exclude"),
    ],
)
def test_the_threshold_flags_change_the_verdict(screen, graph, flags, verdict):
    report = as_json(screen("--vendor", "Scalewise Data", "--rival", "Cobalt Social", "--json", *flags))
    assert report["verdict"] == verdict
    assert report["rivals"][0]["stake"] == {"low": 15.0, "high": 15.0}


def test_a_platform_vendor_without_an_approved_disclosure_is_unverified(screen, graph):
    VendorOrgFactory(name="Newcomer")
    report = as_json(screen("--vendor", "Newcomer", "--rival", "Cobalt Social", "--json"))
    assert report["verdict"] == "review"
    assert [f["rule"] for f in report["findings"]] == ["unverified"]
    assert report["findings"][0]["rival"] is None and report["findings"][0]["stake"] is None


@pytest.mark.parametrize(
    "args, name",
    [
        (("--vendor", "Nobody Ltd", "--rival", "Cobalt Social"), "Nobody Ltd"),
        (("--vendor", "Labelworks GmbH", "--rival", "Cobalt Social", "--rival", "Ghost Corp"), "Ghost Corp"),
    ],
)
def test_an_unknown_name_is_a_usage_error_naming_it(screen, graph, args, name):
    result = screen(*args)
    assert result.exit_code == 2
    assert name in result.stderr and result.stdout == ""


def test_a_merged_party_is_not_found_by_its_old_name(screen, graph, session):
    old = PartyFactory(name="Cobalt Social Media", merged_into_id=graph.id)
    assert old.merged_into_id == graph.id
    result = screen("--vendor", "Labelworks GmbH", "--rival", "Cobalt Social Media")
    assert result.exit_code == 2 and "Cobalt Social Media" in result.stderr


def test_rescreen_stores_every_pair_and_reports_changes(app, session):
    from marketplace.screening.models import VerdictRecord
    from tests.factories import BuyerOrgFactory, VendorOrgFactory

    BuyerOrgFactory()
    VendorOrgFactory()
    result = app.test_cli_runner().invoke(args=["rescreen"])
    assert result.exit_code == 0, result.output
    assert "verdict(s) changed" in result.output
    assert session.query(VerdictRecord).count() >= 1


def test_a_rival_under_another_spelling_is_a_possible_match(screen, graph, session):
    """Cobalt Social, Inc. holds 30% of Quartz Data; naming Cobalt Social finds the stake as a possible match."""
    variant = PartyFactory(name="COBALT SOCIAL, INC.")
    quartz = PartyFactory(name="Quartz Data")
    InterestFactory(interested_party_id=variant.id, subject_party_id=quartz.id, share_exact=30.0)
    report = as_json(screen("--vendor", "Quartz Data", "--rival", "Cobalt Social", "--json"))
    assert report["verdict"] == "review"
    assert [f["rule"] for f in report["findings"]] == ["possible_match"]
    assert "COBALT SOCIAL, INC. may be Cobalt Social under another name" in report["findings"][0]["explanation"]
    # The rival's own line agrees with the verdict it causes (it said "clear" before).
    assert report["rivals"] == [{"rival": "Cobalt Social", "verdict": "review", "stake": {"low": 0.0, "high": 0.0}}]
