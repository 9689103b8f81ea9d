"""Writing, verifying, reading and exporting the hash-chained audit trail.

Each record's hash covers its content and the hash of the record before it, so a record changed, removed or
moved after it was written breaks the chain at that record. Records are only ever added (see models.py).
"""

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import Organization, User
from marketplace.audit.models import AuditRecord
from marketplace.bids.models import Bid
from marketplace.dates import user_zone
from marketplace.db_types import utcnow
from marketplace.jobs.models import BiddingMode, Job

GENESIS_HASH = "0" * 64
# Any constant: the PostgreSQL advisory lock that makes writers of the trail take turns.
_TRAIL_LOCK_KEY = 0x41554454  # "AUDT"
HASHED_FIELDS = (
    "at",
    "actor_id",
    "actor_label",
    "action",
    "subject_type",
    "subject_id",
    "buyer_org_id",
    "vendor_org_id",
    "before",
    "after",
    "prev_hash",
)
PER_PAGE = 50


class AuditAccessError(ValueError):
    """A user asked for audit records it may not read."""


def _digest(values: Mapping[str, Any]) -> str:
    """The SHA-256 of a record's content (every hashed field, the previous hash included), canonical JSON."""
    body = {name: values[name] for name in HASHED_FIELDS}
    body["at"] = values["at"].isoformat()
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _fields(record: AuditRecord) -> dict[str, Any]:
    return {name: getattr(record, name) for name in HASHED_FIELDS}


def _take_turn(session: Session) -> None:
    """Serialise writers of the trail on PostgreSQL (SQLite's BEGIN IMMEDIATE already does), so that two
    transactions never both read the same last hash; the unique prev_hash would refuse the second anyway."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _TRAIL_LOCK_KEY})


def record_event(
    session: Session,
    actor,
    action: str,
    subject_type: str,
    subject_id: int | None,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    buyer_org_id: int | None = None,
    vendor_org_id: int | None = None,
) -> AuditRecord:
    """Append one record to the trail in the caller's transaction: who, when, what, before and after."""
    _take_turn(session)
    last_hash = session.execute(
        select(col(AuditRecord.hash)).order_by(col(AuditRecord.id).desc()).limit(1)
    ).scalar_one_or_none()
    record = AuditRecord(  # type: ignore[call-arg]  # hash: computed from the other fields just below
        at=utcnow(),
        actor_id=getattr(actor, "id", None),
        # An API token's actor labels itself: the owner's address and the token's name (marketplace.api.tokens).
        actor_label=getattr(actor, "audit_label", None) or getattr(actor, "email", None) or "system",
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        buyer_org_id=buyer_org_id,
        vendor_org_id=vendor_org_id,
        # Stored as JSON: keep what the hash covers exactly what a later read gives back.
        before=json.loads(json.dumps(before, default=str)) if before is not None else None,
        after=json.loads(json.dumps(after, default=str)) if after is not None else None,
        prev_hash=last_hash or GENESIS_HASH,
    )
    record.hash = _digest(_fields(record))
    session.add(record)
    session.flush()
    return record


def last_record_of(session: Session, action: str, subject_id: int, *, buyer_org_id: int) -> AuditRecord | None:
    """The latest record of this action on this subject for this buyer organisation: what a request that lost a
    race tells its user (a rival another user removed a moment ago), where a missing row alone would say 404."""
    return session.execute(
        select(AuditRecord)
        .where(
            col(AuditRecord.action) == action,
            col(AuditRecord.subject_id) == subject_id,
            col(AuditRecord.buyer_org_id) == buyer_org_id,
        )
        .order_by(col(AuditRecord.id).desc())
        .limit(1)
    ).scalar_one_or_none()


# --- Verifying ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrailProblem:
    record_id: int
    reason: str


