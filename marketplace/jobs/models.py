"""Labeling jobs, their invitations, attachments and questions."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, BigInteger, Column
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, enum_column, utcnow


class Modality(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    TEXT = "text"
    AUDIO = "audio"
    LIDAR = "3d_lidar"
    MULTIMODAL = "multimodal"


MODALITY_LABELS = {
    "image": "Image",
    "video": "Video",
    "text": "Text",
    "audio": "Audio",
    "3d_lidar": "3D / lidar",
    "multimodal": "Multimodal",
}

TASK_TYPES = {
    "classification": "Classification",
    "bounding_boxes": "Bounding boxes",
    "segmentation": "Segmentation",
    "transcription": "Transcription",
    "entity_tagging": "Entity tagging",
    "preference_ranking": "Preference ranking",
    "demonstration_writing": "Demonstration writing",
    "red_teaming": "Red-teaming",
    "evaluation": "Evaluation",
    "keypoints": "Keypoints",
    "translation": "Translation",
}

CERTIFICATIONS = {
    "soc2_type2": "SOC 2 Type II",
    "iso27001": "ISO 27001",
    "hipaa": "HIPAA",
    "gdpr": "GDPR",
    "iso9001": "ISO 9001",
    "tisax": "TISAX",
}

HOSTING_OPTIONS = {
    "vendor_cloud": "Vendor's cloud",
    "buyer_hosted": "Buyer-hosted storage",
    "vpc": "Buyer's VPC",
    "on_prem": "On-premises at the buyer",
}

CURRENCIES = ("USD", "EUR", "GBP", "CAD", "JPY", "INR")


class Visibility(StrEnum):
    PUBLIC = "public"
    CONFIDENTIAL = "confidential"
    INVITE_ONLY = "invite_only"


class BiddingMode(StrEnum):
    SEALED = "sealed"
    OPEN = "open"


class JobStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    # Never stored: an open job whose deadline has passed on the server's clock.
    CLOSED = "closed"
    AWARDED = "awarded"
    IN_PROGRESS = "in_progress"
    DELIVERED = "delivered"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Job(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    buyer_org_id: int = Field(foreign_key="organization.id", index=True)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    title: str = Field(max_length=200)
    description: str = Field(default="", max_length=20000)
    modality: str = Field(max_length=32)
    task_type: str = Field(max_length=40)
    volume: int
    unit: str = Field(max_length=60)
    quality_metric: str = Field(default="accuracy", max_length=60)
    quality_target_pct: float | None = None
    languages: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    certifications: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    data_residency: str = Field(default="", max_length=120)
    labeler_locations: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    hosting: str = Field(default="vendor_cloud", max_length=32)
    retention_days: int | None = None
    deletion_terms: str = Field(default="", max_length=2000)
    budget_min_minor: int = Field(sa_type=BigInteger)
    budget_max_minor: int = Field(sa_type=BigInteger)
    currency: str = Field(default="USD", max_length=3)
    bid_deadline: datetime = Field(sa_type=UTCDateTime)
    delivery_date: date
    visibility: Visibility = Field(default=Visibility.PUBLIC, sa_type=enum_column())
    bidding_mode: BiddingMode = Field(default=BiddingMode.SEALED, sa_type=enum_column())
    status: JobStatus = Field(default=JobStatus.DRAFT, sa_type=enum_column(), index=True)
    # Shown instead of the buyer's name on a confidential job until award.
    codename: str = Field(default="", max_length=80)
    # Confidential jobs only: vendors accept the lab's current NDA before the brief opens (marketplace.ndas).
    requires_nda: bool = False
    # A paid pilot before the full award (marketplace.bids.pilots): the batch it covers ("" when the job asks for
    # none) and what it must show to pass.
    pilot_scope: str = Field(default="", max_length=500)
    pilot_criteria: str = Field(default="", max_length=2000)
    # When the lab asked its shortlist for best and final offers: until then every bid's terms are sealed again
    # (visibility.bid_amounts_visible), and only shortlisted bids may be revised (marketplace.bids.service).
    final_offers_due: datetime | None = Field(default=None, sa_type=UTCDateTime)
    published_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    cancelled_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    awarded_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class JobInvitation(SQLModel, table=True):
    """A vendor invited to an invite-only job; it is still screened."""

    id: int = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="job.id", index=True)
    vendor_org_id: int = Field(foreign_key="organization.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class JobAttachment(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="job.id", index=True)
    filename: str = Field(max_length=255)
    stored_name: str = Field(max_length=80, unique=True)
    content_type: str = Field(max_length=100)
    size_bytes: int
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # For a confidential job's file: what identifying metadata was removed before vendors could read it (shown to
    # the lab). Empty: not scrubbed (a public or invite-only job's file, kept as uploaded).
    metadata_note: str = Field(default="", max_length=1000)


class Question(SQLModel, table=True):
    """A vendor's question; the answer is shown to every vendor who can see the job, unattributed."""

    id: int = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="job.id", index=True)
    vendor_org_id: int = Field(foreign_key="organization.id", index=True)
    asked_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    text: str = Field(max_length=4000)
    asked_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    answer: str = Field(default="", max_length=8000)
    answered_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    answered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # When the vendors that may see the job were told of the answer: with it, or by a worker once the lab's verdicts,
    # being re-screened as it answered, were stored (jobs.tasks.tell_answer). Empty while that is still to do.
    told_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
