"""`flask bods import FILE...` and `flask bods export --vendor NAME`."""

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow
from marketplace.parties.bods_export import schema_errors
from marketplace.parties.models import CommercialKind, CommercialTie, Interest, Party, PartyIdentifier, TieOrigin
from tests.factories import InterestFactory, PartyFactory, VendorOrgFactory

DATA = Path(__file__).resolve().parents[2] / "data" / "bods"
OFFICIAL = DATA / "official"


PUBLICATION = {"publicationDate": "2024-01-02", "bodsVersion": "0.4", "publisher": {"name": "Test publisher"}}


@pytest.fixture
def bods(app):
    """Run `flask bods ...` against the test's own transaction."""

    def _run(*args):
        return app.test_cli_runner().invoke(args=["bods", *[str(a) for a in args]])

    return _run


def counts(session):
    return tuple(
        session.execute(select(func.count()).select_from(model)).scalar_one()
        for model in (Party, Interest, PartyIdentifier)
    )


def entity(record_id, name):
    return {
        "statementId": f"{record_id}-0000000000000000000000000000000",
        "statementDate": "2024-01-01",
        "recordId": record_id,
        "recordType": "entity",
        "recordStatus": "new",
        "declarationSubject": record_id,
        "publicationDetails": PUBLICATION,
        "recordDetails": {"isComponent": False, "entityType": {"type": "registeredEntity"}, "name": name},
    }


def test_import_prints_one_summary_line_per_file(bods, session):
    before = counts(session)
    result = bods("import", OFFICIAL / "tecido.json", DATA / "legacy-0.2.json")

    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "tecido.json: 11 statements; parties 3 added, 0 updated; interests 15 added, 13 ended; 0 skipped.",
        "legacy-0.2.json: 8 statements; parties 4 added, 1 updated; interests 8 added, 2 ended; 0 skipped.",
    ]
    assert counts(session) == (before[0] + 7, before[1] + 23, before[2] + 4)
    actions = session.execute(select(AuditRecord.action).order_by(AuditRecord.id.desc()).limit(2)).scalars()
    assert list(actions) == ["bods.imported", "bods.imported"]


def test_importing_again_changes_nothing(bods, session):
    files = sorted(OFFICIAL.glob("*.json"))
    assert bods("import", *files).exit_code == 0
    before = counts(session)

    again = bods("import", *files)

    assert again.exit_code == 0
    assert counts(session) == before
    assert all("parties 0 added, 0 updated; interests 0 added, 0 ended" in line for line in again.stdout.splitlines())


def test_a_malformed_file_is_refused_with_status_2_and_nothing_written(bods, session, tmp_path):
    # Two valid entities, then a relationship whose share is not a percentage: nothing of the file may stay.
    broken = tmp_path / "broken.json"
    bad_relationship = {
        **entity("rel", "x"),
        "recordType": "relationship",
        "recordDetails": {
            "isComponent": False,
            "subject": "a",
            "interestedParty": "b",
            "interests": [{"type": "shareholding", "share": {"exact": 250}}],
        },
    }
    broken.write_text(json.dumps([entity("a", "Alpha Ltd"), entity("b", "Beta Ltd"), bad_relationship]))
    before = counts(session)

    result = bods("import", broken, OFFICIAL / "joint-ownership.json")

    assert result.exit_code == 2
    assert (
        "broken.json: statement 3 (rel-0000000000000000000000000000000): is not valid BODS 0.4: "
        "recordDetails/interests/0/share/exact: 250 is greater than the maximum of 100."
    ) in result.stderr
    # The good file beside it is still imported, in its own transaction.
    assert "joint-ownership.json: 7 statements; parties 4 added" in result.stdout
    assert counts(session) == (before[0] + 4, before[1] + 3, before[2] + 1)
    assert session.execute(select(Party).where(Party.name == "Alpha Ltd")).first() is None


