"""The playbook's part of the scheduled reminders run, and `flask playbook send` for the storage calls."""

import click
from flask.cli import AppGroup
from sqlalchemy.orm import Session

from marketplace.extensions import db
from marketplace.playbook import service, storage

playbook_cli = AppGroup("playbook", help="The change-of-control playbook: calls to labs' storage.")


def run_deadlines(session: Session) -> str:
    """Deletion attestations reminded and escalated, and the storage calls that are due sent; its summary line."""
    deadlines = service.run_deadlines(session)
    session.commit()
    return f"{deadlines.summary()} {storage.send_due(session).summary()}"


@playbook_cli.command("send")
def send_command() -> None:
    """Send the signed calls to labs' storage that are due (grants issued and revoked), retrying failed ones when
    their wait is over. Run it every minute from cron when there is no task queue; safe to run at once twice."""
    click.echo(storage.send_due(db.session).summary())
