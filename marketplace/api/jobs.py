"""Jobs over the API: the same services and visibility as marketplace.jobs.views."""

from datetime import UTC
from pathlib import Path

from flask import current_app, url_for

from marketplace import visibility
from marketplace.accounts.models import User
from marketplace.api.problems import ApiProblem
from marketplace.api.routing import Created, operation, page_of
from marketplace.api.schemas import JobCreate, JobIn, JobListQuery, JobOut, JobPage
from marketplace.dates import user_zone
from marketplace.db_types import utcnow
from marketplace.extensions import db
from marketplace.jobs import service
from marketplace.jobs.models import Job
from marketplace.jobs.search import effective_state_sql
from marketplace.leaks import service as leaks
from marketplace.ndas import service as ndas

LAB = ("buyer",)


def job_out(job: Job, user: User) -> JobOut:
    """The job as this user may read it: the buyer's label (a codename while hidden) and the brief (with the
    vendor's own marks; none until its organisation accepts the lab's NDA)."""
    gated = ndas.gate(db.session, user, job) is not None
    return JobOut(
        id=job.id,
        title=job.title,
        buyer=visibility.buyer_label(db.session, job, user),
        status=visibility.effective_status(job).value,
        description=None if gated else leaks.brief_for(job, user),
        nda_required=gated,
        modality=job.modality,
        task_type=job.task_type,
        volume=job.volume,
        unit=job.unit,
        quality_metric=job.quality_metric,
        quality_target_pct=job.quality_target_pct,
        languages=list(job.languages),
        certifications=list(job.certifications),
        data_residency=job.data_residency,
        labeler_locations=list(job.labeler_locations),
        hosting=job.hosting,
        retention_days=job.retention_days,
        deletion_terms=job.deletion_terms,
        budget_min_minor=job.budget_min_minor,
        budget_max_minor=job.budget_max_minor,
        currency=job.currency,
        bid_deadline=job.bid_deadline,
        delivery_date=job.delivery_date,
        visibility=str(job.visibility),
        bidding_mode=str(job.bidding_mode),
        published_at=job.published_at,
        created_at=job.created_at,
    )


def _job_input(user: User, body: JobIn) -> service.JobInput:
    """The API's job as the form's JobInput: the deadline as wall-clock time in the acting user's zone, which is
    what the service reads (it converts back to UTC by the same zone)."""
    deadline = body.bid_deadline if body.bid_deadline.tzinfo else body.bid_deadline.replace(tzinfo=UTC)
    try:
        local = service.utc_to_local(deadline, user_zone(user))
    except OverflowError:
        raise ApiProblem(422, "The bid deadline is out of range.", "validation") from None
    return service.JobInput(
        title=body.title,
        description=body.description,
        modality=body.modality,
        task_type=body.task_type,
        volume=body.volume,
        unit=body.unit,
        quality_metric=body.quality_metric,
        quality_target_pct=body.quality_target_pct,
        languages=list(body.languages),
        certifications=list(body.certifications),
        data_residency=body.data_residency,
        labeler_locations=list(body.labeler_locations),
        hosting=body.hosting,
        retention_days=body.retention_days,
        deletion_terms=body.deletion_terms,
        budget_min=body.budget_min,
        budget_max=body.budget_max,
        currency=body.currency,
        bid_deadline=local.replace(tzinfo=None),
        delivery_date=body.delivery_date,
        visibility=body.visibility,
        bidding_mode=body.bidding_mode,
        pilot_scope=body.pilot_scope,
        pilot_criteria=body.pilot_criteria,
    )


def _upload_folder() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / "jobs"


@operation(
    "GET",
    "/jobs",
    summary="List the jobs you may see",
    scope="jobs:read",
    response=JobPage,
    query=JobListQuery,
    tag="jobs",
)
def list_jobs(user: User, query: JobListQuery) -> JobPage:
    """A lab's own jobs (drafts included); for a vendor, every job its screening lets it see, as on the job list."""
    statement = visibility.visible_jobs(db.session, user)
    if query.status:
        statement = statement.where(effective_state_sql(utcnow()) == query.status)
    jobs, following = page_of(statement, Job.id, query.cursor, query.limit, "list_jobs", status=query.status)
    return JobPage(items=[job_out(job, user) for job in jobs], next=following)


@operation("GET", "/jobs/<int:job_id>", summary="Read a job", scope="jobs:read", response=JobOut, tag="jobs")
def get_job(user: User, job_id: int) -> JobOut:
    """Every detail of a job you may see; 404 for one you may not know exists."""
    return job_out(visibility.get_visible_job(db.session, user, job_id), user)


@operation(
    "POST",
    "/jobs",
    summary="Post a job (a draft, or published at once)",
    scope="jobs:write",
    response=JobOut,
    body=JobCreate,
    status=201,
    kinds=LAB,
    creates=True,
    tag="jobs",
)
def create_job(user: User, body: JobCreate) -> Created:
    """Post a job for your lab, as jobs.new does."""
    job = service.create_job(
        db.session, user, _job_input(user, body), publish=body.publish, upload_folder=_upload_folder()
    )
    return Created(job_out(job, user), url_for("api.get_job", job_id=job.id))


@operation(
    "PUT",
    "/jobs/<int:job_id>",
    summary="Change a draft or open job nobody has bid on",
    scope="jobs:write",
    response=JobOut,
    body=JobIn,
    kinds=LAB,
    tag="jobs",
)
def update_job(user: User, job_id: int, body: JobIn) -> JobOut:
    """Replace the job's terms, as jobs.edit does; 404 for another organisation's job, 409 once bid on."""
    job = service.update_job(db.session, user, job_id, _job_input(user, body), upload_folder=_upload_folder())
    return job_out(job, user)


@operation(
    "POST",
    "/jobs/<int:job_id>/publish",
    summary="Publish a draft",
    scope="jobs:write",
    response=JobOut,
    kinds=LAB,
    tag="jobs",
)
def publish_job(user: User, job_id: int) -> JobOut:
    """Open your draft for bids, as jobs.publish does."""
    return job_out(service.publish_job(db.session, user, job_id), user)


@operation(
    "POST",
    "/jobs/<int:job_id>/cancel",
    summary="Cancel a job before award",
    scope="jobs:write",
    response=JobOut,
    kinds=LAB,
    tag="jobs",
)
def cancel_job(user: User, job_id: int) -> JobOut:
    """Cancel your job before award; its bidders are told, as jobs.cancel does."""
    return job_out(service.cancel_job(db.session, user, job_id), user)
