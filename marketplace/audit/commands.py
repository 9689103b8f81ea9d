"""`flask audit verify`: check that the audit trail is whole."""

from typing import cast

import click
from flask.cli import AppGroup

from marketplace.audit.service import TrailProblem, verify_stored_trail
from marketplace.extensions import db

audit_cli = AppGroup("audit", help="The append-only audit trail.")


@audit_cli.command("verify")
def verify_command() -> None:
    """Exit 0 when every record follows the one before, unchanged; else name the first bad record, exit 1."""
    check = verify_stored_trail(db.session)
    if not check.whole:
        problem = cast(TrailProblem, check.problem)
        raise click.ClickException(f"The audit trail is broken at record {problem.record_id}: it {problem.reason}.")
    click.echo(
        f"The audit trail is whole: {check.records} record{'' if check.records == 1 else 's'}, "
        "each following the one before it, unchanged."
    )
