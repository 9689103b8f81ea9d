"""Importing BODS 0.2, 0.3 and 0.4 into the ownership graph (marketplace.parties.bods)."""

import json
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace.parties.bods import BodsFileError, import_bods, read_statements
from marketplace.parties.models import Interest, Party, PartyIdentifier, PartyKind, TieOrigin, VerificationLevel
from marketplace.parties.service import normalize_identifier, normalize_name
from tests.factories import PartyFactory

DATA = Path(__file__).resolve().parents[2] / "data" / "bods"
OFFICIAL = DATA / "official"

# Parties and interest rows each official example makes, counted by reading the files:
# component (direct) relationships are kept, the indirect primary's "indirect" interests are left to them, and
# every version of an updated relationship stays as history with an end date (tecido: 9 + 6 rows, 2 still open).
OFFICIAL_COUNTS = {
    "bods-package-entity-owning-entity.json": (2, 1, 2),
    "bods-package-fi-soe.json": (4, 4, 2),
    "indirect-ownership.json": (3, 2, 2),
    "joint-ownership.json": (4, 3, 1),
    "listed-company-exempt-from-disclosure.json": (2, 1, 1),
    "mixed-direct-and-indirect-ownership.json": (3, 3, 2),
    "multiple-indirect-ownership.json": (4, 4, 3),
    "mutilple-indirect-ownership-2.json": (4, 4, 3),
    "nomination.json": (4, 3, 1),
    "tecido.json": (3, 15, 2),
}


PUBLICATION = {"publicationDate": "2024-01-02", "bodsVersion": "0.4", "publisher": {"name": "Test publisher"}}


def count(session, model) -> int:
    return session.execute(select(func.count()).select_from(model)).scalar_one()


def counts(session) -> tuple[int, int, int]:
    return count(session, Party), count(session, Interest), count(session, PartyIdentifier)


def load(session, path: Path):
    return import_bods(session, None, read_statements(path), path.name)


def party(session, name: str) -> Party:
    return session.execute(
        select(Party).where(Party.name_normalized == normalize_name(name)).order_by(Party.id.desc()).limit(1)
    ).scalar_one()


def interests_between(session, holder: Party, subject: Party) -> list[Interest]:
    return list(
        session.execute(
            select(Interest)
            .where(Interest.interested_party_id == holder.id, Interest.subject_party_id == subject.id)
            .order_by(Interest.id)
        ).scalars()
    )


def active(interests, on: date) -> list[Interest]:
    return [
        i for i in interests if (i.start_date is None or i.start_date <= on) and (i.end_date is None or i.end_date > on)
    ]


