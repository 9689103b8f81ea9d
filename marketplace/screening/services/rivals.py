"""A buyer's rival list: naming rivals, removing them, and what each one ties to.

Every change re-screens the buyer's vendors: on the task queue when there is one (screening.services.queued), the
page saying so until it is done, else in the same transaction. What a vendor may see never waits for it: access
is screened live (marketplace.visibility).
"""

from collections import Counter
from dataclasses import dataclass
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import Organization, User
from marketplace.audit.service import last_record_of, record_event
from marketplace.errors import NotVisible, Refusal
from marketplace.locking import lock_row
from marketplace.parties.models import Party, PartyKind
from marketplace.parties.service import find_or_create_party, normalize_name, search_parties
from marketplace.screening.models import Rival
from marketplace.screening.services.queued import rescreen_buyer
from marketplace.screening.services.screen import cached_screenings_for_buyer


class RivalError(Refusal):
    """A refusal the buyer can fix; `field` names the form field it belongs to."""

    default_field = "name"


@dataclass(frozen=True)
class RivalEntry:
    """One rival as the buyer sees it: the rival, its party, and the platform vendors it ties to."""

    rival: Rival
    party: Party
    tied_vendor_count: int


@dataclass(frozen=True)
class PartyMatch:
    """A party found in the registry, and whether the buyer may still add it."""

    party: Party
    already_rival: bool
    is_own_org: bool


def _buyer_org(session: Session, user: User, *, lock: bool = False) -> Organization:
    if not user.is_buyer or user.org_id is None:
        raise RivalError("Only buyers keep a rival list.", None)
    if lock:
        # A change to the buyer's screening (rivals, policy, waivers) takes turns with every other: two colleagues
        # naming one rival at once make one, and the second is told it is on the list (docs/concurrency.md).
        return lock_row(session, Organization, user.org_id)
    return cast(Organization, session.get(Organization, user.org_id))


def _rival_party_ids(session: Session, org_id: int) -> set[int]:
    return set(session.execute(select(col(Rival.party_id)).where(col(Rival.buyer_org_id) == org_id)).scalars())


def rivals_of(session: Session, user: User) -> list[RivalEntry]:
    """The buyer organisation's rivals by name, each with how many platform vendors it currently ties to."""
    return rival_list(session, user).entries


@dataclass(frozen=True)
class NamedRivals:
    entries: list[RivalEntry]
    # Vendors not yet screened for the lab and not counted (a lab that has just joined a large platform, until the
    # screening queued for it is stored): the page says so (screen.cached_screenings_for_buyer).
    unscreened: int = 0


def rival_list(session: Session, user: User) -> NamedRivals:
    """rivals_of, and how many vendors not yet screened for the lab its counts leave out."""
    org = _buyer_org(session, user)
    rows = session.execute(
        select(Rival, Party)
        .join(Party, col(Party.id) == Rival.party_id)
        .where(col(Rival.buyer_org_id) == org.id)
        .order_by(Party.name)
    ).all()
    if not rows:
        return NamedRivals([])
    ties: Counter[int] = Counter()
    # A finding that names a rival is a review or an exclude: clear vendors' records need not be read.
    screenings = cached_screenings_for_buyer(session, org.id, flagged_only=True)
    for _verdict, findings in screenings.values():
        # A vendor counts once per rival, however many findings name that rival.
        for rival_id in {finding.get("rival_party_id") for finding in findings if finding.get("rival_party_id")}:
            ties[cast(int, rival_id)] += 1
    return NamedRivals([RivalEntry(rival, party, ties[party.id]) for rival, party in rows], screenings.unscreened)


def find_candidates(session: Session, user: User, text: str) -> list[PartyMatch]:
    """Companies in the registry whose name contains the text; people and unnamed owners are never rivals."""
    org = _buyer_org(session, user)
    if not text.strip():
        return []
    named = _rival_party_ids(session, org.id)
    return [
        PartyMatch(party, party.id in named, party.id == org.party_id)
        for party in search_parties(session, text)
        if party.kind == PartyKind.ENTITY
    ]


def _add(session: Session, user: User, org: Organization, party: Party) -> Party:
    if party.id == org.party_id or normalize_name(party.name) == normalize_name(org.name):
        raise RivalError("That is your own organisation; it cannot be your rival.")
    if party.id in _rival_party_ids(session, org.id):
        raise RivalError(f"{party.name} is already on your rival list.")
    rival = Rival(buyer_org_id=org.id, party_id=party.id, added_by_id=user.id)
    session.add(rival)
    session.flush()
    record_event(
        session,
        user,
        "rival.added",
        "rival",
        rival.id,
        after={"party_id": party.id, "name": party.name},
        buyer_org_id=org.id,
    )
    rescreen_buyer(session, user, org.id, "rival added")
    return party


def add_rival_by_name(session: Session, user: User, name: str) -> Party:
    """Name a rival, creating its party in the registry if nobody has named it yet; returns that party.

    Refuses an empty name, the buyer's own organisation and a rival already named (RivalError, field `name`).
    """
    org = _buyer_org(session, user, lock=True)
    clean = (name or "").strip()
    if not clean:
        raise RivalError("Enter the name of the company you compete with.")
    if len(clean) > 300:
        raise RivalError("Use at most 300 characters.")
    if normalize_name(clean) == normalize_name(org.name):
        raise RivalError("That is your own organisation; it cannot be your rival.")
    return _add(session, user, org, find_or_create_party(session, clean))


def add_rival_by_party(session: Session, user: User, party_id: int) -> Party:
    """Name an existing company of the registry as a rival; a merged party stands for the one it joined."""
    org = _buyer_org(session, user, lock=True)
    party = session.get(Party, party_id)
    while party is not None and party.merged_into_id is not None:
        party = session.get(Party, party.merged_into_id)
    if party is None or party.kind != PartyKind.ENTITY:
        raise RivalError("That company is no longer in the registry; search again.")
    return _add(session, user, org, party)


def remove_rival(session: Session, user: User, rival_id: int) -> Party:
    """Take a rival off the buyer's list and re-screen; returns the party that was removed.

    Raises NotVisible (404) when the rival is not on this buyer organisation's list.
    """
    org = _buyer_org(session, user, lock=True)
    rival = session.get(Rival, rival_id)
    if rival is None:
        removed = last_record_of(session, "rival.removed", rival_id, buyer_org_id=org.id)
        if removed is not None:  # by a colleague a moment ago, or by this user's first click
            raise RivalError(f"{cast(dict, removed.before)['name']} was already taken off your list.", None)
    if rival is None or rival.buyer_org_id != org.id:
        raise NotVisible(f"rival {rival_id}")
    party = cast(Party, session.get(Party, rival.party_id))
    record_event(
        session,
        user,
        "rival.removed",
        "rival",
        rival.id,
        before={"party_id": party.id, "name": party.name},
        buyer_org_id=org.id,
    )
    session.delete(rival)
    session.flush()
    rescreen_buyer(session, user, org.id, "rival removed")
    return party
