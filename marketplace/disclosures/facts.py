"""Facts from other sources: an admin records a tie of a vendor found in a registry filing or a news report.

Such a fact counts in screening at once (it belongs to no disclosure version, so no review holds it back),
carries the verification level the admin chose and its source, and asks the vendor to confirm it in a new
version of its disclosure.
"""

from dataclasses import dataclass
from datetime import date
from typing import cast
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import changes, transaction_cache
from marketplace.accounts.models import Organization, OrgKind, User
from marketplace.audit.service import record_event
from marketplace.db_types import utcnow
from marketplace.disclosures.diff import TieView
from marketplace.disclosures.models import DisclosureVersion
from marketplace.disclosures.service import (
    COMMERCIAL_TABLE,
    INTEREST_TABLE,
    TIE_VIEW_TABLES,
    DisclosureError,
    TieInput,
    build_tie_row,
    check_tie,
    tie_view,
)
from marketplace.notifications.service import notify_org
from marketplace.parties.models import (
    ROLE_INTEREST_TYPES,
    CommercialTie,
    Interest,
    Party,
    PartyKind,
    TieOrigin,
    VerificationLevel,
)
from marketplace.parties.service import find_or_create_party, normalize_name

# Self-declared is the vendor's word; a fact from elsewhere is one of these.
FACT_LEVELS = (VerificationLevel.ADMIN_VERIFIED, VerificationLevel.OFFICIAL_REGISTER, VerificationLevel.THIRD_PARTY)


class FactError(DisclosureError):
    """A refused fact; `field` is the form field it belongs to."""


@dataclass
class FactInput(TieInput):
    """A tie as the admin typed it, with where it was found."""

    verification_level: str = ""
    source_url: str = ""
    source_date: date | None = None
    source_description: str = ""


def vendor_choices(session: Session) -> list[tuple[int, str]]:
    """Every vendor organisation, by name, for the form's select."""
    rows = session.execute(
        select(col(Organization.id), col(Organization.name))
        .where(col(Organization.kind) == OrgKind.VENDOR)
        .order_by(Organization.name)
    ).all()
    return [(org_id, name) for org_id, name in rows]


def _check_source(fact: FactInput) -> VerificationLevel:
    try:
        level = VerificationLevel(fact.verification_level)
    except ValueError:
        level = None
    if level not in FACT_LEVELS:
        raise FactError(
            "Choose how the fact was verified: admin-verified, official register or third-party source.",
            "verification_level",
        )
    url = fact.source_url.strip()
    parts = urlsplit(url)
    if not url:
        raise FactError("Give the address of the source (the filing, the registry entry, the article).", "source_url")
    if parts.scheme not in ("http", "https") or not parts.hostname or len(url) > 1000:
        raise FactError("The source address must be a web address starting with http:// or https://.", "source_url")
    if fact.source_date is None:
        raise FactError("Give the date of the source.", "source_date")
    if fact.source_date > utcnow().date():
        raise FactError("The source's date is in the future.", "source_date")
    if len(fact.source_description.strip()) > 1000:
        raise FactError("Keep the source's description under 1,000 characters.", "source_description")
    return level


def _vendor(session: Session, vendor_org_id: int) -> Organization:
    org = session.get(Organization, vendor_org_id)
    if org is None or org.kind != OrgKind.VENDOR:
        raise FactError("Choose the vendor this fact is about.", "vendor_org_id")
    return org


def record_fact(session: Session, admin: User, vendor_org_id: int, fact: FactInput) -> Interest | CommercialTie:
    """Record a tie of the vendor from another source; it counts in screening at once.

    The tie is checked as a vendor's would be (a share is 0-100%, a key person is a person...), except that
    it is not added up with the vendor's own disclosure: a fact may well contradict it. The vendor is asked to
    confirm it in a new version; every buyer's verdict of the vendor, and of every vendor the tie can reach, is
    recomputed in the same transaction.
    """
    if not admin.is_admin:
        raise FactError("Only platform admins record facts from other sources.")
    vendor = _vendor(session, vendor_org_id)
    level = _check_source(fact)
    # An unsaved version with no ties: the tie is checked on its own, not added to the disclosed shares.
    kind = check_tie(session, DisclosureVersion(vendor_org_id=vendor.id, number=0), fact)
    vendor_party = cast(Party, session.get(Party, vendor.party_id))
    if kind.elsewhere:
        party = _person_of(session, vendor, vendor_party, fact.party_name)
    else:
        party = find_or_create_party(session, fact.party_name, PartyKind(fact.party_kind))
    provenance = {
        "origin": TieOrigin.ADMIN_FACT,
        "disclosure_id": None,
        "verification_level": level,
        "source_url": fact.source_url.strip(),
        "source_date": fact.source_date,
        "source_description": fact.source_description.strip(),
        "recorded_by_id": admin.id,
    }
    row = build_tie_row(session, kind, party, vendor_party, fact, provenance)
    view = fact_view(session, row, vendor_party.id)
    record_event(
        session,
        admin,
        "fact.recorded",
        kind.table,
        row.id,
        after={
            "vendor": vendor.name,
            "party": party.name,
            "kind": kind.code,
            "share": view.share_text or view.revenue_text,
            "dates": view.dates_text,
            "verification_level": level.value,
            "source_url": row.source_url,
            "source_date": cast(date, fact.source_date).isoformat(),
            "note": row.note,
        },
        vendor_org_id=vendor.id,
    )
    notify_org(session, vendor.id, "fact_recorded", _confirmation_request(view, row), "/disclosure/")
    # A role elsewhere is held in another party: the vendors sharing its people, or below it, are re-screened too.
    subject = row.subject_party_id if isinstance(row, Interest) else vendor_party.id
    changes.ties_changed(session, admin, party_ids=[subject, vendor_party.id], vendor_org_ids=[vendor.id])
    return row


