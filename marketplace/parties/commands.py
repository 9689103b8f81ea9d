"""`flask bods import FILE...` and `flask bods export --vendor NAME`."""

import json
from pathlib import Path

import click
from flask.cli import with_appcontext

from marketplace import changes
from marketplace.extensions import db
from marketplace.parties.bods import BodsFileError
from marketplace.parties.bods_export import BodsExportError, export_vendor_report, schema_errors
from marketplace.parties.bods_stream import ImportProgress, import_file


class BodsCommandError(click.ClickException):
    """Printed as "Error: ..." on standard error; exit status 2, as for a bad argument."""

    exit_code = 2


@click.group("bods")
def bods_group() -> None:
    """Import and export the ownership graph as BODS (Beneficial Ownership Data Standard) JSON."""


@bods_group.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def import_command(files: tuple[Path, ...]) -> None:
    """Import BODS 0.2, 0.3 or 0.4 files (JSON array, {"statements": [...]} or JSON Lines), one transaction each.

    Large files are streamed, staged and applied in bulk; an interrupted import resumes when run again on the same
    file (marketplace.parties.bods_stream). Standard error shows the progress, in statements per second. Each
    statement is validated against the schema of the BODS version it declares. A file that cannot be
    imported (unreadable, a statement invalid, a statementId repeated with other content, a reference to nothing)
    is reported and leaves nothing behind; the others are still imported, and the command exits with status 2.
    Warnings (future dates, one subject's shares adding up past 100%) follow the file's summary line.
    """
    failures = []
    for path in files:
        try:
            summary = _import_file(path)
        except BodsFileError as error:
            db.session.rollback()
            failures.append(str(error))
            click.echo(f"Error: {error}", err=True)
            continue
        click.echo(summary.line())
        for warning in summary.warning_lines():  # imported all the same; worth a look
            click.echo(warning)
    if failures:
        raise BodsCommandError(f"{len(failures)} of {len(files)} files not imported; nothing was written from them.")


def _import_file(path: Path):
    summary = import_file(db.session, None, path, progress=_ProgressLine(path.name))
    # Imported ties count at once, for anyone: screening is told (inline in this transaction, or queued to run after the
    # commit when REDIS_URL is set, with access screened live until it has).
    changes.ties_changed(db.session, None, party_ids=None)
    db.session.commit()
    return summary


class _ProgressLine:
    """The import's progress on standard error, one line redrawn in place: stage, statements, statements/s."""

    def __init__(self, file_name: str):
        self.file_name = file_name

    def __call__(self, progress: ImportProgress) -> None:
        of = f" of {progress.total:,}" if progress.total else ""
        click.echo(
            f"\rImporting {self.file_name}: {progress.stage} {progress.done:,}{of} statements "
            f"({progress.per_second:,.0f}/s)   ",
            nl=progress.total is not None and progress.done >= progress.total and progress.stage == "applying",
            err=True,
        )


@bods_group.command("export")
@click.option("--vendor", required=True, help="The vendor's name (exact, any case) or its BODS recordId.")
@with_appcontext
def export_command(vendor: str) -> None:
    """Print the vendor's ownership graph (everything upstream of it) as BODS 0.4 JSON on standard output.

    Standard error says how many statements were written and what BODS cannot carry (commercial ties, review
    status: annotations only).
    """
    try:
        result = export_vendor_report(db.session, vendor)
    except BodsExportError as error:
        raise BodsCommandError(str(error)) from error
    statements = result.statements
    problems = schema_errors(statements)
    if problems:  # a bug of ours: never publish what the schema refuses
        raise BodsCommandError("the export does not validate against BODS 0.4: " + "; ".join(problems[:5]))
    click.echo(json.dumps(statements, indent=2, ensure_ascii=False))
    click.echo(f"Exported {len(statements)} BODS 0.4 statements.", err=True)
    for line in result.left_out:
        click.echo(f"Left out: {line}", err=True)
