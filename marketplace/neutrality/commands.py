"""`flask --app marketplace verify-statement FILE`: check a neutrality statement offline."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from marketplace.neutrality import signing


@click.command("verify-statement")
@click.argument("statement", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--public-key",
    "public_key_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The platform's public key (PEM, from /neutrality/public-key.pem); this instance's own when left out.",
)
@click.option(
    "--list",
    "list_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Your list of parties, one per line: checks the statement covers exactly that list.",
)
@with_appcontext
def verify_statement_command(statement: Path, public_key_file: Path | None, list_file: Path | None) -> None:
    """Check a statement's signature, expiry and list, with no database and no network. Revocation is known only
    online: the platform's /neutrality/verify page says whether a valid statement was revoked since."""
    if public_key_file is not None:
        key = signing.load_public_key(public_key_file.read_bytes())
    else:
        key = signing.platform_key(Path(current_app.config["NEUTRALITY_KEY_FILE"])).public_key()
    try:
        checked = signing.check(statement.read_bytes(), key)
    except signing.BadStatement as error:
        raise click.ClickException(f"Not valid: {error}") from error
    click.echo(checked.statement["claim"])
    if list_file is not None:
        if signing.list_digest(list_file.read_text(encoding="utf-8")) != checked.statement["list"]["sha256"]:
            raise click.ClickException("The signature holds, but the statement covers another list than yours.")
        click.echo("It covers exactly your list.")
    if checked.expired:
        raise click.ClickException(
            f"The signature holds, but the statement expired at {checked.statement['expires_at']}."
        )
    click.echo(
        f"Valid: signed by key {checked.statement['key_id']}, until {checked.statement['expires_at']}. "
        "Whether it was revoked since: /neutrality/verify."
    )