def verify_trail(records: Iterable) -> TrailProblem | None:
    """The first record that breaks the chain, or None when the trail is whole.

    `records` are in id order: AuditRecord objects or row mappings with the hashed fields, id and hash.
    A changed record fails its own hash; a removed one, or one moved, fails the next record's prev_hash.
    """
    expected_prev = GENESIS_HASH
    for record in records:
        values = record if isinstance(record, Mapping) else {**_fields(record), "id": record.id, "hash": record.hash}
        if values["prev_hash"] != expected_prev:
            return TrailProblem(
                values["id"], "does not follow the record before it (a record before it was removed, changed or moved)"
            )
        if _digest(values) != values["hash"]:
            return TrailProblem(values["id"], "was changed after it was written")
        expected_prev = values["hash"]
    return None


@dataclass(frozen=True)
class TrailCheck:
    records: int
    problem: TrailProblem | None

    @property
    def whole(self) -> bool:
        return self.problem is None


def verify_stored_trail(session: Session, batch_size: int = 1000) -> TrailCheck:
    """Check the whole stored trail in id order, reading the rows as stored (never the session's copies)."""
    columns = [getattr(AuditRecord, name) for name in ("id", *HASHED_FIELDS, "hash")]
    counted = 0
    # Read in batches (a server-side cursor on PostgreSQL), closed even when a problem stops the reading early.
    with session.execute(
        select(*columns).order_by(col(AuditRecord.id)).execution_options(yield_per=batch_size)
    ) as result:

        def counting():
            nonlocal counted
            for row in result.mappings():
                counted += 1
                yield row

        problem = verify_trail(counting())
    return TrailCheck(counted, problem)


# --- The admins' trail page ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TrailFilters:
    action: str = ""
    organisation: str = ""  # part of an organisation's name
    actor: str = ""  # part of the actor's email, or "system"
    date_from: date | None = None
    date_to: date | None = None
    # Where the page starts: the records older than `before`, or else the ones newer than `after` (record ids);
    # neither, the newest. A trail of millions is paged by its ids, not by an offset that reads every record skipped.
    before: int | None = None
    after: int | None = None


@dataclass(frozen=True)
class TrailPage:
    records: list[AuditRecord]
    total: int  # how many records match, counted up to the caller's `count_up_to`
    more_than_total: bool  # more match than were counted
    newer: int | None  # the `after` of the page of newer records, if there are any
    older: int | None  # the `before` of the page of older records, if there are any
    org_names: dict[int, str]


def _start_of(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, tzinfo=zone)


def _trail_conditions(session: Session, user: User, filters: TrailFilters) -> list:
    conditions = []
    if filters.action:
        conditions.append(col(AuditRecord.action) == filters.action)
    if filters.organisation.strip():
        org_ids = select(col(Organization.id)).where(
            col(Organization.name).icontains(filters.organisation.strip(), autoescape=True)
        )
        conditions.append(or_(col(AuditRecord.buyer_org_id).in_(org_ids), col(AuditRecord.vendor_org_id).in_(org_ids)))
    if filters.actor.strip():
        conditions.append(col(AuditRecord.actor_label).icontains(filters.actor.strip(), autoescape=True))
    # Dates are the admin's own calendar days, as every time on the page is shown.
    zone = user_zone(user)
    if filters.date_from:
        conditions.append(col(AuditRecord.at) >= _start_of(filters.date_from, zone))
    if filters.date_to:
        conditions.append(col(AuditRecord.at) < _start_of(filters.date_to + timedelta(days=1), zone))
    return conditions


def _matching_id_beyond(session: Session, conditions: list, beyond) -> int | None:
    """The id of some matching record past the page's edge (`beyond`: a condition on the id), or None."""
    return session.execute(select(col(AuditRecord.id)).where(*conditions, beyond).limit(1)).scalar()