def test_a_dangling_reference_rolls_back_what_the_file_had_written(bods, session, tmp_path):
    dangling = tmp_path / "dangling.json"
    relationship = {
        **entity("rel", "x"),
        "recordType": "relationship",
        "recordDetails": {
            "isComponent": False,
            "subject": "a",
            "interestedParty": "ghost",
            "interests": [{"type": "shareholding"}],
        },
    }
    dangling.write_text(json.dumps([entity("a", "Alpha Ltd"), relationship]))
    before = counts(session)

    result = bods("import", dangling)

    assert result.exit_code == 2
    assert "dangling.json: statement rel-0000000000000000000000000000000: its interested party “ghost”" in (
        result.stderr
    )
    assert counts(session) == before


def test_not_json_at_all_is_refused_naming_the_file(bods, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("these are not statements")

    result = bods("import", path)

    assert result.exit_code == 2
    assert "notes.txt: is not valid JSON" in result.stderr


def test_json_lines_import(bods, tmp_path):
    path = tmp_path / "stream.jsonl"
    path.write_text("\n".join(json.dumps(s) for s in json.loads((OFFICIAL / "joint-ownership.json").read_text())))

    result = bods("import", path)

    assert result.exit_code == 0
    assert result.stdout.strip() == (
        "stream.jsonl: 7 statements; parties 4 added, 0 updated; interests 3 added, 0 ended; 0 skipped."
    )


def test_a_large_file_shows_a_progress_bar(bods, tmp_path):
    path = tmp_path / "large.json"
    path.write_text(json.dumps([entity(f"bulk-{n}", f"Bulk Company {n}") for n in range(600)]))

    result = bods("import", path)

    assert result.exit_code == 0
    assert "Importing large.json" in result.stderr
    assert "large.json: 600 statements; parties 600 added" in result.stdout


def test_a_streamed_file_shows_each_stage_with_statements_per_second(bods, tmp_path):
    path = tmp_path / "register.jsonl"
    path.write_text("\n".join(json.dumps(entity(f"bulk-{n:05d}", f"Bulk Company {n}")) for n in range(12_000)))
    assert path.stat().st_size > 4 * 1024 * 1024  # streamed, not read whole

    result = bods("import", path)

    assert result.exit_code == 0, result.output
    assert re.search(r"Importing register.jsonl: staging 12,000 statements \([\d,]+/s\)", result.stderr)
    assert re.search(r"Importing register.jsonl: applying 12,000 of 12,000 statements \([\d,]+/s\)", result.stderr)
    assert "register.jsonl: 12000 statements; parties 12000 added" in result.stdout


def test_export_prints_valid_bods_for_the_vendor(bods, session):
    vendor = VendorOrgFactory(name="Orbit Annotation")
    owner = PartyFactory(name="Orbit Holdings BV")
    InterestFactory(
        interested_party_id=owner.id,
        subject_party_id=vendor.party_id,
        share_exact=None,
        share_min=50,
        share_min_exclusive=True,
        share_max=75,
        share_max_exclusive=True,
    )

    result = bods("export", "--vendor", "ORBIT ANNOTATION")

    assert result.exit_code == 0, result.output
    statements = json.loads(result.stdout)
    assert schema_errors(statements) == []
    assert {s["recordDetails"].get("name") for s in statements if s["recordType"] == "entity"} == {
        "Orbit Annotation",
        "Orbit Holdings BV",
    }
    [relationship] = [s for s in statements if s["recordType"] == "relationship"]
    assert relationship["recordDetails"]["interests"][0]["share"] == {"exclusiveMinimum": 50, "exclusiveMaximum": 75}


def test_export_of_an_imported_company_by_record_id(bods):
    assert bods("import", OFFICIAL / "tecido.json").exit_code == 0

    result = bods("export", "--vendor", "01B68D7633")

    assert result.exit_code == 0
    statements = json.loads(result.stdout)
    assert {s["declarationSubject"] for s in statements} == {"01B68D7633"}
    assert len({s["recordId"] for s in statements if s["recordType"] != "relationship"}) == 3
    # Every statement goes back out as the register published it: same ids, same order, same content.
    assert statements == json.loads((OFFICIAL / "tecido.json").read_text())


def test_export_of_an_unknown_vendor_exits_2_naming_it(bods):
    result = bods("export", "--vendor", "Nobody Labelling")

    assert result.exit_code == 2
    assert "Nobody Labelling" in result.stderr
    assert result.stdout == ""


# --- refusals, warnings and what an export leaves out -----------------------------------------------------------


def test_a_repeated_statement_id_with_other_content_is_refused_with_status_2_and_nothing_written(
    bods, session, tmp_path
):
    assert bods("import", OFFICIAL / "tecido.json").exit_code == 0
    tecido = json.loads((OFFICIAL / "tecido.json").read_text())
    changed = {**tecido[0], "recordDetails": {**tecido[0]["recordDetails"], "name": "Tecido Renamed Ltd"}}
    path = tmp_path / "changed.json"
    path.write_text(json.dumps([entity("fresh", "Fresh Ltd"), changed]))
    before = counts(session)

    result = bods("import", path)

    assert result.exit_code == 2
    assert (
        f"changed.json: statement 2 ({changed['statementId']}) has the statementId of a statement imported on "
    ) in result.stderr
    assert counts(session) == before


def test_warnings_follow_the_summary_line(bods, tmp_path):
    path = tmp_path / "future.json"
    path.write_text(json.dumps([{**entity("later", "Later Ltd"), "statementDate": "2031-01-01"}]))

    result = bods("import", path)

    assert result.exit_code == 0
    assert result.stdout.splitlines() == [
        "future.json: 1 statements; parties 1 added, 0 updated; interests 0 added, 0 ended; 0 skipped; 1 warnings.",
        "future.json: warning: statement 1 (later-0000000000000000000000000000000): statementDate 2031-01-01 is in "
        f"the future (today is {utcnow().date().isoformat()}); it is not used as the source's date.",
    ]


def test_export_says_what_it_leaves_out(bods, session):
    vendor = VendorOrgFactory(name="Kestrel Labels")
    rival = PartyFactory(name="Cobalt Social")
    session.add(
        CommercialTie(
            vendor_party_id=vendor.party_id,
            counterparty_id=rival.id,
            kind=CommercialKind.EXCLUSIVE_AGREEMENT,
            origin=TieOrigin.ADMIN_FACT,
        )
    )
    session.flush()

    result = bods("export", "--vendor", "Kestrel Labels")

    assert result.exit_code == 0
    assert schema_errors(json.loads(result.stdout)) == []
    assert result.stderr.splitlines() == [
        "Exported 1 BODS 0.4 statements.",
        "Left out: 1 commercial ties (customers, exclusive agreements, investors, lenders, subcontractors): BODS has "
        "no relationship for them; they are annotations on the vendor's statement, which an import does not read "
        "back.",
    ]


def test_an_import_brings_every_stored_verdict_up_to_date(bods, session):
    """Company B (a buyer's rival) holds 60% of Company A (a platform vendor) in the file: the stored verdict
    the buyer's lists read says exclude as soon as the import is done."""
    from marketplace.parties.service import add_identifier
    from marketplace.screening.models import VerdictRecord
    from marketplace.screening.services.refresh import refresh_verdicts
    from tests.factories import BuyerOrgFactory, RivalFactory, VerifiedVendorOrgFactory

    vendor = VerifiedVendorOrgFactory(name="Company A")
    add_identifier(session, session.get(Party, vendor.party_id), "GB-COH", "XE9999")
    rival = PartyFactory(name="Company B")
    add_identifier(session, rival, "GB-COH", "XE1010")
    lab = BuyerOrgFactory()
    RivalFactory(buyer_org_id=lab.id, party_id=rival.id)
    refresh_verdicts(session, None)
    stored = select(VerdictRecord.verdict).where(
        VerdictRecord.buyer_org_id == lab.id, VerdictRecord.vendor_org_id == vendor.id
    )
    assert session.execute(stored).scalar_one() == "clear"

    assert bods("import", OFFICIAL / "indirect-ownership.json").exit_code == 0

    assert session.execute(stored).scalar_one() == "exclude"
