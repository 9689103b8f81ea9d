"""The admins' registry of parties: search by name or identifier, suggested duplicates, and merging two parties.

Merging keeps the kept party and re-points everything that named the merged one (interests, commercial ties,
identifiers, rival lists, waivers, organisations, imported BODS statements) to it; the merged party stays, marked
as merged, so that old references can still be followed, and its name becomes an alias of the kept party.
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

from sqlalchemy import CursorResult, delete, func, or_, select, union, union_all, update
from sqlalchemy.orm import Session, aliased
from sqlmodel import col

from marketplace import changes, transaction_cache
from marketplace.accounts.models import Organization, User
from marketplace.audit.models import AuditRecord
from marketplace.audit.service import record_event
from marketplace.concentration.models import OwnerGroupReport
from marketplace.db_types import utcnow
from marketplace.deals.models import PendingDeal
from marketplace.errors import NotVisible, Refusal
from marketplace.locking import lock_row, lock_rows
from marketplace.parties import models as party_models
from marketplace.parties.matching import (
    LIKELY_AT,
    key_similarity,
    longest_likely,
    plain_key,
    shortest_likely,
    telling_block,
)
from marketplace.parties.models import CommercialTie, Interest, Party, PartyDistinction, PartyIdentifier, PartyKind
from marketplace.parties.service import no_owners_declarations, normalize_identifier, normalize_name
from marketplace.parties.variants import distinct_pairs
from marketplace.screening.models import Rival, Waiver
from marketplace.transaction_cache import plain

ALIAS_SCHEME = "alias"
SEARCH_LIMIT = 50
# Suggested duplicates are looked for among this many parties per page, the newest first.
DUPLICATE_WINDOW = 200


class RegistryError(Refusal):
    """A refused registry action, in words an admin understands; `field` names the form field."""


def _not_found(what: str) -> LookupError:
    return NotVisible(what)


def _require_admin(user: User) -> None:
    if not user.is_admin:
        raise _not_found("party registry")


# --- Reading ---------------------------------------------------------------------------------------------


@dataclass
class PartySummary:
    party: Party
    identifiers: list[PartyIdentifier] = field(default_factory=list)
    tie_count: int = 0
    organization: Organization | None = None


def _summaries(session: Session, parties: list[Party]) -> list[PartySummary]:
    ids = [party.id for party in parties]
    if not ids:
        return []
    identifiers = defaultdict(list)
    for row in session.execute(
        select(PartyIdentifier)
        .where(col(PartyIdentifier.party_id).in_(ids))
        .order_by(PartyIdentifier.scheme, PartyIdentifier.value)
    ).scalars():
        identifiers[row.party_id].append(row)
    # Each tie counts once for each end among the parties (a party tied to itself twice): one statement for all four.
    ends = union_all(
        *(
            select(column.label("party_id")).where(column.in_(ids))
            for column in (
                col(Interest.interested_party_id),
                col(Interest.subject_party_id),
                col(CommercialTie.vendor_party_id),
                col(CommercialTie.counterparty_id),
            )
        )
    ).subquery()
    counts: dict[int, int] = defaultdict(int)
    for party_id, count in session.execute(select(ends.c.party_id, func.count()).group_by(ends.c.party_id)).all():
        counts[party_id] += count
    orgs = {
        org.party_id: org
        for org in session.execute(select(Organization).where(col(Organization.party_id).in_(ids))).scalars()
    }
    return [PartySummary(party, identifiers[party.id], counts[party.id], orgs.get(party.id)) for party in parties]


def search(session: Session, user: User, text: str, limit: int = SEARCH_LIMIT) -> list[PartySummary]:
    """Parties not merged away whose name, alias or identifier contains the text (all of them for no text), as plain
    values (kept between requests while none of the tables it reads changes). Raises NotVisible (404) for anyone but
    an admin."""
    _require_admin(user)
    return transaction_cache.shared_unless_written(
        session, ("parties.search", text, limit), SEARCH_TABLES, lambda: _search(session, text, limit)
    )


def _search(session: Session, text: str, limit: int) -> list[PartySummary]:
    query = select(Party).where(col(Party.merged_into_id).is_(None))
    needle, identifier = normalize_name(text), normalize_identifier(text)
    if needle:
        conditions = [col(Party.name_normalized).contains(needle, autoescape=True)]
        if identifier:
            conditions.append(
                col(Party.id).in_(
                    select(col(PartyIdentifier.party_id)).where(
                        col(PartyIdentifier.value_normalized).contains(identifier, autoescape=True)
                    )
                )
            )
        query = query.where(or_(*conditions))
    parties = list(session.execute(query.order_by(Party.name_normalized, col(Party.id)).limit(limit)).scalars())
    return [_plain_summary(summary) for summary in _summaries(session, parties)]


def _plain_summary(summary: PartySummary) -> PartySummary:
    return PartySummary(
        plain(summary.party),
        [plain(row) for row in summary.identifiers],
        summary.tie_count,
        plain(summary.organization),
    )


@dataclass
class PartyDetail:
    """A party's page: its rows as plain values (transaction_cache.plain), kept between requests."""

    summary: PartySummary
    held: list[tuple[Interest, Party]]  # interests the party holds, with the party it holds them in
    holders: list[tuple[Interest, Party]]  # interests in the party, with their holders
    commercial: list[tuple[CommercialTie, Party, Party]]  # (tie, vendor, counterparty)
    merged_from: list[Party]
    merged_into: Party | None
    duplicates: list["DuplicatePair"]
    rival_of: int  # how many buyers name it as a rival
    distinct_from: list[tuple[PartyDistinction, Party]] = field(default_factory=list)
    # "Declared: no beneficial owners (source, date)", from BODS imports.
    declarations: list[str] = field(default_factory=list)

    @property
    def party(self) -> Party:
        return self.summary.party


