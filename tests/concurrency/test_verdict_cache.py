"""Verdicts kept between requests (marketplace.transaction_cache.shared) never outlive the facts they came from.

Each kind of fact that can change a verdict is changed and committed for real, after the verdict was computed and
kept; the very next transaction (a request) must give the new verdict. Also: a kept verdict is really used (no
screening runs for it), a change not committed is never given to another transaction, every table a screening
reads is watched, and four gunicorn workers (processes of their own) all see a change the test's process commits.
"""

import uuid
from datetime import timedelta

import pytest
import requests
from sqlalchemy import delete, text, update

from marketplace import transaction_cache
from marketplace.accounts.models import Organization, User
from marketplace.db_types import utcnow
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.extensions import db
from marketplace.jobs.models import Job, JobInvitation, Visibility
from marketplace.parties.counting import awaiting_review
from marketplace.parties.models import CommercialKind, CommercialTie, Interest, Party, PartyDistinction, TieOrigin
from marketplace.payments.models import PayoutAccount
from marketplace.screening.engine.verdicts import Rule, Verdict
from marketplace.screening.models import Rival, ScreeningPolicy, VerdictRecord, Waiver
from marketplace.screening.services import approval
from marketplace.screening.services.screen import screen_pairs, verdicts_for_vendor
from marketplace.visibility import count_vendors_seeing
from tests.concurrency.harness import Server, recording_statements, tables_named
from tests.concurrency.rescreening import rescreen_after_a_tie
from tests.factories import (
    AdminFactory,
    BuyerFactory,
    DisclosureFactory,
    InterestFactory,
    JobFactory,
    PartyFactory,
    RivalFactory,
    VerifiedVendorFactory,
    VerifiedVendorOrgFactory,
)


def _world() -> dict:
    """A lab naming one rival, a verified vendor with no ties, and a party that is no rival (yet)."""
    buyer = BuyerFactory()
    rival = RivalFactory(buyer_org_id=buyer.org_id)
    vendor = VerifiedVendorOrgFactory()
    return {
        "buyer": buyer.org_id,
        "rival": rival.party_id,
        "rival_row": rival.id,
        "vendor": vendor.id,
        "vendor_party": vendor.party_id,
        "other": PartyFactory().id,
    }


def _verdict(app, w: dict) -> Verdict:
    """The vendor's access verdict for the lab, in a transaction of its own (as a request has)."""
    with app.app_context():
        try:
            return verdicts_for_vendor(db.session, db.session.get(Organization, w["vendor"]))[w["buyer"]]
        finally:
            db.session.remove()


def _statements(app, fn) -> list[str]:
    return recording_statements(app, fn)[1]


def _rival_holds(w: dict, share: float = 30.0, party: str = "rival") -> int:
    return InterestFactory(interested_party_id=w[party], subject_party_id=w["vendor_party"], share_exact=share).id


