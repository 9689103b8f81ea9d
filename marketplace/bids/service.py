"""Bidding rules: vendors place, revise and withdraw bids; buyers compare them and award one.

Every job and bid is reached through marketplace.visibility, so a bid page can never show what the user may
not know exists. The server's clock (db_types.utcnow) decides every deadline.
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import visibility
from marketplace.accounts.models import Organization, OrgRole, User
from marketplace.accounts.org_roles import has_org_role
from marketplace.accounts.suspension import ensure_active
from marketplace.accounts.teams import award_needs_approval
from marketplace.audit.service import record_event
from marketplace.bids import pilots
from marketplace.bids.award_closing import close_waiting_awards
from marketplace.bids.models import Bid, BidAttachment, BidRevision, BidStatus, BidTerms, ShortlistedBid
from marketplace.certificates.service import Standing
from marketplace.certificates.service import standings as certificate_standings
from marketplace.concentration import service as concentration
from marketplace.contracts.models import Contract
from marketplace.dates import local_time, user_zone
from marketplace.db_types import utcnow
from marketplace.downloads import display_name, store_private_file
from marketplace.errors import Refusal
from marketplace.jobs.models import CERTIFICATIONS, HOSTING_OPTIONS, BiddingMode, Job, JobStatus
from marketplace.locking import lock_row
from marketplace.money import MAX_AMOUNT_MINOR, format_money
from marketplace.ndas import service as ndas
from marketplace.notifications.service import notify_org
from marketplace.scoring import service as scoring
from marketplace.screening.services.screen import Screening, Verdict, screenings_for_buyer
from marketplace.webhooks import events as webhook_events

# One wording for every screening refusal a vendor sees: it names no buyer-wide cause, no finding, no rival.
EXCLUDED_MESSAGE = "You cannot bid on this job."
# The same for every job of every lab while a filing awaits review (visibility.filing_under_review).
PAUSED_MESSAGE = (
    "Bidding is paused while your ownership disclosure awaits an admin's review: you can bid again once it is reviewed."
)
# What a vendor is told of its withdrawn bid while it may still bid on the job (place_bid takes it back).
WITHDRAWN_MESSAGE = "This bid is withdrawn: bid again to make it live with new terms."
ALREADY_BID = "Your organisation has already bid on this job: revise that bid instead."
AWARDED_STATES = (JobStatus.AWARDED, JobStatus.IN_PROGRESS, JobStatus.DELIVERED, JobStatus.COMPLETED)


class ApprovalNeeded(Refusal):
    """The award is above the lab's approval amount and the user is no approver: it must be asked for instead
    (bids.approvals.award_or_request)."""


class BidError(Refusal):
    """A refusal the user can understand; `field` names the form field it belongs to, if any."""


MAX_TURNAROUND_DAYS = 3650


@dataclass(frozen=True)
class NewBidFile:
    """A file chosen in the bid form; `data` holds at most one byte beyond the limit."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Requirement:
    """One of the job's data-handling requirements, for the vendor to answer: its key, and what the job asks."""

    key: str
    line: str


@dataclass(frozen=True)
class Offer:
    """The terms a vendor offers, money already in minor units of the job's currency."""

    price_per_unit_minor: int
    total_minor: int
    turnaround_days: int
    quality_guarantee_pct: float | None = None
    proposal: str = ""
    data_handling_response: str = ""
    requirement_answers: dict[str, str] = field(default_factory=dict)
    files: list[NewBidFile] = field(default_factory=list)
    # The price of the job's paid pilot; required when the job asks for one, dropped when it does not.
    pilot_price_minor: int | None = None


# ---------------------------------------------------------------- shared checks


def _vendor_org(session: Session, user: User) -> Organization:
    if not user.is_vendor or user.org_id is None:
        raise BidError("Only vendors bid on jobs.")
    return cast(Organization, session.get(Organization, user.org_id))


def _check_job_takes_bids(job: Job, user: User, now: datetime | None = None) -> None:
    """Bids are placed, revised and withdrawn only while the job is open, before its deadline (at `now`, the instant
    the change is decided and stamped with: see _decided_at)."""
    status = visibility.effective_status(job, now)
    if status == JobStatus.CLOSED:
        raise BidError(f"Bidding on this job closed at {local_time(job.bid_deadline, user)}.")
    if status != JobStatus.OPEN:
        raise BidError("This job is not taking bids.")


def _check_vendor_may_bid(session: Session, vendor_org: Organization, job: Job) -> None:
    if vendor_org.suspended_at is not None:
        raise BidError("Your organisation is suspended and cannot bid.")
    if visibility.filing_under_review(session, vendor_org.id):
        raise BidError(PAUSED_MESSAGE)
    if visibility.verdict_between(session, job.buyer_org_id, vendor_org) == Verdict.EXCLUDE:
        raise BidError(EXCLUDED_MESSAGE)
    if job.requires_nda and ndas.unaccepted(session, vendor_org.id, job):
        raise BidError(ndas.NOT_ACCEPTED)


def _check_offer(offer: Offer) -> None:
    if offer.price_per_unit_minor <= 0:
        raise BidError("Enter a price per unit above zero.", "price_per_unit")
    if offer.total_minor <= 0:
        raise BidError("Enter a total above zero.", "total")
    if offer.total_minor > MAX_AMOUNT_MINOR:
        raise BidError("That total is too large to be a real bid; check the number of digits.", "total")
    if offer.total_minor < offer.price_per_unit_minor:
        raise BidError("The total cannot be less than the price per unit.", "total")
    if not 1 <= offer.turnaround_days <= MAX_TURNAROUND_DAYS:
        raise BidError(f"Turnaround is between 1 and {MAX_TURNAROUND_DAYS:,} days.", "turnaround_days")
    pct = offer.quality_guarantee_pct
    if pct is not None and not 0 <= pct <= 100:
        raise BidError("A quality guarantee is between 0 and 100%.", "quality_guarantee_pct")
    if len(offer.proposal) > 20000:
        raise BidError("Keep the proposal under 20,000 characters.", "proposal")
    if len(offer.data_handling_response) > 8000:
        raise BidError("Keep this under 8,000 characters.", "data_handling_response")
    for key, answer in offer.requirement_answers.items():
        if len(answer) > MAX_ANSWER:
            raise BidError(f"Keep each answer under {MAX_ANSWER:,} characters.", f"answer_{key}")
    if len(offer.files) > MAX_BID_FILES:
        raise BidError(f"A bid can carry at most {MAX_BID_FILES} files.", "files")
    for file in offer.files:
        if len(file.data) > MAX_BID_FILE_BYTES:
            raise BidError(f"“{display_name(file.filename)}” is larger than 10 MB.", "files")
        if not file.data:
            raise BidError(f"“{display_name(file.filename)}” is empty.", "files")


