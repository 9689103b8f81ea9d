"""Parties (entities and people) and the ties between them."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Index, Text, UniqueConstraint, event, text
from sqlmodel import Field, SQLModel

from marketplace.db_types import UTCDateTime, enum_column, utcnow
from marketplace.parties.matching import match_columns
from marketplace.parties.vocabulary import (  # noqa: F401  (the ties' vocabulary, read from here too)
    COUNTABLE_INTEREST_TYPES,
    INTEREST_TYPES,
    ROLE_INTEREST_TYPES,
    interest_words,
)


class PartyKind(StrEnum):
    ENTITY = "entity"
    PERSON = "person"
    # An owner known to exist but not named (anonymous, unknown, withheld).
    UNSPECIFIED = "unspecified"


class VerificationLevel(StrEnum):
    SELF_DECLARED = "self-declared"
    ADMIN_VERIFIED = "admin-verified"
    OFFICIAL_REGISTER = "official register"
    THIRD_PARTY = "third-party source"


class TieOrigin(StrEnum):
    DISCLOSURE = "disclosure"
    ADMIN_FACT = "admin_fact"
    BODS_IMPORT = "bods_import"


# Parties nobody can name (an unknown owner, for screening's rule 6) and interests nobody has disclosed: a register's
# screening reads every one of them, a few thousand among millions, through a partial index each (migration 0046).
UNKNOWN_PARTY_TYPES = ("anonymousEntity", "unknownEntity", "anonymousPerson", "unknownPerson")
UNDISCLOSED_INTEREST_TYPES = ("unknownInterest", "unpublishedInterest")


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(f"'{value}'" for value in values)


UNKNOWN_PARTY = text(f"kind = 'unspecified' OR party_type IN ({_listed(UNKNOWN_PARTY_TYPES)})")
UNDISCLOSED_INTEREST = text(f"interest_type IN ({_listed(UNDISCLOSED_INTEREST_TYPES)})")


class Party(SQLModel, table=True):
    __table_args__ = (Index("ix_party_unknown", "id", sqlite_where=UNKNOWN_PARTY, postgresql_where=UNKNOWN_PARTY),)

    id: int = Field(default=None, primary_key=True)
    kind: PartyKind = Field(sa_type=enum_column())
    # BODS entityType / personType code, e.g. registeredEntity, knownPerson, anonymousEntity.
    party_type: str = Field(default="registeredEntity", max_length=40)
    name: str = Field(max_length=300)
    name_normalized: str = Field(max_length=300, index=True)
    # The matcher's key of the name and its first and last letters (parties.matching): kept with the name.
    match_key: str = Field(default="", max_length=300)
    match_head: str = Field(default="", max_length=8, index=True)
    match_tail: str = Field(default="", max_length=8, index=True)
    # Its numbers and single letters (parties.matching.telling_block): equal in any two likely the same.
    match_telling: str = Field(default="", max_length=120, index=True)
    jurisdiction: str = Field(default="", max_length=80)
    description: str = Field(default="", max_length=2000)
    # For an unspecified party: why it is not named, a BODS unspecifiedReason code.
    unspecified_reason: str = Field(default="", max_length=60)
    bods_record_id: str | None = Field(default=None, max_length=200, unique=True)
    # BODS details kept so that an export says what the import read: a person's birthDate (YYYY, YYYY-MM or
    # YYYY-MM-DD, as given) and nationalities (a JSON list of {"code", "name"}); an entity's entityType.subtype.
    birth_date: str = Field(default="", max_length=10)
    nationalities: str = Field(default="", max_length=1000)
    entity_subtype: str = Field(default="", max_length=40)
    merged_into_id: int | None = Field(default=None, foreign_key="party.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


@event.listens_for(Party, "before_insert")
@event.listens_for(Party, "before_update")
def _keep_match_key(mapper, connection, party: Party) -> None:
    """Whoever writes a party, its match key follows its name."""
    for column, value in match_columns(party.name or "").items():
        if getattr(party, column) != value:
            setattr(party, column, value)


class PartyDistinction(SQLModel, table=True):
    """Two parties an admin found are not one, however alike their names: the lower id first."""

    __table_args__ = (
        UniqueConstraint("first_party_id", "second_party_id"),
        CheckConstraint("first_party_id < second_party_id", name="ordered_pair"),
    )

    id: int = Field(default=None, primary_key=True)
    first_party_id: int = Field(foreign_key="party.id", index=True)
    second_party_id: int = Field(foreign_key="party.id", index=True)
    reason: str = Field(default="", max_length=1000)
    recorded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class PartyIdentifier(SQLModel, table=True):
    id: int = Field(default=None, primary_key=True)
    party_id: int = Field(foreign_key="party.id", index=True)
    scheme: str = Field(default="", max_length=100)
    value: str = Field(max_length=200)
    value_normalized: str = Field(max_length=200, index=True)


class TieProvenance(SQLModel):
    """Where a tie came from and how far it has been checked."""

    origin: TieOrigin = Field(default=TieOrigin.DISCLOSURE, sa_type=enum_column())
    disclosure_id: int | None = Field(default=None, foreign_key="disclosureversion.id", index=True)
    verification_level: VerificationLevel = Field(default=VerificationLevel.SELF_DECLARED, sa_type=enum_column(40))
    source_description: str = Field(default="", max_length=1000)
    source_url: str = Field(default="", max_length=1000)
    source_date: date | None = None
    recorded_by_id: int | None = Field(default=None, foreign_key="user_account.id")
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class Interest(TieProvenance, table=True):
    """A BODS interest held by an interested party in a subject entity."""

    __table_args__ = (
        Index(
            "ix_interest_undisclosed",
            "subject_party_id",
            sqlite_where=UNDISCLOSED_INTEREST,
            postgresql_where=UNDISCLOSED_INTEREST,
        ),
    )

    id: int = Field(default=None, primary_key=True)
    interested_party_id: int = Field(foreign_key="party.id", index=True)
    subject_party_id: int = Field(foreign_key="party.id", index=True)
    interest_type: str = Field(max_length=60)
    # Percent, 0-100. Exact is [x, x]; a range is [min, max]; none on a countable interest is [0, 100].
    share_exact: float | None = None
    share_min: float | None = None
    share_max: float | None = None
    share_min_exclusive: bool = False
    share_max_exclusive: bool = False
    start_date: date | None = None
    end_date: date | None = None
    role_title: str = Field(default="", max_length=200)
    note: str = Field(default="", max_length=2000)
    bods_statement_id: str | None = Field(default=None, max_length=200, index=True)
    # The BODS relationship record this interest is a version of (0.4 recordId; for 0.2/0.3 the statementID that
    # began its chain of replacesStatements). Successive versions share it.
    bods_record_id: str | None = Field(default=None, max_length=200, index=True)
    # As the BODS statement gave them: directOrIndirect (direct, indirect, unknown; "" when not said),
    # beneficialOwnershipOrControl (None when not said), the source's types (comma-separated codes) and the end
    # date (end_date may be earlier: a later version of the relationship superseded this one).
    direct_or_indirect: str = Field(default="", max_length=20)
    beneficial_ownership_or_control: bool | None = None
    source_types: str = Field(default="", max_length=200)
    bods_end_date: date | None = None
    # An unknownInterest the import added because the relationship listed no interest (BODS: a tie exists).
    bods_implied: bool = False


class BodsStatement(SQLModel, table=True):
    """A BODS statement already imported: makes importing idempotent and resolves later references to its record.

    record_id is the BODS 0.4 recordId; for 0.2/0.3 it is the statementID that began the chain of
    replacesStatements. party_id is the party an entity or person statement describes.
    """

    id: int = Field(default=None, primary_key=True)
    statement_id: str = Field(max_length=200, unique=True)
    record_id: str = Field(max_length=200, index=True)
    record_type: str = Field(max_length=20)
    party_id: int | None = Field(default=None, foreign_key="party.id", index=True)
    statement_date: date | None = None
    imported_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    # What the statement says, hashed (marketplace.parties.bods.statement_digest): a statementId seen again with
    # other content is refused. Empty for a statement only known as replaced by another.
    content_hash: str = Field(default="", max_length=64)
    record_status: str = Field(default="new", max_length=20)
    # A BODS 0.4 statement as it was read (JSON): the export writes it back as the source had it.
    content: str | None = Field(default=None, sa_type=Text)


class NoOwnersDeclaration(SQLModel, table=True):
    """A BODS declaration that an entity has no beneficial owners (interestedParty {"reason":
    "noBeneficialOwners"}): not a tie, but what the source said, shown beside the entity's owners and exported."""

    id: int = Field(default=None, primary_key=True)
    subject_party_id: int = Field(foreign_key="party.id", index=True)
    description: str = Field(default="", max_length=2000)
    bods_statement_id: str = Field(max_length=200, index=True)
    bods_record_id: str = Field(max_length=200)
    statement_date: date | None = None
    source_types: str = Field(default="", max_length=200)
    source_description: str = Field(default="", max_length=1000)
    source_url: str = Field(default="", max_length=1000)
    source_date: date | None = None
    # Set when a later version of the record (updated or closed) replaced the declaration.
    end_date: date | None = None


