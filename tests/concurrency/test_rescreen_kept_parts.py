"""A re-screen after a tie changed keeps, between transactions, what it read of the parties above a vendor that the
tie cannot change (their rows, their likely variants: transaction_cache.shared_per_party_unless_written), and never
past a committed change they depend on (a rename that makes a variant, a merge, two parties marked not the same), nor
past such a change in the re-screen's own transaction; the ties themselves are read afresh (one added or ended
above the vendor is seen at once)."""

import re
from datetime import timedelta

from sqlalchemy import event, select

from marketplace.accounts.models import User
from marketplace.db_types import utcnow
from marketplace.extensions import db
from marketplace.parties.models import Interest, Party, PartyDistinction
from marketplace.parties.registry import merge_parties
from marketplace.screening.models import VerdictRecord
from tests.concurrency.rescreening import rescreen_after_a_tie
from tests.factories import (
    AdminFactory,
    BuyerFactory,
    InterestFactory,
    PartyFactory,
    RivalFactory,
    VerifiedVendorOrgFactory,
)


def _world() -> dict:
    """A lab naming the rival "Halcyon Research"; a verified vendor 30% held by an owner no one suspects."""
    buyer = BuyerFactory()
    rival = RivalFactory(buyer_org_id=buyer.org_id, party_id=PartyFactory(name="Halcyon Research").id)
    vendor = VerifiedVendorOrgFactory()
    owner = PartyFactory(name="Quillfeather Holdings")
    InterestFactory(interested_party_id=owner.id, subject_party_id=vendor.party_id, share_exact=30.0)
    return {
        "buyer": buyer.org_id,
        "rival": rival.party_id,
        "vendor": vendor.id,
        "vendor_party": vendor.party_id,
        "owner": owner.id,
        "other": PartyFactory().id,
        "admin": AdminFactory().id,
    }


def _rescreen(app, w: dict, before=None) -> tuple[str, list[dict], list[str]]:
    """rescreen_after_a_tie: the lab's stored verdict and findings after it, and the statements the re-screen sent."""

    def stored(w: dict) -> tuple[str, list[dict]]:
        record = db.session.execute(
            select(VerdictRecord).where(
                VerdictRecord.buyer_org_id == w["buyer"], VerdictRecord.vendor_org_id == w["vendor"]
            )
        ).scalar_one()
        return record.verdict, record.findings

    seen, (verdict, findings) = rescreen_after_a_tie(app, w, before, stored)
    return verdict, findings, seen


def _rules(findings: list[dict]) -> set[str]:
    return {finding["rule"] for finding in findings}


def _reads_party_rows(statements: list[str]) -> bool:
    return any(s.startswith("SELECT party.id, party.name, party.kind, party.party_type") for s in statements)


def _reads_match_keys(statements: list[str]) -> bool:
    return any(s.startswith("SELECT party.id, party.kind, party.match_key FROM party") for s in statements)


def _rename(party_key: str, name: str):
    def rename(w: dict) -> None:
        db.session.get(Party, w[party_key]).name = name
        db.session.flush()

    return rename


def test_a_second_rescreen_reads_no_party_rows_nor_variants_again(race_app, build):
    w = build(_world)
    verdict, findings, first = _rescreen(race_app, w)
    assert verdict == "clear" and findings == []
    assert _reads_party_rows(first) and _reads_match_keys(first)
    verdict, findings, again = _rescreen(race_app, w)
    assert verdict == "clear" and findings == []
    assert not _reads_party_rows(again) and not _reads_match_keys(again)


def test_a_committed_rename_that_makes_a_variant_is_seen(race_app, build):
    w = build(_world)
    _rescreen(race_app, w)
    _rescreen(race_app, w)  # the owner's (empty) variants kept
    build(lambda: _rename("owner", "Halcyon Research GmbH")(w))
    verdict, findings, statements = _rescreen(race_app, w)
    assert verdict == "review" and "possible_match" in _rules(findings)
    assert _reads_match_keys(statements)
    # Renamed back: the possible match is gone again.
    build(lambda: _rename("owner", "Quillfeather Holdings")(w))
    verdict, findings, _ = _rescreen(race_app, w)
    assert verdict == "clear" and findings == []


def test_a_rename_in_the_rescreens_own_transaction_is_seen_and_not_kept(race_app, build):
    w = build(_world)
    _rescreen(race_app, w)
    verdict, findings, statements = _rescreen(race_app, w, _rename("owner", "Halcyon Research GmbH"))
    assert verdict == "review" and "possible_match" in _rules(findings)
    assert _reads_match_keys(statements) and _reads_party_rows(statements)
    # Rolled back: what that transaction read is not what the next one is given.
    verdict, findings, _ = _rescreen(race_app, w)
    assert verdict == "clear" and findings == []