def _check_pilot_price(job: Job, offer: Offer) -> None:
    if not job.pilot_scope:
        return
    price = offer.pilot_price_minor
    if price is None:
        raise BidError("This job asks for a paid pilot first: quote its price.", "pilot_price")
    if price <= 0:
        raise BidError("Enter a pilot price above zero.", "pilot_price")
    if price > offer.total_minor:
        raise BidError("The pilot cannot cost more than the whole job.", "pilot_price")


def _answers_for(job: Job, offer: Offer) -> dict[str, str]:
    """The answers to the requirements the job sets (an answer to one it does not set is dropped), trimmed."""
    asked = {requirement.key for requirement in data_handling_requirements(job)}
    return {key: answer.strip() for key, answer in offer.requirement_answers.items() if key in asked and answer.strip()}


def _apply_terms(bid: Bid, job: Job, offer: Offer) -> None:
    bid.price_per_unit_minor, bid.total_minor = offer.price_per_unit_minor, offer.total_minor
    bid.turnaround_days, bid.quality_guarantee_pct = offer.turnaround_days, offer.quality_guarantee_pct
    bid.proposal, bid.data_handling_response = offer.proposal, offer.data_handling_response
    bid.requirement_answers = _answers_for(job, offer)
    bid.pilot_price_minor = offer.pilot_price_minor if job.pilot_scope else None


def _check_file_count(session: Session, bid: Bid, files: list[NewBidFile]) -> None:
    if files and len(attachments_of(session, bid.id)) + len(files) > MAX_BID_FILES:
        raise BidError(f"A bid can carry at most {MAX_BID_FILES} files.", "files")


def _store_files(session: Session, user: User, bid: Bid, files: list[NewBidFile]) -> None:
    """Keep each file under a random name in the upload folder's bids/ (the name the vendor gave is only shown)."""
    if not files:
        return
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / FILES_FOLDER
    for file in files:
        stored_name = store_private_file(folder, file.data)
        session.add(
            BidAttachment(
                bid_id=bid.id,
                filename=display_name(file.filename),
                stored_name=stored_name,
                content_type=(file.content_type or "application/octet-stream")[:100],
                size_bytes=len(file.data),
                uploaded_by_id=user.id,
            )
        )


def attachments_of(session: Session, bid_id: int) -> list[BidAttachment]:
    return list(
        session.execute(
            select(BidAttachment).where(col(BidAttachment.bid_id) == bid_id).order_by(col(BidAttachment.id))
        ).scalars()
    )


def bidding_refusal(session: Session, user: User, job: Job, now: datetime | None = None) -> str | None:
    """Why this vendor may not place a bid on this (visible) job now, or None when it may."""
    try:
        _check_vendor_may_bid(session, _vendor_org(session, user), job)
        _check_job_takes_bids(job, user, now)
    except BidError as error:
        return str(error)
    return None


def change_refusal(session: Session, user: User, bid: Bid, job: Job, now: datetime | None = None) -> str | None:
    """Why the vendor may not revise or withdraw this bid now (at `now` when given), or None when it may."""
    if bid.status == BidStatus.WITHDRAWN:
        refusal = bidding_refusal(session, user, job, now)
        return f"This bid is withdrawn. {refusal}" if refusal else WITHDRAWN_MESSAGE
    if bid.status != BidStatus.ACTIVE:
        return f"This bid is {bid.status}: it can no longer change."
    if final_offer_open(session, bid, job, now):
        try:
            _check_vendor_may_bid(session, _vendor_org(session, user), job)
        except BidError as error:
            return str(error)
        return None
    return bidding_refusal(session, user, job, now)


FINAL_OFFER_MIN = timedelta(hours=1)
FINAL_OFFER_MAX = timedelta(days=60)


def shortlist(session: Session, user: User, job_id: int, bid_id: int, keep: bool) -> Bid:
    """Put a bid the lab compares on its shortlist (keep) or take it off. NotVisible (404) for a bid the lab may not
    read; BidError once final offers were asked for, or the job is over."""
    ensure_active(session, user, "shortlist bids")
    job = visibility.get_own_job(session, user, job_id)
    if job.final_offers_due is not None:
        raise BidError("The shortlist was asked for best and final offers: it no longer changes.")
    bid = visibility.get_proposal_bid(session, user, bid_id)
    if bid.job_id != job.id:
        raise visibility.NotVisible(f"bid {bid_id} of job {job_id}")
    if job.status != JobStatus.OPEN or bid.status != BidStatus.ACTIVE:
        raise BidError("Only a live bid on a job not yet awarded can be shortlisted.")
    row = session.execute(select(ShortlistedBid).where(col(ShortlistedBid.bid_id) == bid.id)).scalar_one_or_none()
    if keep and row is None:
        session.add(ShortlistedBid(bid_id=bid.id, added_by_id=user.id))
    elif not keep and row is not None:
        session.delete(row)
    else:
        return bid
    session.flush()
    record_event(
        session,
        user,
        "bid.shortlisted" if keep else "bid.unshortlisted",
        "bid",
        bid.id,
        buyer_org_id=job.buyer_org_id,
        vendor_org_id=bid.vendor_org_id,
    )
    return bid


