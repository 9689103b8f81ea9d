"""Private messages per bid: the lab that posted the job and the vendor that bid, and no one else.

Who may open a thread is decided by marketplace.visibility.get_thread_bid (404 otherwise): screening applies both
ways, so a vendor the lab's screening excludes loses the thread with its bid, and its notifications about it. The
other side is named as an organisation only: the lab as its name, or the job's codename on a confidential job not
awarded to the vendor; the vendor as its name. On a confidential job every file loses its identifying metadata
before it is stored (a file whose metadata cannot be checked is refused), as the job's own files do.
"""

from dataclasses import dataclass
from pathlib import Path
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import visibility
from marketplace.accounts.models import Organization, User
from marketplace.accounts.suspension import ensure_active
from marketplace.bids.models import Bid, BidStatus
from marketplace.downloads import display_name, store_private_file
from marketplace.errors import NotVisible, Refusal
from marketplace.jobs.models import Job, JobStatus, Visibility
from marketplace.jobs.scrubbing import UnreadableFile, scrub
from marketplace.messages.models import BidMessage, MessageAttachment
from marketplace.notifications.service import notify_org

MAX_BODY = 5000
MAX_FILES = 5
MAX_FILE_BYTES = 10 * 1024 * 1024
FOLDER = "messages"
# A thread stays open for writing while the work it is about can still change.
OPEN_JOB_STATES = {JobStatus.OPEN, JobStatus.CLOSED, JobStatus.AWARDED, JobStatus.IN_PROGRESS, JobStatus.DELIVERED}


class MessageError(Refusal):
    default_field = "body"


@dataclass(frozen=True)
class NewFile:
    """A file chosen in the form; `data` holds at most one byte beyond the limit."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Shown:
    """One message as the reader sees it: who (a colleague by name, the other side by organisation), when, what."""

    message: BidMessage
    author: str
    own_side: bool
    files: list[MessageAttachment]


@dataclass(frozen=True)
class Thread:
    bid: Bid
    job: Job
    other_side: str  # the lab's name or codename, for the vendor; the vendor's name, for the lab
    messages: list[Shown]
    closed_reason: str | None  # why no message can be sent now, or None


def thread_path(bid_id: int) -> str:
    return f"/bids/{bid_id}/messages"


def _other_side(session: Session, user: User, bid: Bid, job: Job) -> str:
    if user.is_buyer:
        return cast(Organization, session.get(Organization, bid.vendor_org_id)).name
    return visibility.buyer_label(session, job, user)


def _closed_reason(bid: Bid, job: Job) -> str | None:
    if job.final_offers_due is not None and visibility.sealed_until(job) == job.final_offers_due:
        return (
            "Best and final offers are sealed until they are due, and so is this thread: no bidder can tell the lab "
            "its offer before the others are in. It opens again then."
        )
    if not visibility.bid_amounts_visible(job):
        return (
            "Bids are sealed until the deadline, and so is this thread: the lab learns who bid when it sees every bid "
            "at once. Until then, ask through the job's questions, which every bidder reads."
        )
    if job.status not in OPEN_JOB_STATES:
        return f"This job is {JobStatus(job.status).value}: the thread is kept, and closed to new messages."
    if bid.status not in (BidStatus.ACTIVE, BidStatus.AWARDED):
        return f"This bid is {BidStatus(bid.status).value}: the thread is kept, and closed to new messages."
    return None


def thread(session: Session, user: User, bid_id: int) -> Thread:
    """The bid's thread, oldest first, as this user reads it. NotVisible (404) for anyone else."""
    bid = visibility.get_thread_bid(session, user, bid_id)
    job = cast(Job, session.get(Job, bid.job_id))
    other = _other_side(session, user, bid, job)
    rows = session.execute(
        select(BidMessage, col(User.name))
        .join(User, col(User.id) == col(BidMessage.author_id))
        .where(col(BidMessage.bid_id) == bid.id)
        .order_by(col(BidMessage.id))
    ).all()
    files: dict[int, list[MessageAttachment]] = {}
    if rows:
        for attachment in session.execute(
            select(MessageAttachment)
            .where(col(MessageAttachment.message_id).in_([message.id for message, _ in rows]))
            .order_by(col(MessageAttachment.id))
        ).scalars():
            files.setdefault(attachment.message_id, []).append(attachment)
    own_side_is_buyer = bool(user.is_buyer)
    # A colleague's message by name, the other side's by its organisation (or the job's codename), never a person.
    names_for = {
        True: visibility.shows_names_of(user, job.buyer_org_id),
        False: visibility.shows_names_of(user, bid.vendor_org_id),
    }
    shown = [
        Shown(
            message,
            (name or "A colleague") if names_for[message.from_buyer] else other,
            message.from_buyer == own_side_is_buyer,
            files.get(message.id, []),
        )
        for message, name in rows
    ]
    return Thread(bid, job, other, shown, _closed_reason(bid, job))


