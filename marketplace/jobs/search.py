"""Browsing and searching the jobs a user may see.

The list, the total and the per-state counts all come from one condition built by marketplace.visibility, so
that no number on the page can count a job the user may not know exists.
"""

import json
import math
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import String, and_, case, cast, func, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import visibility
from marketplace.accounts.models import User
from marketplace.bids.models import Bid
from marketplace.db_types import utcnow
from marketplace.jobs.models import Job, JobStatus

PER_PAGE = 20
# The order in which a buyer reads its jobs, and the states a filter offers.
STATE_ORDER = (
    JobStatus.DRAFT,
    JobStatus.OPEN,
    JobStatus.CLOSED,
    JobStatus.AWARDED,
    JobStatus.IN_PROGRESS,
    JobStatus.DELIVERED,
    JobStatus.COMPLETED,
    JobStatus.CANCELLED,
)


@dataclass(frozen=True)
class JobSearch:
    """What the user asked for; empty strings mean 'any'."""

    text: str = ""
    modality: str = ""
    task_type: str = ""
    currency: str = ""
    language: str = ""
    certification: str = ""
    state: str = ""
    page: int = 1


@dataclass
class JobPage:
    jobs: list[Job]
    total: int
    page: int
    pages: int
    state_counts: dict[str, int]
    states: dict[int, JobStatus] = field(default_factory=dict)
    buyer_labels: dict[int, str] = field(default_factory=dict)
    # Only for the buyer's own jobs (and admins): vendors never learn how many others bid.
    bid_counts: dict[int, int] = field(default_factory=dict)


def effective_state_sql(now: datetime):
    """visibility.effective_status as SQL: an open job past its deadline is closed."""
    return case(
        (and_(col(Job.status) == JobStatus.OPEN, col(Job.bid_deadline) <= now), JobStatus.CLOSED.value),
        else_=Job.status,
    )


def _state_condition(state: str, now: datetime):
    if state == JobStatus.OPEN:
        return and_(col(Job.status) == JobStatus.OPEN, col(Job.bid_deadline) > now)
    if state == JobStatus.CLOSED:
        return and_(col(Job.status) == JobStatus.OPEN, col(Job.bid_deadline) <= now)
    return Job.status == state


def _in_json_list(column, value: str):
    """Whether a JSON list column holds an entry containing `value` (as stored, so escaped alike)."""
    encoded = json.dumps(value.strip())[1:-1]
    return cast(column, String).icontains(encoded, autoescape=True)


def _filters(search: JobSearch) -> list:
    conditions = []
    for word in search.text.split():
        conditions.append(
            or_(col(Job.title).icontains(word, autoescape=True), col(Job.description).icontains(word, autoescape=True))
        )
    for name in ("modality", "task_type", "currency"):
        value = getattr(search, name)
        if value:
            conditions.append(getattr(Job, name) == value)
    if search.language.strip():
        conditions.append(_in_json_list(Job.languages, search.language))
    if search.certification:
        conditions.append(cast(Job.certifications, String).contains(json.dumps(search.certification), autoescape=True))
    return conditions


def _bid_counts(session: Session, user: User, jobs: list[Job]) -> dict[int, int]:
    """Live bids per job, as the buyer's comparison counts them (visibility.comparable_bid_condition)."""
    if user.is_vendor or not jobs:
        return {}
    rows = session.execute(
        select(col(Bid.job_id), func.count(col(Bid.id)))
        .where(col(Bid.job_id).in_([job.id for job in jobs]), visibility.comparable_bid_condition())
        .group_by(col(Bid.job_id))
    ).all()
    counts = dict.fromkeys((job.id for job in jobs), 0)
    counts.update({job_id: count for job_id, count in rows})
    return counts


def search_jobs(
    session: Session, user: User, search: JobSearch, now: datetime | None = None, per_page: int = PER_PAGE
) -> JobPage:
    """One page of the jobs this user may see that match the search, with the total and per-state counts."""
    now = now or utcnow()
    visible = visibility.job_filter(session, user)
    conditions = [visible, *_filters(search)]
    state_sql = effective_state_sql(now)

    by_state = select(state_sql.label("state")).where(*conditions).subquery()
    state_counts: dict[str, int] = dict(
        session.execute(select(by_state.c.state, func.count()).group_by(by_state.c.state)).all()
    )

    # The total is one of those counts (or all of them): a job's effective state is the one _state_condition picks.
    if search.state:
        conditions.append(_state_condition(search.state, now))
        total = state_counts.get(search.state, 0)
    else:
        total = sum(state_counts.values())
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, search.page), pages)
    order = case({state.value: index for index, state in enumerate(STATE_ORDER)}, value=state_sql)
    jobs = list(
        session.execute(
            select(Job)
            .where(*conditions)
            .order_by(order, col(Job.bid_deadline), col(Job.id))
            .offset((page - 1) * per_page)
            .limit(per_page)
        ).scalars()
    )
    return JobPage(
        jobs=jobs,
        total=total,
        page=page,
        pages=pages,
        state_counts=state_counts,
        states={job.id: visibility.effective_status(job, now) for job in jobs},
        buyer_labels=visibility.buyer_labels(session, jobs, user),
        bid_counts=_bid_counts(session, user, jobs),
    )