def shortlisted_ids(session: Session, job_id: int) -> set[int]:
    return set(
        session.execute(
            select(col(ShortlistedBid.bid_id))
            .join(Bid, col(Bid.id) == col(ShortlistedBid.bid_id))
            .where(col(Bid.job_id) == job_id)
        ).scalars()
    )


def ask_final_offers(session: Session, user: User, job_id: int, due_local: datetime, note: str = "") -> list[Bid]:
    """Ask the shortlisted bidders for a best and final offer by `due_local` (the lab's wall-clock time): they may
    revise until then, every bid's terms are sealed to the lab until then, and award waits. Once per job."""
    ensure_active(session, user, "ask for final offers")
    job = visibility.get_own_job(session, user, job_id)
    job = lock_row(session, Job, job.id)
    if job.final_offers_due is not None:
        raise BidError("Best and final offers were asked for already.", None)
    if job.status != JobStatus.OPEN:
        raise BidError("Only a job not yet awarded can ask for best and final offers.", None)
    if visibility.effective_status(job) != JobStatus.CLOSED:
        raise BidError(
            f"Ask for best and final offers once bidding has closed, {local_time(job.bid_deadline, user)}.", None
        )
    note = (note or "").strip()
    if len(note) > 1000:
        raise BidError("Keep the note under 1,000 characters.", "note")
    due = due_local.replace(tzinfo=user_zone(user)).astimezone(UTC) if due_local.tzinfo is None else due_local
    now = utcnow()
    if due < now + FINAL_OFFER_MIN:
        raise BidError("Give the bidders at least an hour: choose a later time.", "due")
    if due > now + FINAL_OFFER_MAX:
        raise BidError("Choose a time within 60 days.", "due")
    compared = {bid.id: bid for bid in visibility.comparable_bids(session, user, job) if bid.status == BidStatus.ACTIVE}
    asked = [compared[bid_id] for bid_id in sorted(shortlisted_ids(session, job.id)) if bid_id in compared]
    if not asked:
        raise BidError("Shortlist at least one live bid first.", None)
    job.final_offers_due = due
    record_event(
        session,
        user,
        "job.final_offers_requested",
        "job",
        job.id,
        after={"due": due.isoformat(), "bid_ids": [bid.id for bid in asked]},
        buyer_org_id=job.buyer_org_id,
    )
    for bid in asked:
        label = visibility.buyer_label_for_org(session, job, bid.vendor_org_id)
        said = f" They add: “{note}”" if note else ""
        notify_org(
            session,
            bid.vendor_org_id,
            "final_offer_requested",
            f"{label} shortlisted your bid on “{job.title}” and asks for your best and final offer by "
            f"{due:%Y-%m-%d %H:%M} UTC: revise your bid until then.{said}",
            f"/bids/{bid.id}",
            job_id=job.id,
        )
    session.flush()
    return asked


def final_offer_open(session: Session, bid: Bid, job: Job, now: datetime | None = None) -> bool:
    """Whether the lab asked this bid for a best and final offer that is not yet due (at `now` when given)."""
    return _final_offers_open(job, now or utcnow()) and is_shortlisted(session, bid.id)


def _final_offers_open(job: Job, now: datetime) -> bool:
    return job.final_offers_due is not None and now < job.final_offers_due and job.status == JobStatus.OPEN


def is_shortlisted(session: Session, bid_id: int) -> bool:
    return (
        session.execute(select(col(ShortlistedBid.id)).where(col(ShortlistedBid.bid_id) == bid_id)).first() is not None
    )


def own_bid_on(session: Session, user: User, job: Job) -> Bid | None:
    """The vendor organisation's bid on this job, if it has one."""
    return session.execute(visibility.own_bids(session, user).where(col(Bid.job_id) == job.id)).scalar_one_or_none()


def _bid_and_job(session: Session, user: User, bid_id: int) -> tuple[Bid, Job]:
    bid = visibility.get_own_bid(session, user, bid_id)
    return bid, visibility.get_visible_job(session, user, bid.job_id)


def _own_bid_locked(session: Session, user: User, bid_id: int) -> tuple[Job, Bid]:
    """The vendor's own bid and its job, locked as `_lock_job_then_bid` locks them (NotVisible, 404, otherwise)."""
    bid, job = _bid_and_job(session, user, bid_id)
    job, locked = _lock_job_then_bid(session, user, job, bid)
    return job, cast(Bid, locked)


def _lock_job_then_bid(session: Session, user: User, job: Job, bid: Bid | None = None) -> tuple[Job, Bid | None]:
    """Every change to a job's bids (place, revise, withdraw, award) locks the job first, then the bid: changes to
    one job's bids take turns, in one order, so none is lost and none deadlocks another. Both are read again under
    the lock (docs/concurrency.md), and the job is looked up again as the user may see it: a buyer's edit that
    landed while this request waited (invite-only now, say) counts."""
    lock_row(session, Job, job.id)
    job = (
        visibility.get_own_job(session, user, job.id)
        if user.is_buyer
        else visibility.get_visible_job(session, user, job.id)
    )
    return job, lock_row(session, Bid, bid.id) if bid is not None else None


# ---------------------------------------------------------------- vendor actions


def _terms_summary(bid: Bid) -> dict:
    """The bid's terms as the audit trail keeps them."""
    return {
        "price_per_unit": format_money(bid.price_per_unit_minor, bid.currency),
        "total": format_money(bid.total_minor, bid.currency),
        "turnaround_days": bid.turnaround_days,
        "quality_guarantee_pct": bid.quality_guarantee_pct,
        **({"pilot_price": format_money(bid.pilot_price_minor, bid.currency)} if bid.pilot_price_minor else {}),
    }


