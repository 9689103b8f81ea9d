"""A buyer's rivals."""

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, utcnow


class Rival(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("buyer_org_id", "party_id"),)

    id: int = Field(default=None, primary_key=True)
    buyer_org_id: int = Field(foreign_key="organization.id", index=True)
    party_id: int = Field(foreign_key="party.id", index=True)
    added_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TableGeneration(SQLModel, table=True):
    """One row per watched table counting the commits that changed it, '*' for the commits whose tables are not
    known, and '' for the commits that changed anything screening reads (the screening generation: verdicts are kept
    between requests for one value of it): answers read from a few tables are kept under their rows alone
    (marketplace.transaction_cache, which bumps them and names the tables)."""

    __tablename__ = "table_generation"

    name: str = Field(primary_key=True, max_length=64)
    generation: int = Field(sa_type=BigInteger)


class VerdictRecord(SQLModel, table=True):
    """The last verdict each buyer had of each vendor, to tell who must hear when it changes.

    With its findings, it is also what buyer-side lists read instead of screening every vendor again.
    """

    __table_args__ = (
        UniqueConstraint("buyer_org_id", "vendor_org_id"),
        # The vendor search counts a buyer's verdicts from this index alone, never reading the findings.
        Index("ix_verdictrecord_buyer_verdict", "buyer_org_id", "verdict", "vendor_org_id"),
    )

    id: int = Field(default=None, primary_key=True)
    buyer_org_id: int = Field(foreign_key="organization.id", index=True)
    vendor_org_id: int = Field(foreign_key="organization.id", index=True)
    verdict: str = Field(max_length=16)
    # Finding.as_dict() of each finding, with its rival_party_id and whether the buyer waived it.
    findings: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ScreeningPolicy(SQLModel, table=True):
    """A buyer's thresholds and what each rule does; a buyer without one uses the defaults."""

    id: int = Field(default=None, primary_key=True)
    buyer_org_id: int = Field(foreign_key="organization.id", unique=True)
    exclude_at: float = 25.0
    review_at: float = 10.0
    people_window_months: int = 24
    # Rule name -> "exclude" | "review" | "ignore" (ownership also "threshold").
    actions: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    updated_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Waiver(SQLModel, table=True):
    """A buyer's waiver of one review finding (a rule, and the rival it names) for one vendor."""

    __table_args__ = (UniqueConstraint("buyer_org_id", "vendor_org_id", "rule", "rival_party_id"),)

    id: int = Field(default=None, primary_key=True)
    buyer_org_id: int = Field(foreign_key="organization.id", index=True)
    vendor_org_id: int = Field(foreign_key="organization.id", index=True)
    rule: str = Field(max_length=20)
    rival_party_id: int | None = Field(default=None, foreign_key="party.id")
    reason: str = Field(max_length=2000)
    created_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PendingRescreen(SQLModel, table=True):
    """A re-screen a change asked for that the task queue has not finished (marketplace.tasks): written in the
    change's own transaction, deleted by the task in the transaction that stores its last verdicts.

    While one is pending for a buyer (buyer_org_id, or None: every buyer, as after a merge), the stored verdicts of
    that buyer may be behind the graph: whoever decides access from them screens live instead
    (marketplace.visibility.vendor_ids_seeing), and the buyer's lists say they are updating.
    """

    # Its id names its job on the queue (queued.job_id), and a finished job is kept for a day: an id must never be
    # given twice, which SQLite does for a table without AUTOINCREMENT when its newest row is deleted.
    __table_args__ = {"sqlite_autoincrement": True}

    id: int = Field(default=None, primary_key=True)
    buyer_org_id: int | None = Field(default=None, foreign_key="organization.id", index=True)
    reason: str = Field(max_length=40)
    requested_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
