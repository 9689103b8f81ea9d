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