# Each kind of fact: (what is there before, the change, the verdict before, the verdict after).
CHANGES = {
    "a rival's stake recorded": (lambda w: None, lambda w: _rival_holds(w), Verdict.CLEAR, Verdict.EXCLUDE),
    "a stake deleted": (
        lambda w: w.update(tie=_rival_holds(w)),
        lambda w: db.session.execute(delete(Interest).where(Interest.id == w["tie"])),
        Verdict.EXCLUDE,
        Verdict.CLEAR,
    ),
    "a stake ended (ORM)": (
        lambda w: w.update(tie=_rival_holds(w)),
        lambda w: setattr(db.session.get(Interest, w["tie"]), "end_date", (utcnow() - timedelta(days=1)).date()),
        Verdict.EXCLUDE,
        Verdict.CLEAR,
    ),
    "a share changed (Core UPDATE)": (
        lambda w: w.update(tie=_rival_holds(w)),
        lambda w: db.session.execute(update(Interest).where(Interest.id == w["tie"]).values(share_exact=5.0)),
        Verdict.EXCLUDE,
        Verdict.CLEAR,
    ),
    "a share changed (raw SQL)": (
        lambda w: w.update(tie=_rival_holds(w)),
        lambda w: db.session.execute(text("UPDATE interest SET share_exact = 5 WHERE id = :id"), {"id": w["tie"]}),
        Verdict.EXCLUDE,
        Verdict.CLEAR,
    ),
    "a commercial tie recorded": (
        lambda w: None,
        lambda w: db.session.add(
            CommercialTie(
                vendor_party_id=w["vendor_party"],
                counterparty_id=w["rival"],
                kind=CommercialKind.CUSTOMER,
                revenue_share_pct=60.0,
                origin=TieOrigin.ADMIN_FACT,
            )
        ),
        Verdict.CLEAR,
        Verdict.REVIEW,
    ),
    "a rival named": (
        lambda w: _rival_holds(w, party="other"),
        lambda w: db.session.add(Rival(buyer_org_id=w["buyer"], party_id=w["other"])),
        Verdict.CLEAR,
        Verdict.EXCLUDE,
    ),
    "a rival removed": (
        lambda w: _rival_holds(w),
        lambda w: db.session.delete(db.session.get(Rival, w["rival_row"])),
        Verdict.EXCLUDE,
        Verdict.CLEAR,
    ),
    "the policy's thresholds raised": (
        lambda w: _rival_holds(w),
        lambda w: db.session.add(ScreeningPolicy(buyer_org_id=w["buyer"], exclude_at=50.0, review_at=40.0)),
        Verdict.EXCLUDE,
        Verdict.CLEAR,
    ),
    "a finding waived": (
        lambda w: _rival_holds(w, share=15.0),
        lambda w: db.session.add(
            Waiver(
                buyer_org_id=w["buyer"],
                vendor_org_id=w["vendor"],
                rule=Rule.OWNERSHIP.value,
                rival_party_id=w["rival"],
                reason="Passive fund",
            )
        ),
        Verdict.REVIEW,
        Verdict.CLEAR,
    ),
    "a party merged into the rival": (
        lambda w: _rival_holds(w, party="other"),
        lambda w: setattr(db.session.get(Party, w["other"]), "merged_into_id", w["rival"]),
        Verdict.CLEAR,
        Verdict.EXCLUDE,
    ),
    "the vendor's organisation linked to another party": (
        lambda w: w.update(
            held=InterestFactory(
                interested_party_id=w["rival"], subject_party_id=w["other"], share_exact=30.0
            ).subject_party_id
        ),
        lambda w: setattr(db.session.get(Organization, w["vendor"]), "party_id", w["held"]),
        Verdict.CLEAR,
        Verdict.EXCLUDE,
    ),
    "the vendor's only approved disclosure withdrawn to a filing": (
        lambda w: None,
        lambda w: db.session.execute(
            update(DisclosureVersion)
            .where(DisclosureVersion.vendor_org_id == w["vendor"])
            .values(status=DisclosureStatus.SUBMITTED, decided_at=None)
        ),
        Verdict.CLEAR,
        Verdict.REVIEW,
    ),
}


@pytest.mark.parametrize("kind", list(CHANGES))
def test_the_next_transaction_after_a_change_gets_the_new_verdict(race_app, build, kind):
    before_change, change, before, after = CHANGES[kind]
    w = build(_world)
    build(lambda: before_change(w))
    assert _verdict(race_app, w) == before
    assert _verdict(race_app, w) == before  # now kept between transactions
    build(lambda: change(w))
    assert _verdict(race_app, w) == after


def test_a_kept_verdict_is_given_without_screening_again(race_app, build):
    w = build(_world)
    build(lambda: _rival_holds(w))
    first = _statements(race_app, lambda: _verdict(race_app, w))
    again = _statements(race_app, lambda: _verdict(race_app, w))
    assert len(first) > 5
    # The vendor's row and the generation, read once for the transaction; nothing of the graph.
    assert sum("table_generation" in statement for statement in again) == 1
    assert [s for s in again if any(f" {table}" in s for table in ("interest", "rival", "party", "waiver"))] == []
    assert len(again) <= 3


