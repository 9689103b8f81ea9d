"""The API's input and output models (pydantic): what the OpenAPI document describes and the endpoints return.

Inputs only shape the JSON; every rule about the values (lengths, choices, budgets, deadlines, bids) is the
services' own, and comes back as a 422 problem naming the field.
"""

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from marketplace.db_types import MAX_ID


def _storable(value: str) -> str:
    """Text a database can store: no NUL byte (PostgreSQL refuses it) and no lone surrogate (not UTF-8)."""
    if "\x00" in value:
        raise ValueError("Text cannot hold a NUL byte.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("Text must be valid Unicode.") from None
    return value


# A bound on any text: the services set the real limits, this only keeps a request's size sane.
Text = Annotated[str, Field(max_length=20000, pattern=r"^[^\x00]*$"), AfterValidator(_storable)]
Short = Annotated[str, Field(max_length=200, pattern=r"^[^\x00]*$"), AfterValidator(_storable)]
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ListQuery(Input):
    cursor: Short | None = Field(default=None, description="The `next` link's cursor; omit for the first page.")
    limit: int = Field(default=25, ge=1, le=100)


class Page(BaseModel):
    next: str | None = Field(description="The next page's address, or null on the last page.")


# --- jobs -------------------------------------------------------------------------------------------------------


class JobIn(Input):
    """A job as the lab posts it. Money in major units of the currency, as decimal strings ("2500.00")."""

    title: Short
    description: Text = ""
    modality: Short = Field(description="image, video, text, audio, 3d_lidar or multimodal")
    task_type: Short = Field(description="classification, bounding_boxes, segmentation, transcription, ...")
    volume: int = Field(ge=-(2**63), le=2**63 - 1)
    unit: Short
    quality_metric: Short = "accuracy"
    quality_target_pct: float | None = None
    languages: list[Short] = Field(default_factory=list, max_length=100)
    certifications: list[Short] = Field(default_factory=list, max_length=100)
    data_residency: Short = ""
    labeler_locations: list[Short] = Field(default_factory=list, max_length=100)
    hosting: Short = "vendor_cloud"
    retention_days: int | None = Field(default=None, ge=-(2**63), le=2**63 - 1)
    deletion_terms: Text = ""
    budget_min: Short
    budget_max: Short
    currency: Short = "USD"
    bid_deadline: datetime = Field(description="RFC 3339; without an offset, UTC.")
    delivery_date: date
    visibility: Short = "public"
    bidding_mode: Short = "sealed"
    pilot_scope: Text = ""
    pilot_criteria: Text = ""


class JobCreate(JobIn):
    publish: bool = Field(default=False, description="Publish at once instead of saving a draft.")


class JobOut(BaseModel):
    id: int
    title: str
    buyer: str = Field(description="The lab's name, or the job's codename while a confidential job's lab is hidden.")
    status: str = Field(description="draft, open, closed (past its deadline), awarded, ... or cancelled")
    description: str | None = Field(description="The brief; null until the vendor's organisation accepts the NDA.")
    nda_required: bool
    modality: str
    task_type: str
    volume: int
    unit: str
    quality_metric: str
    quality_target_pct: float | None
    languages: list[str]
    certifications: list[str]
    data_residency: str
    labeler_locations: list[str]
    hosting: str
    retention_days: int | None
    deletion_terms: str
    budget_min_minor: int
    budget_max_minor: int
    currency: str
    bid_deadline: datetime
    delivery_date: date
    visibility: str
    bidding_mode: str
    published_at: datetime | None
    created_at: datetime


class JobPage(Page):
    items: list[JobOut]


class JobListQuery(ListQuery):
    status: Short | None = Field(default=None, description="Only jobs in this state (as `status` reads).")


# --- questions ---------------------------------------------------------------------------------------------------


class QuestionIn(Input):
    text: Text


class AnswerIn(Input):
    answer: Text


class QuestionOut(BaseModel):
    id: int
    text: str
    asked_at: datetime
    answer: str | None
    answered_at: datetime | None
    asked_by_your_organisation: bool


class QuestionList(BaseModel):
    items: list[QuestionOut]


# --- bids ---------------------------------------------------------------------------------------------------------


class OfferIn(Input):
    """A vendor's terms; money in minor units of the job's currency (cents)."""

    price_per_unit_minor: int = Field(ge=-(2**63), le=2**63 - 1)
    total_minor: int = Field(ge=-(2**63), le=2**63 - 1)
    turnaround_days: int = Field(ge=-(2**31), le=2**31 - 1)
    quality_guarantee_pct: float | None = None
    proposal: Text = ""
    data_handling_response: Text = ""
    requirement_answers: dict[Short, Text] = Field(default_factory=dict, max_length=20)
    pilot_price_minor: int | None = Field(default=None, ge=-(2**63), le=2**63 - 1)


class Terms(BaseModel):
    price_per_unit_minor: int
    total_minor: int
    currency: str
    turnaround_days: int
    quality_guarantee_pct: float | None
    proposal: str
    requirement_answers: dict[str, str]
    data_handling_response: str
    pilot_price_minor: int | None


class RevisionOut(Terms):
    number: int
    created_at: datetime
    withdrawn_at: datetime | None


class BidOut(BaseModel):
    """A bid. `terms` is null where its reader may not see them yet (a sealed job's bid, before the deadline)."""

    id: int
    job_id: int
    vendor: str
    status: str
    revision: int
    created_at: datetime
    updated_at: datetime
    terms: Terms | None
    findings: list[str] = Field(default_factory=list, description="For the lab: what screening found (review).")
    revisions: list[RevisionOut] | None = Field(default=None, description="The vendor's own bid: every revision.")


class BidPage(Page):
    items: list[BidOut]


class Comparison(BaseModel):
    job_id: int
    amounts_visible: bool
    sealed_until: datetime | None
    bid_count: int
    can_award: bool
    bids: list[BidOut] = Field(description="Empty while the job's bids are sealed.")


class AwardOut(BaseModel):
    outcome: str = Field(description="awarded, or approval_requested (above the lab's approval amount)")
    contract_id: int | None
    award_request_id: int | None


# --- contracts ----------------------------------------------------------------------------------------------------


class MilestoneOut(BaseModel):
    id: int
    title: str
    amount_minor: int
    currency: str
    status: str
    due_date: date | None


class ContractOut(BaseModel):
    id: int
    job_id: int
    buyer: str
    vendor: str
    total_minor: int
    currency: str
    status: str
    created_at: datetime
    milestones: list[MilestoneOut]


class ContractPage(Page):
    items: list[ContractOut]


# --- notifications ------------------------------------------------------------------------------------------------


class NotificationOut(BaseModel):
    id: int
    kind: str
    message: str
    link: str
    created_at: datetime
    read: bool


class NotificationPage(Page):
    items: list[NotificationOut]


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    errors: list[dict[str, str]] | None = None


# --- screening (a lab's own) ----------------------------------------------------------------------------------------


class RivalOut(BaseModel):
    id: int
    party_id: int
    name: str
    tied_vendors: int = Field(description="How many platform vendors it currently ties to.")


class RivalList(BaseModel):
    items: list[RivalOut]
    unscreened: int = Field(
        0,
        description="Vendors not yet screened for your lab, not counted in tied_vendors until their verdicts are "
        "stored.",
    )


class PolicyOut(BaseModel):
    exclude_at: float
    review_at: float
    people_window_months: int
    actions: dict[str, str] = Field(description="What each rule does: exclude, review or ignore.")


class RivalIn(Input):
    """A rival to name: by its name (its company is found in the registry, or added to it), or by the id of a
    company of the registry. Exactly one of the two."""

    name: Short | None = Field(default=None, description="The company's name, as the rivals page takes it.")
    party_id: Id | None = Field(default=None, description="A company of the registry, as its search finds it.")


class RivalAdded(RivalOut):
    verdicts_updating: bool = Field(
        description="True while your vendors are screened again on the task queue; false once done already."
    )


class PolicyIn(Input):
    """The whole policy, as GET /screening/policy gives it: percentages from 0 to 100, the review threshold at or
    below the exclude one, a people window of 1 to 120 months, and an action for every rule."""

    exclude_at: float = Field(allow_inf_nan=False)
    review_at: float = Field(allow_inf_nan=False)
    people_window_months: int = Field(ge=-(2**31), le=2**31 - 1)
    actions: dict[Short, Short] = Field(max_length=50, description="Each rule's action (GET shows the rules).")


class PolicySaved(PolicyOut):
    changed: bool = Field(description="False when the policy sent was the one already in force.")
    verdicts_updating: bool = Field(
        description="True while your vendors are screened again on the task queue; false once done already."
    )


class SourceOut(BaseModel):
    description: str
    verification_level: str
    recorded: date | None


class StakeOut(BaseModel):
    low: float
    high: float


class FindingOut(BaseModel):
    rule: str
    verdict: str
    rival: str | None
    explanation: str
    stake: StakeOut | None
    routes: list[list[str]] = Field(description="Each route from the rival to the vendor, the largest first.")
    sources: list[SourceOut]
    waived: bool


class VendorVerdict(BaseModel):
    vendor_id: int
    vendor: str
    verdict: str
    findings: list[FindingOut]


class VendorVerdictPage(Page):
    items: list[VendorVerdict]
    hidden_excluded: int = Field(description="Matching excluded vendors left out (ask with show_excluded=true).")
    unscreened: int = Field(
        0,
        description="Vendors not yet screened for your lab and left out until their verdicts are stored (a lab that "
        "has just joined a large platform): they appear as the queue stores them.",
    )


class VendorSearchQuery(Input):
    cursor: Short | None = None
    q: Short = ""
    verdict: Short = Field(default="", description="clear, review or exclude")
    show_excluded: bool = False


class ScreeningOut(VendorVerdict):
    as_of: date


# --- the audit export (a lab's own records) --------------------------------------------------------------------------


class AuditLine(BaseModel):
    """One record of the lab's audit export, as the page's JSON-lines export gives it (each checkable alone)."""

    id: int
    at: str
    actor_id: int | None
    actor_label: str
    action: str
    subject_type: str
    subject_id: int | None
    buyer_org_id: int | None
    vendor_org_id: int | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str | None
    hash: str | None
    sealed_until: str | None = None
    redacted: list[str] | None = None


class AuditPage(Page):
    items: list[AuditLine]


# --- disclosures (a vendor's own) -------------------------------------------------------------------------------------


class DisclosureOut(BaseModel):
    id: int
    number: int
    status: str = Field(description="draft, submitted, approved, changes_requested or rejected")
    summary: str
    created_at: datetime
    submitted_at: datetime | None
    decided_at: datetime | None
    decision_reason: str


class DisclosurePage(Page):
    items: list[DisclosureOut]
    stale: bool = Field(description="Whether the approved version in force is older than 12 months.")


# --- disclosures: a vendor files, an admin reviews -----------------------------------------------------------------

Percent = Annotated[float, Field(allow_inf_nan=False)]


class TieIn(Input):
    """One tie of the draft, as the disclosure page's tie form takes it; every rule is the service's, and a refusal
    names the field. `kind` is one of the codes listed in the reference's description of this operation."""

    kind: Short
    party_name: Short = ""
    party_kind: Short = Field(default="entity", description="entity or person")
    party_id: Id | None = Field(default=None, description="A registry party to name (from a lookalike problem).")
    new_party: bool = Field(default=False, description="The name is none of the registry's lookalikes: add it.")
    share_exact: Percent | None = None
    share_min: Percent | None = None
    share_max: Percent | None = None
    share_min_exclusive: bool = False
    share_max_exclusive: bool = False
    start_date: date | None = None
    end_date: date | None = None
    role_title: Short = ""
    other_org: Short = Field(default="", description="For a role elsewhere: the organisation where it is held.")
    revenue_share_pct: Percent | None = None
    note: Text = ""


class AttestIn(Input):
    """The officer's attestation that files the draft."""

    attester_name: Short
    attester_title: Short
    attest: bool = Field(description="true: the officer attests that the disclosure is complete and true.")
    summary: Text = Field(default="", description="What changed since the last version.")


class TieOut(BaseModel):
    table: str = Field(description="interest (a BODS interest) or commercial (the platform's own tie)")
    id: int
    kind: str
    kind_label: str
    section: str
    party_name: str
    party_kind: str
    subject_name: str
    role_title: str
    share: str = Field(description="The share in words: '49%', '10%–20%', 'not given', or '' where none applies.")
    share_exact: float | None
    share_min: float | None
    share_max: float | None
    share_min_exclusive: bool
    share_max_exclusive: bool
    revenue_share_pct: float | None
    start_date: date | None
    end_date: date | None
    note: str
    verification_level: str


class EvidenceOut(BaseModel):
    id: int
    filename: str
    description: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime


class EvidenceQuery(Input):
    description: Short = Field(default="", description="What the document shows (at most 300 characters).")


class DisclosureDetail(DisclosureOut):
    vendor_org_id: int
    attester_name: str
    attester_title: str
    ties: list[TieOut]
    evidence: list[EvidenceOut] = Field(description="The documents attached (downloaded on the pages).")


class VendorRef(BaseModel):
    id: int
    name: str


class FieldChangeOut(BaseModel):
    label: str
    old: str
    new: str


class TieChangeOut(BaseModel):
    status: str = Field(description="added, removed or changed")
    old: TieOut | None
    new: TieOut | None
    fields: list[FieldChangeOut]


class VerdictShiftOut(BaseModel):
    buyer_org_id: int
    buyer: str
    vendor_org_id: int | None
    vendor: str
    before: str
    after: str


class ApprovalEffectOut(BaseModel):
    shifts: list[VerdictShiftOut] = Field(description="How each lab's verdict of this vendor would change.")
    buyers_screened: int
    others: list[VerdictShiftOut] = Field(description="Other vendors' verdicts its ties about them would change.")
    others_screened: int


class ReviewOut(BaseModel):
    """A filed version as the admin's review page shows it."""

    version: DisclosureDetail
    vendor: VendorRef
    baseline_number: int | None = Field(description="The approved version it is compared with, if any.")
    changes: list[TieChangeOut]
    decidable: bool
    effect: ApprovalEffectOut | None = Field(description="What approving it would change; null unless submitted.")


class QueueQuery(ListQuery):
    status: Short = Field(
        default="submitted",
        description="submitted, changes_requested, approved, rejected, all, stale, material_change_overdue or "
        "never_filed",
    )


class QueueItem(BaseModel):
    vendor: VendorRef
    version_id: int | None
    version_number: int | None
    status: str | None
    age_days: int
    since: datetime | date | None
    detail: str


class QueuePage(Page):
    items: list[QueueItem]


class DecisionIn(Input):
    decision: Short = Field(description="approved, changes_requested or rejected")
    reason: Text = Field(default="", description="Required to request changes or reject: the vendor sees it.")


# --- BODS (platform admins) ---------------------------------------------------------------------------------------


class ProgressOut(BaseModel):
    done: int
    total: int
    stage: str


class BodsUploadOut(BaseModel):
    id: int
    file_name: str
    size_bytes: int
    status: str = Field(description="queued, running, done or failed (nothing of a failed file was written)")
    uploaded_at: datetime
    finished_at: datetime | None
    statements_done: int
    statements_total: int | None
    summary: str
    error: str
    progress: ProgressOut | None = Field(description="While it runs on the task queue: how far it got.")


class BodsUploadPage(Page):
    items: list[BodsUploadOut]


class BodsExportOut(BaseModel):
    vendor: VendorRef
    bods_version: str
    statements: list[dict[str, Any]] = Field(description="BODS 0.4 statements, valid against the official schema.")
    left_out: list[str] = Field(description="What BODS cannot carry, carried as annotations or left out.")