# What the registry's pages read: kept between requests under these tables' own counters (transaction_cache).
SEARCH_TABLES = frozenset({"party", "partyidentifier", "interest", "commercialtie", "organization"})
DUPLICATE_TABLES = frozenset({"party", "partyidentifier", "partydistinction"})
PARTY_PAGE_TABLES = frozenset(
    {
        "party",
        "partyidentifier",
        "interest",
        "commercialtie",
        "organization",
        "rival",
        "partydistinction",
        "noownersdeclaration",
    }
)


def party_detail(session: Session, user: User, party_id: int) -> PartyDetail:
    """One party with its identifiers, ties, merge history and suggested duplicates, as plain values (kept between
    requests while none of PARTY_PAGE_TABLES changes). 404 for a missing party or a user who is not an admin."""
    _require_admin(user)
    today = utcnow().date()
    detail = transaction_cache.shared_unless_written(
        session,
        ("parties.party_detail", party_id, today),
        PARTY_PAGE_TABLES,
        lambda: _party_detail(session, party_id, today),
    )
    if detail is None:
        raise _not_found(f"party {party_id}")
    return detail


def _party_detail(session: Session, party_id: int, today: date) -> PartyDetail | None:
    party = session.get(Party, party_id)
    if party is None:
        return None
    held = session.execute(
        select(Interest, Party)
        .join(Party, col(Party.id) == Interest.subject_party_id)
        .where(col(Interest.interested_party_id) == party.id)
        .order_by(Party.name, col(Interest.id))
    ).all()
    holders = session.execute(
        select(Interest, Party)
        .join(Party, col(Party.id) == Interest.interested_party_id)
        .where(col(Interest.subject_party_id) == party.id)
        .order_by(Party.name, col(Interest.id))
    ).all()
    # Both ends with the tie, in one statement (not a read per tie for the end that is not this party).
    vendor_end, counterparty = aliased(Party), aliased(Party)
    commercial = session.execute(
        select(CommercialTie, vendor_end, counterparty)
        .join(vendor_end, col(vendor_end.id) == col(CommercialTie.vendor_party_id))
        .join(counterparty, col(counterparty.id) == col(CommercialTie.counterparty_id))
        .where(or_(col(CommercialTie.vendor_party_id) == party.id, col(CommercialTie.counterparty_id) == party.id))
        .order_by(col(CommercialTie.id))
    ).all()
    merged_from = session.execute(
        select(Party).where(col(Party.merged_into_id) == party.id).order_by(Party.name)
    ).scalars()
    rival_of = session.execute(select(func.count(col(Rival.id))).where(col(Rival.party_id) == party.id)).scalar_one()
    return PartyDetail(
        _plain_summary(_summaries(session, [party])[0]),
        [(plain(interest), plain(other)) for interest, other in held],
        [(plain(interest), plain(other)) for interest, other in holders],
        [(plain(tie), plain(vendor), plain(other)) for tie, vendor, other in commercial],
        [plain(merged) for merged in merged_from],
        plain(session.get(Party, party.merged_into_id)) if party.merged_into_id else None,
        [_plain_pair(pair) for pair in duplicates_of(session, party)],
        rival_of,
        [(plain(distinction), plain(other)) for distinction, other in distinctions_of(session, party.id)],
        no_owners_declarations(session, party.id, today),
    )


