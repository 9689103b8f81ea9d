"""The import's fast path (marketplace.parties.bods_fast) against the full validation: every statement it accepts
is one the 0.4 schema accepts (jsonschema, the full validator) and that _Parser parses to the same statement, with
the same digest and without a warning; whatever else it leaves to the present path."""

import copy
import json
import sys
from datetime import date
from pathlib import Path

import pytest
from bods_fixtures import list_cases
from bods_fixtures import load as load_fixture
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from marketplace.parties.bods import BodsFileError, _Parser, read_statements, statement_digest
from marketplace.parties.bods_fast import fast_statement
from marketplace.parties.bods_validation import statement_problem

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from bench.bods_data import generate  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "data" / "bods"
TODAY = date(2026, 12, 6)


def full_verdict(raw) -> tuple[str, object]:
    """("refused", problem) or ("parsed", (statement, digest, warnings)) by the present path: the schema, then
    _Parser."""
    if not isinstance(raw, dict):
        return "refused", "not an object"
    problem = statement_problem(raw)
    if problem:
        return "refused", problem
    parser = _Parser("f.jsonl", today=TODAY, validate=False)
    try:
        statement = parser.parse(raw, 1)
    except BodsFileError as error:
        return "refused", str(error)
    return "parsed", (statement, statement_digest(statement), parser.warnings)


def assert_agrees(raw) -> bool:
    """The fast path's verdict on `raw` (as JSON text) holds: accepted only when the present path parses it alike,
    without warnings. True when the fast path accepted it."""
    text = json.dumps(raw, ensure_ascii=False)
    fast = fast_statement(text, TODAY)
    if fast is None:
        return False
    verdict, value = full_verdict(raw)
    assert verdict == "parsed", f"the fast path accepted what the present path refuses ({value}): {text}"
    statement, digest, warnings = value
    assert fast == statement, text
    assert statement_digest(fast) == digest, text
    assert warnings == [], text
    assert type(fast) is type(statement)
    return True


def official_statements() -> list[dict]:
    statements = []
    for path in sorted((DATA / "official").glob("*.json")):
        statements += read_statements(path)
    for case in list_cases():
        statements += load_fixture(case).statements
    return statements


def test_every_official_example_and_fixture_statement_gets_the_same_verdict_and_parse():
    statements = official_statements()
    accepted = sum(assert_agrees(raw) for raw in statements)
    assert statements and accepted  # some are of the common shapes, others not (left to the present path)


def test_the_benchmark_registers_statements_all_take_the_fast_path_and_parse_alike(tmp_path):
    path = generate(tmp_path / "register.jsonl", 3000, seed=3)
    lines = path.read_text().splitlines()
    assert all(assert_agrees(json.loads(line)) for line in lines)


ENTITY = {
    "statementId": "1dc0e987-5c57-4a1c-b3ad-61353b66a9b7",
    "declarationSubject": "gb-coh-123",
    "statementDate": "2024-01-15",
    "recordId": "gb-coh-123",
    "recordType": "entity",
    "recordStatus": "new",
    "publicationDetails": {
        "publicationDate": "2024-06-01",
        "bodsVersion": "0.4",
        "license": "http://opendefinition.org/licenses/cc-zero",
        "publisher": {"name": "Register"},
    },
    "source": {"type": ["officialRegister"], "description": "Register", "retrievedAt": "2024-05-30"},
    "recordDetails": {
        "isComponent": False,
        "entityType": {"type": "registeredEntity"},
        "name": "Lumen Holdings Ltd",
        "jurisdiction": {"name": "United Kingdom", "code": "GB"},
        "identifiers": [{"id": "123", "scheme": "GB-COH", "schemeName": "Companies House"}],
    },
}
PERSON = {
    **ENTITY,
    "recordId": "person-1",
    "declarationSubject": "person-1",
    "recordType": "person",
    "recordDetails": {
        "isComponent": False,
        "personType": "knownPerson",
        "names": [{"type": "legal", "fullName": "Elena Ivanova", "givenName": "Elena", "familyName": "Ivanova"}],
        "birthDate": "1971-01",
        "nationalities": [{"code": "GB", "name": "United Kingdom"}],
    },
}
RELATIONSHIP = {
    **ENTITY,
    "recordId": "rel-1",
    "declarationSubject": "gb-coh-123",
    "recordType": "relationship",
    "recordDetails": {
        "isComponent": False,
        "subject": "gb-coh-123",
        "interestedParty": "person-1",
        "interests": [
            {
                "type": "shareholding",
                "directOrIndirect": "direct",
                "beneficialOwnershipOrControl": True,
                "share": {"minimum": 25, "exclusiveMaximum": 50},
                "startDate": "2019-03-01",
            }
        ],
    },
}


def test_the_common_shapes_take_the_fast_path():
    for raw in (ENTITY, PERSON, RELATIONSHIP):
        assert assert_agrees(raw)


