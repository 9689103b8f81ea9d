"""Exporting a vendor's upstream graph as BODS 0.4 (marketplace.parties.bods_export)."""

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from sqlalchemy import select

from marketplace.disclosures.models import DisclosureStatus
from marketplace.parties.bods import import_bods, read_statements
from marketplace.parties.bods_export import BodsExportError, export_vendor
from marketplace.parties.models import Interest, Party, PartyIdentifier, PartyKind, TieOrigin, VerificationLevel
from marketplace.parties.registry import merge_parties
from marketplace.parties.service import normalize_identifier
from tests.factories import (
    AdminFactory,
    DisclosureFactory,
    InterestFactory,
    PartyFactory,
    PersonFactory,
    VendorOrgFactory,
)

SCHEMA_DIR = Path(__file__).resolve().parents[3] / "marketplace" / "parties" / "bods_schema"
OFFICIAL = Path(__file__).resolve().parents[2] / "data" / "bods" / "official"


@pytest.fixture(scope="module")
def validator():
    """The official 0.4 schema, Draft 2020-12, its urn: cross-file $refs served by a referencing Registry."""
    resources = []
    for path in SCHEMA_DIR.glob("*.json"):
        contents = json.loads(path.read_text())
        resources.append((contents["$id"], Resource.from_contents(contents)))
    registry = Registry().with_resources(resources)
    return Draft202012Validator(
        registry.contents("urn:statement"), registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def identify(session, party, scheme, value):
    session.add(
        PartyIdentifier(party_id=party.id, scheme=scheme, value=value, value_normalized=normalize_identifier(value))
    )


@pytest.fixture
def vendor_graph(session):
    """A vendor owned through a holding, with people, ranges, exclusive bounds and unspecified owners."""
    vendor = VendorOrgFactory(name="Northwind Labelling")
    vendor_party = session.get(Party, vendor.party_id)
    vendor_party.jurisdiction = "GB"
    identify(session, vendor_party, "GB-COH", "SC115530")
    holding = PartyFactory(name="Helix Holdings plc", jurisdiction="US-DE")
    identify(session, holding, "Delaware company number", "7654321")
    rival = PartyFactory(name="Big Rival Inc")
    founder = PersonFactory(name="Ada Example")
    hidden = PartyFactory(
        name="Undisclosed trust",
        kind=PartyKind.UNSPECIFIED,
        party_type="anonymousEntity",
        unspecified_reason="interestedPartyExemptFromDisclosure",
        description="Withheld under a court order",
    )
    nominee = PartyFactory(name="Unknown nominee", kind=PartyKind.UNSPECIFIED, party_type="unknownPerson")
    subsidiary = PartyFactory(name="Northwind Subsidiary")
    sourced = {"origin": TieOrigin.ADMIN_FACT, "source_date": date(2024, 3, 1)}
    InterestFactory(
        interested_party_id=holding.id,
        subject_party_id=vendor_party.id,
        share_exact=None,
        share_min=25,
        share_min_exclusive=True,
        share_max=50,
        start_date=date(2019, 1, 1),
        verification_level=VerificationLevel.OFFICIAL_REGISTER,
        source_description="Companies House",
        source_url="https://register.example/sc115530",
        **sourced,
    )
    InterestFactory(
        interested_party_id=holding.id,
        subject_party_id=vendor_party.id,
        interest_type="votingRights",
        share_exact=None,
        share_min=50,
        share_max=75,
        share_max_exclusive=True,
        start_date=date(2015, 1, 1),
        end_date=date(2019, 1, 1),
        **sourced,
    )
    InterestFactory(
        interested_party_id=rival.id,
        subject_party_id=holding.id,
        share_exact=60.5,
        verification_level=VerificationLevel.ADMIN_VERIFIED,
        **sourced,
    )
    InterestFactory(
        interested_party_id=founder.id,
        subject_party_id=vendor_party.id,
        interest_type="boardChair",
        share_exact=None,
        role_title="Chair",
        verification_level=VerificationLevel.SELF_DECLARED,
        **sourced,
    )
    InterestFactory(
        interested_party_id=hidden.id, subject_party_id=vendor_party.id, share_exact=None, share_max=10, **sourced
    )
    InterestFactory(
        interested_party_id=nominee.id,
        subject_party_id=holding.id,
        interest_type="otherInfluenceOrControl",
        share_exact=None,
        verification_level=VerificationLevel.THIRD_PARTY,
        **sourced,
    )
    # Not upstream of the vendor: the vendor's own holding in a subsidiary.
    InterestFactory(interested_party_id=vendor_party.id, subject_party_id=subsidiary.id, **sourced)
    # A draft disclosure does not count, so it is not published.
    draft = DisclosureFactory(vendor_org_id=vendor.id, status=DisclosureStatus.DRAFT)
    stranger = PartyFactory(name="Draft Only Holder")
    InterestFactory(
        interested_party_id=stranger.id,
        subject_party_id=vendor_party.id,
        origin=TieOrigin.DISCLOSURE,
        disclosure_id=draft.id,
        source_date=date(2024, 3, 1),
    )
    session.flush()
    return vendor


def by_type(statements, record_type):
    return [s for s in statements if s["recordType"] == record_type]


def names(statements) -> set[str]:
    found = set()
    for statement in statements:
        details = statement["recordDetails"]
        if statement["recordType"] == "entity":
            found.add(details["name"])
        elif statement["recordType"] == "person":
            found.add(details["names"][0]["fullName"])
    return found


def test_the_export_validates_against_the_official_schema(session, vendor_graph, validator):
    statements = export_vendor(session, "northwind labelling")

    assert [error.message for error in validator.iter_errors(statements)] == []
    # The validator does refuse what is not BODS.
    broken = json.loads(json.dumps(statements))
    broken[0]["recordType"] = "company"
    del broken[1]["statementId"]
    assert len(list(validator.iter_errors(broken))) >= 2


def test_the_export_holds_everything_upstream_of_the_vendor_and_nothing_else(session, vendor_graph):
    statements = export_vendor(session, "Northwind Labelling")

    assert names(statements) == {
        "Northwind Labelling",
        "Helix Holdings plc",
        "Big Rival Inc",
        "Ada Example",
        "Undisclosed trust",
        "Unknown nominee",
    }
    assert len(by_type(statements, "relationship")) == 6
    vendor_record = next(s for s in statements if s["recordDetails"].get("name") == "Northwind Labelling")
    assert {s["declarationSubject"] for s in statements} == {vendor_record["recordId"]}
    assert vendor_record["recordDetails"]["identifiers"] == [{"id": "SC115530", "scheme": "GB-COH"}]
    assert vendor_record["recordDetails"]["jurisdiction"] == {"name": "GB", "code": "GB"}
    publication = statements[0]["publicationDetails"]
    assert publication["bodsVersion"] == "0.4" and publication["publisher"]["name"]
    # Parties come before the relationships that refer to them.
    kinds = [s["recordType"] for s in statements]
    assert kinds.index("relationship") > max(i for i, k in enumerate(kinds) if k != "relationship")


def test_shares_dates_and_sources_are_written_the_0_4_way(session, vendor_graph):
    statements = export_vendor(session, "Northwind Labelling")

    interests = {
        (i["type"], json.dumps(i.get("share"), sort_keys=True)): (i, s["source"])
        for s in by_type(statements, "relationship")
        for i in s["recordDetails"]["interests"]
    }
    shareholding, source = interests[("shareholding", '{"exclusiveMinimum": 25, "maximum": 50}')]
    assert shareholding["startDate"] == "2019-01-01"
    assert source == {
        "type": ["officialRegister"],
        "description": "Companies House",
        "url": "https://register.example/sc115530",
        "retrievedAt": "2024-03-01",
    }
    voting, _ = interests[("votingRights", '{"exclusiveMaximum": 75, "minimum": 50}')]
    assert (voting["startDate"], voting["endDate"]) == ("2015-01-01", "2019-01-01")
    assert interests[("shareholding", '{"exact": 60.5}')][1]["type"] == ["verified"]
    chair, chair_source = interests[("boardChair", "null")]
    assert chair["details"] == "Chair" and chair_source["type"] == ["selfDeclaration"]
    assert ("shareholding", '{"maximum": 10}') in interests


def test_people_and_unspecified_owners_are_person_and_anonymous_records(session, vendor_graph):
    statements = export_vendor(session, "Northwind Labelling")

    records = {s["recordId"]: s for s in statements}
    people = by_type(statements, "person")
    assert sorted(p["recordDetails"]["personType"] for p in people) == ["knownPerson", "unknownPerson"]
    hidden = next(s for s in by_type(statements, "entity") if s["recordDetails"]["name"] == "Undisclosed trust")
    assert hidden["recordDetails"]["entityType"] == {"type": "anonymousEntity"}
    assert hidden["recordDetails"]["unspecifiedEntityDetails"] == {
        "reason": "interestedPartyExemptFromDisclosure",
        "description": "Withheld under a court order",
    }
    for relationship in by_type(statements, "relationship"):
        assert relationship["recordDetails"]["interestedParty"] in records
        assert records[relationship["recordDetails"]["subject"]]["recordType"] == "entity"


def test_statement_ids_are_unique_and_stable(session, vendor_graph):
    first = export_vendor(session, "Northwind Labelling", published=date(2025, 1, 1))
    second = export_vendor(session, "Northwind Labelling", published=date(2025, 6, 1))

    ids = [s["statementId"] for s in first]
    assert len(set(ids)) == len(ids)
    assert ids == [s["statementId"] for s in second]
    assert all(32 <= len(i) <= 64 for i in ids)


def test_a_vendor_is_found_by_record_id(session, vendor_graph):
    vendor_party = session.get(Party, vendor_graph.party_id)
    vendor_party.bods_record_id = "northwind-record"
    session.flush()

    statements = export_vendor(session, "northwind-record")
    assert {s["declarationSubject"] for s in statements} == {"northwind-record"}


def test_an_unknown_vendor_is_named_in_the_refusal(session):
    with pytest.raises(BodsExportError, match="No vendor or party is named “Nobody Ltd”"):
        export_vendor(session, "Nobody Ltd")


# --- round trip ----------------------------------------------------------------------------------------------


def graph_facts(session, party_ids=None):
    """Parties and interests as a reader of the graph sees them, without our ids."""
    parties = {p.id: p for p in session.execute(select(Party)).scalars() if party_ids is None or p.id in party_ids}
    identifiers = Counter()
    for identifier in session.execute(select(PartyIdentifier)).scalars():
        if identifier.party_id in parties:
            identifiers[(parties[identifier.party_id].name, identifier.scheme, identifier.value)] += 1
    party_facts = Counter(
        (p.kind, p.party_type, p.name, p.jurisdiction, p.unspecified_reason, p.description) for p in parties.values()
    )
    interest_facts = Counter()
    for i in session.execute(select(Interest)).scalars():
        if i.subject_party_id in parties and i.interested_party_id in parties:
            interest_facts[
                (
                    parties[i.interested_party_id].name,
                    parties[i.subject_party_id].name,
                    i.interest_type,
                    i.share_exact,
                    i.share_min,
                    i.share_max,
                    i.share_min_exclusive,
                    i.share_max_exclusive,
                    i.start_date,
                    i.end_date,
                    i.role_title,
                    i.verification_level,
                    i.source_description,
                    i.source_url,
                    i.source_date,
                )
            ] += 1
    return party_facts, identifiers, interest_facts


def write(tmp_path, statements) -> Path:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(statements))
    return path