def _decided_at() -> datetime:
    """The one instant a bid's change is decided at, read under the job's lock: the deadline is checked against it
    and the bid and its revision are stamped with it. Stamping later (when the row is built, after the files are
    stored, say) could date a change that was let in before the deadline after it (docs/concurrency.md)."""
    return utcnow()


def _add_revision(session: Session, user: User, bid: Bid, at: datetime) -> BidRevision:
    revision = BidRevision(
        bid_id=bid.id,
        number=bid.revision,
        created_by_id=user.id,
        created_at=at,
        price_per_unit_minor=bid.price_per_unit_minor,
        total_minor=bid.total_minor,
        currency=bid.currency,
        turnaround_days=bid.turnaround_days,
        quality_guarantee_pct=bid.quality_guarantee_pct,
        proposal=bid.proposal,
        data_handling_response=bid.data_handling_response,
        requirement_answers=dict(bid.requirement_answers),
        pilot_price_minor=bid.pilot_price_minor,
    )
    session.add(revision)
    return revision


def _tell_buyer(session: Session, job: Job, kind: str, message: str) -> None:
    notify_org(session, job.buyer_org_id, kind, message, f"/jobs/{job.id}/bids", job_id=job.id)


def _amount_words(job: Job, bid: Bid) -> str:
    """What a buyer's notification may say about the amount: nothing while a sealed job is open, nor while best
    and final offers are due."""
    if job.final_offers_due is not None and visibility.sealed_until(job) == job.final_offers_due:
        return "Final offers stay sealed until they are due."
    if job.bidding_mode == BiddingMode.SEALED:
        return "Amounts stay sealed until the bid deadline."
    return (
        f"{format_money(bid.total_minor, bid.currency)} total, "
        f"{format_money(bid.price_per_unit_minor, bid.currency)} per unit, {bid.turnaround_days} days."
    )


def place_bid(session: Session, user: User, job_id: int, offer: Offer) -> Bid:
    """Place the vendor organisation's one bid on a job, as revision 1.

    Raises NotVisible (404) when the vendor may not see the job, BidError for every refusal.
    """
    ensure_active(session, user, "place bids")
    vendor_org = _vendor_org(session, user)
    job = visibility.get_visible_job(session, user, job_id)
    _check_vendor_may_bid(session, vendor_org, job)
    _check_offer(offer)
    _check_pilot_price(job, offer)
    # What another request may change meanwhile (the job's state, a colleague's bid) is read under the lock.
    job, _ = _lock_job_then_bid(session, user, job)
    now = _decided_at()
    _check_job_takes_bids(job, user, now)
    existing = own_bid_on(session, user, job)
    if existing is not None and existing.status == BidStatus.WITHDRAWN:
        return _resubmit(session, user, existing, job, offer, now)
    if existing is not None:
        raise BidError(ALREADY_BID)
    bid = Bid(
        job_id=job.id,
        vendor_org_id=vendor_org.id,
        currency=job.currency,
        revision=1,
        price_per_unit_minor=offer.price_per_unit_minor,
        total_minor=offer.total_minor,
        turnaround_days=offer.turnaround_days,
        quality_guarantee_pct=offer.quality_guarantee_pct,
        proposal=offer.proposal,
        data_handling_response=offer.data_handling_response,
        requirement_answers=_answers_for(job, offer),
        pilot_price_minor=offer.pilot_price_minor if job.pilot_scope else None,
        created_at=now,
        updated_at=now,
    )
    session.add(bid)
    session.flush()
    _add_revision(session, user, bid, now)
    _store_files(session, user, bid, offer.files)
    record_event(
        session,
        user,
        "bid.placed",
        "bid",
        bid.id,
        after=_terms_summary(bid),
        buyer_org_id=job.buyer_org_id,
        vendor_org_id=vendor_org.id,
    )
    sealed = "sealed " if job.bidding_mode == BiddingMode.SEALED else ""
    _tell_buyer(
        session, job, "new_bid", f"New {sealed}bid on “{job.title}” from {vendor_org.name}. {_amount_words(job, bid)}"
    )
    webhook_events.bid_received(session, job, bid, vendor_org)
    session.flush()
    return bid


def _resubmit(session: Session, user: User, bid: Bid, job: Job, offer: Offer, now: datetime) -> Bid:
    """The vendor bids again after withdrawing (place_bid has made every check of a first bid): the same bid is
    live again with the new terms as its next revision; the revision it withdrew keeps the withdrawal."""
    bid = lock_row(session, Bid, bid.id)  # the job is locked already (place_bid)
    if bid.status != BidStatus.WITHDRAWN:  # another session of the vendor's was first
        raise BidError(ALREADY_BID)
    before = {**_terms_summary(bid), "status": BidStatus.WITHDRAWN.value, "revision": bid.revision}
    _apply_terms(bid, job, offer)
    bid.status, bid.withdrawn_at = BidStatus.ACTIVE, None
    bid.revision += 1
    bid.updated_at = now
    _add_revision(session, user, bid, now)
    _store_files(session, user, bid, offer.files)
    record_event(
        session,
        user,
        "bid.resubmitted",
        "bid",
        bid.id,
        before=before,
        after={**_terms_summary(bid), "status": BidStatus.ACTIVE.value, "revision": bid.revision},
        buyer_org_id=job.buyer_org_id,
        vendor_org_id=bid.vendor_org_id,
    )
    vendor_org = cast(Organization, session.get(Organization, bid.vendor_org_id))
    sealed = "sealed " if job.bidding_mode == BiddingMode.SEALED else ""
    _tell_buyer(
        session,
        job,
        "new_bid",
        f"{vendor_org.name}, which had withdrawn, placed a new {sealed}bid on “{job.title}”. {_amount_words(job, bid)}",
    )
    webhook_events.bid_received(session, job, bid, vendor_org)
    session.flush()
    return bid


