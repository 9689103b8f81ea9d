"""`flask --app marketplace webhooks deliver`: send every delivery due now (cron, or a catch-up beside the queue)."""

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
