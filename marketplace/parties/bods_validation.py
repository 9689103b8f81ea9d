"""Each imported BODS statement validated against the official schema of the version it declares.

The schemas ship with the package (bods_schema/: 0.4 at the top, 0.2/ and 0.3/; see its NOTICE). A statement
declares its version in publicationDetails.bodsVersion; one that does not is read as 0.4 when it has a recordType
(0.4's shape) and as 0.2 otherwise (the oldest version this import reads). 0.2 and 0.3 are JSON Schema draft 4,
0.4 is draft 2020-12.
"""

import json
from collections.abc import Callable
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, cast

import fastjsonschema
from jsonschema import Draft4Validator, Draft202012Validator
from jsonschema.exceptions import best_match
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

SCHEMA_DIR = Path(__file__).parent / "bods_schema"
VERSIONS = ("0.2", "0.3", "0.4")
LEGACY_FILES = (
    "components.json",
    "entity-statement.json",
    "person-statement.json",
    "ownership-or-control-statement.json",
)
LEGACY_SCHEMAS = {
    "entityStatement": "entity-statement.json",
    "personStatement": "person-statement.json",
    "ownershipOrControlStatement": "ownership-or-control-statement.json",
}
RECORD_FILES = (
    "statement.json",
    "entity-record.json",
    "person-record.json",
    "relationship-record.json",
    "components.json",
)


def declared_version(raw: dict) -> str:
    """The version a statement declares ("0.4.0" reads as "0.4"), else the one its shape implies."""
    details = raw.get("publicationDetails")
    version = details.get("bodsVersion") if isinstance(details, dict) else None
    if isinstance(version, str) and version.strip():
        parts = version.strip().split(".")
        return ".".join(parts[:2]) if len(parts) == 3 and parts[2] == "0" else version.strip()
    return "0.4" if "recordType" in raw else "0.2"


@cache
def _legacy_validators(version: str) -> dict[str, Draft4Validator]:
    folder = SCHEMA_DIR / version
    resources = []
    for name in LEGACY_FILES:
        contents = json.loads((folder / name).read_text(encoding="utf-8"))
        resources.append((contents.get("id", name), Resource.from_contents(contents, default_specification=DRAFT4)))
    registry = Registry().with_resources(resources)
    return {
        kind: Draft4Validator(registry.contents(name), registry=registry, format_checker=Draft4Validator.FORMAT_CHECKER)
        for kind, name in LEGACY_SCHEMAS.items()
    }


