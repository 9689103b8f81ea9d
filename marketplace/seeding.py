"""`flask seed`: load the demo marketplace from seed_data/."""

import click
from flask.cli import with_appcontext


@click.command("seed")
@click.option("--reset", is_flag=True, help="Empty the database first.")
@with_appcontext
def seed_command(reset: bool) -> None:
    """Load seed_data/ into the database (refuses if it already has data, unless --reset)."""
    raise click.ClickException("not built yet")