def _role_holders(vendor_party_id: int):
    """The people holding (or having held) a board or senior role in the vendor."""
    return select(col(Interest.interested_party_id)).where(
        col(Interest.subject_party_id) == vendor_party_id, col(Interest.interest_type).in_(sorted(ROLE_INTEREST_TYPES))
    )


def _person_of(session: Session, vendor: Organization, vendor_party: Party, name: str) -> Party:
    """The person a role elsewhere is about: one of the vendor's own people, or the fact is not the vendor's."""
    person = session.execute(
        select(Party)
        .where(
            col(Party.name_normalized) == normalize_name(name),
            col(Party.kind) == PartyKind.PERSON,
            col(Party.merged_into_id).is_(None),
            col(Party.id).in_(_role_holders(vendor_party.id)),
        )
        .order_by(col(Party.id))
        .limit(1)
    ).scalar_one_or_none()
    if person is None:
        raise FactError(
            f"{name.strip()} holds no board or senior role at {vendor.name}: a role elsewhere is a "
            f"tie of {vendor.name} only through one of its own people. Record their role at "
            f"{vendor.name} first.",
            "party_name",
        )
    return person


def _describe(view: TieView) -> str:
    where = f" at {view.subject_name}" if view.subject_key else ""
    figure = view.share_text or view.revenue_text
    return f"{view.party_name}: {view.kind_label.lower()}{where}" + (f", {figure}" if figure else "")


def _confirmation_request(view: TieView, row) -> str:
    return (
        f"An admin recorded a fact about you from another source: {_describe(view)} "
        f"({row.verification_level}, {row.source_url}, {row.source_date.isoformat()}). It counts in "
        "screening now. Please confirm it, or tell us what is true, in a new version of your disclosure."
    )


@dataclass(frozen=True)
class RecordedFact:
    tie: TieView
    table: str
    id: int
    source_url: str
    source_date: date | None
    source_description: str
    recorded_at: object

    @property
    def description(self) -> str:
        return _describe(self.tie)


def _named(row: Interest | CommercialTie) -> list[int]:
    return [row.counterparty_id] if isinstance(row, CommercialTie) else [row.interested_party_id, row.subject_party_id]


def fact_view(session: Session, row: Interest | CommercialTie, vendor_party_id: int) -> TieView:
    """The fact as a tie view, so it reads like the ties of a disclosure."""
    parties = {party_id: cast(Party, session.get(Party, party_id)) for party_id in _named(row)}
    return tie_view(row, parties, vendor_party_id)


def recorded_facts(session: Session, vendor_org_id: int) -> list[RecordedFact]:
    """The facts admins recorded about the vendor, newest first: ties in it, and its people's roles elsewhere. Kept
    between requests until a tie, a party or an organisation changes (TIE_VIEW_TABLES)."""
    return list(
        transaction_cache.shared_unless_written(
            session,
            ("disclosures.recorded_facts", vendor_org_id),
            TIE_VIEW_TABLES,
            lambda: tuple(_read_recorded_facts(session, vendor_org_id)),
        )
    )


def _read_recorded_facts(session: Session, vendor_org_id: int) -> list[RecordedFact]:
    org = session.get(Organization, vendor_org_id)
    if org is None or org.party_id is None:
        return []
    interests = (
        session.execute(
            select(Interest).where(
                col(Interest.origin) == TieOrigin.ADMIN_FACT,
                or_(
                    col(Interest.subject_party_id) == org.party_id,
                    col(Interest.interest_type).in_(sorted(ROLE_INTEREST_TYPES))
                    & col(Interest.interested_party_id).in_(_role_holders(org.party_id)),
                ),
            )
        )
        .scalars()
        .all()
    )
    commercial = (
        session.execute(
            select(CommercialTie).where(
                col(CommercialTie.origin) == TieOrigin.ADMIN_FACT, col(CommercialTie.vendor_party_id) == org.party_id
            )
        )
        .scalars()
        .all()
    )
    # Every party the facts name, in one query (a page lists them all).
    named = {party_id for rows in (interests, commercial) for row in rows for party_id in _named(row)}
    parties = (
        {party.id: party for party in session.execute(select(Party).where(col(Party.id).in_(named))).scalars()}
        if named
        else {}
    )
    facts = [
        RecordedFact(
            tie_view(row, parties, org.party_id),
            table,
            row.id,
            row.source_url,
            row.source_date,
            row.source_description,
            row.recorded_at,
        )
        for table, rows in ((INTEREST_TABLE, interests), (COMMERCIAL_TABLE, commercial))
        for row in rows
    ]
    return sorted(facts, key=lambda f: (f.recorded_at, f.id), reverse=True)