# Values that are wrong somewhere, or right but unusual: each replaces one value of a valid statement.
ODD_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 205),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1, max_value=101),
    st.sampled_from(
        [
            "",
            " ",
            "   padded   ",
            "2024-02-30",
            "2024-13-01",
            "2024-1-01",
            "2024-01",
            "2024",
            "1971-13",
            "2099-01-01",
            "2099",
            "2024-01-15T10:00:00Z",
            "20240115",
            "not a date",
            "http://example.com/a b",
            "https://example.com/ok",
            "ftp://example.com/x",
            "0.4",
            "0.4.0",
            "0.3",
            "entity",
            "person",
            "relationship",
            "closed",
            "updated",
            "new",
            "legal",
            "individual",
            "knownPerson",
            "anonymousPerson",
            "registeredEntity",
            "anonymousEntity",
            "trust",
            "shareholding",
            "voting-rights",
            "officialRegister",
            "verified",
            "direct",
            "indirect",
            "x" * 31,
            "x" * 32,
            "x" * 64,
            "x" * 65,
            " " * 40,
        ]
    ),
    st.lists(st.sampled_from(["officialRegister", "thirdParty", "bogus", ""]), max_size=3),
    st.just({}),
    st.just({"reason": "noBeneficialOwners"}),
    st.just({"name": "United Kingdom"}),
    st.just({"code": "GB"}),
    st.just({"exact": 120}),
    st.just({"minimum": 60, "maximum": 40}),
    st.just([{"id": "1"}]),
    st.just([{"fullName": ""}]),
    st.just([]),
)
KEYS = st.sampled_from(
    [
        "statementId",
        "statementID",
        "declarationSubject",
        "statementDate",
        "recordId",
        "recordType",
        "recordStatus",
        "annotations",
        "declaration",
        "extra",
    ]
)
DETAIL_KEYS = st.sampled_from(
    [
        "isComponent",
        "entityType",
        "name",
        "jurisdiction",
        "identifiers",
        "foundingDate",
        "personType",
        "names",
        "birthDate",
        "nationalities",
        "subject",
        "interestedParty",
        "interests",
        "componentRecords",
        "unspecifiedEntityDetails",
        "incorporatedInJurisdiction",
        "extra",
    ]
)


def _at(raw: dict, path: tuple) -> dict:
    node = raw
    for key in path:
        node = node[key]
    return node


PATHS = st.sampled_from(
    [
        (),
        ("recordDetails",),
        ("publicationDetails",),
        ("publicationDetails", "publisher"),
        ("source",),
        ("recordDetails", "entityType"),
        ("recordDetails", "jurisdiction"),
        ("recordDetails", "identifiers", 0),
        ("recordDetails", "names", 0),
        ("recordDetails", "nationalities", 0),
        ("recordDetails", "interests", 0),
        ("recordDetails", "interests", 0, "share"),
    ]
)
EDIT_KEYS = st.one_of(
    KEYS,
    DETAIL_KEYS,
    st.sampled_from(
        [
            "publicationDate",
            "bodsVersion",
            "license",
            "publisher",
            "url",
            "type",
            "description",
            "retrievedAt",
            "assertedBy",
            "id",
            "scheme",
            "schemeName",
            "uri",
            "code",
            "subtype",
            "fullName",
            "directOrIndirect",
            "beneficialOwnershipOrControl",
            "details",
            "share",
            "startDate",
            "endDate",
            "exact",
            "minimum",
            "maximum",
            "exclusiveMinimum",
            "exclusiveMaximum",
            "interestLevel",
        ]
    ),
)


@st.composite
def edited_statements(draw):
    raw = json.loads(json.dumps(draw(st.sampled_from([ENTITY, PERSON, RELATIONSHIP]))))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(PATHS)
        try:
            node = _at(raw, path)
        except (KeyError, IndexError, TypeError):
            continue
        if not isinstance(node, dict):
            continue
        key = draw(EDIT_KEYS)
        if draw(st.booleans()) and key in node:
            del node[key]
        else:
            # st.just hands out one shared object: a copy, or an edit inside it could make the statement hold itself.
            node[key] = copy.deepcopy(draw(ODD_VALUES))
    return raw


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edited_statements())
def test_what_the_fast_path_accepts_the_schema_and_the_parser_accept_alike(raw):
    assert_agrees(raw)


@pytest.mark.parametrize(
    "text",
    [
        '{"recordType": "entity"}',
        "[1, 2]",
        "not json",
        json.dumps({**ENTITY, "recordType": "person"}),  # the entity's details under another type
        json.dumps(ENTITY)[:-1] + ', "recordType": "person"}',  # a key given twice
    ],
)
def test_what_the_fast_path_cannot_read_is_left_to_the_present_path(text):
    fast = fast_statement(text, TODAY)
    if fast is not None:  # a repeated key: both readers keep the last value
        assert_agrees(json.loads(text))