def write(tmp_path, statements, name="statements.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(statements))
    return path


def entity(record_id, name, identifiers=(), statement_id=None):
    return {
        "statementId": statement_id or f"{record_id}-statement-0000000000000000000000000",
        "statementDate": "2024-01-01",
        "recordId": record_id,
        "recordType": "entity",
        "recordStatus": "new",
        "declarationSubject": record_id,
        "publicationDetails": PUBLICATION,
        "recordDetails": {
            "isComponent": False,
            "entityType": {"type": "registeredEntity"},
            "name": name,
            "identifiers": [{"scheme": s, "id": i} for s, i in identifiers],
        },
    }


def relationship(record_id, subject, holder, interests, status="new", statement_id=None, on="2024-01-01"):
    return {
        "statementId": statement_id or f"{record_id}-statement-0000000000000000000000000",
        "statementDate": on,
        "recordId": record_id,
        "recordType": "relationship",
        "recordStatus": status,
        "declarationSubject": subject,
        "publicationDetails": PUBLICATION,
        "recordDetails": {"isComponent": False, "subject": subject, "interestedParty": holder, "interests": interests},
    }


# --- the official 0.4 examples -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(OFFICIAL_COUNTS))
def test_each_official_example_imports_the_parties_and_interests_it_describes(session, name):
    parties, interests, identifiers = counts(session)
    summary = load(session, OFFICIAL / name)

    want_parties, want_interests, want_identifiers = OFFICIAL_COUNTS[name]
    assert counts(session) == (parties + want_parties, interests + want_interests, identifiers + want_identifiers)
    assert (summary.parties_added, summary.interests_added) == (want_parties, want_interests)
    rows = session.execute(select(Interest).order_by(Interest.id.desc()).limit(want_interests)).scalars()
    assert {row.origin for row in rows} == {TieOrigin.BODS_IMPORT}


def test_a_range_with_an_exclusive_maximum_keeps_both_bounds(session):
    load(session, OFFICIAL / "bods-package-entity-owning-entity.json")

    [interest] = interests_between(session, party(session, "MVJ LIMITED"), party(session, "JENEX LIMITED"))
    assert (interest.interest_type, interest.share_exact) == ("shareholding", None)
    assert (interest.share_min, interest.share_min_exclusive) == (75, False)
    assert (interest.share_max, interest.share_max_exclusive) == (100, True)
    # The file does not say where it comes from: a publisher's claim, a third party's to us.
    assert interest.verification_level == VerificationLevel.THIRD_PARTY


def test_an_indirect_relationship_whose_components_are_given_is_not_counted_twice(session):
    load(session, OFFICIAL / "bods-package-fi-soe.json")

    state, gasgrid = party(session, "Suomen tasavalta"), party(session, "Gasgrid Finland Oy")
    ministry, network = party(session, "Valtiovarainministerio"), party(session, "Suomen Kaasuverkko Oy")
    assert interests_between(session, state, gasgrid) == []  # the 100% indirect holding goes through the chain
    assert [i.share_exact for i in interests_between(session, network, gasgrid)] == [76.5]
    assert [i.share_exact for i in interests_between(session, ministry, gasgrid)] == [23.5]
    assert [i.interest_type for i in interests_between(session, state, ministry)] == ["otherInfluenceOrControl"]
    assert interests_between(session, ministry, network)[0].verification_level == VerificationLevel.THIRD_PARTY


def test_a_direct_holding_beside_an_indirect_one_is_kept(session):
    summary = load(session, OFFICIAL / "mixed-direct-and-indirect-ownership.json")

    person, company_a = party(session, "Person 1"), party(session, "Company A")
    direct = interests_between(session, person, company_a)
    assert [(i.share_exact, i.start_date) for i in direct] == [(50, date(2019, 5, 1))]
    assert summary.skipped == 1  # the 50% held through Company B
    company_b = party(session, "Company B")
    assert [i.share_exact for i in interests_between(session, company_b, company_a)] == [50]
    assert [i.interest_type for i in interests_between(session, person, company_b)] == ["unknownInterest"]


def test_an_unspecified_interested_party_becomes_an_unspecified_party(session):
    load(session, OFFICIAL / "listed-company-exempt-from-disclosure.json")

    company = party(session, "Listed Company OS-17")
    [interest] = session.execute(select(Interest).where(Interest.subject_party_id == company.id)).scalars().all()
    owner = session.get(Party, interest.interested_party_id)
    assert owner.kind == PartyKind.UNSPECIFIED
    assert owner.party_type == "anonymousEntity"  # exempt from disclosure: someone knows who it is
    assert owner.unspecified_reason == "subjectExemptFromDisclosure"
    assert "recognised stock exchange" in owner.description
    assert interest.interest_type == "unknownInterest"


def test_updated_and_closed_records_supersede_earlier_versions_without_double_counting(session):
    summary = load(session, OFFICIAL / "tecido.json")

    tecido, maria, trust = party(session, "Tecido Ltd"), party(session, "Maria Esteves"), party(session, "Shear Trust")
    maria_rows, trust_rows = interests_between(session, maria, tecido), interests_between(session, trust, tecido)
    assert (len(maria_rows), len(trust_rows), summary.interests_ended) == (9, 6, 13)

    def shares(rows, on):
        return sorted((i.interest_type, i.share_exact) for i in active(rows, on))

    assert shares(maria_rows, date(2020, 1, 1)) == [("boardChair", None), ("shareholding", 100), ("votingRights", 100)]
    assert shares(maria_rows, date(2022, 1, 1)) == [("boardChair", None), ("shareholding", 40), ("votingRights", 40)]
    assert shares(trust_rows, date(2022, 1, 1)) == [("shareholding", 60), ("votingRights", 60)]
    # Maria's person record and her relationship were closed on 2023-03-03.
    assert shares(maria_rows, date(2023, 3, 3)) == []
    assert shares(trust_rows, date(2024, 1, 1)) == [("shareholding", 80), ("votingRights", 80)]
    first = maria_rows[0]
    assert (first.verification_level, first.source_description) == (
        VerificationLevel.SELF_DECLARED,
        "Asserted by Maria Esteves",
    )
    assert first.source_date == date(2019, 1, 20)


def test_nomination_keeps_the_components_and_leaves_the_indirect_control_to_them(session):
    load(session, OFFICIAL / "nomination.json")

    silvia, company = party(session, "Silvia Teixeira Perez"), party(session, "Los Corazones de Plata")
    nomination = party(session, "Perez-Rivero nomination")
    assert interests_between(session, silvia, company) == []
    assert [i.interest_type for i in interests_between(session, silvia, nomination)] == ["nominator"]
    assert [i.interest_type for i in interests_between(session, nomination, company)] == ["boardMember"]
    assert nomination.party_type == "arrangement"
    [identifier] = session.execute(select(PartyIdentifier).where(PartyIdentifier.party_id == company.id)).scalars()
    assert (identifier.scheme, identifier.value) == ("MX-RFC", "CPL211105123")


# --- 0.2 and 0.3 ---------------------------------------------------------------------------------------------


def test_bods_0_2_hyphenated_codes_flag_bounds_and_replaced_statements(session):
    parties, interests, identifiers = counts(session)
    summary = load(session, DATA / "legacy-0.2.json")

    assert counts(session) == (parties + 4, interests + 8, identifiers + 2)
    assert (summary.parties_added, summary.parties_updated, summary.interests_ended) == (4, 1, 2)
    # The replacing entity statement renamed the company; its "Sc 115530" is the same identifier.
    northwind, helix = party(session, "Northwind Labelling Limited"), party(session, "Helix Holdings plc")
    assert northwind.jurisdiction == "GB"
    holdings = interests_between(session, helix, northwind)
    assert [i.interest_type for i in holdings] == ["shareholding", "votingRights"] * 2
    old, new = holdings[0], holdings[2]
    assert (old.share_min, old.share_min_exclusive, old.share_max, old.share_max_exclusive) == (25, True, 50, False)
    assert (new.share_min, new.share_min_exclusive, new.share_max, new.share_max_exclusive) == (50, True, 75, True)
    # Replaced, not double counted: the old range ends when the new one starts.
    assert old.end_date == date(2020, 7, 1) and new.end_date is None
    assert [i.share_min for i in active(holdings, date(2021, 1, 1))] == [50, 50]
    assert (old.verification_level, old.source_url) == (
        VerificationLevel.OFFICIAL_REGISTER,
        "https://register.example/northwind",
    )
    assert new.verification_level == VerificationLevel.ADMIN_VERIFIED

    ada = party(session, "Ada Example")
    roles = interests_between(session, ada, northwind)
    assert [(i.interest_type, i.role_title) for i in roles] == [
        ("appointmentOfBoard", ""),
        ("seniorManagingOfficial", "Chief executive"),
    ]
    assert roles[0].verification_level == VerificationLevel.SELF_DECLARED
    unknown = session.execute(
        select(Party).where(Party.kind == PartyKind.UNSPECIFIED).order_by(Party.id.desc()).limit(1)
    ).scalar_one()
    assert (unknown.party_type, unknown.unspecified_reason) == ("unknownEntity", "unknown")
    assert [i.interest_type for i in interests_between(session, unknown, northwind)] == [
        "otherInfluenceOrControl",
        "otherInfluenceOrControl",
    ]


def test_bods_0_3_components_replacements_and_anonymous_owners(session):
    parties, interests, identifiers = counts(session)
    summary = load(session, DATA / "legacy-0.3.json")

    assert counts(session) == (parties + 4, interests + 4, identifiers + 2)
    assert (summary.skipped, summary.interests_ended) == (1, 1)
    vendor, holding, bea = (
        party(session, "Orbit Annotation GmbH"),
        party(session, "Orbit Holdings BV"),
        party(session, "Bea Example"),
    )
    assert interests_between(session, bea, vendor) == []  # the indirect stake is carried by the two components
    assert [i.share_exact for i in interests_between(session, holding, vendor)] == [100]
    stakes = interests_between(session, bea, holding)
    assert [(i.share_min, i.share_max, i.share_max_exclusive, i.share_exact) for i in stakes] == [
        (50, 75, True, None),
        (None, None, False, 80),
    ]
    assert stakes[0].end_date == date(2022, 6, 1)
    [identifier] = session.execute(select(PartyIdentifier).where(PartyIdentifier.party_id == vendor.id)).scalars()
    assert (identifier.scheme, identifier.value) == ("Handelsregister Berlin", "HRB XE0303A")
    [board] = session.execute(
        select(Interest).where(Interest.subject_party_id == vendor.id, Interest.interest_type == "boardMember")
    ).scalars()
    anonymous = session.get(Party, board.interested_party_id)
    assert (anonymous.kind, anonymous.party_type) == (PartyKind.UNSPECIFIED, "anonymousEntity")


def test_a_replaced_statement_that_comes_after_its_replacement_is_skipped(session, tmp_path):
    statements = json.loads((DATA / "legacy-0.2.json").read_text())
    first, replacement = statements[3], statements[6]
    reordered = [*statements[:3], replacement, first]
    summary = load(session, write(tmp_path, reordered))

    helix, northwind = party(session, "Helix Holdings plc"), party(session, "Northwind Labelling Ltd")
    assert [i.share_min for i in interests_between(session, helix, northwind)] == [50, 50]
    assert summary.skipped == 1


# --- idempotency and identifiers -----------------------------------------------------------------------------


def test_importing_the_same_files_twice_changes_nothing(session):
    files = [*sorted(OFFICIAL.glob("*.json")), DATA / "legacy-0.2.json", DATA / "legacy-0.3.json"]
    for path in files:
        load(session, path)
    before = counts(session)
    ended = session.execute(select(func.count()).where(Interest.end_date.is_not(None))).scalar_one()

    again = [load(session, path) for path in files]

    assert counts(session) == before
    assert session.execute(select(func.count()).where(Interest.end_date.is_not(None))).scalar_one() == ended
    assert all(not s.changed and s.skipped == s.statements for s in again)


def test_identifier_spellings_of_one_company_make_one_party(session, tmp_path):
    statements = [
        entity("rec-a", "Sample Data Ltd", [("GB-COH", "SC115530")]),
        entity("rec-b", "SAMPLE DATA LIMITED", [("GB-COH", "Sc 115530")]),
        entity("rec-c", "Sample Data", [("gb-coh", "Sc115530")]),
        entity("rec-owner", "Owner Holdings", [("GB-COH", "01234567")]),
        relationship("rel-1", "rec-c", "rec-owner", [{"type": "shareholding", "share": {"exact": 30}}]),
    ]
    parties, _interests, identifiers = counts(session)
    summary = load(session, write(tmp_path, statements))

    assert len({normalize_identifier(s) for s in ("SC115530", "Sc 115530", "Sc115530")}) == 1
    assert count(session, Party) == parties + 2 and count(session, PartyIdentifier) == identifiers + 2
    company = party(session, "Sample Data Ltd")
    assert company.bods_record_id == "rec-a"
    [interest] = session.execute(select(Interest).where(Interest.subject_party_id == company.id)).scalars()
    assert interest.share_exact == 30
    assert summary.parties_added == 2


def test_an_existing_party_is_matched_by_identifier_and_keeps_its_name(session, tmp_path):
    vendor = PartyFactory(name="Northwind AI Vendor")
    session.add(
        PartyIdentifier(
            party_id=vendor.id, scheme="GB-COH", value="SC115530", value_normalized=normalize_identifier("SC115530")
        )
    )
    session.flush()
    statements = [
        entity("rec-n", "NORTHWIND LABELLING LTD", [("GB-COH", "sc-115530")]),
        entity("rec-rival", "Big Rival Inc", [("US-DE", "7654321")]),
        relationship("rel-r", "rec-n", "rec-rival", [{"type": "boardMember"}]),
    ]
    load(session, write(tmp_path, statements))

    session.refresh(vendor)
    assert vendor.name == "Northwind AI Vendor" and vendor.bods_record_id == "rec-n"
    [interest] = session.execute(select(Interest).where(Interest.subject_party_id == vendor.id)).scalars()
    assert interest.interest_type == "boardMember"
    held = session.execute(select(PartyIdentifier).where(PartyIdentifier.party_id == vendor.id)).scalars().all()
    assert len(held) == 1


# --- share forms, records and formats ------------------------------------------------------------------------


# The 0.2/0.3 flag style ({"minimum": 25, "exclusiveMinimum": true}) is read from legacy-0.2.json above; a 0.4
# statement using it is refused by the 0.4 schema (test_malformed_statements_are_refused_naming_the_statement).
@pytest.mark.parametrize(
    "share",
    [
        {"exclusiveMinimum": 25, "maximum": 50},  # 0.4: the exclusive bound is the figure
    ],
)
def test_exclusive_bounds_in_both_styles_mean_the_same(session, tmp_path, share):
    statements = [
        entity("s", "Subject Co"),
        entity("h", "Holder Co"),
        relationship("r", "s", "h", [{"type": "votingRights", "share": share}]),
    ]
    load(session, write(tmp_path, statements))

    [interest] = interests_between(session, party(session, "Holder Co"), party(session, "Subject Co"))
    assert (interest.share_min, interest.share_min_exclusive, interest.share_max, interest.share_max_exclusive) == (
        25,
        True,
        50,
        False,
    )


def test_a_relationship_updated_in_a_later_file_ends_the_earlier_version(session, tmp_path):
    load(
        session,
        write(
            tmp_path,
            [
                entity("s", "Subject Co"),
                entity("h", "Holder Co"),
                relationship(
                    "r", "s", "h", [{"type": "shareholding", "share": {"exact": 10}, "startDate": "2020-01-01"}]
                ),
            ],
            "one.json",
        ),
    )
    load(
        session,
        write(
            tmp_path,
            [
                relationship(
                    "r",
                    "s",
                    "h",
                    [{"type": "shareholding", "share": {"exact": 35}, "startDate": "2023-05-01"}],
                    status="updated",
                    statement_id="r-second-statement-00000000000000000",
                    on="2023-06-01",
                )
            ],
            "two.json",
        ),
    )

    rows = interests_between(session, party(session, "Holder Co"), party(session, "Subject Co"))
    assert [(i.share_exact, i.end_date) for i in rows] == [(10, date(2023, 5, 1)), (35, None)]


def test_closing_a_record_never_seen_keeps_what_it_says_ended(session, tmp_path):
    statements = [
        entity("s", "Subject Co"),
        entity("h", "Holder Co"),
        relationship(
            "r", "s", "h", [{"type": "shareholding", "share": {"exact": 10}}], status="closed", on="2024-02-01"
        ),
    ]
    load(session, write(tmp_path, statements))

    [interest] = interests_between(session, party(session, "Holder Co"), party(session, "Subject Co"))
    assert interest.end_date == date(2024, 2, 1)


def test_no_beneficial_owners_adds_no_owner(session, tmp_path):
    statements = [entity("s", "Subject Co"), relationship("r", "s", {"reason": "noBeneficialOwners"}, [])]
    parties, interests, _ = counts(session)
    load(session, write(tmp_path, statements))

    assert count(session, Party) == parties + 1 and count(session, Interest) == interests


def test_json_lines_and_a_statements_wrapper_are_read(tmp_path):
    statements = [entity("s", "Subject Co"), entity("h", "Holder Co")]
    lines = tmp_path / "lines.jsonl"
    lines.write_text("\n".join(json.dumps(s) for s in statements) + "\n")
    wrapped = write(tmp_path, {"statements": statements}, "wrapped.json")

    assert read_statements(lines) == statements
    assert read_statements(wrapped) == statements


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("", "is empty"),
        ('[{"statementId": ', "is not valid JSON"),
        ('{"name": "not statements"}', "is not a list of BODS statements"),
        ("[1, 2]", "statement 1 is not a JSON object"),
    ],
)
def test_unreadable_files_are_refused_naming_the_file(tmp_path, content, problem):
    path = tmp_path / "broken.json"
    path.write_text(content)

    with pytest.raises(BodsFileError, match=problem) as refused:
        read_statements(path)
    assert str(refused.value).startswith("broken.json: ")


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ({"recordType": "entity"}, "has no statementId"),
        ({**entity("x", "X"), "recordId": ""}, "has no recordId"),
        ({**entity("x", "X"), "recordType": "trust"}, "not valid BODS 0.4: recordType: 'trust' is not one of"),
        (
            relationship("r", "s", "h", [{"type": "shareholding", "share": {"exact": 140}}]),
            "not valid BODS 0.4: recordDetails/interests/0/share/exact: 140 is greater than the maximum of 100",
        ),
        (
            relationship("r", "s", "h", [{"type": "shareholding", "share": {"minimum": 25, "exclusiveMinimum": True}}]),
            "share/exclusiveMinimum: True is not of type 'number'",
        ),
        (
            relationship("r", "s", "h", [{"type": "shareholding", "share": {"minimum": 60, "maximum": 20}}]),
            "above maximum",
        ),
        (
            relationship("r", "s", "h", [{"type": "shareholding", "startDate": "last year"}]),
            "startDate: 'last year' is not a 'date'",
        ),
        (
            {"statementID": "legacy-1", "statementType": "ownershipOrControlStatement", "isComponent": False},
            "not valid BODS 0.2: the statement: 'subject' is a required property",
        ),
        (
            {**relationship("r", "s", "h", []), "recordDetails": {"isComponent": False, "interestedParty": "s"}},
            "recordDetails: 'subject' is a required property",
        ),
        (
            {**relationship("r", "s", "h", []), "recordDetails": {"isComponent": False, "subject": "s"}},
            "recordDetails: 'interestedParty' is a required property",
        ),
        (
            {**entity("x", "X"), "publicationDetails": {**PUBLICATION, "bodsVersion": "0.5"}},
            "declares BODS version “0.5”; this import reads 0.2, 0.3 and 0.4",
        ),
    ],
)
def test_malformed_statements_are_refused_naming_the_statement(session, statement, problem):
    with pytest.raises(BodsFileError, match=problem) as refused:
        import_bods(session, None, [entity("s", "S"), statement], "bad.json")
    assert str(refused.value).startswith("bad.json: statement 2")


def test_a_reference_to_an_unknown_record_is_refused(session):
    statements = [entity("s", "Subject Co"), relationship("r", "s", "nobody", [{"type": "shareholding"}])]

    with pytest.raises(BodsFileError, match="interested party “nobody” is neither in this file"):
        import_bods(session, None, statements, "dangling.json")