def test_a_change_not_committed_is_never_given_to_another_transaction(race_app, build):
    w = build(_world)
    assert _verdict(race_app, w) == Verdict.CLEAR
    with race_app.app_context():
        _rival_holds(w)
        db.session.flush()
        vendor = db.session.get(Organization, w["vendor"])
        # The changing transaction sees its own change ...
        assert verdicts_for_vendor(db.session, vendor)[w["buyer"]] == Verdict.EXCLUDE
        db.session.rollback()
        db.session.remove()
    # ... and after its rollback, nobody does.
    assert _verdict(race_app, w) == Verdict.CLEAR
    with race_app.app_context():
        # Changes not yet flushed count too: the screening would flush and see them.
        _rival_holds(w)
        assert verdicts_for_vendor(db.session, db.session.get(Organization, w["vendor"]))[w["buyer"]] == (
            Verdict.EXCLUDE
        )
        db.session.rollback()
        db.session.remove()
    assert _verdict(race_app, w) == Verdict.CLEAR


def test_a_rolled_back_change_leaves_the_generation_and_a_commit_bumps_it_once(race_app, build):
    w = build(_world)

    def generation():
        with race_app.app_context():
            try:
                return transaction_cache.generation(db.session)
            finally:
                db.session.remove()

    start = generation()
    assert start is not None
    with race_app.app_context():
        db.session.get(Organization, w["vendor"]).suspended_at = utcnow()
        db.session.flush()
        db.session.rollback()
        db.session.remove()
    assert generation() == start
    build(lambda: setattr(db.session.get(Organization, w["vendor"]), "suspended_at", utcnow()))
    assert generation() == start + 1
    # Writing tables screening does not read leaves it as it was.
    build(lambda: JobFactory(buyer_org_id=w["buyer"]))
    assert generation() == start + 1


def test_every_table_a_screening_reads_is_watched(race_app, build):
    """A screening over every kind of fact: ties, commercial ties, rivals, a policy, a waiver, a merge, a
    distinction, a filing awaiting review with a claim, an approved disclosure. Any table it reads must be one whose
    changes bump the generation."""

    def facts():
        w = _world()
        _rival_holds(w, share=15.0)
        InterestFactory(interested_party_id=w["other"], subject_party_id=w["vendor_party"], share_exact=12.0)
        db.session.add(ScreeningPolicy(buyer_org_id=w["buyer"], exclude_at=40.0, review_at=10.0))
        db.session.add(
            Waiver(
                buyer_org_id=w["buyer"],
                vendor_org_id=w["vendor"],
                rule=Rule.OWNERSHIP.value,
                rival_party_id=w["rival"],
                reason="Passive fund",
            )
        )
        merged = PartyFactory(name=db.session.get(Party, w["rival"]).name)
        merged.merged_into_id = w["rival"]
        db.session.add(
            PartyDistinction(first_party_id=min(w["other"], w["rival"]), second_party_id=max(w["other"], w["rival"]))
        )
        db.session.add(
            CommercialTie(
                vendor_party_id=w["vendor_party"],
                counterparty_id=w["rival"],
                kind=CommercialKind.CUSTOMER,
                revenue_share_pct=10.0,
                origin=TieOrigin.ADMIN_FACT,
            )
        )
        filer = VerifiedVendorFactory()
        DisclosureFactory(vendor_org_id=filer.org_id, number=2)
        w["filer"] = filer.org_id
        return w

    w = build(facts)

    def screen():
        vendors = [db.session.get(Organization, w["vendor"]), db.session.get(Organization, w["filer"])]
        screen_pairs(db.session, [w["buyer"]], vendors)
        db.session.remove()

    seen = _statements(race_app, screen)
    read = tables_named(seen)
    # The counters themselves are read too: what a screening keeps between transactions is kept under them.
    counters = {transaction_cache.TABLE_GENERATIONS}
    assert read - transaction_cache.WATCHED_TABLES - counters == set()
    assert {"interest", "rival", "party", "organization"} <= read


