"""`flask screen`: screen any party of the ownership graph against named rivals, from the command line."""

import json
from datetime import date

import click
from flask.cli import with_appcontext
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.db_types import utcnow
from marketplace.extensions import db
from marketplace.parties.models import Party, PartyKind
from marketplace.parties.service import normalize_name
from marketplace.screening.engine.verdicts import Policy, Range, Screening, Verdict, worst
from marketplace.screening.models import PendingRescreen
from marketplace.screening.services.refresh import refresh_verdicts
from marketplace.screening.services.screen import screen_party


def find_party(session: Session, text: str) -> Party | None:
    """The party with this BODS recordId, or with exactly this name (case aside) and not merged away."""
    party = session.execute(select(Party).where(col(Party.bods_record_id) == text.strip())).scalar_one_or_none()
    seen: set[int] = set()
    while party is not None and party.merged_into_id is not None and party.id not in seen:
        seen.add(party.id)
        party = session.get(Party, party.merged_into_id)
    if party is not None:
        return party
    wanted = text.strip().casefold()
    named = session.execute(
        select(Party).where(col(Party.name_normalized) == normalize_name(text), col(Party.merged_into_id).is_(None))
    ).scalars()
    exact = sorted(
        (p for p in named if p.name.strip().casefold() == wanted), key=lambda p: (p.kind != PartyKind.ENTITY, p.id)
    )
    return exact[0] if exact else None


def _party_or_fail(session: Session, text: str, option: str) -> Party:
    party = find_party(session, text)
    if party is None:
        raise click.UsageError(f"{option}: no party is called {text!r} and none has that BODS recordId.")
    return party


def _figure(stake: Range | None) -> str:
    if stake is None:
        return ""
    if round(stake.low, 6) == round(stake.high, 6):
        return f"{stake.low:g}%"
    return f"{stake.low:g}–{stake.high:g}%"


def _rival_rows(screening: Screening, rivals: list[Party]) -> list[dict]:
    """One row per rival named, in the order given: the worst verdict of what the engine found for it and of the
    findings that name it (a possible match under another spelling among them), and its stake of ownership (0% when
    the engine found none)."""
    found = {result.rival_party_id: result for result in screening.rivals}
    rows = []
    for rival in rivals:
        result = found.get(rival.id)
        verdicts = [finding.verdict for finding in screening.findings if finding.rival_party_id == rival.id]
        if result:
            verdicts.append(result.verdict)
        rows.append(
            {
                "rival": rival.name,
                "verdict": str(worst(verdicts)) if verdicts else Verdict.CLEAR.value,
                "stake": (result.stake if result else Range(0.0, 0.0)).as_dict(),
            }
        )
    return rows


def screening_report(vendor: Party, rivals: list[Party], screening: Screening, as_of: date) -> dict:
    """The screening as one JSON-ready object (percentages 0-100)."""
    return {
        "vendor": vendor.name,
        "as_of": as_of.isoformat(),
        "verdict": str(screening.verdict),
        "rivals": _rival_rows(screening, rivals),
        "findings": [finding.as_dict() for finding in screening.findings],
    }


def _echo_human(report: dict, screening: Screening) -> None:
    click.echo(f"{report['vendor']} as of {report['as_of']}: {report['verdict'].upper()}")
    click.echo("Rivals:")
    for row in report["rivals"]:
        click.echo(f"  {row['rival']}: {row['verdict']}, stake {_figure(Range(**row['stake']))}")
    if not screening.findings:
        click.echo("No findings.")
        return
    click.echo("Findings:")
    for finding in screening.findings:
        figure = f", {_figure(finding.stake)}" if finding.stake else ""
        who = f" ({finding.rival})" if finding.rival else ""
        click.echo(f"  [{finding.verdict}] {finding.rule}{who}{figure}")
        click.echo(f"    {finding.explanation}")
        for path in finding.paths:
            click.echo(f"    route: {' → '.join(path)}")


@click.command("screen")
@click.option(
    "--vendor",
    "vendor_name",
    required=True,
    metavar="NAME",
    help="The party to screen: its exact name (case aside) or its BODS recordId.",
)
@click.option(
    "--rival",
    "rival_names",
    required=True,
    multiple=True,
    metavar="NAME",
    help="A rival, by exact name or BODS recordId; repeat for several.",
)
@click.option(
    "--as-of",
    "as_of",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Screen the graph as it stood on this date (default: today).",
)
@click.option(
    "--exclude-at",
    type=click.FloatRange(0, 100),
    metavar="PCT",
    help="Ownership exclude threshold in percent (default 25).",
)
@click.option(
    "--review-at", type=click.FloatRange(0, 100), metavar="PCT", help="Review threshold in percent (default 10)."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of a report.")
@with_appcontext
def screen_command(
    vendor_name: str,
    rival_names: tuple[str, ...],
    as_of,
    exclude_at: float | None,
    review_at: float | None,
    as_json: bool,
) -> None:
    """Screen a party of the ownership graph against rivals, with the default policy unless told otherwise."""
    session = db.session
    vendor = _party_or_fail(session, vendor_name, "--vendor")
    rivals = list(
        {party.id: party for party in (_party_or_fail(session, name, "--rival") for name in rival_names)}.values()
    )
    day = as_of.date() if as_of else utcnow().date()
    defaults = Policy()
    policy = Policy(
        exclude_at=defaults.exclude_at if exclude_at is None else exclude_at,
        review_at=defaults.review_at if review_at is None else review_at,
    )
    screening = screen_party(session, vendor.id, [rival.id for rival in rivals], policy, day)
    report = screening_report(vendor, rivals, screening, day)
    if as_json:
        click.echo(json.dumps(report, ensure_ascii=False))
    else:
        _echo_human(report, screening)


@click.command("rescreen")
@with_appcontext
def rescreen_command() -> None:
    """Re-screen every vendor for every buyer as of today (for a daily scheduler: ties end, disclosures age).

    It does what every re-screen pending on the task queue asked for, so it takes them off the list (their tasks,
    if they run later, find nothing left to do)."""
    covered = db.session.execute(select(func.max(PendingRescreen.id))).scalar_one()
    changes = refresh_verdicts(db.session, None)
    if covered is not None:
        db.session.execute(delete(PendingRescreen).where(col(PendingRescreen.id) <= covered))
    db.session.commit()
    click.echo(f"{len(changes)} verdict(s) changed.")
