"""An updated stake counts from its own start: versions of one relationship, imported from BODS or stated by
several sources, screened at dates before, on and after the change (`flask screen`)."""

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from marketplace.disclosures.models import DisclosureStatus
from marketplace.parties.bods import import_bods, read_statements
from marketplace.parties.models import TieOrigin, VerificationLevel
from marketplace.screening.commands import screen_command
from tests.factories import DisclosureFactory, InterestFactory, PartyFactory, VendorOrgFactory

OFFICIAL = Path(__file__).resolve().parents[2] / "data" / "bods" / "official"


@pytest.fixture
def screen(app):
    runner = app.test_cli_runner()

    def _screen(vendor: str, *rivals: str, as_of: str) -> dict:
        args = ["--vendor", vendor, "--as-of", as_of, "--json"]
        for rival in rivals:
            args += ["--rival", rival]
        result = runner.invoke(screen_command, args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    return _screen


def stakes(report: dict) -> dict[str, tuple[float, float]]:
    return {r["rival"]: (r["stake"]["low"], r["stake"]["high"]) for r in report["rivals"]}


def ownership(report: dict, rival: str) -> dict | None:
    return next((f for f in report["findings"] if f["rule"] == "ownership" and f["rival"] == rival), None)


@pytest.mark.parametrize(
    ("as_of", "maria", "shear"),
    [
        ("2021-01-01", 100.0, None),
        ("2022-01-01", 40.0, 60.0),
        ("2022-12-01", 30.0, 70.0),
        ("2023-06-01", 0.0, 80.0),  # Maria Esteves's record was closed on 2023-03-03
    ],
)
def test_the_official_tecido_example_gives_each_dates_own_stakes(session, screen, as_of, maria, shear):
    path = OFFICIAL / "tecido.json"
    import_bods(session, None, read_statements(path), path.name)

    found = stakes(screen("Tecido Ltd", "Maria Esteves", "Shear Trust", as_of=as_of))

    assert found["Maria Esteves"] == (maria, maria)
    assert found["Shear Trust"] == ((shear, shear) if shear is not None else (0.0, 0.0))


def _statements(later: float, start: str | None) -> list[dict]:
    def entity(record: str, name: str) -> dict:
        return {
            "statementId": f"{record}-entity-statement-000000000000000000",
            "statementDate": "2024-01-01",
            "recordId": record,
            "recordType": "entity",
            "recordStatus": "new",
            "declarationSubject": record,
            "recordDetails": {"isComponent": False, "entityType": {"type": "registeredEntity"}, "name": name},
        }

    def holding(share: float, status: str, statement: str, on: str, since: str | None) -> dict:
        interest = {"type": "shareholding", "share": {"exact": share}, "directOrIndirect": "direct"}
        if since:
            interest["startDate"] = since
        return {
            "statementId": statement,
            "statementDate": on,
            "recordId": "rel-cobalt-quill",
            "recordType": "relationship",
            "recordStatus": status,
            "declarationSubject": "quill",
            "recordDetails": {
                "isComponent": False,
                "subject": "quill",
                "interestedParty": "cobalt",
                "interests": [interest],
            },
        }

    return [
        entity("quill", "Quill Labs"),
        entity("cobalt", "Cobalt Social"),
        holding(75.0, "new", "rel-cobalt-quill-first-000000000000000000", "2024-01-01", "2024-01-01"),
        holding(later, "updated", "rel-cobalt-quill-second-00000000000000000", "2026-06-01", start),
    ]


@pytest.mark.parametrize(
    ("later", "start", "from_day"),
    [
        (20.0, "2026-06-01", "2026-06-01"),
        (5.0, "2026-06-01", "2026-06-01"),
        (20.0, None, "2026-06-01"),  # no start date: from the statement's date
        (20.0, "2026-06-02", "2026-06-02"),  # a start one day after the statement
    ],
)
def test_an_updated_stake_replaces_the_earlier_one_from_its_start(session, screen, tmp_path, later, start, from_day):
    path = tmp_path / "update.json"
    path.write_text(json.dumps(_statements(later, start)))
    import_bods(session, None, read_statements(path), path.name)

    before = screen("Quill Labs", "Cobalt Social", as_of="2026-05-31")
    assert stakes(before)["Cobalt Social"] == (75.0, 75.0)
    assert before["verdict"] == "exclude"

    on = screen("Quill Labs", "Cobalt Social", as_of=from_day)
    assert stakes(on)["Cobalt Social"] == (later, later)

    after = screen("Quill Labs", "Cobalt Social", as_of="2026-07-01")
    assert stakes(after)["Cobalt Social"] == (later, later)
    assert after["verdict"] == ("review" if later >= 10 else "clear")
    finding = ownership(after, "Cobalt Social")
    if later >= 10:
        assert f"{later:g}%" in finding["explanation"] and "2026-06-01" in finding["explanation"]
        assert "75%" not in finding["explanation"]
    else:
        assert finding is None


def test_a_vendor_cannot_lower_a_verified_stake_in_an_unreviewed_version_but_a_newer_filing_can(session, screen):
    vendor = VendorOrgFactory(name="Scalewise Data")
    cobalt = PartyFactory(name="Cobalt Social")
    approved = DisclosureFactory(vendor_org_id=vendor.id, number=1, status=DisclosureStatus.APPROVED)
    pending = DisclosureFactory(vendor_org_id=vendor.id, number=2, status=DisclosureStatus.SUBMITTED)
    for version, share, level in (
        (approved, 30.0, VerificationLevel.ADMIN_VERIFIED),
        (pending, 12.0, VerificationLevel.SELF_DECLARED),
    ):
        InterestFactory(
            interested_party_id=cobalt.id,
            subject_party_id=vendor.party_id,
            share_exact=share,
            origin=TieOrigin.DISCLOSURE,
            disclosure_id=version.id,
            verification_level=level,
            start_date=date(2024, 1, 1),
            recorded_at=datetime(2025, 1, 10, tzinfo=UTC),
        )

    assert stakes(screen("Scalewise Data", "Cobalt Social", as_of="2026-07-01"))["Cobalt Social"] == (30.0, 30.0)

    # A registry filing dated after the approved figure is a newer checked figure: it counts from its date.
    InterestFactory(
        interested_party_id=cobalt.id,
        subject_party_id=vendor.party_id,
        share_exact=8.0,
        origin=TieOrigin.ADMIN_FACT,
        verification_level=VerificationLevel.OFFICIAL_REGISTER,
        source_date=date(2026, 3, 1),
        start_date=date(2026, 3, 1),
    )

    assert stakes(screen("Scalewise Data", "Cobalt Social", as_of="2026-02-01"))["Cobalt Social"] == (30.0, 30.0)
    # The pending 12% now raises the registry's 8%: it is the vendor's own newer word, above the checked figure.
    report = screen("Scalewise Data", "Cobalt Social", as_of="2026-07-01")
    assert stakes(report)["Cobalt Social"] == (12.0, 12.0)
    assert "v2 disclosure" in ownership(report, "Cobalt Social")["explanation"]