def trail_page(
    session: Session, user: User, filters: TrailFilters, *, count_up_to: int, per_page: int = PER_PAGE
) -> TrailPage:
    """One page of the trail, newest first, narrowed by the filters. Only admins read the whole trail.

    Every statement stays bounded on a trail of millions of records: the page is read from an id on (the primary
    key's index), and the matching records are counted up to `count_up_to` ("more than" past it)."""
    if not user.is_admin:
        raise AuditAccessError("Only platform admins read the audit trail.")
    conditions = _trail_conditions(session, user, filters)
    count_up_to = max(count_up_to, 0)
    first_ones = select(col(AuditRecord.id)).where(*conditions).limit(count_up_to + 1).subquery()
    total = session.execute(select(func.count()).select_from(first_ones)).scalar_one()
    newest_first = col(AuditRecord.id).desc()
    newer: int | None
    older: int | None
    if filters.before is None and filters.after is not None:
        # Newer records: the ones just past `after`, read upwards, shown newest first.
        found = list(
            session.execute(
                select(AuditRecord)
                .where(*conditions, col(AuditRecord.id) > filters.after)
                .order_by(col(AuditRecord.id))
                .limit(per_page + 1)
            ).scalars()
        )
        records = found[:per_page][::-1]
        newer = records[0].id if len(found) > per_page else None
        older = records[-1].id if records else filters.after + 1
        if _matching_id_beyond(session, conditions, col(AuditRecord.id) < older) is None:
            older = None
    else:
        query = select(AuditRecord).where(*conditions)
        if filters.before is not None:
            query = query.where(col(AuditRecord.id) < filters.before)
        found = list(session.execute(query.order_by(newest_first).limit(per_page + 1)).scalars())
        records = found[:per_page]
        older = records[-1].id if len(found) > per_page else None
        newer = None
        if filters.before is not None:
            newer = records[0].id if records else filters.before - 1
            if _matching_id_beyond(session, conditions, col(AuditRecord.id) > newer) is None:
                newer = None
    org_ids = {r.buyer_org_id for r in records} | {r.vendor_org_id for r in records}
    org_names = dict(
        session.execute(
            select(col(Organization.id), col(Organization.name)).where(col(Organization.id).in_(org_ids - {None}))
        ).all()
    )
    return TrailPage(records, min(total, count_up_to), total > count_up_to, newer, older, org_names)


def recorded_actions(session: Session) -> list[str]:
    """Every action the trail holds, for the page's filter: each found by one step along the action's index (the
    next action after the last one found), so a trail of millions with a few dozen kinds of action takes a few dozen
    index look-ups, not a read of every record."""
    action = col(AuditRecord.action)
    found = select(func.min(action).label("action")).cte("recorded_action", recursive=True)
    following = select(func.min(action)).where(action > found.c.action).scalar_subquery()
    found = found.union_all(select(following).where(found.c.action.is_not(None)))
    return list(session.execute(select(found.c.action).where(found.c.action.is_not(None))).scalars())


# --- A buyer's export ---------------------------------------------------------------------------------------
# A buyer's export holds what concerns its own jobs, bids, contracts, payments, rivals, policy, waivers and
# verdicts, and nothing it could not read in the app: no record about a vendor alone (disclosures, evidence,
# suspensions, payout accounts), no other organisation's staff emails, and no sealed bid's terms before the
# job's deadline. A line whose content was withheld names the withheld fields in "redacted"; only lines without
# "redacted" check alone (`flask audit verify` checks every stored record). A line that withholds a person's email
# or a sealed bid's terms withholds its hash as well (and the next record its prev_hash): the email or the terms
# could be guessed against it.

BUYER_ACTION_PREFIXES = (
    "job.",
    "bid.",
    "contract.",
    "milestone.",
    "dispute.",
    "payment.",
    "rival.",
    "policy.",
    "waiver.",
    "screening.",
    "webhook.",  # the lab's own endpoints (address and events; never a secret)
)
SEALED_BID_ACTIONS = ("bid.placed", "bid.revised", "bid.resubmitted", "bid.withdrawn")


def buyer_export_query(session: Session, user: User):
    """The records a buyer may export: tagged with its organisation, of the kinds a buyer deals in, or about its
    own organisation. Raises AuditAccessError for anyone but a buyer."""
    if not user.is_buyer or user.org_id is None:
        raise AuditAccessError("Only buyers export their audit records.")
    kinds = or_(
        *(col(AuditRecord.action).startswith(prefix, autoescape=True) for prefix in BUYER_ACTION_PREFIXES),
        (col(AuditRecord.subject_type) == "organization")
        & (AuditRecord.subject_id == user.org_id)
        & col(AuditRecord.action).startswith("organization.", autoescape=True),
    )
    return select(AuditRecord).where(col(AuditRecord.buyer_org_id) == user.org_id, kinds).order_by(col(AuditRecord.id))


