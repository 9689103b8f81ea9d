"""`flask payments reconcile`: the ledger against Stripe and the contracts; non-zero exit on any difference."""

import click
from flask import current_app
from flask.cli import AppGroup

from marketplace.extensions import db
from marketplace.payments.gateway import from_config
from marketplace.payments.reconcile import reconcile

payments_cli = AppGroup("payments", help="Payments through Stripe.")


@payments_cli.command("reconcile")
def reconcile_command() -> None:
    """Compare every ledger entry with Stripe and every milestone with the ledger; name each difference."""
    gateway = from_config(current_app.config)
    if gateway is None:
        raise click.ClickException("STRIPE_SECRET_KEY is not set: there is no Stripe account to compare with.")
    differences, checked = reconcile(db.session, gateway)
    for difference in differences:
        click.echo(f"DIFFERENCE: {difference}")
    if differences:
        click.echo(f"{len(differences)} difference(s) found.", err=True)
        raise SystemExit(1)
    click.echo(f"The ledger agrees with Stripe and with the contracts ({checked} ledger entries checked).")
