"""`flask create-admin EMAIL`, and `flask totp-code EMAIL` for the demo."""

import click
from flask import current_app
from flask.cli import with_appcontext

from marketplace.accounts.models import Role
from marketplace.accounts.security import user_by_email
from marketplace.accounts.service import AccountError, create_user
from marketplace.accounts.two_factor import current_code
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
    click.echo(f"Admin {email} created. At first sign-in they set up two-factor authentication.")


@click.command("totp-code")
@click.argument("email")
@with_appcontext
def totp_code_command(email: str) -> None:
    """Print the current second-factor code of EMAIL's account (development and demo only; refused in production)."""
    if current_app.config["ENV_NAME"] == "production":
        raise click.ClickException("totp-code is for development only: refused when MARKETPLACE_ENV=production.")
    user = user_by_email(db.session, email)
    if user is None or not user.has_second_factor:
        raise click.ClickException(f"{email} has no account with two-factor authentication on.")
    click.echo(current_code(user.totp_secret))