@dataclass(frozen=True)
class DuplicatePair:
    first: Party
    second: Party
    reason: str

    @property
    def ids(self) -> tuple[int, int]:
        return self.first.id, self.second.id


def _compatible(a: Party, b: Party) -> bool:
    return a.kind == b.kind or PartyKind.UNSPECIFIED in (a.kind, b.kind)


def _identifier_reason(left: PartyIdentifier, right: PartyIdentifier, a: Party, b: Party) -> str | None:
    """Why two parties sharing a normalised identifier value may be one: the same scheme, or either has none."""
    same_scheme = (
        not left.scheme or not right.scheme or normalize_identifier(left.scheme) == normalize_identifier(right.scheme)
    )
    if a.id == b.id or not same_scheme or not _compatible(a, b):
        return None
    scheme = left.scheme or right.scheme
    return f"same identifier {scheme + ' ' if scheme else ''}{left.value}"


def _names_alike(key: str, name: str, other_key: str, other_name: str) -> str | None:
    """Why two parties of one kind sharing a block of their match keys may be one: names the matcher finds likely
    the same. (Keys longer than the bound a likely match allows never score that high: the bound only saves work.)"""
    score = key_similarity(key, other_key)
    if score < LIKELY_AT:
        return None
    return "the same name" if plain_key(name) == plain_key(other_name) else f"names {score:.0f}% alike"


def _ordered_pairs(pairs: Iterable[DuplicatePair]) -> list[DuplicatePair]:
    """Identifier matches first, then by the first party's name."""
    return sorted(
        pairs, key=lambda p: (not p.reason.startswith("same identifier"), normalize_name(p.first.name), p.ids)
    )


@dataclass(frozen=True)
class DuplicatePage:
    """The suggested duplicates found for one window of parties, the newest first: each pair is listed once, with
    its newer party's window."""

    pairs: list[DuplicatePair]
    window: int  # parties looked up per page
    older_than: int | None  # the cursor of the next window (older parties), None when this was the oldest


def suggested_duplicates(
    session: Session, user: User, older_than: int | None = None, window: int = DUPLICATE_WINDOW
) -> DuplicatePage:
    """Pairs of parties that may be one, for the `window` newest unmerged parties older than `older_than` (all of
    them when None): the same normalised identifier (of the same scheme, or where either has none), or names the
    matcher finds likely the same (parties.matching), of the same kind; never a pair an admin marked as not the same.
    Identifier matches first. The window's parties are looked up through their indexes (duplicates_of_many), so a
    page costs the same whatever the size of the registry."""
    _require_admin(user)
    return transaction_cache.shared_unless_written(
        session,
        ("parties.suggested_duplicates", older_than, window),
        DUPLICATE_TABLES,
        lambda: _suggested_duplicates(session, older_than, window),
    )