def _checked_files(files: list[NewFile], confidential: bool) -> list[tuple[NewFile, bytes, str]]:
    """Each file's bytes as stored and what was removed from it; every file checked before any is written."""
    if len(files) > MAX_FILES:
        raise MessageError(f"Attach at most {MAX_FILES} files to one message.", "files")
    checked = []
    for file in files:
        name = display_name(file.filename)
        if len(file.data) > MAX_FILE_BYTES:
            raise MessageError(f"“{name}” is larger than 10 MB.", "files")
        if not confidential:
            checked.append((file, file.data, ""))
            continue
        try:
            scrubbed = scrub(file.data, file.filename)
        except UnreadableFile as error:
            raise MessageError(f"“{name}”: {error}", "files") from error
        checked.append((file, scrubbed.data, scrubbed.note))
    return checked


def post(session: Session, user: User, bid_id: int, body: str, files: list[NewFile], upload_folder: str) -> BidMessage:
    """Add a message to the bid's thread and tell the other side. Raises NotVisible (404) for a thread the user may
    not open, MessageError for an empty or oversized message, a closed thread or a refused file."""
    bid = visibility.get_thread_bid(session, user, bid_id)
    ensure_active(session, user, "send messages")
    job = cast(Job, session.get(Job, bid.job_id))
    reason = _closed_reason(bid, job)
    if reason:
        raise MessageError(reason, None)
    body = body.strip()
    if not body and not files:
        raise MessageError("Write a message or attach a file.")
    if len(body) > MAX_BODY:
        raise MessageError(f"Keep a message to {MAX_BODY} characters.")
    checked = _checked_files(files, job.visibility == Visibility.CONFIDENTIAL)
    message = BidMessage(bid_id=bid.id, author_id=user.id, from_buyer=bool(user.is_buyer), body=body)
    session.add(message)
    session.flush()
    for file, data, note in checked:
        stored_name = store_private_file(Path(upload_folder) / FOLDER, data)
        session.add(
            MessageAttachment(
                message_id=message.id,
                filename=display_name(file.filename),
                stored_name=stored_name,
                content_type=(file.content_type or "application/octet-stream")[:100],
                size_bytes=len(data),
                metadata_note=note[:500],
            )
        )
    _tell_the_other_side(session, user, bid, job)
    return message


def _tell_the_other_side(session: Session, user: User, bid: Bid, job: Job) -> None:
    """A notification per message, about the job: a vendor that loses sight of the job loses these too."""
    if user.is_buyer:
        sender = visibility.buyer_label_for_org(session, job, bid.vendor_org_id)
        notify_org(
            session,
            bid.vendor_org_id,
            visibility.THREAD_NOTIFICATION,
            f"New message from {sender} about your bid on “{job.title}”.",
            thread_path(bid.id),
            job_id=job.id,
        )
    else:
        vendor = cast(Organization, session.get(Organization, bid.vendor_org_id))
        notify_org(
            session,
            job.buyer_org_id,
            visibility.THREAD_NOTIFICATION,
            f"New message from {vendor.name} about its bid on “{job.title}”.",
            thread_path(bid.id),
            job_id=job.id,
        )


def attachment(session: Session, user: User, bid_id: int, attachment_id: int) -> MessageAttachment:
    """A file of a message in a thread the user may open. NotVisible (404) otherwise."""
    bid = visibility.get_thread_bid(session, user, bid_id)
    found = session.execute(
        select(MessageAttachment)
        .join(BidMessage, col(BidMessage.id) == col(MessageAttachment.message_id))
        .where(col(MessageAttachment.id) == attachment_id, col(BidMessage.bid_id) == bid.id)
    ).scalar_one_or_none()
    if found is None:
        raise NotVisible(f"message file {attachment_id}")
    return found
