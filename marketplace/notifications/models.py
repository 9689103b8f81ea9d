"""In-app notifications, one row per recipient."""

from datetime import datetime

from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, utcnow


class Notification(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True)
    kind: str = Field(max_length=40)
    message: str = Field(max_length=1000)
    link: str = Field(default="", max_length=300)
    # The job it is about, if any: a vendor who may no longer see the job no longer sees the notification.
    job_id: int | None = Field(default=None, foreign_key="job.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