@cache
def _record_validator() -> Draft202012Validator:
    resources = []
    for name in RECORD_FILES:
        contents = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    registry = Registry().with_resources(resources)
    # statement.json describes an array of statements; one statement is its items schema.
    return Draft202012Validator(
        {"$ref": "urn:statement#/$defs/Statement"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def statement_problem(raw: dict) -> str | None:
    """Why this statement is not valid BODS of the version it declares, in one line; None when it is valid."""
    version = declared_version(raw)
    if version not in VERSIONS:
        return f"declares BODS version “{version}”; this import reads {', '.join(VERSIONS[:-1])} and {VERSIONS[-1]}."
    if version == "0.4":
        if "recordType" not in raw:
            return "declares BODS 0.4 but has no recordType (a 0.2/0.3 statement must declare its own version)."
        validator = _record_validator()
    else:
        if "statementType" not in raw:
            return f"declares BODS {version} but has no statementType."
        validator = _legacy_validators(version).get(cast(str, raw.get("statementType")))
        if validator is None:
            return (
                f"statementType “{raw.get('statementType')}” is not entityStatement, personStatement or "
                "ownershipOrControlStatement."
            )
    error = best_match(validator.iter_errors(raw))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "the statement"
    return f"is not valid BODS {version}: {where}: {error.message}."


# Kept beside a $ref in the 0.4 schemas without changing what is valid; anything else beside one is checked too
# (draft 2020-12 applies both, draft 7, which fastjsonschema implements, would ignore the siblings).
_ANNOTATIONS = ("description", "title", "propertyOrder", "$comment")
_STRING_OR_UNSPECIFIED = [{"type": "string"}, {"$ref": "#/definitions/components/$defs/UnspecifiedRecord"}]


def _inlined(node: Any, document: str) -> Any:
    """One of the 0.4 schema files with its "urn:..." references pointing into one combined document."""
    if isinstance(node, list):
        return [_inlined(item, document) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: _inlined(value, document) for key, value in node.items() if key not in ("$id", "$schema")}
    if result.get("oneOf") == _STRING_OR_UNSPECIFIED:
        # A string, or an Unspecified Record (an object): never both, so "oneOf" is "anyOf", which fastjsonschema
        # stops trying at the first branch that holds (a relationship's subject and interested party are strings,
        # and "oneOf" tried the object branch too, raising and catching an exception each time).
        result["anyOf"] = result.pop("oneOf")
    if "$ref" in result:
        target, _, pointer = result["$ref"].partition("#")
        reference = {"$ref": f"#/definitions/{target.removeprefix('urn:') or document}{pointer}"}
        siblings = {key: value for key, value in result.items() if key != "$ref" and key not in _ANNOTATIONS}
        result = {"allOf": [reference, siblings]} if siblings else reference
    return result


@cache
def _compiled_record_check() -> Callable[[dict], Any]:
    """The 0.4 statement schema compiled to Python: a function that raises fastjsonschema.JsonSchemaException for
    an invalid statement (without details: the message shown is statement_problem's)."""
    documents = {}
    for name in RECORD_FILES:
        contents = json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))
        documents[contents["$id"].removeprefix("urn:")] = contents
    definitions = {name: _inlined(contents, name) for name, contents in documents.items()}
    assert definitions["components"]["$defs"]["UnspecifiedRecord"]["type"] == "object"  # see _STRING_OR_UNSPECIFIED
    checker = Draft202012Validator.FORMAT_CHECKER  # the same formats as the full validator: date, date-time, uri
    formats = {name: _format_check(checker, name) for name in checker.checkers}

    def compiled(statement_schema: dict) -> Callable[[dict], Any]:
        combined = {
            "$schema": "http://json-schema.org/draft-07/schema#",
            "definitions": {**definitions, "statement": {**document, "$defs": {**defs, "Statement": statement_schema}}},
            "$ref": "#/definitions/statement/$defs/Statement",
        }
        return fastjsonschema.compile(combined, formats=formats, use_default=False)

    # The statement schema applies its record type's schema to recordDetails with one if/then per type
    # (`"if": {"properties": {"recordType": {"const": TYPE}}}`). For a statement whose recordType is one of those
    # strings, exactly that branch's "then" applies and the others' "if" fails (so they say nothing): the same schema
    # with only that "then" in place of the if/thens is the same check, without the two failed "if"s each statement
    # raised and caught. Any other statement (no recordType, or another value) is checked by the schema as it is.
    document = definitions["statement"]
    defs = document["$defs"]
    statement = defs["Statement"]
    general = compiled(statement)
    by_type: dict[str, Callable[[dict], Any]] = {}
    for branch in statement["allOf"]:
        record_type = branch["if"]["properties"]["recordType"]["const"]
        assert branch["if"] == {"properties": {"recordType": {"const": record_type}}} and set(branch) == {"if", "then"}
        by_type[record_type] = compiled({**statement, "allOf": [branch["then"]]})

    def check(raw: dict) -> Any:
        record_type = raw.get("recordType")
        specific = by_type.get(record_type) if type(record_type) is str else None
        return (specific or general)(raw)

    return check


def _format_check(checker, name: str) -> Callable[[Any], bool]:
    """checker.conforms(value, name) without its per-call bookkeeping, remembered for the last few thousand values:
    a register repeats its dates (statement, publication, retrieval) on every statement."""
    function, raises = checker.checkers[name]

    @lru_cache(maxsize=4096)
    def conforms(value: Any) -> bool:
        try:
            return bool(function(value))
        except raises:
            return False

    return conforms


def quick_statement_problem(raw: dict) -> str | None:
    """statement_problem, about twenty times faster on a valid 0.4 statement: the 0.4 schema compiled to Python
    (fastjsonschema) says whether it is valid; only a statement it refuses, and 0.2/0.3 statements, go through
    statement_problem, whose message (jsonschema's best match) is the one shown."""
    if "recordType" in raw and declared_version(raw) == "0.4":
        try:
            _compiled_record_check()(raw)
        except fastjsonschema.JsonSchemaException:
            return statement_problem(raw)
        return None
    return statement_problem(raw)
