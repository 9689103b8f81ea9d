"""Recomputing verdicts after a change, and acting on the ones that changed.

Called by every service that changes a tie, a disclosure, a rival list, a policy or a waiver. When a verdict
worsens: the buyer is told, the vendor's bids on the buyer's jobs are marked conflicted (exclude), and an
awarded contract is flagged for the buyer's decision. Access to confidential jobs needs no action here: every
page asks marketplace.visibility, which asks screening afresh.

A change to ties re-screens every vendor whose verdict it can change (refresh_after_change, with
marketplace.screening.store.affected): the vendors at or below the ties' subjects, those sharing people with them, and
the vendor that filed them; so that the stored verdicts always agree with a live screening.

Every buyer organisation is re-screened, not only those with rivals: the unknown-owner and unverified rules name
no rival. The stored record keeps the latest findings too, for buyer-side lists (cached_screenings_for_buyer).
"""

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import transaction_cache
from marketplace.accounts.models import Organization, OrgKind
from marketplace.audit.service import record_event
from marketplace.bids.models import Bid, BidStatus
from marketplace.changes import verdict_changed
from marketplace.contracts.models import Contract, ContractStatus
from marketplace.db_types import in_ids, utcnow
from marketplace.jobs.models import Job
from marketplace.notifications.service import notify_org
from marketplace.screening.models import VerdictRecord
from marketplace.screening.services.screen import Verdict, findings_record, screen_pairs
from marketplace.screening.store.affected import affected_vendor_ids
from marketplace.webhooks import events as webhook_events


@dataclass(frozen=True)
class VerdictChange:
    buyer_org_id: int
    vendor_org_id: int
    before: Verdict
    after: Verdict

    @property
    def worsened(self) -> bool:
        return self.after.severity > self.before.severity


def refresh_verdicts(session: Session, actor, *, vendor_org_ids=None, buyer_org_ids=None) -> list[VerdictChange]:
    """Re-screen the given vendors for the given buyers (default: all), store verdicts and findings, and act on
    every change of verdict.

    A pair screened for the first time has no verdict to change from: its record is stored silently, unless the
    verdict is exclude, which is acted on as a change from clear (bids conflicted, contracts flagged, buyer told).
    """
    # The four columns screening reads, not the whole organisations: 100,000 of them took seconds to build.
    vendor_query = select(
        col(Organization.id), col(Organization.party_id), col(Organization.kind), col(Organization.name)
    ).where(col(Organization.kind) == OrgKind.VENDOR)
    if vendor_org_ids is not None:
        vendor_query = vendor_query.where(in_ids(session, Organization.id, vendor_org_ids))
    vendors = session.execute(vendor_query).all()
    buyer_query = select(col(Organization.id)).where(col(Organization.kind) == OrgKind.BUYER)
    if buyer_org_ids is not None:
        buyer_query = buyer_query.where(in_ids(session, Organization.id, buyer_org_ids))
        buyer_ids = session.execute(buyer_query).scalars().all()
    else:
        # Every buyer: a scan of every organisation (13 ms at 100,000 vendors, a quarter of a re-screen), kept
        # between transactions until an organisation changes; a change of ties elsewhere does not drop it.
        buyer_ids = transaction_cache.shared_unless_written(
            session,
            ("screening.buyer_ids",),
            ["organization"],
            lambda: tuple(session.execute(buyer_query).scalars()),
        )
    if not vendors or not buyer_ids:
        return []
    stored = {
        (r.buyer_org_id, r.vendor_org_id): r
        for r in session.execute(
            select(VerdictRecord).where(
                # One parameter each, however many vendors: a list of 100,000 would pass PostgreSQL's 65,535.
                in_ids(session, VerdictRecord.buyer_org_id, buyer_ids),
                in_ids(session, VerdictRecord.vendor_org_id, [v.id for v in vendors]),
            )
        ).scalars()
    }
    names = {v.id: v.name for v in vendors}
    changes = []
    for (buyer_id, vendor_id), screening in screen_pairs(session, buyer_ids, vendors).items():
        after = screening.verdict
        findings = findings_record(screening.findings)
        record = stored.get((buyer_id, vendor_id))
        if record is None:
            # The pair's first verdict is no change from anything: kept without a word, unless it excludes, which
            # must still conflict the vendor's bids and flag its contracts (and so is told as one from clear).
            session.add(
                VerdictRecord(buyer_org_id=buyer_id, vendor_org_id=vendor_id, verdict=after.value, findings=findings)
            )
            if after != Verdict.EXCLUDE:
                continue
            before = Verdict.CLEAR
        else:
            before = Verdict(record.verdict)
            if record.findings != findings:
                record.findings = findings
            if before == after:
                continue
            record.verdict = after.value
            record.updated_at = utcnow()
        change = VerdictChange(buyer_id, vendor_id, before, after)
        changes.append(change)
        _act_on_change(session, actor, change, names[vendor_id], screening.findings)
    session.flush()
    return changes


def refresh_after_change(
    session: Session, actor, *, party_ids: Iterable[int], vendor_org_ids: Iterable[int] = ()
) -> list[VerdictChange]:
    """After ties held in these parties changed (added, counted, verified, no longer counted): re-screen, for every
    buyer, every vendor whose verdict that can change, and the given vendors (the filer: its own claims and its
    approval date count for it alone)."""
    vendors = affected_vendor_ids(session, party_ids) | set(vendor_org_ids)
    if not vendors:
        return []
    return refresh_verdicts(session, actor, vendor_org_ids=sorted(vendors))


def _act_on_change(session: Session, actor, change: VerdictChange, vendor_name: str, findings) -> None:
    reasons = " ".join(f.explanation for f in findings) or "No findings remain."
    record_event(
        session,
        actor,
        "screening.verdict_changed",
        "organization",
        change.vendor_org_id,
        before={"verdict": change.before.value},
        after={"verdict": change.after.value},
        buyer_org_id=change.buyer_org_id,
        vendor_org_id=change.vendor_org_id,
    )
    direction = "worsened" if change.worsened else "improved"
    notify_org(
        session,
        change.buyer_org_id,
        "verdict_changed",
        f"Screening of {vendor_name} {direction}: {change.before} → {change.after}. {reasons}",
        f"/vendors/{change.vendor_org_id}/screening",
    )
    vendor_org = session.get(Organization, change.vendor_org_id)
    if vendor_org is not None:
        rules = [str(finding.rule) for finding in findings]
        webhook_events.verdict_changed(session, change.buyer_org_id, vendor_org, change.before, change.after, rules)
    bids = (
        session.execute(
            select(Bid)
            .join(Job, col(Job.id) == Bid.job_id)
            .where(col(Job.buyer_org_id) == change.buyer_org_id, col(Bid.vendor_org_id) == change.vendor_org_id)
        )
        .scalars()
        .all()
    )
    for bid in bids:
        bid.conflicted = change.after == Verdict.EXCLUDE and bid.status != BidStatus.WITHDRAWN
    if change.worsened:
        contracts = (
            session.execute(
                select(Contract).where(
                    col(Contract.buyer_org_id) == change.buyer_org_id,
                    col(Contract.vendor_org_id) == change.vendor_org_id,
                    col(Contract.status) == ContractStatus.ACTIVE,
                )
            )
            .scalars()
            .all()
        )
        for contract in contracts:
            contract.status = ContractStatus.FLAGGED
            contract.flagged_reason = f"Screening now says {change.after}: {reasons}"
    verdict_changed(
        session,
        actor,
        buyer_org_id=change.buyer_org_id,
        vendor_org_id=change.vendor_org_id,
        before=change.before.value,
        after=change.after.value,
    )