def exported(record: AuditRecord) -> dict[str, Any]:
    """One record as a line of the export: every field its hash covers, so each line can be checked alone."""
    return {"id": record.id, **_fields(record), "at": record.at.isoformat(), "hash": record.hash}


class _BuyersReader:
    """What one buyer may read of a record: other organisations' people are named by their organisation, and a
    sealed bid's terms, and the hash that covers them, stay out until its job's deadline. Records are read in
    order, so a withheld hash is known before the record that names it as prev_hash."""

    def __init__(self, session: Session, buyer_org_id: int):
        self.session, self.buyer_org_id = session, buyer_org_id
        now = utcnow()
        # Until when each bid's terms are sealed: a sealed job's until its deadline, and every bid of a job whose
        # best and final offers are due until they are (visibility.sealed_until).
        self.sealed_bids = {
            bid_id: final_due if final_due is not None and final_due > now else deadline
            for bid_id, deadline, final_due in session.execute(
                select(col(Bid.id), col(Job.bid_deadline), col(Job.final_offers_due))
                .join(Job, col(Job.id) == Bid.job_id)
                .where(
                    col(Job.buyer_org_id) == buyer_org_id,
                    or_(
                        (col(Job.bidding_mode) == BiddingMode.SEALED) & (col(Job.bid_deadline) > now),
                        col(Job.final_offers_due) > now,
                    ),
                )
            ).all()
        }
        self.actors: dict[int, str | None] = {}
        self.withheld_hashes: set[str] = set()

    def actor_label(self, actor_id: int | None, label: str) -> str:
        """The actor as the buyer may know it: its own staff by email, others by organisation."""
        if actor_id is None:
            return label
        if actor_id not in self.actors:
            row = self.session.execute(
                select(col(User.org_id), col(User.role), col(Organization.name))
                .outerjoin(Organization, col(Organization.id) == User.org_id)
                .where(col(User.id) == actor_id)
            ).first()
            if row is not None and row.org_id == self.buyer_org_id:
                self.actors[actor_id] = None
            elif row is None:
                self.actors[actor_id] = "someone outside your organisation"  # safe when the actor is unknown
            else:
                self.actors[actor_id] = row.name or "platform admin"
        return self.actors[actor_id] or label

    def line(self, record: AuditRecord) -> dict[str, Any]:
        line = exported(record)
        redacted = []
        label = self.actor_label(record.actor_id, record.actor_label)
        withhold_hash = False
        if label != record.actor_label:
            # The hash covers the email, and the line every other field it covers: a guessed email would be
            # confirmed against it. It is withheld, and so is the same value as the next record's prev_hash.
            line["actor_label"] = label
            redacted.append("actor_label")
            withhold_hash = True
        if record.prev_hash in self.withheld_hashes:
            line["prev_hash"] = None
            redacted.append("prev_hash")
        if record.action in SEALED_BID_ACTIONS and record.subject_id in self.sealed_bids:
            # Likewise the terms, with round figures, until the deadline.
            line["before"] = line["after"] = None
            line["sealed_until"] = self.sealed_bids[record.subject_id].isoformat()
            redacted += ["before", "after"]
            withhold_hash = True
        if withhold_hash:
            line["hash"] = None
            redacted.append("hash")
            self.withheld_hashes.add(record.hash)
        if redacted:
            line["redacted"] = redacted
        return line


def export_for_buyer(session: Session, user: User, batch_size: int = 500) -> Iterator[dict[str, Any]]:
    """The buyer's records, oldest first, one dict each. Raises AuditAccessError for anyone but a buyer."""
    query = buyer_export_query(session, user).execution_options(yield_per=batch_size)
    reader = _BuyersReader(session, cast(int, user.org_id))

    def lines():
        with session.execute(query) as result:  # closed even when the download is cut short
            for record in result.scalars():
                yield reader.line(record)

    return lines()