def test_every_worker_of_a_server_sees_a_change_committed_elsewhere(race_app, race_database_url, build, tmp_path):
    """Four gunicorn workers keep the vendor's verdict; the test's own process then records that the lab's rival
    holds 30% of the vendor: every request after it, whichever worker answers, hides the lab's confidential job."""

    def world():
        w = _world()
        vendor = VerifiedVendorFactory(org_id=w["vendor"])
        w["user"] = vendor.id
        w["job"] = JobFactory(buyer_org_id=w["buyer"], visibility=Visibility.CONFIDENTIAL).id
        return w

    w = build(world)
    server = Server(race_database_url, tmp_path, workers=4, secret_key=race_app.config["SECRET_KEY"]).start()
    try:
        browser = server.browser_for(race_app, w["user"])

        def statuses() -> list[int]:
            # Each request on a new connection, so that the workers take turns.
            return [
                requests.get(server.url + f"/jobs/{w['job']}", cookies=browser.cookies, timeout=30).status_code
                for _ in range(16)
            ]

        assert set(statuses()) == {200}
        build(lambda: _rival_holds(w))
        assert set(statuses()) == {404}
    finally:
        server.stop()
    assert server.errors() == ""


def test_a_change_tried_in_a_savepoint_and_rolled_back_is_neither_shared_nor_counted(race_app, build):
    """As the admin's approval preview does: the verdicts inside the savepoint are its own, and once it is rolled
    back the transaction may share again, and its commit bumps nothing."""
    w = build(_world)
    assert _verdict(race_app, w) == Verdict.CLEAR
    with race_app.app_context():
        start = transaction_cache.generation(db.session)
        vendor = db.session.get(Organization, w["vendor"])
        savepoint = db.session.begin_nested()
        _rival_holds(w)
        db.session.flush()
        assert transaction_cache.generation(db.session) is None
        assert verdicts_for_vendor(db.session, vendor)[w["buyer"]] == Verdict.EXCLUDE
        savepoint.rollback()
        assert transaction_cache.generation(db.session) == start
        assert verdicts_for_vendor(db.session, vendor)[w["buyer"]] == Verdict.CLEAR
        db.session.commit()
        db.session.remove()
    assert _verdict(race_app, w) == Verdict.CLEAR
    with race_app.app_context():
        assert transaction_cache.generation(db.session) == start
        db.session.remove()


def test_the_approval_preview_is_kept_until_a_fact_changes(race_app, build):
    """The admin's preview of what approving a filing would change is tried in a savepoint once, then kept; a rival's
    stake committed after it changes the next preview."""

    def world():
        w = _world()
        # The vendor's approved version goes: only a filing remains.
        db.session.execute(delete(DisclosureVersion).where(DisclosureVersion.vendor_org_id == w["vendor"]))
        w["version"] = DisclosureFactory(vendor_org_id=w["vendor"]).id
        w["admin"] = AdminFactory().id
        return w

    w = build(world)

    def preview():
        with race_app.app_context():
            try:
                admin = db.session.get(User, w["admin"])
                effect = approval.approval_effect(db.session, admin, w["version"])
                return [(s.before, s.after) for s in effect.shifts if s.buyer_org_id == w["buyer"]]
            finally:
                db.session.remove()

    assert preview() == [(Verdict.REVIEW, Verdict.CLEAR)]  # unverified until approved
    again: list = []
    statements = _statements(race_app, lambda: again.append(preview()))
    assert again == [[(Verdict.REVIEW, Verdict.CLEAR)]]
    assert not any("SAVEPOINT" in statement.upper() for statement in statements)
    build(lambda: _rival_holds(w))
    assert preview() == []  # excluded before and after: approving changes nothing for this lab