def revise_bid(session: Session, user: User, bid_id: int, offer: Offer) -> Bid:
    """Revise an active bid before the deadline: a new revision is added, earlier ones stay as they were.

    Raises NotVisible (404) for anything but the vendor's own bid, BidError for every refusal.
    """
    ensure_active(session, user, "revise bids")
    job, bid = _own_bid_locked(session, user, bid_id)
    now = _decided_at()
    refusal = change_refusal(session, user, bid, job, now)
    if refusal:
        raise BidError(refusal)
    _check_offer(offer)
    _check_pilot_price(job, offer)
    _check_file_count(session, bid, offer.files)
    before = _terms_summary(bid)
    _apply_terms(bid, job, offer)
    bid.revision += 1
    bid.updated_at = now
    _add_revision(session, user, bid, now)
    _store_files(session, user, bid, offer.files)
    record_event(
        session,
        user,
        "bid.revised",
        "bid",
        bid.id,
        before=before,
        after={**_terms_summary(bid), "revision": bid.revision},
        buyer_org_id=job.buyer_org_id,
        vendor_org_id=bid.vendor_org_id,
    )
    vendor_org = cast(Organization, session.get(Organization, bid.vendor_org_id))
    _tell_buyer(
        session, job, "bid_revised", f"{vendor_org.name} revised its bid on “{job.title}”. {_amount_words(job, bid)}"
    )
    session.flush()
    return bid


def _mark_withdrawal(session: Session, bid: Bid) -> None:
    """The bid's history keeps the withdrawal on the revision that was live, should the vendor bid again."""
    latest = (
        session.execute(
            select(BidRevision)
            .where(col(BidRevision.bid_id) == bid.id, col(BidRevision.number) == bid.revision)
            .order_by(col(BidRevision.id).desc())
        )
        .scalars()
        .first()
    )
    if latest is not None:
        latest.withdrawn_at = bid.withdrawn_at


def withdraw_bid(session: Session, user: User, bid_id: int) -> Bid:
    """Withdraw an active bid before the deadline; it leaves the buyer's comparison.

    Raises NotVisible (404) for anything but the vendor's own bid, BidError for every refusal.
    """
    ensure_active(session, user, "withdraw bids")
    job, bid = _own_bid_locked(session, user, bid_id)
    now = _decided_at()
    refusal = _withdrawal_refusal(session, user, bid, job, now)
    if refusal:
        raise BidError(refusal)
    bid.status = BidStatus.WITHDRAWN
    bid.withdrawn_at = bid.updated_at = now
    _mark_withdrawal(session, bid)
    record_event(
        session,
        user,
        "bid.withdrawn",
        "bid",
        bid.id,
        before={"status": BidStatus.ACTIVE.value},
        after={"status": BidStatus.WITHDRAWN.value},
        buyer_org_id=job.buyer_org_id,
        vendor_org_id=bid.vendor_org_id,
    )
    vendor_org = cast(Organization, session.get(Organization, bid.vendor_org_id))
    close_waiting_awards(session, None, job, f"{vendor_org.name} withdrew its bid.", bid_id=bid.id)
    _tell_buyer(session, job, "bid_withdrawn", f"{vendor_org.name} withdrew its bid on “{job.title}”.")
    session.flush()
    return bid


# ---------------------------------------------------------------- buyer side


@dataclass
class ComparedBid:
    bid: Bid
    vendor: Organization
    # Explanations of the review findings a buyer must see beside the bid.
    findings: list[str] = field(default_factory=list)


@dataclass
class Comparison:
    job: Job
    amounts_visible: bool
    bid_count: int
    rows: list[ComparedBid]
    can_award: bool
    winner: ComparedBid | None = None
    # Each compared bid's scores (marketplace.scoring), by bid id, and the job's weights.
    scores: dict[int, scoring.Scored] = field(default_factory=dict)
    weights: dict[str, int] = field(default_factory=dict)
    # The lab's shortlist (bid ids), whether it may still change, and best and final offers.
    shortlisted: set[int] = field(default_factory=set)
    can_shortlist: bool = False
    can_ask_final: bool = False
    sealed_until: datetime | None = None
    # The job's pilots by bid id (marketplace.bids.pilots), and the bids a pilot may start with now.
    pilot_of: dict[int, pilots.Pilot] = field(default_factory=dict)
    can_start_pilot: set[int] = field(default_factory=set)
    # {bid id: why awarding it would pass the lab's cap on its spend under one owner}.
    over_cap: dict[int, str] = field(default_factory=dict)
    # Each compared vendor's standing on each certification the job requires (marketplace.certificates).
    certificates: dict[int, list[Standing]] = field(default_factory=dict)


def _screened_bids(session: Session, user: User, job: Job) -> list[ComparedBid]:
    """The comparable bids, re-screened now: a vendor excluded since it bid leaves the comparison."""
    bids = visibility.comparable_bids(session, user, job)
    vendors = {
        org.id: org
        for org in session.execute(
            select(Organization).where(col(Organization.id).in_({b.vendor_org_id for b in bids}))
        ).scalars()
    }
    screenings = screenings_for_buyer(session, job.buyer_org_id, list(vendors.values()))
    rows = []
    for bid in bids:
        screening = screenings.get(bid.vendor_org_id)
        verdict = screening.verdict if screening else Verdict.CLEAR
        if verdict == Verdict.EXCLUDE:
            continue
        findings = [f.explanation for f in cast(Screening, screening).findings] if verdict == Verdict.REVIEW else []
        rows.append(ComparedBid(bid, vendors[bid.vendor_org_id], findings))
    return rows


def _award_refusal(job: Job, user: User) -> str | None:
    if job.status in AWARDED_STATES:
        return "This job has already been awarded."
    if job.status != JobStatus.OPEN:
        return f"A job that is {str(job.status).replace('_', ' ')} cannot be awarded."
    if job.final_offers_due is not None and not visibility.bid_amounts_visible(job):
        return f"Best and final offers are due {local_time(job.final_offers_due, user)}: award after that."
    if not visibility.bid_amounts_visible(job):
        return f"Sealed bids can be awarded only after the deadline, {local_time(job.bid_deadline, user)}."
    return None