def _suggested_duplicates(session: Session, older_than: int | None, window: int) -> DuplicatePage:
    query = select(Party).where(col(Party.merged_into_id).is_(None)).order_by(col(Party.id).desc()).limit(window + 1)
    if older_than is not None:
        query = query.where(col(Party.id) < older_than)
    parties = list(session.execute(query).scalars())
    more = len(parties) > window
    parties = parties[:window]
    pairs = {
        pair.ids: pair
        for party_id, found in duplicates_of_many(session, parties).items()
        for pair in found
        if min(pair.ids) < party_id  # the other party is older: listed here, with its newer party
    }
    return DuplicatePage(
        [_plain_pair(pair) for pair in _ordered_pairs(pairs.values())], window, parties[-1].id if more else None
    )


def _plain_pair(pair: "DuplicatePair") -> "DuplicatePair":
    return DuplicatePair(plain(pair.first), plain(pair.second), pair.reason)


def duplicates_of(session: Session, party: Party) -> list[DuplicatePair]:
    """The suggested duplicates that include this party, found from its own identifiers and name blocks through
    their indexes, at any registry size."""
    return duplicates_of_many(session, [party])[party.id]


def duplicates_of_many(session: Session, parties: list[Party]) -> dict[int, list[DuplicatePair]]:
    """{party id: its suggested duplicates} for many parties in a fixed number of queries (identifiers, the values
    they share, the pairs marked not the same, and the names in their blocks), whatever their number."""
    found: dict[int, dict[tuple[int, int], DuplicatePair]] = {party.id: {} for party in parties}
    live = {party.id: party for party in parties if party.merged_into_id is None}
    if not live:
        return {party_id: [] for party_id in found}
    distinct = distinct_pairs(session, live)

    def suggest(party: Party, other: Party, reason: str | None) -> None:
        first, second = sorted((party, other), key=lambda p: p.id)
        if reason is not None and (first.id, second.id) not in distinct:
            found[party.id].setdefault((first.id, second.id), DuplicatePair(first, second, reason))

    values = set(
        session.execute(
            select(col(PartyIdentifier.value_normalized)).where(
                col(PartyIdentifier.party_id).in_(sorted(live)),
                col(PartyIdentifier.scheme) != ALIAS_SCHEME,
                col(PartyIdentifier.value_normalized) != "",
            )
        ).scalars()
    )
    if values:
        shared = session.execute(
            select(PartyIdentifier, Party)
            .join(Party, col(Party.id) == col(PartyIdentifier.party_id))
            .where(
                col(PartyIdentifier.value_normalized).in_(sorted(values)),
                col(PartyIdentifier.scheme) != ALIAS_SCHEME,
                col(Party.merged_into_id).is_(None),
            )
            .order_by(col(PartyIdentifier.id))
        ).all()
        holder = {row.id: party for row, party in shared}
        # Value by value in the order of each value's first row, each pair with its earlier row on the left: one pair
        # always gets the same reason, whichever of its parties is looked up.
        by_value = defaultdict(list)
        for row, _ in shared:
            by_value[row.value_normalized].append(row)
        for rows in by_value.values():
            for i, left in enumerate(rows):
                for right in rows[i + 1 :]:
                    a, b = holder[left.id], holder[right.id]
                    reason = _identifier_reason(left, right, a, b)
                    for party, other in ((a, b), (b, a)):
                        if party.id in live:
                            suggest(party, other, reason)
    for party, other_id, reason in _likely_names(session, list(live.values())):
        suggest(party, cast(Party, session.get(Party, other_id)), reason)
    return {party_id: _ordered_pairs(pairs.values()) for party_id, pairs in found.items()}


