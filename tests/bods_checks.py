"""libcovebods' additional checks on BODS statements, offline.

libcovebods looks identifier schemes up in org-id.guide's list of schemes, which it downloads when it has no fresh
copy. The tests never touch the network: the list is read from tests/data/org-id/org-ids.json (see its NOTICE).
"""

import json
import tempfile
from functools import cache
from pathlib import Path

import libcovebods.config
import libcovebods.data_reader
import libcovebods.run_tasks
import libcovebods.schema
from libcovebods.tasks.checks import legacy_checks, record_based_checks

ORG_IDS = Path(__file__).parent / "data" / "org-id" / "org-ids.json"


@cache
def local_orgids_prefixes() -> tuple[str, ...]:
    return tuple(item["code"] for item in json.loads(ORG_IDS.read_text(encoding="utf-8"))["lists"])


def _prefixes(orgids_url=None):
    return list(local_orgids_prefixes())


# Both check modules imported the function by name: point those names at the local copy.
record_based_checks.get_orgids_prefixes = _prefixes
legacy_checks.get_orgids_prefixes = _prefixes


def additional_check_errors(statements: list[dict]) -> list[dict]:
    """libcovebods' additional-check findings on these statements (an empty list when it finds nothing)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "statements.json"
        path.write_text(json.dumps(statements), encoding="utf-8")
        reader = libcovebods.data_reader.DataReader(str(path))
        config = libcovebods.config.LibCoveBODSConfig()
        schema = libcovebods.schema.SchemaBODS(reader, config)
        output = libcovebods.run_tasks.process_additional_checks(reader, config, schema)
    return list(output["additional_checks"])


def export_problems(session, statements: list[dict]) -> list[dict]:
    """libcovebods' findings on an export, less those on statements written back exactly as a source published
    them (an identifier scheme the source used that org-id.guide does not list is the source's, not ours)."""
    from sqlalchemy import select

    from marketplace.parties.models import BodsStatement

    problems = []
    for problem in additional_check_errors(statements):
        statement_id = problem.get("statement")
        if problem["type"] == "entity_identifiers_not_known_scheme" and statement_id:
            content = session.execute(
                select(BodsStatement.content).where(BodsStatement.statement_id == statement_id)
            ).scalar_one_or_none()
            written = next((s for s in statements if s.get("statementId") == statement_id), None)
            if content is not None and written is not None and json.loads(content) == written:
                continue
        problems.append(problem)
    return problems


def check_every_export(monkeypatch) -> None:
    """Make every export in the test run pass libcovebods' additional checks (or fail the test that made it)."""
    from marketplace.parties import bods_export

    original = bods_export._Export.run

    def checked(self):
        result = original(self)
        problems = export_problems(self.session, result.statements)
        assert problems == [], f"libcovebods finds problems in the export: {problems}"
        return result

    monkeypatch.setattr(bods_export._Export, "run", checked)