def comparison(session: Session, user: User, job_id: int) -> Comparison:
    """The buyer's view of its job's bids; a sealed job shows only how many until its deadline.

    Raises NotVisible (404) unless the user is the job's buyer (or an admin).
    """
    job = visibility.get_visible_job(session, user, job_id)
    rows = _screened_bids(session, user, job)
    amounts_visible = visibility.bid_amounts_visible(job)
    decides = user.is_buyer and has_org_role(user, OrgRole.MANAGER)  # a member reads the comparison, no more
    winner = next((row for row in rows if row.bid.status == BidStatus.AWARDED), None)
    pilot_of = pilots.pilots_of_job(session, job.id) if amounts_visible and job.pilot_scope else {}
    return Comparison(
        job=job,
        amounts_visible=amounts_visible,
        bid_count=sum(1 for row in rows if row.bid.status == BidStatus.ACTIVE),
        # Nothing about a sealed bid leaves this function before the deadline.
        rows=rows if amounts_visible else [],
        can_award=decides and _award_refusal(job, user) is None,
        winner=winner if amounts_visible else None,
        scores=scoring.score_rows(session, job, [row.bid for row in rows]) if amounts_visible else {},
        weights=scoring.weights_of(session, job.id),
        shortlisted=shortlisted_ids(session, job.id),
        can_shortlist=decides and amounts_visible and job.status == JobStatus.OPEN and job.final_offers_due is None,
        can_ask_final=(
            decides
            and job.status == JobStatus.OPEN
            and job.final_offers_due is None
            and visibility.effective_status(job) == JobStatus.CLOSED
        ),
        sealed_until=visibility.sealed_until(job),
        pilot_of=pilot_of,
        can_start_pilot=pilots.startable(job, user, [row.bid for row in rows], pilot_of) if amounts_visible else set(),
        over_cap=concentration.award_warnings(
            session, job.buyer_org_id, [row.bid for row in rows if row.bid.status == BidStatus.ACTIVE]
        )
        if amounts_visible and job.status == JobStatus.OPEN
        else {},
        certificates=certificate_standings(session, job.certifications, {row.vendor.id for row in rows})
        if amounts_visible
        else {},
    )


def _tell_bidders(
    session: Session, job: Job, winner: ComparedBid, losers: list[ComparedBid], contract: Contract
) -> None:
    buyer = cast(Organization, session.get(Organization, job.buyer_org_id))
    notify_org(
        session,
        winner.vendor.id,
        "award",
        f"{buyer.name} awarded you “{job.title}”: a contract for "
        f"{format_money(contract.total_minor, contract.currency)}.",
        f"/bids/{winner.bid.id}",
        job_id=job.id,
    )
    for row in losers:
        notify_org(
            session,
            row.vendor.id,
            "not_selected",
            f"Your bid on “{job.title}” was not selected.",
            f"/bids/{row.bid.id}",
            job_id=job.id,
        )


def award_bid(session: Session, user: User, job_id: int, bid_id: int) -> Contract:
    """Award one live bid: the job is awarded, a contract made, the other live bids lost, every bidder told.

    Raises NotVisible (404) unless the user is the job's buyer and the bid is in its comparison,
    BidError for every refusal.
    """
    ensure_active(session, user, "award jobs")
    job, _ = _lock_job_then_bid(session, user, visibility.get_own_job(session, user, job_id))
    plan = _award_plan(session, user, job, bid_id)
    if plan.refusal:
        raise BidError(plan.refusal)
    winner, losers = cast(ComparedBid, plan.winner), plan.losers
    buyer = cast(Organization, session.get(Organization, job.buyer_org_id))
    if award_needs_approval(buyer, user, winner.bid.total_minor, winner.bid.currency):
        raise ApprovalNeeded(f"An award above {buyer.name}'s approval amount needs an approver.")
    now = utcnow()
    job.status, job.awarded_at, job.updated_at = JobStatus.AWARDED, now, now
    winner.bid.status, winner.bid.updated_at = BidStatus.AWARDED, now
    contract = Contract(
        job_id=job.id,
        bid_id=winner.bid.id,
        buyer_org_id=job.buyer_org_id,
        vendor_org_id=winner.vendor.id,
        total_minor=winner.bid.total_minor,
        currency=winner.bid.currency,
    )
    session.add(contract)
    session.flush()
    for row in losers:
        row.bid.status, row.bid.updated_at = BidStatus.LOST, now
    # A bid out of the comparison (a suspended vendor's, one screening set aside) does not stay live on an awarded
    # job either: it is lost too, silently, as its vendor was not competing (and must learn nothing of why).
    for bid in session.execute(
        select(Bid).where(col(Bid.job_id) == job.id, col(Bid.status) == BidStatus.ACTIVE, col(Bid.id) != winner.bid.id)
    ).scalars():
        bid.status, bid.updated_at = BidStatus.LOST, now
    _tell_bidders(session, job, winner, losers, contract)
    record_event(
        session,
        user,
        "job.awarded",
        "job",
        job.id,
        before={"status": JobStatus.OPEN.value},
        after={
            "status": JobStatus.AWARDED.value,
            "bid_id": winner.bid.id,
            "contract_id": contract.id,
            "lost_bid_ids": [row.bid.id for row in losers],
            "total": format_money(contract.total_minor, contract.currency),
        },
        buyer_org_id=job.buyer_org_id,
        vendor_org_id=winner.vendor.id,
    )
    session.flush()
    return contract


# ---------------------------------------------------------------- what the vendor's pages show


# What the vendor sees of a bid that left the buyer's comparison: that it is out, never that screening did it.
NOT_CONSIDERED = "not_considered"


PAUSED = "paused"


def outcome_for(session: Session, user: User, bid: Bid) -> str:
    """The outcome the vendor's own pages show for its bid."""
    return outcome(bid, visibility.filing_under_review(session, cast(int, user.org_id)))