def _likely_names(session: Session, parties: list[Party]) -> list[tuple[Party, int, str]]:
    """(party, id of another, reason) for each party and each other unmerged party of its kind sharing a block of its
    match key whose name is likely its own. Read as plain rows in one statement: a key with numbers or single letters
    is only ever alike a key with the same ones (matching.key_similarity), so those are read through their own index;
    the others among the names with none, one select per block (with OR, SQLite reads the whole table)."""
    named = [party for party in parties if party.match_key and party.kind != PartyKind.UNSPECIFIED]
    if not named:
        return []
    told = {party.id: telling_block(party.match_key) for party in named}
    lengths = [len(party.match_key) for party in named]
    columns = (
        col(Party.id),
        col(Party.kind),
        col(Party.match_key),
        col(Party.match_head),
        col(Party.match_tail),
        col(Party.match_telling),
        col(Party.name),
    )
    common = (
        col(Party.merged_into_id).is_(None),
        func.length(Party.match_key).between(shortest_likely(min(lengths)), longest_likely(max(lengths))),
    )
    plain = [party for party in named if not told[party.id]]
    selects = []
    if len(plain) < len(named):
        selects.append(select(*columns).where(col(Party.match_telling).in_({v for v in told.values() if v}), *common))
    if plain:
        selects.append(
            select(*columns).where(
                col(Party.match_head).in_({p.match_head for p in plain}), col(Party.match_telling) == "", *common
            )
        )
        selects.append(
            select(*columns).where(
                col(Party.match_tail).in_({p.match_tail for p in plain}), col(Party.match_telling) == "", *common
            )
        )
    rows = session.execute(union(*selects) if len(selects) > 1 else selects[0]).all()
    found = []
    for party in named:
        key, low, high = party.match_key, shortest_likely(len(party.match_key)), longest_likely(len(party.match_key))
        for other_id, kind, other_key, head, tail, telling, name in rows:
            if (
                other_id != party.id
                and kind == party.kind
                and telling == told[party.id]
                and (head == party.match_head or tail == party.match_tail)
                and low <= len(other_key) <= high
            ):
                reason = _names_alike(key, party.name, other_key, name)
                if reason is not None:
                    found.append((party, other_id, reason))
    return found


def _live_party(session: Session, party_id: int, field_name: str) -> Party:
    party = session.get(Party, party_id)
    if party is None:
        raise RegistryError(f"There is no party {party_id}.", field_name)
    if party.merged_into_id is not None:
        raise RegistryError(f"{party.name} was already merged into another party; merge that one instead.", field_name)
    return party


def _locked_live_parties(
    session: Session, first_id: int, first_field: str, second_id: int, second_field: str
) -> tuple[Party, Party]:
    """Both parties, read again under locks taken in id order: two admins acting on one pair from either side
    (merging each into the other, marking them distinct) take turns, never waiting for each other in a circle,
    and the second sees what the first did (docs/concurrency.md)."""
    lock_rows(session, Party, [first_id, second_id])
    return _live_party(session, first_id, first_field), _live_party(session, second_id, second_field)


def check_merge(session: Session, keep: Party, merged: Party) -> None:
    """Every rule a merge must meet, in the order an admin fixes them."""
    if keep.id == merged.id:
        raise RegistryError("A party cannot be merged into itself: choose two different parties.", "merge_id")
    if merged.kind == PartyKind.PERSON and keep.kind == PartyKind.ENTITY:
        raise RegistryError(
            f"{merged.name} is a person and {keep.name} an organisation: a person cannot be "
            "merged into an organisation.",
            "merge_id",
        )
    if merged.kind == PartyKind.ENTITY and keep.kind == PartyKind.PERSON:
        raise RegistryError(
            f"{merged.name} is an organisation and {keep.name} a person: an organisation cannot "
            "be merged into a person.",
            "merge_id",
        )
    if _org_of(session, keep) is not None and _org_of(session, merged) is not None:
        raise RegistryError(
            f"{keep.name} and {merged.name} are both organisations on the platform: their "
            "accounts are separate and cannot be merged here.",
            "merge_id",
        )
    between = session.execute(
        select(func.count(col(Interest.id))).where(
            or_(
                (col(Interest.interested_party_id) == keep.id) & (Interest.subject_party_id == merged.id),
                (col(Interest.interested_party_id) == merged.id) & (Interest.subject_party_id == keep.id),
            )
        )
    ).scalar_one()
    between += session.execute(
        select(func.count(col(CommercialTie.id))).where(
            or_(
                (col(CommercialTie.vendor_party_id) == keep.id) & (CommercialTie.counterparty_id == merged.id),
                (col(CommercialTie.vendor_party_id) == merged.id) & (CommercialTie.counterparty_id == keep.id),
            )
        )
    ).scalar_one()
    if between:
        raise RegistryError(
            f"{keep.name} and {merged.name} have ties to each other, so they are not the same "
            "party: one would hold an interest in itself.",
            "merge_id",
        )
    if distinction_between(session, keep.id, merged.id) is not None:
        raise RegistryError(
            f"{keep.name} and {merged.name} are marked as not the same party: withdraw that "
            "first if they are one after all.",
            "merge_id",
        )