def test_the_count_of_vendors_seeing_a_job_is_kept_until_a_stored_verdict_or_an_invitation_changes(race_app, build):
    """The lab's job page counts the vendors who may see its job from the stored verdicts: the count is kept between
    requests, and a verdict a re-screen stores, or an invitation, committed after it changes the next count."""

    def world():
        w = _world()
        w["job"] = JobFactory(buyer_org_id=w["buyer"], visibility=Visibility.CONFIDENTIAL).id
        w["invite_only"] = JobFactory(buyer_org_id=w["buyer"], visibility=Visibility.INVITE_ONLY).id
        return w

    w = build(world)

    def count(job: str) -> int:
        with race_app.app_context():
            try:
                return count_vendors_seeing(db.session, db.session.get(Job, w[job]))
            finally:
                db.session.remove()

    seeing, invited = count("job"), count("invite_only")
    assert invited == 0
    again: list = []
    statements = _statements(race_app, lambda: again.append(count("job")))
    assert again == [seeing]
    assert not any("verdictrecord" in statement for statement in statements)  # kept: no verdict read again
    # A re-screen stores that the lab's rival now owns the vendor: one vendor fewer may see the confidential job.
    excluded = {"rule": Rule.OWNERSHIP.value, "verdict": Verdict.EXCLUDE.value, "waived": False}
    build(
        lambda: db.session.add(
            VerdictRecord(
                buyer_org_id=w["buyer"], vendor_org_id=w["vendor"], verdict=Verdict.EXCLUDE, findings=[excluded]
            )
        )
    )
    assert count("job") == seeing - 1
    other = build(lambda: VerifiedVendorOrgFactory().id)
    build(lambda: db.session.add(JobInvitation(job_id=w["invite_only"], vendor_org_id=other)))
    assert count("invite_only") == 1


def test_whom_a_claim_reaches_is_kept_until_a_fact_changes(race_app, build):
    """The admin's review lists, for a filing's claim about another party, the platform vendors it reaches once
    approved: kept between requests, and a stake committed after it (the party now holds a second vendor) shows."""

    def world():
        w = _world()
        w["version"] = DisclosureFactory(vendor_org_id=w["vendor"], number=2).id
        w["admin"] = AdminFactory().id
        # The filing says "other" holds 30% of the rival; "other" already holds a platform vendor.
        w["claim"] = InterestFactory(
            interested_party_id=w["other"],
            subject_party_id=w["rival"],
            origin=TieOrigin.DISCLOSURE,
            disclosure_id=w["version"],
        ).id
        w["held"] = VerifiedVendorOrgFactory()
        InterestFactory(interested_party_id=w["rival"], subject_party_id=w["held"].party_id)
        w["held"] = w["held"].id
        return w

    w = build(world)

    def reached() -> list[int]:
        with race_app.app_context():
            try:
                admin = db.session.get(User, w["admin"])
                return sorted(
                    org.id for org in approval.claims_about_others(db.session, admin, w["version"])[w["claim"]].vendors
                )
            finally:
                db.session.remove()

    assert reached() == [w["held"]]
    statements = _statements(race_app, reached)
    assert not any(" interest" in statement for statement in statements)  # kept: the graph is not walked again

    def second_vendor_held() -> int:
        second = VerifiedVendorOrgFactory()
        InterestFactory(interested_party_id=w["rival"], subject_party_id=second.party_id)
        return second.id

    second = build(second_vendor_held)
    assert reached() == sorted([w["held"], second])


def test_a_filing_awaiting_review_is_kept_until_an_admin_decides_it(race_app, build):
    """Whether a vendor's filing awaits review (it then sees public jobs only) is kept between requests, and a
    decision committed after it is seen by the very next transaction."""

    def world():
        w = _world()
        w["version"] = DisclosureFactory(vendor_org_id=w["vendor"], number=2).id
        return w

    w = build(world)

    def waiting() -> bool:
        with race_app.app_context():
            try:
                return awaiting_review(db.session, w["vendor"])
            finally:
                db.session.remove()

    assert waiting() is True
    statements = _statements(race_app, waiting)
    assert not any("disclosureversion" in statement for statement in statements)  # kept
    build(
        lambda: db.session.execute(
            update(DisclosureVersion)
            .where(DisclosureVersion.id == w["version"])
            .values(status=DisclosureStatus.APPROVED, decided_at=utcnow())
        )
    )
    assert waiting() is False