def test_export_then_import_into_an_empty_database_gives_the_same_graph(session, vendor_graph, empty_session, tmp_path):
    statements = export_vendor(session, "Northwind Labelling")
    exported_names = names(statements)
    upstream_ids = {p.id for p in session.execute(select(Party)).scalars() if p.name in exported_names}

    summary = import_bods(empty_session, None, read_statements(write(tmp_path, statements)), "export.json")

    assert summary.parties_added == 6 and summary.interests_added == 6
    assert graph_facts(empty_session) == graph_facts(session, upstream_ids)


def test_an_imported_history_survives_the_round_trip(session, empty_session, tmp_path):
    import_bods(session, None, read_statements(OFFICIAL / "tecido.json"), "tecido.json")
    tecido_ids = {
        p.id
        for p in session.execute(select(Party)).scalars()
        if p.name in ("Tecido Ltd", "Maria Esteves", "Shear Trust")
    }

    statements = export_vendor(session, "Tecido Ltd")
    import_bods(empty_session, None, read_statements(write(tmp_path, statements)), "export.json")

    assert graph_facts(empty_session) == graph_facts(session, tecido_ids)
    assert len(list(empty_session.execute(select(Interest)).scalars())) == 15


def test_names_from_merged_parties_are_alternate_names_not_identifiers(session, vendor_graph, validator):
    admin = AdminFactory()
    helix = session.execute(select(Party).where(Party.name == "Helix Holdings plc")).scalar_one()
    ada = session.execute(select(Party).where(Party.name == "Ada Example")).scalar_one()
    merge_parties(session, admin, helix.id, PartyFactory(name="Helix Holdings Public Ltd").id)
    merge_parties(session, admin, ada.id, PersonFactory(name="Ada B. Example").id)
    session.flush()

    statements = export_vendor(session, "Northwind Labelling")

    assert [error.message for error in validator.iter_errors(statements)] == []
    helix_record = next(s["recordDetails"] for s in statements if s["recordDetails"].get("name") == helix.name)
    assert helix_record["alternateNames"] == ["Helix Holdings Public Ltd"]
    assert helix_record["identifiers"] == [{"id": "7654321", "schemeName": "Delaware company number"}]
    ada_record = next(
        s["recordDetails"]
        for s in by_type(statements, "person")
        if s["recordDetails"]["names"][0]["fullName"] == "Ada Example"
    )
    assert ada_record["names"][1:] == [{"fullName": "Ada B. Example", "type": "alternative"}]
    assert "identifiers" not in ada_record