def _org_of(session: Session, party: Party) -> Organization | None:
    return session.execute(select(Organization).where(col(Organization.party_id) == party.id)).scalars().first()


def _snapshot(session: Session, party: Party) -> dict:
    identifiers = (
        session.execute(
            select(PartyIdentifier).where(col(PartyIdentifier.party_id) == party.id).order_by(col(PartyIdentifier.id))
        )
        .scalars()
        .all()
    )
    return {
        "id": party.id,
        "name": party.name,
        "kind": str(party.kind),
        "identifiers": [f"{i.scheme}: {i.value}" if i.scheme else i.value for i in identifiers],
    }


def _repoint(session: Session, keep: Party, merged: Party) -> dict[str, int]:
    """Point every reference to the merged party at the kept one; returns how many rows moved, by what."""
    moved: dict[str, int] = {}

    def move(label: str, column) -> None:
        result = session.execute(
            update(column.class_)
            .where(column == merged.id)
            .values({column.key: keep.id})
            .execution_options(synchronize_session="fetch")
        )
        moved[label] = moved.get(label, 0) + cast(CursorResult[Any], result).rowcount

    move("interests held", Interest.interested_party_id)
    move("interests in it", Interest.subject_party_id)
    move("commercial ties", CommercialTie.vendor_party_id)
    move("commercial ties", CommercialTie.counterparty_id)
    move("identifiers", PartyIdentifier.party_id)
    move("organisations", Organization.party_id)
    # A buyer that named both keeps one entry (and one waiver per finding): drop the merged party's copy.
    both = select(col(Rival.buyer_org_id)).where(col(Rival.party_id) == keep.id)
    session.execute(
        delete(Rival)
        .where(col(Rival.party_id) == merged.id, col(Rival.buyer_org_id).in_(both))
        .execution_options(synchronize_session="fetch")
    )
    move("rival lists", Rival.party_id)
    kept_waivers = select(col(Waiver.buyer_org_id), col(Waiver.vendor_org_id), col(Waiver.rule)).where(
        col(Waiver.rival_party_id) == keep.id
    )
    for buyer_id, vendor_id, rule in session.execute(kept_waivers).all():
        session.execute(
            delete(Waiver)
            .where(
                col(Waiver.rival_party_id) == merged.id,
                col(Waiver.buyer_org_id) == buyer_id,
                col(Waiver.vendor_org_id) == vendor_id,
                col(Waiver.rule) == rule,
            )
            .execution_options(synchronize_session="fetch")
        )
    move("waivers", Waiver.rival_party_id)
    moved["distinctions"] = _move_distinctions(session, keep, merged)
    statements = getattr(party_models, "BodsStatement", None)
    if statements is not None:  # imported BODS statements then resolve to the kept party
        move("BODS statements", statements.party_id)
    move("no-beneficial-owners declarations", party_models.NoOwnersDeclaration.subject_party_id)
    move("pending deals", PendingDeal.acquirer_party_id)
    move("pending deals", PendingDeal.target_party_id)
    # A lab told of both parties as a common owner keeps the kept party's report.
    told = select(col(OwnerGroupReport.buyer_org_id)).where(col(OwnerGroupReport.owner_party_id) == keep.id)
    session.execute(
        delete(OwnerGroupReport)
        .where(col(OwnerGroupReport.owner_party_id) == merged.id, col(OwnerGroupReport.buyer_org_id).in_(told))
        .execution_options(synchronize_session="fetch")
    )
    move("common-owner reports", OwnerGroupReport.owner_party_id)
    # Parties merged earlier into the merged one now point straight at the kept one.
    move("earlier merges", Party.merged_into_id)
    return {label: count for label, count in moved.items() if count}