def outcome(bid: Bid, paused: bool = False) -> str:
    """active, withdrawn, awarded or lost; not_considered when screening excluded the vendor while it was live;
    every live bid is paused, whatever screening says, while the vendor's filing awaits review."""
    if paused and bid.status == BidStatus.ACTIVE:
        return PAUSED
    if bid.conflicted and bid.status == BidStatus.ACTIVE:
        return NOT_CONSIDERED
    return str(bid.status)


@dataclass
class BidPage:
    bid: Bid
    job: Job
    buyer: str
    revisions: list[BidRevision]
    change_refusal: str | None
    # For a withdrawn bid: why the vendor may not bid again now, or None when it may.
    bid_refusal: str | None = None
    files: list[BidAttachment] = field(default_factory=list)
    # When the lab asked this bid for a best and final offer not yet due: when it is due.
    final_offer_due: datetime | None = None


def bid_page(session: Session, user: User, bid_id: int) -> BidPage:
    """The vendor's own bid with every revision, newest first. Raises NotVisible (404) for any other bid."""
    bid, job = _bid_and_job(session, user, bid_id)
    revisions = (
        session.execute(
            select(BidRevision)
            .where(col(BidRevision.bid_id) == bid.id)
            .order_by(col(BidRevision.number).desc(), col(BidRevision.id).desc())
        )
        .scalars()
        .all()
    )
    return BidPage(
        bid,
        job,
        visibility.buyer_label(session, job, user),
        list(revisions),
        change_refusal(session, user, bid, job),
        bidding_refusal(session, user, job) if bid.status == BidStatus.WITHDRAWN else None,
        attachments_of(session, bid.id),
        job.final_offers_due if final_offer_open(session, bid, job) else None,
    )


@dataclass(frozen=True)
class Proposal:
    """A bid as the lab reads it beside the comparison: the vendor, the terms, each requirement with its answer,
    the files, and what screening found."""

    bid: Bid
    job: Job
    vendor: Organization
    files: list[BidAttachment]
    findings: list[str]
    scores: scoring.Scored | None = None
    weights: dict[str, int] = field(default_factory=dict)
    certificates: list[Standing] = field(default_factory=list)


def proposal(session: Session, user: User, job_id: int, bid_id: int) -> Proposal:
    """The whole bid for the lab (on a sealed job, after the deadline). NotVisible (404) otherwise."""
    bid = visibility.get_proposal_bid(session, user, bid_id)
    if bid.job_id != job_id or user.is_vendor:
        raise visibility.NotVisible(f"proposal of bid {bid_id}")
    job = cast(Job, session.get(Job, job_id))
    vendor = cast(Organization, session.get(Organization, bid.vendor_org_id))
    screened = {row.bid.id: row for row in _screened_bids(session, user, job)}
    if bid.id not in screened:  # excluded since it bid: it has left the comparison, and so has its proposal
        raise visibility.NotVisible(f"proposal of bid {bid_id}")
    scores = scoring.score_rows(session, job, [row.bid for row in screened.values()]).get(bid.id)
    files = attachments_of(session, bid.id)
    held = certificate_standings(session, job.certifications, {vendor.id}).get(vendor.id, [])
    weights = scoring.weights_of(session, job.id)
    return Proposal(bid, job, vendor, files, screened[bid.id].findings, scores, weights, held)


def proposal_file(session: Session, user: User, bid_id: int, file_id: int) -> BidAttachment:
    """A file of a bid whose proposal the user may read. NotVisible (404) otherwise."""
    bid = visibility.get_proposal_bid(session, user, bid_id)
    found = session.get(BidAttachment, file_id)
    if found is None or found.bid_id != bid.id:
        raise visibility.NotVisible(f"file {file_id} of bid {bid_id}")
    return found


@dataclass(frozen=True)
class MyBid:
    bid: Bid
    job: Job
    buyer: str
    outcome: str
    # When the lab asked this bid for a best and final offer not yet due: when it is due.
    final_offer_due: datetime | None = None


def my_bids(session: Session, user: User) -> list[MyBid]:
    """The vendor organisation's bids on jobs it may still see, latest activity first."""
    rows = session.execute(
        visibility.own_bids(session, user)
        .add_columns(Job, col(ShortlistedBid.id).is_not(None))
        .join(Job, col(Job.id) == Bid.job_id)
        .outerjoin(ShortlistedBid, col(ShortlistedBid.bid_id) == Bid.id)
        .order_by(col(Bid.updated_at).desc(), col(Bid.id).desc())
    ).all()
    paused = visibility.filing_under_review(session, cast(int, user.org_id))
    labels = visibility.buyer_labels(session, [job for _, job, _ in rows], user)
    now = utcnow()
    return [
        MyBid(
            bid,
            job,
            labels[job.id],
            outcome(bid, paused),
            job.final_offers_due if shortlisted and _final_offers_open(job, now) else None,
        )
        for bid, job, shortlisted in rows
    ]


MAX_BID_FILES = 10
MAX_BID_FILE_BYTES = 10 * 1024 * 1024
FILES_FOLDER = "bids"

# The data-handling requirements a job can set, each answered on its own by the vendor.
REQUIREMENTS = ("certifications", "data_residency", "labeler_locations", "hosting", "retention")
MAX_ANSWER = 2000


def data_handling_requirements(job: Job) -> list[Requirement]:
    """The job's data-handling requirements, one each, for the vendor to answer."""
    found = []
    if job.certifications:
        found.append(
            Requirement("certifications", f"Certifications: {', '.join(_words(c) for c in job.certifications)}")
        )
    if job.data_residency:
        found.append(Requirement("data_residency", f"Data residency: {job.data_residency}"))
    if job.labeler_locations:
        found.append(Requirement("labeler_locations", f"Labeler locations: {', '.join(job.labeler_locations)}"))
    found.append(Requirement("hosting", f"Hosting: {HOSTING_OPTIONS.get(job.hosting, job.hosting)}"))
    if job.retention_days is not None or job.deletion_terms:
        parts = [f"{job.retention_days} days" if job.retention_days is not None else "", job.deletion_terms]
        found.append(Requirement("retention", "Retention and deletion: " + "; ".join(p for p in parts if p)))
    return found