class CommercialKind(StrEnum):
    CUSTOMER = "customer"
    EXCLUSIVE_AGREEMENT = "exclusive_agreement"
    SUBCONTRACTOR = "subcontractor"
    INVESTOR = "investor"
    LENDER = "lender"


class CommercialTie(TieProvenance, table=True):
    """A tie BODS cannot express: revenue share, exclusivity, funding, subcontracting."""

    id: int = Field(default=None, primary_key=True)
    vendor_party_id: int = Field(foreign_key="party.id", index=True)
    counterparty_id: int = Field(foreign_key="party.id", index=True)
    kind: CommercialKind = Field(sa_type=enum_column())
    revenue_share_pct: float | None = None
    start_date: date | None = None
    end_date: date | None = None
    note: str = Field(default="", max_length=2000)


class UploadStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class BodsUpload(SQLModel, table=True):
    """A BODS file an admin uploaded from the registry's import page, and how its import went (parties.uploads).

    The file is kept under the upload folder (stored_name) until its import ends; the import itself runs on the task
    queue when there is one, in one transaction: `failed` means nothing of the file was written, and `error` says
    why, naming the statement."""

    id: int = Field(default=None, primary_key=True)
    file_name: str = Field(max_length=255)
    stored_name: str = Field(max_length=64)
    size_bytes: int
    uploaded_by_id: int = Field(foreign_key="user_account.id", index=True)
    uploaded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    status: UploadStatus = Field(default=UploadStatus.QUEUED, sa_type=enum_column())
    statements_done: int = 0
    statements_total: int | None = None
    summary: str = Field(default="", sa_type=Text)
    error: str = Field(default="", sa_type=Text)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class BodsImportRun(SQLModel, table=True):
    """A BODS file being imported (marketplace.parties.bods_stream): its statements are staged, checked, batch by
    batch (each batch committed with the cursor, so an interrupted import resumes where it stopped), then applied
    to the graph in one transaction that also deletes the run. A run left behind is one to resume."""

    id: int = Field(default=None, primary_key=True)
    file_name: str = Field(max_length=300)
    # The file's size and a hash of its first and last 64 KiB: the same file, unchanged, resumes its run.
    file_size: int = Field(sa_type=BigInteger)
    fingerprint: str = Field(max_length=64, index=True)
    statements_staged: int = 0
    # Where the next unread statement starts (JSON Lines: a byte offset to seek to; otherwise 0).
    resume_offset: int = Field(default=0, sa_type=BigInteger)
    staged: bool = False  # every statement is staged: what is left is applying them
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class BodsStagedStatement(SQLModel, table=True):
    """One statement of a run, checked against its BODS schema, as JSON text, in file order.

    Scratch, as the runs are: on PostgreSQL both tables are UNLOGGED (no WAL for a million statements written,
    read once and deleted; a crash of PostgreSQL empties both, and the import then starts again), and `run_id` has
    no foreign key (it was checked on every staged row; the import deletes a run's statements with the run)."""

    run_id: int = Field(primary_key=True)
    number: int = Field(primary_key=True)
    statement_id: str = Field(max_length=200)
    record_id: str = Field(default="", max_length=200)
    content: str = Field(sa_type=Text)