def test_a_committed_rename_of_a_party_above_is_named_in_the_findings(race_app, build):
    w = build(_world)
    build(lambda: InterestFactory(interested_party_id=w["rival"], subject_party_id=w["owner"], share_exact=100.0))
    verdict, findings, _ = _rescreen(race_app, w)
    assert verdict == "exclude" and "Quillfeather Holdings" in str(findings)
    _rescreen(race_app, w)  # the owner's row kept
    build(lambda: _rename("owner", "Larkspur Capital")(w))
    verdict, findings, statements = _rescreen(race_app, w)
    assert verdict == "exclude" and "Larkspur Capital" in str(findings)
    assert "Quillfeather Holdings" not in str(findings)
    assert _reads_party_rows(statements)


def test_two_parties_marked_not_the_same_lose_the_possible_match(race_app, build):
    w = build(_world)
    build(lambda: _rename("owner", "Halcyon Research GmbH")(w))
    verdict, findings, _ = _rescreen(race_app, w)
    assert verdict == "review" and "possible_match" in _rules(findings)
    _rescreen(race_app, w)  # the owner's variant kept

    def distinct() -> None:
        first, second = sorted((w["rival"], w["owner"]))
        db.session.add(PartyDistinction(first_party_id=first, second_party_id=second, reason="not the same"))

    build(distinct)
    verdict, findings, _ = _rescreen(race_app, w)
    assert verdict == "clear" and findings == []


def test_a_merge_turns_the_possible_match_into_the_rivals_own_stake(race_app, build):
    w = build(_world)
    build(lambda: _rename("owner", "Halcyon Research GmbH")(w))
    verdict, findings, _ = _rescreen(race_app, w)
    assert verdict == "review" and "possible_match" in _rules(findings)
    _rescreen(race_app, w)
    build(lambda: merge_parties(db.session, db.session.get(User, w["admin"]), w["rival"], w["owner"]))
    verdict, findings, _ = _rescreen(race_app, w)
    assert verdict == "exclude" and "possible_match" not in _rules(findings)
    assert "Halcyon Research holds 30%" in str(findings)


def test_a_tie_added_or_ended_above_the_vendor_is_seen_at_once(race_app, build):
    w = build(_world)
    _rescreen(race_app, w)
    assert _rescreen(race_app, w)[0] == "clear"
    tie = build(
        lambda: InterestFactory(interested_party_id=w["rival"], subject_party_id=w["owner"], share_exact=60.0).id
    )
    assert _rescreen(race_app, w)[0] == "exclude"

    def end() -> None:
        db.session.get(Interest, tie).end_date = (utcnow() - timedelta(days=800)).date()

    build(end)
    assert _rescreen(race_app, w)[0] == "clear"


def _party_ids_read(app, w: dict) -> tuple[str, set[int]]:
    """A re-screen (as _rescreen), and the ids of the parties whose rows or match keys it read."""
    read: set[int] = set()

    def listener(_conn, _cursor, statement, parameters, _context, _many):
        if statement.startswith(("SELECT party.id, party.name, party.kind", "SELECT party.id, party.kind, party.")):
            values = parameters.values() if isinstance(parameters, dict) else parameters
            for value in values:  # the ids: a JSON array on SQLite, an array literal or a list on PostgreSQL
                if isinstance(value, str) and value[:1] in ("[", "{"):
                    read.update(int(n) for n in re.findall(r"\d+", value))
                elif isinstance(value, list):
                    read.update(value)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", listener)
    try:
        verdict, _findings, _statements = _rescreen(app, w)
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", listener)
    return verdict, read


def test_party_rows_are_still_kept_after_a_committed_tie_elsewhere(race_app, build):
    """As a re-screen in the task queue meets them: after the commit of a tie (every change to a tie is committed
    before its re-screen runs; this one between two parties far from the vendor), the rows of the parties around the
    vendor are kept under the party table's own counter, which a tie does not bump. Fails when they are kept under
    the one screening generation, which it does."""
    w = build(lambda: {**_world(), "far": PartyFactory().id, "farther": PartyFactory().id})
    verdict, first = _party_ids_read(race_app, w)
    assert verdict == "clear"
    verdict, second = _party_ids_read(race_app, w)  # nothing committed between: what is kept is not read
    kept = first - second
    assert {w["vendor_party"], w["owner"], w["other"]} & kept
    build(lambda: InterestFactory(interested_party_id=w["farther"], subject_party_id=w["far"]))
    verdict, again = _party_ids_read(race_app, w)
    assert verdict == "clear"
    assert not again & kept