def _words(code: str) -> str:
    return CERTIFICATIONS.get(code, code.replace("_", " "))


def answered_requirements(job: Job, terms: BidTerms) -> list[tuple[Requirement, str]]:
    """Each of the job's requirements with the vendor's answer ("" when it gave none)."""
    return [
        (requirement, terms.requirement_answers.get(requirement.key, ""))
        for requirement in data_handling_requirements(job)
    ]


@dataclass
class JobPanel:
    """What the job page shows about bidding, for the user looking at it."""

    role: str
    own_bid: Bid | None = None
    outcome: str = ""
    change_refusal: str | None = None
    bid_refusal: str | None = None
    live_bids: int = 0
    awarded_to: str = ""


def panel_for(session: Session, user: User, job: Job) -> JobPanel | None:
    """The bidding panel of a job page; None when the user has nothing to do with its bids."""
    try:
        job = visibility.get_visible_job(session, user, job.id)
    except visibility.NotVisible:
        return None
    if user.is_vendor:
        bid = own_bid_on(session, user, job)
        if bid is not None:
            withdrawn = bid.status == BidStatus.WITHDRAWN
            return JobPanel(
                "vendor",
                own_bid=bid,
                outcome=outcome_for(session, user, bid),
                change_refusal=change_refusal(session, user, bid, job),
                bid_refusal=bidding_refusal(session, user, job) if withdrawn else None,
            )
        return JobPanel("vendor", bid_refusal=bidding_refusal(session, user, job))
    if user.is_buyer or user.is_admin:
        rows = _screened_bids(session, user, job)
        winner = next((row.vendor.name for row in rows if row.bid.status == BidStatus.AWARDED), "")
        return JobPanel(
            "buyer", live_bids=sum(1 for row in rows if row.bid.status == BidStatus.ACTIVE), awarded_to=winner
        )
    return None


# ---------------------------------------------------------------- what a confirmation page says
# Each reaches the bid and job as its action does (the same 404s, in the same order) and changes nothing; what
# the action would refuse now is returned as `refusal`, for the page to say instead of offering the button.


@dataclass
class WithdrawalPreview:
    bid: Bid
    job: Job
    buyer: str
    refusal: str | None


def withdrawal_preview(session: Session, user: User, bid_id: int) -> WithdrawalPreview:
    """What withdrawing the vendor's bid would do. Raises NotVisible (404) for anything but its own bid."""
    bid, job = _bid_and_job(session, user, bid_id)
    refusal = _withdrawal_refusal(session, user, bid, job)
    return WithdrawalPreview(bid, job, visibility.buyer_label(session, job, user), refusal)


def _withdrawal_refusal(session: Session, user: User, bid: Bid, job: Job, now: datetime | None = None) -> str | None:
    """Why the vendor may not withdraw this bid now (the confirmation page and withdraw_bid ask alike)."""
    if bid.status == BidStatus.WITHDRAWN:
        return "This bid is already withdrawn."
    return change_refusal(session, user, bid, job, now)


@dataclass
class AwardPreview:
    job: Job
    refusal: str | None = None
    winner: ComparedBid | None = None
    # The other live bids: they lose, and their vendors are told.
    losers: list[ComparedBid] = field(default_factory=list)
    # Why awarding would pass the lab's cap on its spend under one owner ("" when it would not): a warning only.
    over_cap: str = ""
    # Above the lab's approval amount, by a user who is no approver: confirming asks the approvers instead.
    needs_approval: bool = False


def award_preview(session: Session, user: User, job_id: int, bid_id: int) -> AwardPreview:
    """What awarding this bid would do, checked as award_bid checks it. Raises NotVisible (404) unless the user
    is the job's buyer and the bid is on the job; no amount is shown while a sealed job's bids are sealed."""
    preview = _award_plan(session, user, visibility.get_own_job(session, user, job_id), bid_id)
    if preview.winner is not None:
        buyer = cast(Organization, session.get(Organization, preview.job.buyer_org_id))
        bid = preview.winner.bid
        preview.needs_approval = award_needs_approval(buyer, user, bid.total_minor, bid.currency)
    return preview


def _award_plan(session: Session, user: User, job: Job, bid_id: int) -> AwardPreview:
    """Whether this bid may be awarded now and, if so, the winner and the live bids that lose: the one set of
    checks behind both the confirmation page and award_bid (which makes it under the job's lock). Raises
    NotVisible (404) when the bid is not on the job."""
    refusal = _award_refusal(job, user)
    if refusal:
        return AwardPreview(job, refusal)
    bid = session.get(Bid, bid_id, populate_existing=True)
    if bid is None or bid.job_id != job.id:
        raise visibility.NotVisible(f"bid {bid_id} of job {job.id}")
    if bid.status != BidStatus.ACTIVE:
        return AwardPreview(job, f"This bid is {bid.status} and cannot be awarded.")
    rows = {row.bid.id: row for row in _screened_bids(session, user, job)}
    winner = rows.get(bid.id)
    vendor = cast(Organization, session.get(Organization, bid.vendor_org_id))
    if vendor.suspended_at is not None:
        return AwardPreview(job, f"{vendor.name} is suspended and cannot be awarded.")
    if winner is None:
        return AwardPreview(job, f"Your screening excludes {vendor.name}: its bid cannot be awarded.")
    pilot_refusal = pilots.award_refusal(session, job, bid)
    if pilot_refusal:
        return AwardPreview(job, pilot_refusal)
    losers = [row for row in rows.values() if row.bid.status == BidStatus.ACTIVE and row is not winner]
    over_cap = concentration.award_warnings(session, job.buyer_org_id, [bid]).get(bid.id, "")
    return AwardPreview(job, None, winner, losers, over_cap)
