"""`flask --app marketplace webhooks deliver`: send every delivery due now (cron, or a catch-up beside the queue);
`flask --app marketplace webhooks prune`: delete delivered webhooks past WEBHOOKS_RETENTION_DAYS."""

import click
from flask.cli import AppGroup

from marketplace.webhooks import tasks

webhooks_cli = AppGroup("webhooks", help="The labs' webhooks.")


@webhooks_cli.command("deliver")
@click.option("--limit", default=500, show_default=True, help="At most this many attempts in one run.")
def deliver_command(limit: int) -> None:
    """Emit passed deadlines, then make every attempt due now; safe to run twice at once (no attempt is made twice)."""
    made = tasks.deliver_due(limit=limit)
    click.echo(f"{made} webhook attempt{'' if made == 1 else 's'} made.")


@webhooks_cli.command("prune")
def prune_command() -> None:
    """Delete the delivered webhooks (and their attempts) older than WEBHOOKS_RETENTION_DAYS; pending and failed
    ones are kept."""
    deleted = tasks.prune()
    click.echo(f"{deleted} delivered webhook{'' if deleted == 1 else 's'} deleted.")