def _move_distinctions(session: Session, keep: Party, merged: Party) -> int:
    """What the merged party was marked as not the same as, the kept party now is (each pair once)."""
    count = 0
    for distinction, other in distinctions_of(session, merged.id):
        session.delete(distinction)
        session.flush()
        if other.id != keep.id and distinction_between(session, keep.id, other.id) is None:
            low, high = sorted((keep.id, other.id))
            session.add(
                PartyDistinction(
                    first_party_id=low,
                    second_party_id=high,
                    reason=distinction.reason,
                    recorded_by_id=distinction.recorded_by_id,
                    recorded_at=distinction.recorded_at,
                )
            )
            count += 1
    return count


def _keep_alias(session: Session, keep: Party, merged: Party) -> None:
    """The merged party's name stays findable, as an alias of the kept party."""
    value = normalize_identifier(merged.name)
    if not value or normalize_name(merged.name) == keep.name_normalized:
        return
    held = session.execute(
        select(PartyIdentifier).where(
            col(PartyIdentifier.party_id) == keep.id,
            col(PartyIdentifier.scheme) == ALIAS_SCHEME,
            col(PartyIdentifier.value_normalized) == value,
        )
    ).first()
    if held is None:
        session.add(
            PartyIdentifier(
                party_id=keep.id, scheme=ALIAS_SCHEME, value=merged.name[:200], value_normalized=value[:200]
            )
        )


def merge_problem(session: Session, user: User, keep_id: int, merge_id: int) -> str | None:
    """Why merging these two would be refused, or None: the confirmation page says so before the click."""
    _require_admin(user)
    try:
        check_merge(session, _live_party(session, keep_id, "keep_id"), _live_party(session, merge_id, "merge_id"))
    except RegistryError as error:
        return str(error)
    return None


def merge_parties(session: Session, admin: User, keep_id: int, merge_id: int) -> Party:
    """Merge one party into another: every identifier, interest and tie of the merged party moves to the kept
    one, its name is kept as an alias, and the merge is written to the audit trail. Verdicts are recomputed.

    Raises NotVisible (404) for anyone but an admin, RegistryError for a refused merge.
    """
    _require_admin(admin)
    # Both rows locked: two admins merging the same parties at once (either way round) wait for each other.
    keep, merged = _locked_live_parties(session, keep_id, "keep_id", merge_id, "merge_id")
    check_merge(session, keep, merged)
    before = {"kept": _snapshot(session, keep), "merged": _snapshot(session, merged)}
    moved = _repoint(session, keep, merged)
    _keep_alias(session, keep, merged)
    if keep.kind == PartyKind.UNSPECIFIED and merged.kind != PartyKind.UNSPECIFIED:
        # An owner known only as "unknown" turned out to be this named party.
        keep.kind, keep.party_type = merged.kind, merged.party_type
    merged.merged_into_id = keep.id
    session.flush()
    session.expire_all()
    record_event(
        session,
        admin,
        "party.merged",
        "party",
        keep.id,
        before=before,
        after={"kept": _snapshot(session, keep), "merged_into": keep.id, "moved": moved},
    )
    changes.ties_changed(session, admin, party_ids=None)
    return cast(Party, session.get(Party, keep.id))


# --- Not the same party ------------------------------------------------------------------------------------


def _refresh_all(session: Session, admin: User) -> None:
    changes.ties_changed(session, admin, party_ids=None)


def distinction_between(session: Session, first_id: int, second_id: int) -> PartyDistinction | None:
    low, high = sorted((first_id, second_id))
    query = select(PartyDistinction).where(
        col(PartyDistinction.first_party_id) == low, col(PartyDistinction.second_party_id) == high
    )
    return session.execute(query).scalar_one_or_none()


