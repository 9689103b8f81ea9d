"""Posting, changing, publishing and cancelling jobs; invitations; questions and answers.

Every function takes the session and the acting user, checks who may act through marketplace.visibility
(NotVisible, answered as 404, for a job the user may not know about), refuses with JobError, and writes the
audit record and the notifications in the caller's transaction.
"""

import functools
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from marketplace import tasks, transaction_cache, visibility
from marketplace.accounts.models import Organization, OrgKind, User
from marketplace.accounts.suspension import ensure_active
from marketplace.accounts.verification import publishing_refusal
from marketplace.audit.service import record_event
from marketplace.bids.award_closing import close_waiting_awards
from marketplace.bids.models import Bid, BidStatus
from marketplace.dates import user_zone
from marketplace.db_types import utcnow
from marketplace.downloads import display_name, store_private_file
from marketplace.errors import Refusal
from marketplace.jobs.models import (
    CERTIFICATIONS,
    CURRENCIES,
    HOSTING_OPTIONS,
    MODALITY_LABELS,
    TASK_TYPES,
    BiddingMode,
    Job,
    JobAttachment,
    JobInvitation,
    JobStatus,
    Question,
    Visibility,
)
from marketplace.jobs.scrubbing import Scrubbed, UnreadableFile, scrub
from marketplace.locking import lock_row
from marketplace.money import MAX_AMOUNT_MINOR, format_money, to_minor
from marketplace.ndas import service as ndas
from marketplace.notifications.service import notify_org, notify_orgs
from marketplace.scoring import service as scoring
from marketplace.webhooks import events as webhook_events

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
MAX_ATTACHMENTS = 20
EDITABLE_STATES = (JobStatus.DRAFT, JobStatus.OPEN)
CANCELLABLE_STATES = (JobStatus.DRAFT, JobStatus.OPEN, JobStatus.CLOSED)
INVITABLE_STATES = (JobStatus.DRAFT, JobStatus.OPEN)
TEXT_LIMITS = {
    "title": 200,
    "description": 20000,
    "unit": 60,
    "quality_metric": 60,
    "data_residency": 120,
    "deletion_terms": 2000,
    "pilot_scope": 500,
    "pilot_criteria": 2000,
}
LIST_ITEM_LIMIT = 80
# Volume is a 32-bit column on PostgreSQL; larger values are refused rather than failing there.
MAX_STORED_INT = 2**31 - 1
MAX_RETENTION_DAYS = 36500
LIST_LENGTH_LIMIT = 30

CODENAME_ADJECTIVES = (
    "Amber",
    "Silent",
    "Northern",
    "Quiet",
    "Swift",
    "Hidden",
    "Crimson",
    "Silver",
    "Distant",
    "Golden",
    "Misty",
    "Hollow",
    "Bright",
    "Patient",
    "Steady",
    "Winter",
    "Autumn",
    "Coral",
    "Granite",
    "Velvet",
    "Copper",
    "Lunar",
    "Polar",
    "Scarlet",
    "Tidal",
    "Wandering",
    "Emerald",
    "Ivory",
    "Solar",
    "Gentle",
)
CODENAME_BIRDS = (
    "Heron",
    "Kestrel",
    "Plover",
    "Wren",
    "Osprey",
    "Curlew",
    "Avocet",
    "Egret",
    "Lapwing",
    "Merlin",
    "Petrel",
    "Shrike",
    "Tern",
    "Warbler",
    "Siskin",
    "Ibis",
    "Finch",
    "Dunlin",
    "Grebe",
    "Puffin",
    "Sparrow",
    "Starling",
    "Stork",
    "Falcon",
    "Harrier",
    "Oriole",
    "Kingfisher",
    "Nightjar",
    "Sandpiper",
    "Crane",
)


class JobError(Refusal):
    """A refusal the user can fix; `field` names the form field it belongs to, `errors` every such problem."""

    def __init__(self, message: str, field: str | None = None, errors: dict[str, str] | None = None):
        super().__init__(message, field)
        self.errors = errors or ({field: message} if field else {})


@dataclass
class JobInput:
    """A job as the buyer typed it: money in major units, the deadline in the buyer's own time zone."""

    title: str
    modality: str
    task_type: str
    volume: int | None
    unit: str
    budget_min: str | Decimal
    budget_max: str | Decimal
    currency: str
    # Wall-clock time in the user's time zone, without tzinfo: what a datetime-local input gives.
    bid_deadline: datetime | None
    delivery_date: date | None
    description: str = ""
    quality_metric: str = "accuracy"
    quality_target_pct: Decimal | float | None = None
    languages: list[str] = field(default_factory=list)
    certifications: list[str] = field(default_factory=list)
    data_residency: str = ""
    labeler_locations: list[str] = field(default_factory=list)
    hosting: str = "vendor_cloud"
    retention_days: int | None = None
    deletion_terms: str = ""
    visibility: str = Visibility.PUBLIC.value
    bidding_mode: str = BiddingMode.SEALED.value
    # Percent per scoring criterion (marketplace.scoring); None keeps the job's weights as they are.
    scoring_weights: dict[str, int | None] | None = None
    # A paid pilot before the award: the batch ("" for none) and what it must show to pass.
    pilot_scope: str = ""
    pilot_criteria: str = ""