def _buyer_scan(statement: str) -> bool:
    """The re-screen's read of every buyer: organisations by kind, no ids given."""
    words = " ".join(statement.split())
    scan = "SELECT organization.id FROM organization WHERE organization.kind ="
    return words.startswith(scan) and " AND " not in words


def _rescreen_after_a_tie(app, w: dict, before=None) -> list[str]:
    """rescreen_after_a_tie's statements; with `before`, the buyers a verdict was stored for are noted in w."""

    def note_buyers(w: dict) -> None:
        from marketplace.screening.models import VerdictRecord

        w["stored_for"] = {r.buyer_org_id for r in db.session.query(VerdictRecord).filter_by(vendor_org_id=w["vendor"])}

    return rescreen_after_a_tie(app, w, before, note_buyers if before is not None else None)[0]


def test_a_rescreen_after_a_tie_reads_the_buyers_once_until_an_organisation_changes(race_app, build):
    """Every buyer is re-screened after a change of ties; which organisations are buyers is kept between
    transactions (the scan of every organisation was a quarter of a re-screen at 100,000 vendors), but never past a
    change of organisations, committed or in the re-screen's own transaction."""
    w = build(_world)
    _rescreen_after_a_tie(race_app, w)
    again = _rescreen_after_a_tie(race_app, w)
    assert [s for s in again if _buyer_scan(s)] == []

    # A buyer added in the re-screen's own transaction is re-screened too.
    def new_buyer(w):
        w["new_buyer"] = BuyerFactory().org_id
        db.session.flush()

    statements = _rescreen_after_a_tie(race_app, w, new_buyer)
    assert [s for s in statements if _buyer_scan(s)] != []
    assert {w["buyer"], w["new_buyer"]} <= w["stored_for"]
    # ... and, committed, by every later re-screen.
    added = build(lambda: BuyerFactory().org_id)
    assert [s for s in _rescreen_after_a_tie(race_app, w, lambda w: None) if _buyer_scan(s)] != []
    assert added in w["stored_for"]


def test_an_organisation_written_in_a_savepoint_rolled_back_does_not_count(race_app, build):
    w = build(_world)
    _rescreen_after_a_tie(race_app, w)

    def tried_and_undone(w):
        savepoint = db.session.begin_nested()
        db.session.get(Organization, w["vendor"]).suspended_at = utcnow()
        db.session.flush()
        savepoint.rollback()

    def written(w):
        db.session.get(Organization, w["vendor"]).suspended_at = utcnow()
        db.session.flush()

    assert [s for s in _rescreen_after_a_tie(race_app, w, tried_and_undone) if _buyer_scan(s)] == []
    assert [s for s in _rescreen_after_a_tie(race_app, w, written) if _buyer_scan(s)] != []


def test_a_payout_account_change_leaves_kept_verdicts(race_app, build):
    """A payout account (Stripe's account.updated, at any time) is read by the vendor's checklist alone, kept under
    its own counter: its change no longer drops every verdict kept under the screening generation."""
    w = build(_world)
    build(lambda: _rival_holds(w))
    assert _verdict(race_app, w) == Verdict.EXCLUDE
    build(lambda: db.session.add(PayoutAccount(org_id=w["vendor"], stripe_account_id=f"acct_{uuid.uuid4().hex}")))
    again = _statements(race_app, lambda: _verdict(race_app, w))
    assert _verdict(race_app, w) == Verdict.EXCLUDE
    # The counters, read once for the transaction; nothing of the graph.
    assert sum("table_generation" in statement for statement in again) == 1
    assert [s for s in again if any(f" {table}" in s for table in ("interest", "rival", "party", "waiver"))] == []