def distinctions_of(session: Session, party_id: int) -> list[tuple[PartyDistinction, Party]]:
    """The parties an admin marked as not the same as this one, with the record of each."""
    rows = session.execute(
        select(PartyDistinction)
        .where(or_(col(PartyDistinction.first_party_id) == party_id, col(PartyDistinction.second_party_id) == party_id))
        .order_by(col(PartyDistinction.id))
    ).scalars()
    return [
        (
            row,
            cast(
                Party, session.get(Party, row.second_party_id if row.first_party_id == party_id else row.first_party_id)
            ),
        )
        for row in rows
    ]


def mark_distinct(session: Session, admin: User, first_id: int, second_id: int, reason: str) -> PartyDistinction:
    """Record that two parties are not one, however alike their names: they are no longer suggested as
    duplicates, and screening no longer reads either as the other (verdicts are recomputed). Audited.

    Raises NotVisible (404) for anyone but an admin, RegistryError for a refused distinction.
    """
    _require_admin(admin)
    first, second = _locked_live_parties(session, first_id, "first_id", second_id, "second_id")
    if first.id == second.id:
        raise RegistryError("A party is always the same as itself: choose two different parties.", "second_id")
    reason = (reason or "").strip()
    if not reason:
        raise RegistryError(
            "Say how you know they are not the same (a registry number, a country): the reason "
            "is kept in the audit trail.",
            "reason",
        )
    if len(reason) > 1000:
        raise RegistryError("Use at most 1000 characters.", "reason")
    if distinction_between(session, first.id, second.id) is not None:
        raise RegistryError(f"{first.name} and {second.name} are already marked as not the same.", "second_id")
    low, high = sorted((first, second), key=lambda party: party.id)
    distinction = PartyDistinction(
        first_party_id=low.id, second_party_id=high.id, reason=reason, recorded_by_id=admin.id
    )
    session.add(distinction)
    session.flush()
    record_event(
        session,
        admin,
        "party.marked_distinct",
        "party",
        low.id,
        before=None,
        after={"parties": [_snapshot(session, low), _snapshot(session, high)], "reason": reason},
    )
    _refresh_all(session, admin)
    return distinction


def withdraw_distinction(session: Session, admin: User, distinction_id: int) -> tuple[Party, Party]:
    """Undo "not the same": the two parties may again be suggested and read as one another. Audited; verdicts are
    recomputed. Raises NotVisible (404) for anyone but an admin or a missing record."""
    _require_admin(admin)
    found = session.get(PartyDistinction, distinction_id)
    if found is not None:
        # The parties first, as a merge of either locks them; then the mark itself, read again.
        lock_rows(session, Party, [found.first_party_id, found.second_party_id])
    distinction = lock_row(session, PartyDistinction, distinction_id) if found is not None else None
    if distinction is None:
        _refuse_withdrawn(session, distinction_id)
        raise _not_found(f"distinction {distinction_id}")
    first = cast(Party, session.get(Party, distinction.first_party_id))
    second = cast(Party, session.get(Party, distinction.second_party_id))
    before = {
        "distinction_id": distinction.id,
        "parties": [_snapshot(session, first), _snapshot(session, second)],
        "reason": distinction.reason,
    }
    session.delete(distinction)
    session.flush()
    record_event(session, admin, "party.distinction_withdrawn", "party", first.id, before=before, after=None)
    _refresh_all(session, admin)
    return first, second


def _refuse_withdrawn(session: Session, distinction_id: int) -> None:
    """RegistryError naming the parties when the audit trail says the mark was withdrawn (by another admin a
    moment ago, or by this admin's first click); nothing when it never existed (the caller's 404)."""
    withdrawn = session.execute(
        select(AuditRecord)
        .where(
            col(AuditRecord.action) == "party.distinction_withdrawn",
            col(AuditRecord.before)["distinction_id"].as_integer() == distinction_id,
        )
        .order_by(col(AuditRecord.id).desc())
        .limit(1)
    ).scalar_one_or_none()
    if withdrawn is not None:
        names = " and ".join(party["name"] for party in cast(dict, withdrawn.before)["parties"])
        raise RegistryError(f"The mark that {names} are not the same was already withdrawn.")