@dataclass(frozen=True)
class NewAttachment:
    """An uploaded file, read by the view; `data` holds at most one byte beyond the limit."""

    filename: str
    content_type: str
    data: bytes


# --- time zones -------------------------------------------------------------------------------------------


def local_to_utc(wall_clock: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time in `zone` as aware UTC; a time skipped by a clock change is refused."""
    aware = wall_clock.replace(tzinfo=zone)
    utc = aware.astimezone(UTC)
    if utc.astimezone(zone).replace(tzinfo=None) != wall_clock.replace(tzinfo=None):
        raise ValueError(f"{wall_clock:%Y-%m-%d %H:%M} does not exist in {zone.key}: the clocks change then.")
    return utc


def utc_to_local(moment: datetime, zone: ZoneInfo) -> datetime:
    """An aware UTC time as naive wall-clock time in `zone`, for a datetime-local input."""
    return moment.astimezone(zone).replace(tzinfo=None)


# --- validation -------------------------------------------------------------------------------------------


def _clean_list(items: list[str]) -> list[str]:
    seen: list[str] = []
    for item in items:
        text = item.strip()
        if text and text not in seen:
            seen.append(text)
    return seen


def _check_text(values: dict, errors: dict[str, str], data: JobInput) -> None:
    for name, limit in TEXT_LIMITS.items():
        text = (getattr(data, name) or "").strip()
        if len(text) > limit:
            errors[name] = f"Keep this under {limit} characters."
        values[name] = text
    if not values["title"]:
        errors["title"] = "Give the job a title."
    if not values["unit"]:
        errors["unit"] = "Say what a unit is (images, hours of audio, conversations…)."
    values["quality_metric"] = values["quality_metric"] or "accuracy"
    if values["pilot_scope"] and not values["pilot_criteria"] and "pilot_criteria" not in errors:
        errors["pilot_criteria"] = "Say what the pilot must show to pass (its acceptance criteria)."
    if values["pilot_criteria"] and not values["pilot_scope"] and "pilot_scope" not in errors:
        errors["pilot_scope"] = "Say what batch the pilot covers, or clear the acceptance criteria."
    for name in ("languages", "labeler_locations"):
        items = _clean_list(getattr(data, name))
        if len(items) > LIST_LENGTH_LIMIT or any(len(item) > LIST_ITEM_LIMIT for item in items):
            errors[name] = f"List at most {LIST_LENGTH_LIMIT} entries of up to {LIST_ITEM_LIMIT} characters."
        values[name] = items


def _check_choices(values: dict, errors: dict[str, str], data: JobInput) -> None:
    choices = {
        "modality": MODALITY_LABELS,
        "task_type": TASK_TYPES,
        "hosting": HOSTING_OPTIONS,
        "currency": CURRENCIES,
        "visibility": [v.value for v in Visibility],
        "bidding_mode": [m.value for m in BiddingMode],
    }
    for name, allowed in choices.items():
        value = getattr(data, name)
        if value not in allowed:
            errors[name] = "Pick one of the options."
        values[name] = value
    unknown = [c for c in data.certifications if c not in CERTIFICATIONS]
    if unknown:
        errors["certifications"] = "Pick certifications from the list."
    values["certifications"] = _clean_list(data.certifications)
    values["visibility"] = Visibility(data.visibility) if "visibility" not in errors else None
    values["bidding_mode"] = BiddingMode(data.bidding_mode) if "bidding_mode" not in errors else None


def _check_numbers(values: dict, errors: dict[str, str], data: JobInput) -> None:
    if data.volume is None or data.volume <= 0:
        errors["volume"] = "The volume must be more than zero."
    elif data.volume > MAX_STORED_INT:
        errors["volume"] = f"The volume can be at most {MAX_STORED_INT:,}."
    values["volume"] = data.volume
    target = data.quality_target_pct
    if target is not None and not (Decimal(str(target)).is_finite() and 0 <= target <= 100):
        errors["quality_target_pct"] = "The quality target is a percentage from 0 to 100."
    values["quality_target_pct"] = float(target) if target is not None else None
    if data.retention_days is not None and not 0 <= data.retention_days <= MAX_RETENTION_DAYS:
        errors["retention_days"] = (
            f"Retention is a number of days from 0 (delete on delivery) to {MAX_RETENTION_DAYS:,}."
        )
    values["retention_days"] = data.retention_days


def _check_budget(values: dict, errors: dict[str, str], data: JobInput) -> None:
    currency = data.currency if data.currency in CURRENCIES else "USD"
    amounts = {}
    for name in ("budget_min", "budget_max"):
        raw = str(data.budget_min if name == "budget_min" else data.budget_max).strip()
        if not raw:
            errors[name] = "Give an amount."
            continue
        try:
            amounts[name] = to_minor(raw, currency)
        except ValueError as error:
            errors[name] = str(error)
            continue
        if amounts[name] > MAX_AMOUNT_MINOR:
            errors[name] = f"Budgets above {format_money(MAX_AMOUNT_MINOR, currency)} cannot be posted."
            del amounts[name]
    low, high = amounts.get("budget_min"), amounts.get("budget_max")
    if low is not None and low <= 0:
        errors["budget_min"] = "The minimum budget must be more than zero."
    if high is not None and high <= 0:
        errors["budget_max"] = "The maximum budget must be more than zero."
    elif low is not None and high is not None and low > high:
        errors["budget_max"] = "The maximum budget must be at least the minimum."
    values["budget_min_minor"], values["budget_max_minor"] = low, high


def _check_dates(
    values: dict, errors: dict[str, str], data: JobInput, zone: ZoneInfo, must_be_future: bool, now: datetime
) -> None:
    deadline = None
    if data.bid_deadline is None:
        errors["bid_deadline"] = "Give the bid deadline."
    else:
        try:
            deadline = local_to_utc(data.bid_deadline, zone)
        except ValueError as error:
            errors["bid_deadline"] = str(error)
    if deadline is not None and must_be_future and deadline <= now:
        errors["bid_deadline"] = "The bid deadline must be in the future to publish the job."
    if data.delivery_date is None:
        errors["delivery_date"] = "Give the delivery date."
    elif deadline is not None and data.delivery_date <= deadline.astimezone(zone).date():
        errors["delivery_date"] = "The delivery date must be after the bid deadline."
    values["bid_deadline"], values["delivery_date"] = deadline, data.delivery_date


def clean_job_input(data: JobInput, user: User, *, must_be_future: bool, now: datetime | None = None) -> dict:
    """The job's column values from what the buyer typed; raises JobError naming every problem."""
    values: dict = {}
    errors: dict[str, str] = {}
    _check_text(values, errors, data)
    _check_choices(values, errors, data)
    _check_numbers(values, errors, data)
    _check_budget(values, errors, data)
    _check_dates(values, errors, data, user_zone(user), must_be_future, now or utcnow())
    if data.scoring_weights is not None:
        try:
            scoring.check_weights(data.scoring_weights)
        except scoring.ScoringError as error:
            errors[error.field or "weight_price"] = str(error)
    if errors:
        first_field, first_message = next(iter(errors.items()))
        raise JobError(first_message, first_field, errors)
    return values


# --- attachments ------------------------------------------------------------------------------------------


def _display_name(filename: str) -> str:
    return display_name(filename, "attachment")


def _safe_content_type(content_type: str) -> str:
    text = (content_type or "").split(";")[0].strip().lower()
    if not text or len(text) > 100 or text.count("/") != 1 or any(c.isspace() for c in text):
        return "application/octet-stream"
    return text


def _check_attachments(kept: int, uploads: list[NewAttachment]) -> None:
    """Refuse too many files or one too large; `kept` is how many the job keeps of those it has."""
    if kept + len(uploads) > MAX_ATTACHMENTS:
        raise JobError(f"A job can have at most {MAX_ATTACHMENTS} attachments.", "attachments")
    for upload in uploads:
        if len(upload.data) > MAX_ATTACHMENT_BYTES:
            raise JobError(f"“{_display_name(upload.filename)}” is larger than 10 MB.", "attachments")


def _scrubbed(data: bytes, filename: str) -> Scrubbed:
    try:
        return scrub(data, filename)
    except UnreadableFile as error:
        raise JobError(f"“{_display_name(filename)}”: {error}", "attachments") from error


def _prepared(uploads, visibility_value: str) -> list[tuple[NewAttachment, Scrubbed | None]]:
    """The uploads with, for a confidential job, their identifying metadata removed: every file is checked before
    anything is written, so an unreadable one refuses the whole change."""
    confidential = visibility_value == Visibility.CONFIDENTIAL
    return [(upload, _scrubbed(upload.data, upload.filename) if confidential else None) for upload in uploads]


def _store_attachments(
    session: Session, job: Job, prepared: list[tuple[NewAttachment, Scrubbed | None]], folder: Path
) -> None:
    """Write each file under a random name; the user's file name is only ever shown, never used on disk."""
    folder.mkdir(parents=True, exist_ok=True)
    for upload, scrubbed in prepared:
        data = scrubbed.data if scrubbed else upload.data
        stored_name = store_private_file(folder, data)
        session.add(
            JobAttachment(
                job_id=job.id,
                filename=_display_name(upload.filename),
                stored_name=stored_name,
                content_type=_safe_content_type(upload.content_type),
                size_bytes=len(data),
                metadata_note=scrubbed.note if scrubbed else "",
            )
        )


def _scrub_kept_attachments(session: Session, job: Job, folder: Path) -> None:
    """A job made confidential: its files already stored lose their identifying metadata too."""
    unscrubbed = [a for a in attachments_of(session, job) if not a.metadata_note]
    cleaned = [_scrubbed((folder / a.stored_name).read_bytes(), a.filename) for a in unscrubbed]
    for attachment, scrubbed in zip(unscrubbed, cleaned, strict=True):
        (folder / attachment.stored_name).write_bytes(scrubbed.data)
        attachment.size_bytes, attachment.metadata_note = len(scrubbed.data), scrubbed.note


def _remove_attachments(session: Session, attachments: list[JobAttachment], folder: Path) -> None:
    for attachment in attachments:
        (folder / attachment.stored_name).unlink(missing_ok=True)
        session.delete(attachment)


def attachments_of(session: Session, job: Job) -> list[JobAttachment]:
    return list(
        session.execute(
            select(JobAttachment).where(col(JobAttachment.job_id) == job.id).order_by(col(JobAttachment.id))
        ).scalars()
    )


def attachments_shown(session: Session, job: Job) -> list:
    """attachments_of for the job page, as plain values kept between requests until an attachment changes."""
    return transaction_cache.shared_unless_written(
        session,
        ("jobs.attachments", job.id),
        {"jobattachment"},
        lambda: [transaction_cache.plain(attachment) for attachment in attachments_of(session, job)],
    )


def get_attachment(session: Session, user: User, job_id: int, attachment_id: int) -> JobAttachment:
    """An attachment of a job the user may see. Raises NotVisible (404) otherwise."""
    job = visibility.get_visible_job(session, user, job_id)
    attachment = session.get(JobAttachment, attachment_id)
    if attachment is None or attachment.job_id != job.id:
        raise visibility.NotVisible(f"attachment {attachment_id}")
    return attachment


# --- what may be done now ---------------------------------------------------------------------------------


def has_bids(session: Session, job: Job) -> bool:
    """Whether any vendor has bid, even if it withdrew since: the terms it bid on must stay as they were."""
    return session.execute(select(col(Bid.id)).where(col(Bid.job_id) == job.id).limit(1)).first() is not None


def edit_refusal(session: Session, job: Job, now: datetime | None = None) -> str | None:
    """Why the job can no longer be edited, or None when it can."""
    state = visibility.effective_status(job, now)
    if state not in EDITABLE_STATES:
        return f"This job is {state.value.replace('_', ' ')}; it can no longer be edited."
    if has_bids(session, job):
        return "Vendors have already bid on this job, so its terms can no longer change. Cancel it and post a new one."
    return None


def cancel_refusal(job: Job, now: datetime | None = None) -> str | None:
    state = visibility.effective_status(job, now)
    if state == JobStatus.CANCELLED:
        return "This job is already cancelled."
    if state not in CANCELLABLE_STATES:
        return "This job has been awarded; it can no longer be cancelled."
    return None


def _ensure_lab_verified(session: Session, user: User) -> None:
    """A lab awaiting the platform's verification drafts jobs but does not publish them."""
    refusal = publishing_refusal(session, user)
    if refusal:
        raise JobError(refusal, "publish")


def publish_refusal(job: Job, now: datetime | None = None) -> str | None:
    if job.status == JobStatus.OPEN:
        return "This job is already published: vendors can bid on it."
    if job.status != JobStatus.DRAFT:
        return "Only a draft can be published."
    if job.bid_deadline <= (now or utcnow()):
        return "The bid deadline has passed: edit the job and set a future deadline before publishing."
    return None


@dataclass(frozen=True)
class JobActions:
    """The buttons a user gets on a job page."""

    edit: bool = False
    publish: bool = False
    cancel: bool = False
    invite: bool = False
    answer: bool = False
    ask: bool = False


def actions_for(session: Session, user: User, job: Job, now: datetime | None = None) -> JobActions:
    now = now or utcnow()
    state = visibility.effective_status(job, now)
    if user.is_buyer and user.org_id == job.buyer_org_id:
        return JobActions(
            edit=edit_refusal(session, job, now) is None,
            publish=job.status == JobStatus.DRAFT,
            cancel=cancel_refusal(job, now) is None,
            invite=job.visibility == Visibility.INVITE_ONLY and state in INVITABLE_STATES,
            answer=state != JobStatus.CANCELLED,
        )
    if user.is_vendor:
        return JobActions(ask=state == JobStatus.OPEN)
    return JobActions()


# --- state changes ----------------------------------------------------------------------------------------


def job_path(job_id: int) -> str:
    return f"/jobs/{job_id}"


def locked_own_job(session: Session, user: User, job_id: int) -> Job:
    """The buyer's own job, read again and locked until the transaction ends (docs/concurrency.md): a change that
    checks the job's state waits for any other change to the job, bids included, then sees its result.

    Raises NotVisible (404) for a job that is not the buyer's own.
    """
    visibility.get_own_job(session, user, job_id)
    return lock_row(session, Job, job_id)


def new_codename(session: Session) -> str:
    """A random 'Project Amber Heron' that no other job uses, naming nothing about the buyer."""
    taken = set(session.execute(select(col(Job.codename)).where(col(Job.codename) != "")).scalars())
    for _ in range(50):
        name = f"Project {secrets.choice(CODENAME_ADJECTIVES)} {secrets.choice(CODENAME_BIRDS)}"
        if name not in taken:
            return name
    return f"Project {secrets.choice(CODENAME_BIRDS)} {secrets.randbelow(9000) + 1000}"


def _mark_published(session: Session, user: User, job: Job) -> None:
    """Open the job for bids, record it, and tell the invited vendors who may see it."""
    job.status = JobStatus.OPEN
    job.published_at = utcnow()
    session.flush()
    record_event(
        session,
        user,
        "job.published",
        "job",
        job.id,
        before={"status": "draft"},
        after={"status": "open", "visibility": str(job.visibility), "bid_deadline": job.bid_deadline.isoformat()},
        buyer_org_id=job.buyer_org_id,
    )
    if job.visibility == Visibility.INVITE_ONLY:
        invited = set(
            session.execute(
                select(col(JobInvitation.vendor_org_id)).where(col(JobInvitation.job_id) == job.id)
            ).scalars()
        )
        notify_orgs(
            session,
            visibility.vendor_ids_seeing(session, job, among=invited),
            "job_invitation",
            f"You are invited to bid on “{job.title}”.",
            job_path(job.id),
            job_id=job.id,
        )


def create_job(
    session: Session,
    user: User,
    data: JobInput,
    publish: bool,
    *,
    attachments: Sequence[NewAttachment] = (),
    upload_folder: Path | None = None,
) -> Job:
    """Post a job for the buyer's organisation, as a draft or published at once."""
    ensure_active(session, user, "post jobs")
    if not user.is_buyer or user.org_id is None:
        raise JobError("Only buyers post jobs.")
    if publish:
        _ensure_lab_verified(session, user)
    values = clean_job_input(data, user, must_be_future=publish)
    _check_attachments(0, list(attachments))
    prepared = _prepared(attachments, values["visibility"])
    job = Job(buyer_org_id=user.org_id, created_by_id=user.id, status=JobStatus.DRAFT, **values)
    if job.visibility == Visibility.CONFIDENTIAL:
        job.codename = new_codename(session)
    session.add(job)
    session.flush()
    if prepared:
        _store_attachments(session, job, prepared, cast(Path, upload_folder))
    if data.scoring_weights is not None:
        scoring.store_weights(session, user, job, scoring.check_weights(data.scoring_weights))
    if publish:
        _mark_published(session, user, job)
    session.flush()
    return job


def update_job(
    session: Session,
    user: User,
    job_id: int,
    data: JobInput,
    *,
    publish: bool = False,
    attachments: Sequence[NewAttachment] = (),
    remove_attachment_ids=(),
    upload_folder: Path | None = None,
) -> Job:
    """Change a draft or open job that nobody has bid on; a draft may be published on the way.

    Raises NotVisible (404) for a job that is not the buyer's own.
    """
    ensure_active(session, user, "change jobs")
    job = locked_own_job(session, user, job_id)
    refusal = edit_refusal(session, job)
    if refusal:
        raise JobError(refusal)
    if publish and job.status == JobStatus.DRAFT:
        _ensure_lab_verified(session, user)
    live = job.status == JobStatus.OPEN or publish
    values = clean_job_input(data, user, must_be_future=live)
    current = attachments_of(session, job)
    removed = [a for a in current if a.id in set(remove_attachment_ids)]
    _check_attachments(len(current) - len(removed), list(attachments))
    prepared = _prepared(attachments, values["visibility"])
    if removed:
        _remove_attachments(session, removed, cast(Path, upload_folder))
        session.flush()
    for name, value in values.items():
        setattr(job, name, value)
    if job.visibility == Visibility.CONFIDENTIAL and not job.codename:
        job.codename = new_codename(session)
    if job.visibility == Visibility.CONFIDENTIAL and upload_folder is not None:
        _scrub_kept_attachments(session, job, upload_folder)
    job.updated_at = utcnow()
    if prepared:
        _store_attachments(session, job, prepared, cast(Path, upload_folder))
    if data.scoring_weights is not None:
        scoring.store_weights(session, user, job, scoring.check_weights(data.scoring_weights))
    if publish and job.status == JobStatus.DRAFT:
        _mark_published(session, user, job)
    session.flush()
    return job


def publish_job(session: Session, user: User, job_id: int) -> Job:
    """Open a draft for bids. Raises NotVisible (404) for a job that is not the buyer's own."""
    ensure_active(session, user, "publish jobs")
    job = locked_own_job(session, user, job_id)
    refusal = publish_refusal(job)
    if refusal:
        raise JobError(refusal)
    _ensure_lab_verified(session, user)
    _mark_published(session, user, job)
    return job


def bidding_vendor_ids(session: Session, job: Job) -> list[int]:
    return list(
        session.execute(
            select(col(Bid.vendor_org_id))
            .where(col(Bid.job_id) == job.id, col(Bid.status) != BidStatus.WITHDRAWN)
            .order_by(col(Bid.vendor_org_id))
        ).scalars()
    )


def cancel_job(session: Session, user: User, job_id: int) -> Job:
    """Cancel a job before award and tell every vendor that bid on it.

    Raises NotVisible (404) for a job that is not the buyer's own.
    """
    job = locked_own_job(session, user, job_id)
    refusal = cancel_refusal(job)
    if refusal:
        raise JobError(refusal)
    before = str(job.status)
    job.status = JobStatus.CANCELLED
    job.cancelled_at = job.updated_at = utcnow()
    record_event(
        session,
        user,
        "job.cancelled",
        "job",
        job.id,
        before={"status": before},
        after={"status": "cancelled"},
        buyer_org_id=job.buyer_org_id,
    )
    close_waiting_awards(session, user, job, "the job was cancelled.")
    notify_orgs(
        session,
        _bidders_to_tell(session, job),
        "job_cancelled",
        f"“{job.title}”, which you bid on, was cancelled by the buyer.",
        job_path(job.id),
        job_id=job.id,
    )
    session.flush()
    return job


def _bidders_to_tell(session: Session, job: Job) -> set[int]:
    """The vendors told of the job's cancellation: those that bid (and did not withdraw). Only vendors still
    allowed to see the job hear of it: a cut-off vendor learns nothing more."""
    return visibility.vendor_ids_seeing(session, job, among=bidding_vendor_ids(session, job))


@dataclass(frozen=True)
class CancelPreview:
    job: Job
    refusal: str | None
    bidders_told: int = 0


def cancel_preview(session: Session, user: User, job_id: int) -> CancelPreview:
    """What cancelling the job would do, for its confirmation page; changes nothing.

    Raises NotVisible (404) for a job that is not the buyer's own, as cancel_job does.
    """
    job = visibility.get_own_job(session, user, job_id)
    refusal = cancel_refusal(job)
    if refusal:
        return CancelPreview(job, refusal)
    return CancelPreview(job, None, len(_bidders_to_tell(session, job)))


def invitable_vendors(session: Session, job: Job) -> list[Organization]:
    """Vendor organisations not yet invited to the job, by name."""
    invited = select(col(JobInvitation.vendor_org_id)).where(col(JobInvitation.job_id) == job.id)
    return list(
        session.execute(
            select(Organization)
            .where(
                col(Organization.kind) == OrgKind.VENDOR,
                col(Organization.suspended_at).is_(None),
                col(Organization.id).not_in(invited),
            )
            .order_by(Organization.name)
        ).scalars()
    )


def invited_vendors(session: Session, job: Job) -> list[Organization]:
    return list(
        session.execute(
            select(Organization)
            .join(JobInvitation, col(JobInvitation.vendor_org_id) == Organization.id)
            .where(col(JobInvitation.job_id) == job.id)
            .order_by(Organization.name)
        ).scalars()
    )


@dataclass(frozen=True)
class InvitationResult:
    invited: list[Organization]
    # Invited, but screening keeps the job hidden from them for now.
    screened_out: list[Organization]


def invite_only_jobs(session: Session, user: User) -> list[Job]:
    """The buyer's own invite-only jobs that still take invitations (drafts and open jobs), newest first."""
    if not user.is_buyer or user.org_id is None:
        return []
    rows = session.execute(
        select(Job)
        .where(
            col(Job.buyer_org_id) == user.org_id,
            col(Job.visibility) == Visibility.INVITE_ONLY,
            col(Job.status).in_([JobStatus.DRAFT, JobStatus.OPEN]),
        )
        .order_by(col(Job.id).desc())
    ).scalars()
    return [job for job in rows if visibility.effective_status(job) in INVITABLE_STATES]


def invite_vendors(session: Session, user: User, job_id: int, vendor_org_ids) -> InvitationResult:
    """Invite vendor organisations to an invite-only job; only those screening lets see it are told.

    Raises NotVisible (404) for a job that is not the buyer's own.
    """
    ensure_active(session, user, "invite vendors")
    job = locked_own_job(session, user, job_id)
    if job.visibility != Visibility.INVITE_ONLY:
        raise JobError("Only invite-only jobs take invitations; other vendors find this job themselves.")
    if visibility.effective_status(job) not in INVITABLE_STATES:
        raise JobError("Invitations are only possible while the job is a draft or open.")
    wanted = set(vendor_org_ids)
    candidates = [org for org in invitable_vendors(session, job) if org.id in wanted]
    if not candidates:
        already = [org.name for org in invited_vendors(session, job) if org.id in wanted]
        if already:  # a colleague's invitation (or a second click) got there first
            raise JobError(
                f"{' and '.join(already)} {'is' if len(already) == 1 else 'are'} already invited.", "vendors"
            )
        raise JobError("Pick at least one vendor that is not invited yet.", "vendors")
    for org in candidates:
        session.add(JobInvitation(job_id=job.id, vendor_org_id=org.id))
    session.flush()
    record_event(
        session,
        user,
        "job.vendors_invited",
        "job",
        job.id,
        after={"vendor_org_ids": sorted(org.id for org in candidates)},
        buyer_org_id=job.buyer_org_id,
    )
    seeing = visibility.vendor_ids_seeing(session, job, among=[org.id for org in candidates])
    screened_out = []
    for org in candidates:
        if org.id in seeing:
            notify_org(
                session,
                org.id,
                "job_invitation",
                f"You are invited to bid on “{job.title}”.",
                job_path(job.id),
                job_id=job.id,
            )
        elif job.status != JobStatus.DRAFT:
            screened_out.append(org)
    return InvitationResult(candidates, screened_out)


# --- questions and answers --------------------------------------------------------------------------------


def ask_question(session: Session, user: User, job_id: int, text: str) -> Question:
    """A vendor's question on an open job it may see; the buyer is told, without the asker's name.

    Raises NotVisible (404) for a job the vendor may not see.
    """
    ensure_active(session, user, "ask questions")
    if not user.is_vendor:
        raise JobError("Only vendors ask questions.")
    job = visibility.get_visible_job(session, user, job_id)
    if visibility.effective_status(job) != JobStatus.OPEN:
        raise JobError("Questions can only be asked while the job is open for bids.", "text")
    if job.requires_nda and user.org_id is not None and ndas.unaccepted(session, user.org_id, job):
        raise JobError(ndas.NOT_ACCEPTED, "text")
    text = (text or "").strip()
    if not text:
        raise JobError("Write your question.", "text")
    if len(text) > 4000:
        raise JobError("Keep the question under 4,000 characters.", "text")
    question = Question(job_id=job.id, vendor_org_id=cast(int, user.org_id), asked_by_id=user.id, text=text)
    session.add(question)
    session.flush()
    notify_org(
        session,
        job.buyer_org_id,
        "new_question",
        f"New question on “{job.title}”.",
        job_path(job.id) + "#questions",
        job_id=job.id,
    )
    webhook_events.question_asked(session, job, question)
    return question


def get_own_question(session: Session, user: User, job_id: int, question_id: int) -> tuple[Job, Question]:
    """A question on the buyer's own job. Raises NotVisible (404) otherwise."""
    job = visibility.get_own_job(session, user, job_id)
    question = session.get(Question, question_id)
    if question is None or question.job_id != job.id:
        raise visibility.NotVisible(f"question {question_id}")
    return job, question


def answer_question(session: Session, user: User, job_id: int, question_id: int, text: str) -> Question:
    """The buyer's answer, shown and told to every vendor that may see the job, never naming the asker.

    Raises NotVisible (404) for a job that is not the buyer's own or a question of another job.
    """
    ensure_active(session, user, "answer questions")
    job, question = get_own_question(session, user, job_id, question_id)
    # Read again under a lock: a colleague answering at the same moment waits, then finds it answered.
    question = lock_row(session, Question, question.id)
    # Refusals of the question itself name no field: the page no longer shows a form to answer it.
    if visibility.effective_status(job) == JobStatus.CANCELLED:
        raise JobError("This job is cancelled: its questions can no longer be answered.")
    if question.answered_at is not None:
        raise JobError("This question is already answered: its answer is shown below.")
    text = (text or "").strip()
    if not text:
        raise JobError("Write the answer.", "answer")
    if len(text) > 8000:
        raise JobError("Keep the answer under 8,000 characters.", "answer")
    question.answer = text
    question.answered_by_id = user.id
    question.answered_at = utcnow()
    if tasks.configured() and visibility.verdicts_updating(session, job.buyer_org_id):
        # The lab's stored verdicts may be behind while its re-screen waits: telling now would screen every vendor
        # live inside this request (22 s at 100,000 vendors). A worker tells them; the answer itself is on the job
        # page at once, for every vendor that may see it (questions_for decides live).
        tasks.enqueue_after_commit(
            session,
            TELL_ANSWER_TASK,
            question.id,
            job_id=tell_answer_job_id(question.id),
            description=f"tell the vendors seeing job {job.id} of the answer to question {question.id}",
        )
    else:
        tell_answer(session, job, question)
    session.flush()
    return question


TELL_ANSWER_TASK = "marketplace.jobs.tasks.tell_answer"


def tell_answer_job_id(question_id: int) -> str:
    return tasks.job_id("tell-answer", question_id)


def tell_answer(session: Session, job: Job, question: Question) -> int:
    """Tell every vendor that may see the job now that a question on it was answered, once (told_at); how many
    users were told."""
    told = notify_orgs(
        session,
        visibility.vendor_ids_seeing(session, job),
        "question_answered",
        f"A question about “{job.title}” was answered.",
        job_path(job.id) + "#questions",
        job_id=job.id,
    )
    question.told_at = utcnow()
    return told


@dataclass(frozen=True)
class QuestionView:
    """A question as one viewer may see it: never who asked, only whether it was the viewer's own side."""

    id: int
    text: str
    asked_at: datetime
    answer: str
    answered_at: datetime | None
    mine: bool
    # Who asked and who answered, by name, for their own colleagues only (visibility.shows_names_of); else "".
    asked_by: str = ""
    answered_by: str = ""


@functools.cache
def _questions_with_names() -> Select:
    """A job's questions with their askers' and answerers' names (outer joins: one round trip, not two), built once
    (the job is a parameter)."""
    asker, answerer = aliased(User, name="asker"), aliased(User, name="answerer")
    return (
        select(Question, col(asker.name), col(answerer.name))
        .outerjoin(asker, col(asker.id) == col(Question.asked_by_id))
        .outerjoin(answerer, col(answerer.id) == col(Question.answered_by_id))
        .where(col(Question.job_id) == bindparam("job_id"))
        .order_by(col(Question.asked_at), col(Question.id))
    )


def _read_question_rows(session: Session, job_id: int) -> list[tuple]:
    """A job's questions (plain values) with their askers' and answerers' names, read now."""
    rows = session.execute(_questions_with_names(), {"job_id": job_id}).all()
    return [(transaction_cache.plain(question), asked, answered) for question, asked, answered in rows]


def _question_rows(session: Session, job_id: int) -> list[tuple]:
    """_read_question_rows, kept between requests until a question or a user changes; what each viewer is shown of
    them is decided afresh (questions_for)."""
    return transaction_cache.shared_unless_written(
        session, ("jobs.questions", job_id), {"question", "user_account"}, lambda: _read_question_rows(session, job_id)
    )


def questions_for(session: Session, user: User, job: Job) -> list[QuestionView]:
    """Answered questions for every viewer; unanswered ones only for the asker's side and the buyer."""
    rows = _question_rows(session, job.id)
    lab_names = visibility.shows_names_of(user, job.buyer_org_id)
    sees_all = user.is_admin or (user.is_buyer and user.org_id == job.buyer_org_id)
    shown = []
    for question, asked_by, answered_by in rows:
        mine = user.is_vendor and question.vendor_org_id == user.org_id
        if question.answered_at is None and not (sees_all or mine):
            continue
        shown.append(
            QuestionView(
                question.id,
                question.text,
                question.asked_at,
                question.answer,
                question.answered_at,
                mine,
                asked_by=(asked_by or "") if mine else "",
                answered_by=(answered_by or "") if lab_names else "",
            )
        )
    return shown
