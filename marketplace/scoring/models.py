"""A job's scoring weights, and each colleague's score of a bid on a criterion."""

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, UniqueConstraint
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, utcnow


class ScoringWeights(SQLModel, table=True):
    """The weight (a whole percentage, all adding up to 100) the lab gives each criterion of one job."""

    id: int = Field(default=None, primary_key=True)
    job_id: int = Field(foreign_key="job.id", unique=True)
    weights: dict[str, int] = Field(default_factory=dict, sa_type=JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BidScore(SQLModel, table=True):
    """One colleague's score (0 to 10) of one bid on one criterion the lab judges by hand (security, the pilot)."""

    __table_args__ = (
        UniqueConstraint("bid_id", "user_id", "criterion"),
        CheckConstraint("score BETWEEN 0 AND 10", name="score_range"),
    )

    id: int = Field(default=None, primary_key=True)
    bid_id: int = Field(foreign_key="bid.id", index=True)
    user_id: int = Field(foreign_key="user_account.id")
    criterion: str = Field(max_length=32)
    score: int
    note: str = Field(default="", max_length=1000)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
