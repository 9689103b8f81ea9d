"""`flask create-admin EMAIL`."""

import click
from flask.cli import with_appcontext

from marketplace.accounts.models import Role
from marketplace.accounts.service import AccountError, create_user
from marketplace.extensions import db


@click.command("create-admin")
@click.argument("email")
@click.option("--name", default="Platform admin", help="The admin's display name.")
@click.password_option("--password", prompt="Password for the new admin", help="At least 12 characters.")
@with_appcontext
def create_admin_command(email: str, name: str, password: str) -> None:
    """Create a platform admin, asking for the password."""
    if len(password) < 12:
        raise click.BadParameter("use at least 12 characters", param_hint="password")
    try:
        create_user(db.session, email=email, name=name, password=password, role=Role.ADMIN)
    except AccountError as error:
        raise click.ClickException(str(error)) from error
    db.session.commit()
    click.echo(f"Admin {email} created.")
