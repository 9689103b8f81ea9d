"""Ownership disclosures: a vendor files versions of its ties; an admin approves, sends back or rejects them.

A version is a draft until its vendor submits it; from then on it never changes, and a change is a new
version copied from the latest one. Which versions count in screening is decided in
marketplace.parties.counting: a submitted version counts at once, before any review.
"""

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import cast

from sqlalchemy import select, update
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import changes, transaction_cache
from marketplace.accounts.models import Organization, OrgKind, User
from marketplace.accounts.suspension import ensure_active
from marketplace.audit.service import record_event
from marketplace.db_types import utcnow
from marketplace.disclosures.diff import TieChange, TieView, diff_ties
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.errors import NotVisible, Refusal
from marketplace.locking import lock_row
from marketplace.notifications.service import notify_admins, notify_org
from marketplace.parties.lookup import FoundParty, likely_same_findable, pickable_party
from marketplace.parties.models import (
    COUNTABLE_INTEREST_TYPES,
    CommercialKind,
    CommercialTie,
    Interest,
    Party,
    PartyKind,
    TieOrigin,
    VerificationLevel,
)
from marketplace.parties.service import find_or_create_party, normalize_name

STALE_AFTER_MONTHS = 12
DECISIONS = (DisclosureStatus.APPROVED, DisclosureStatus.CHANGES_REQUESTED, DisclosureStatus.REJECTED)
INTEREST_TABLE = "interest"
COMMERCIAL_TABLE = "commercial"
# Tolerance for adding up shares typed with decimals (33.3 + 33.3 + 33.4).
_EPSILON = 1e-9


class DisclosureError(Refusal):
    """A refusal the user can fix; `field` names the form field it belongs to."""


class LookalikeParties(DisclosureError):
    """A new name the registry may already know under another spelling: `found` are the parties to pick from."""

    def __init__(self, message: str, found: list[FoundParty]):
        super().__init__(message, "party_name")
        self.found = found


def _not_found(what: str) -> LookupError:
    """NotVisible, answered as 404."""
    return NotVisible(what)


def changed_subjects(session: Session, vendor_org_id: int) -> set[int]:
    """The parties a change to the vendor's filed versions touches: the vendor's own, and every subject of a tie in
    one of its versions (a version submitted, approved or superseded changes which of them count, and how)."""
    org = session.get(Organization, vendor_org_id)
    versions = select(col(DisclosureVersion.id)).where(col(DisclosureVersion.vendor_org_id) == vendor_org_id)
    subjects = set(
        session.execute(
            select(col(Interest.subject_party_id)).distinct().where(col(Interest.disclosure_id).in_(versions))
        ).scalars()
    )
    return subjects | ({org.party_id} if org is not None and org.party_id is not None else set())


def _refresh_screening(session: Session, user: User, vendor_org_id: int) -> None:
    """Recompute the verdicts of this vendor and of every vendor its disclosure's ties can reach."""
    changes.ties_changed(
        session, user, party_ids=changed_subjects(session, vendor_org_id), vendor_org_ids=[vendor_org_id]
    )


# --- What a vendor can disclose -------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    code: str
    title: str
    hint: str


SECTIONS = (
    Section(
        "shareholders", "Shareholders", "Who owns shares in you: an exact share, or a range when you know only that."
    ),
    Section("voting", "Voting rights", "Who controls votes, where that differs from the shareholding."),
    Section("board", "Board", "Board seats, the chair, and rights to appoint the board."),
    Section(
        "people",
        "Key people",
        "Your senior managers, and the current and former roles elsewhere of your key people and board members.",
    ),
    Section("funding", "Investors and lenders", "Who funds you, besides your shareholders."),
    Section("customers", "Major customers", "Customers and the share of your revenue each brings."),
    Section("exclusive", "Exclusive agreements", "Anyone you have agreed to work for exclusively."),
    Section("subcontractors", "Subcontractors", "Who does part of your work."),
    Section(
        "other", "Other influence or control", "Any other way someone can steer you: contracts, vetoes, golden shares."
    ),
)
SECTION_INDEX = {section.code: index for index, section in enumerate(SECTIONS)}


@dataclass(frozen=True)
class TieKind:
    code: str  # the form's value, and the kind of a TieView
    label: str
    section: str
    table: str
    type: str  # a BODS interest type, or a CommercialKind value
    elsewhere: bool = False  # a key person's role in another organisation
    person_only: bool = False
    shares: bool = False
    revenue: bool = False


TIE_KINDS = (
    TieKind("shareholding", "Shareholding", "shareholders", INTEREST_TABLE, "shareholding", shares=True),
    TieKind("votingRights", "Voting rights", "voting", INTEREST_TABLE, "votingRights", shares=True),
    TieKind("boardMember", "Board seat", "board", INTEREST_TABLE, "boardMember"),
    TieKind("boardChair", "Board chair", "board", INTEREST_TABLE, "boardChair"),
    TieKind("appointmentOfBoard", "Right to appoint the board", "board", INTEREST_TABLE, "appointmentOfBoard"),
    TieKind(
        "seniorManagingOfficial",
        "Senior manager (key person)",
        "people",
        INTEREST_TABLE,
        "seniorManagingOfficial",
        person_only=True,
    ),
    TieKind(
        "elsewhere:seniorManagingOfficial",
        "Role elsewhere: senior manager",
        "people",
        INTEREST_TABLE,
        "seniorManagingOfficial",
        elsewhere=True,
        person_only=True,
    ),
    TieKind(
        "elsewhere:boardMember",
        "Role elsewhere: board member",
        "people",
        INTEREST_TABLE,
        "boardMember",
        elsewhere=True,
        person_only=True,
    ),
    TieKind(
        "elsewhere:boardChair",
        "Role elsewhere: board chair",
        "people",
        INTEREST_TABLE,
        "boardChair",
        elsewhere=True,
        person_only=True,
    ),
    TieKind("investor", "Investor", "funding", COMMERCIAL_TABLE, CommercialKind.INVESTOR.value),
    TieKind("lender", "Lender", "funding", COMMERCIAL_TABLE, CommercialKind.LENDER.value),
    TieKind("customer", "Major customer", "customers", COMMERCIAL_TABLE, CommercialKind.CUSTOMER.value, revenue=True),
    TieKind(
        "exclusive_agreement",
        "Exclusive agreement",
        "exclusive",
        COMMERCIAL_TABLE,
        CommercialKind.EXCLUSIVE_AGREEMENT.value,
    ),
    TieKind("subcontractor", "Subcontractor", "subcontractors", COMMERCIAL_TABLE, CommercialKind.SUBCONTRACTOR.value),
    TieKind(
        "otherInfluenceOrControl", "Other influence or control", "other", INTEREST_TABLE, "otherInfluenceOrControl"
    ),
    TieKind(
        "rightsGrantedByContract", "Rights granted by contract", "other", INTEREST_TABLE, "rightsGrantedByContract"
    ),
)
KINDS_BY_CODE = {kind.code: kind for kind in TIE_KINDS}
SHARE_TOTAL_LABELS = {
    "shareholding": "Shareholdings",
    "votingRights": "Voting rights",
    CommercialKind.CUSTOMER.value: "Revenue shares",
}


def kind_choices() -> dict[str, list[tuple[str, str]]]:
    """The tie kinds grouped by section, for a select with option groups."""
    titles = {section.code: section.title for section in SECTIONS}
    grouped: dict[str, list[tuple[str, str]]] = {}
    for kind in TIE_KINDS:
        grouped.setdefault(titles[kind.section], []).append((kind.code, kind.label))
    return grouped


@dataclass
class TieInput:
    """What the vendor typed for one tie; add_tie checks every rule."""

    kind: str
    party_name: str
    party_kind: str = PartyKind.ENTITY.value
    share_exact: float | None = None
    share_min: float | None = None
    share_max: float | None = None
    share_min_exclusive: bool = False
    share_max_exclusive: bool = False
    start_date: date | None = None
    end_date: date | None = None
    role_title: str = ""
    other_org: str = ""
    revenue_share_pct: float | None = None
    note: str = ""
    party_id: int | None = None  # a party picked from the registry, instead of the name typed
    new_party: bool = False  # the vendor confirmed the name is none of the registry's lookalikes


# --- Finding versions ----------------------------------------------------------------------------------


def versions_of(session: Session, vendor_org_id: int) -> list[DisclosureVersion]:
    """Every version of the vendor's disclosure, newest first."""
    return list(
        session.execute(
            select(DisclosureVersion)
            .where(col(DisclosureVersion.vendor_org_id) == vendor_org_id)
            .order_by(col(DisclosureVersion.number).desc())
        ).scalars()
    )


def draft_of(session: Session, vendor_org_id: int) -> DisclosureVersion | None:
    return session.execute(
        select(DisclosureVersion)
        .where(
            col(DisclosureVersion.vendor_org_id) == vendor_org_id,
            col(DisclosureVersion.status) == DisclosureStatus.DRAFT,
        )
        .order_by(col(DisclosureVersion.number).desc())
        .limit(1)
    ).scalar_one_or_none()


def current_approved_version(
    session: Session, vendor_org_id: int, before_number: int | None = None
) -> DisclosureVersion | None:
    """The vendor's latest approved version (optionally: the latest one numbered below `before_number`)."""
    query = select(DisclosureVersion).where(
        col(DisclosureVersion.vendor_org_id) == vendor_org_id,
        col(DisclosureVersion.status) == DisclosureStatus.APPROVED,
    )
    if before_number is not None:
        query = query.where(col(DisclosureVersion.number) < before_number)
    return session.execute(query.order_by(col(DisclosureVersion.number).desc()).limit(1)).scalar_one_or_none()


def _months_after(moment: datetime, months: int) -> datetime:
    year, month_index = divmod(moment.month - 1 + months, 12)
    year += moment.year
    for day in range(moment.day, 0, -1):  # 31 January + 1 month is the last day of February
        try:
            return moment.replace(year=year, month=month_index + 1, day=day)
        except ValueError:
            continue
    raise AssertionError("unreachable")


def is_stale(version: DisclosureVersion | None, now: datetime | None = None) -> bool:
    """Whether this approved version was approved more than 12 months ago (False for no version)."""
    if version is None or version.decided_at is None:
        return False
    return _months_after(version.decided_at, STALE_AFTER_MONTHS) < (now or utcnow())


def _get_version(session: Session, version_id: int, for_update: bool) -> DisclosureVersion | None:
    # Locking the row makes concurrent changes to one version (two admins deciding, a tie added while the
    # draft is submitted) wait for each other; SQLite serialises writers anyway. The locked read replaces the
    # copy the view loaded before (populate_existing): the state checked is the one the other change left.
    if for_update:
        return lock_row(session, DisclosureVersion, version_id)
    return session.get(DisclosureVersion, version_id)


def get_own_version(session: Session, user: User, version_id: int, *, for_update: bool = False) -> DisclosureVersion:
    """A version of the user's own vendor organisation. Raises NotVisible (404) for any other."""
    version = _get_version(session, version_id, for_update)
    if version is None or not user.is_vendor or version.vendor_org_id != user.org_id:
        raise _not_found(f"disclosure {version_id}")
    return version


def get_filed_version(session: Session, user: User, version_id: int, *, for_update: bool = False) -> DisclosureVersion:
    """A filed (not draft) version, for an admin. Raises NotVisible (404) otherwise: drafts stay private."""
    version = _get_version(session, version_id, for_update)
    if version is None or not user.is_admin or version.status == DisclosureStatus.DRAFT:
        raise _not_found(f"disclosure {version_id}")
    return version


def check_draft(version: DisclosureVersion) -> None:
    """Refuse any change to a filed version: submitted and decided versions never change."""
    if version.status != DisclosureStatus.DRAFT:
        raise DisclosureError(
            f"Version {version.number} is {_status_words(version.status)}: it can no longer change. "
            "Start a new version to make a change."
        )


def _own_draft(session: Session, user: User, version_id: int) -> DisclosureVersion:
    version = get_own_version(session, user, version_id, for_update=True)
    check_draft(version)
    return version


def _status_words(status) -> str:
    return "sent back for changes" if status == DisclosureStatus.CHANGES_REQUESTED else str(status)


def _vendor_party(session: Session, org: Organization) -> Party:
    if org.party_id is None:  # every sign-up makes one; an org made by hand may lack it
        party = Party(kind=PartyKind.ENTITY, name=org.name, name_normalized=normalize_name(org.name))
        session.add(party)
        session.flush()
        org.party_id = party.id
    return cast(Party, session.get(Party, org.party_id))


# --- Versions --------------------------------------------------------------------------------------------


def start_new_version(session: Session, user: User) -> DisclosureVersion:
    """A new draft with a copy of every tie of the latest version; the earlier versions stay as they are."""
    ensure_active(session, user, "file disclosures")
    # The organisation's row is locked so that two clicks cannot start two drafts.
    org = session.get(Organization, user.org_id, with_for_update=True) if user.org_id else None
    if not user.is_vendor or org is None or org.kind != OrgKind.VENDOR:
        raise DisclosureError("Only vendors file ownership disclosures.")
    draft = draft_of(session, org.id)
    if draft is not None:
        raise DisclosureError(f"Version {draft.number} is already a draft: finish it or submit it first.")
    latest = session.execute(
        select(DisclosureVersion)
        .where(col(DisclosureVersion.vendor_org_id) == org.id)
        .order_by(col(DisclosureVersion.number).desc())
        .limit(1)
    ).scalar_one_or_none()
    version = DisclosureVersion(
        vendor_org_id=org.id,
        number=(latest.number + 1) if latest else 1,
        status=DisclosureStatus.DRAFT,
        created_by_id=user.id,
    )
    session.add(version)
    session.flush()
    if latest is not None:
        _copy_ties(session, latest.id, version.id)
    record_event(
        session,
        user,
        "disclosure.started",
        "disclosure",
        version.id,
        after={"number": version.number, "copied_from": latest.number if latest else None},
        vendor_org_id=org.id,
    )
    return version


_NOT_COPIED = {"id", "disclosure_id"}


def _copy_ties(session: Session, from_version_id: int, to_version_id: int) -> None:
    for model in (Interest, CommercialTie):
        rows = (
            session.execute(
                select(model)
                .where(col(model.disclosure_id) == from_version_id, col(model.origin) == TieOrigin.DISCLOSURE)
                .order_by(col(model.id))
            )
            .scalars()
            .all()
        )
        for row in rows:
            values = {name: getattr(row, name) for name in model.model_fields if name not in _NOT_COPIED}
            session.add(model(**values, disclosure_id=to_version_id))
    session.flush()


def _ties_in(session: Session, model, version_id: int) -> list:
    return list(
        session.execute(
            select(model)
            .where(model.disclosure_id == version_id, model.origin == TieOrigin.DISCLOSURE)
            .order_by(model.id)
        ).scalars()
    )


def _ties_in_many(session: Session, model, version_ids: Iterable[int]) -> list:
    return list(
        session.execute(
            select(model)
            .where(col(model.disclosure_id).in_(list(version_ids)), model.origin == TieOrigin.DISCLOSURE)
            .order_by(model.id)
        ).scalars()
    )


# --- Adding and removing ties on a draft -------------------------------------------------------------------


def _check_percent(value: float | None, field: str, what: str = "A share") -> None:
    if value is not None and not 0 <= value <= 100:
        raise DisclosureError(f"{what} is between 0 and 100%; {value:g}% is not.", field)


def _check_shares(kind: TieKind, tie: TieInput) -> None:
    given = [
        (name, getattr(tie, name))
        for name in ("share_exact", "share_min", "share_max")
        if getattr(tie, name) is not None
    ]
    if given and not kind.shares:
        raise DisclosureError("A share applies only to shareholdings and voting rights.", given[0][0])
    for name, value in given:
        _check_percent(value, name)
    if tie.share_exact is not None and (tie.share_min is not None or tie.share_max is not None):
        raise DisclosureError("Give either an exact share or a range, not both.", "share_exact")
    if tie.share_min is not None and tie.share_max is not None and tie.share_min > tie.share_max:
        raise DisclosureError(
            f"The minimum ({tie.share_min:g}%) is above the maximum ({tie.share_max:g}%).", "share_min"
        )


def _check_revenue(kind: TieKind, tie: TieInput) -> None:
    if tie.revenue_share_pct is not None and not kind.revenue:
        raise DisclosureError("A revenue share applies only to customers.", "revenue_share_pct")
    if kind.revenue and tie.revenue_share_pct is None:
        raise DisclosureError("Give the share of your revenue that comes from this customer.", "revenue_share_pct")
    _check_percent(tie.revenue_share_pct, "revenue_share_pct", "A revenue share")


def _check_parties(kind: TieKind, tie: TieInput, vendor: Party) -> None:
    if not tie.party_name.strip():
        raise DisclosureError("Name the person or organisation.", "party_name")
    if tie.party_kind not in (PartyKind.ENTITY.value, PartyKind.PERSON.value):
        raise DisclosureError("Say whether this is a person or an organisation.", "party_kind")
    if kind.person_only and tie.party_kind != PartyKind.PERSON.value:
        raise DisclosureError(f"A {kind.label.lower()} is a person: choose “person”.", "party_kind")
    if tie.party_kind == PartyKind.ENTITY.value and normalize_name(tie.party_name) == vendor.name_normalized:
        raise DisclosureError(f"Name someone other than {vendor.name} itself.", "party_name")
    if kind.elsewhere:
        if not tie.other_org.strip():
            raise DisclosureError("Name the organisation where they hold this role.", "other_org")
        if normalize_name(tie.other_org) == vendor.name_normalized:
            raise DisclosureError(
                f"That is {vendor.name} itself: add the role as a key person or board seat instead.", "other_org"
            )


def _check_total(session: Session, kind: TieKind, tie: TieInput, version: DisclosureVersion, vendor: Party) -> None:
    """The current shares of one kind in the vendor must not add up to more than 100% (low ends)."""
    today = utcnow().date()
    if tie.end_date is not None and tie.end_date <= today:
        return  # a former holding: it does not add to today's total
    if kind.shares:
        low = tie.share_exact if tie.share_exact is not None else (tie.share_min or 0.0)
        existing = [view for view in tie_views(session, version) if view.kind == kind.code]
        total = low + sum(view.share_low for view in existing if view.is_current(today))
        field = "share_exact" if tie.share_exact is not None else "share_min"
    elif kind.revenue:
        existing = [view for view in tie_views(session, version) if view.kind == kind.code]
        total = cast(float, tie.revenue_share_pct) + sum(
            view.revenue_share_pct or 0.0 for view in existing if view.is_current(today)
        )
        field = "revenue_share_pct"
    else:
        return
    if total > 100 + _EPSILON:
        raise DisclosureError(
            f"{SHARE_TOTAL_LABELS[kind.type]} would add up to {round(total, 4):g}%, more than 100%.", field
        )


def check_tie(session: Session, version: DisclosureVersion, tie: TieInput) -> TieKind:
    """Every rule a tie must meet, in the order a reader fixes them; returns its kind."""
    kind = KINDS_BY_CODE.get(tie.kind)
    if kind is None:
        raise DisclosureError("Choose what kind of tie this is.", "kind")
    vendor = _vendor_party(session, cast(Organization, session.get(Organization, version.vendor_org_id)))
    _check_parties(kind, tie, vendor)
    _check_shares(kind, tie)
    _check_revenue(kind, tie)
    if tie.start_date and tie.end_date and tie.end_date < tie.start_date:
        raise DisclosureError("The end date is before the start date.", "end_date")
    _check_total(session, kind, tie, version, vendor)
    return kind


def add_tie(session: Session, user: User, version_id: int, tie: TieInput) -> Interest | CommercialTie:
    """Add one tie to the vendor's own draft, self-declared, to the registry party it picked or to the party of
    the name it typed (a new one once it has set aside the registry's lookalikes).

    Raises NotVisible (404) for another organisation's version, DisclosureError for a refused tie.
    """
    ensure_active(session, user, "file disclosures")
    version = _own_draft(session, user, version_id)
    tie, picked = _with_picked_party(session, tie)
    kind = check_tie(session, version, tie)
    vendor = _vendor_party(session, cast(Organization, session.get(Organization, version.vendor_org_id)))
    party = picked or _named_party(session, tie)
    provenance = {
        "origin": TieOrigin.DISCLOSURE,
        "disclosure_id": version.id,
        "verification_level": VerificationLevel.SELF_DECLARED,
        "recorded_by_id": user.id,
    }
    return build_tie_row(session, kind, party, vendor, tie, provenance)


def party_name_of(session: Session, row: Interest | CommercialTie) -> str:
    """The name of the party a vendor's tie names (the holder of an interest, the counterparty of a contract)."""
    party_id = row.interested_party_id if isinstance(row, Interest) else row.counterparty_id
    return cast(Party, session.get(Party, party_id)).name


def _with_picked_party(session: Session, tie: TieInput) -> tuple[TieInput, Party | None]:
    """The tie named after the registry party the vendor picked, and that party (None when it picked none)."""
    if tie.party_id is None:
        return tie, None
    party = pickable_party(session, tie.party_id)
    if party is None:
        raise DisclosureError("Choose one of the parties found in the registry, or add a new one.", "party_id")
    return replace(tie, party_name=party.name, party_kind=str(party.kind)), party


def _named_party(session: Session, tie: TieInput) -> Party:
    """The party with the name typed, made if the registry has none; refused while the registry knows lookalikes
    the vendor has not yet seen and set aside (LookalikeParties)."""
    if not tie.new_party:
        found = likely_same_findable(session, tie.party_name, PartyKind(tie.party_kind))
        if found:
            names = ", ".join(f"“{each.party.name}”" for each in found[:3])
            raise LookalikeParties(
                f"The registry already knows {names}: if one of them is {tie.party_name.strip()}, choose it below; "
                "if not, tick “None of these” to add a new party.",
                found,
            )
    return find_or_create_party(session, tie.party_name, PartyKind(tie.party_kind))


def build_tie_row(
    session: Session, kind, party: Party, vendor_party: Party, tie, provenance: dict
) -> Interest | CommercialTie:
    """Write one checked tie of the vendor (from a disclosure or an admin's fact) with its provenance."""
    if kind.table == COMMERCIAL_TABLE:
        row: Interest | CommercialTie = CommercialTie(
            vendor_party_id=vendor_party.id,
            counterparty_id=party.id,
            kind=CommercialKind(kind.type),
            revenue_share_pct=tie.revenue_share_pct,
            start_date=tie.start_date,
            end_date=tie.end_date,
            note=tie.note.strip(),
            **provenance,
        )
    else:
        subject = find_or_create_party(session, tie.other_org, PartyKind.ENTITY) if kind.elsewhere else vendor_party
        ranged = tie.share_exact is None
        row = Interest(
            interested_party_id=party.id,
            subject_party_id=subject.id,
            interest_type=kind.type,
            share_exact=tie.share_exact,
            share_min=tie.share_min,
            share_max=tie.share_max,
            share_min_exclusive=ranged and tie.share_min is not None and tie.share_min_exclusive,
            share_max_exclusive=ranged and tie.share_max is not None and tie.share_max_exclusive,
            start_date=tie.start_date,
            end_date=tie.end_date,
            role_title=tie.role_title.strip(),
            note=tie.note.strip(),
            **provenance,
        )
    session.add(row)
    session.flush()
    return row


def remove_tie(session: Session, user: User, version_id: int, table: str, tie_id: int) -> None:
    """Remove one tie from the vendor's own draft. Raises NotVisible (404) for a tie not in it."""
    ensure_active(session, user, "file disclosures")
    version = _own_draft(session, user, version_id)
    model = {INTEREST_TABLE: Interest, COMMERCIAL_TABLE: CommercialTie}.get(table)
    row = session.get(cast(type[Interest | CommercialTie], model), tie_id) if model else None
    if row is None or row.disclosure_id != version.id or row.origin != TieOrigin.DISCLOSURE:
        raise _not_found(f"{table} tie {tie_id}")
    session.delete(row)
    session.flush()


# --- Submitting and deciding ---------------------------------------------------------------------------


def submit_version(
    session: Session,
    user: User,
    version_id: int,
    *,
    attester_name: str,
    attester_title: str,
    attested: bool,
    summary: str = "",
) -> DisclosureVersion:
    """An officer attests the draft and files it: it counts in screening at once and awaits review."""
    ensure_active(session, user, "submit disclosures")
    version = _own_draft(session, user, version_id)
    if not attester_name.strip():
        raise DisclosureError("Give the name of the officer who attests.", "attester_name")
    if not attester_title.strip():
        raise DisclosureError("Give the officer's title.", "attester_title")
    if not attested:
        raise DisclosureError("Tick the box: the officer attests that this disclosure is complete and true.", "attest")
    if not _ties_in(session, Interest, version.id) and not _ties_in(session, CommercialTie, version.id):
        raise DisclosureError("Add your ties first: a disclosure names at least who owns you.")
    version.status = DisclosureStatus.SUBMITTED
    version.submitted_at = utcnow()
    version.attested_by_id = user.id
    version.attester_name = attester_name.strip()
    version.attester_title = attester_title.strip()
    version.summary = summary.strip()
    org = cast(Organization, session.get(Organization, version.vendor_org_id))
    record_event(
        session,
        user,
        "disclosure.submitted",
        "disclosure",
        version.id,
        before={"status": DisclosureStatus.DRAFT.value},
        after={
            "status": DisclosureStatus.SUBMITTED.value,
            "number": version.number,
            "attester": f"{version.attester_name}, {version.attester_title}",
        },
        vendor_org_id=org.id,
    )
    notify_admins(
        session,
        "disclosure_submitted",
        f"{org.name} submitted disclosure version {version.number} for review.",
        f"/admin/disclosures/{version.id}",
    )
    _refresh_screening(session, user, org.id)
    return version


def _decision_message(version: DisclosureVersion, reason: str) -> str:
    heading = {
        DisclosureStatus.APPROVED: f"Disclosure version {version.number} is approved.",
        DisclosureStatus.CHANGES_REQUESTED: f"Changes requested on disclosure version {version.number}; "
        "start a new version to answer.",
        DisclosureStatus.REJECTED: f"Disclosure version {version.number} is rejected.",
    }[version.status]
    message = f"{heading} Reason: {reason}" if reason else heading
    return message if len(message) <= 1000 else message[:999] + "…"


def verify_ties(session: Session, version: DisclosureVersion) -> None:
    """Mark the version's ties admin-verified, as approving it does: from then on its ties about other parties
    count in their screening too, not only in the vendor's own."""
    for model in (Interest, CommercialTie):
        session.execute(
            update(model)
            .where(col(model.disclosure_id) == version.id, col(model.origin) == TieOrigin.DISCLOSURE)
            .values(verification_level=VerificationLevel.ADMIN_VERIFIED)
        )


def decide_version(session: Session, user: User, version_id: int, decision: str, reason: str = "") -> DisclosureVersion:
    """An admin approves, sends back or rejects a submitted version, and the vendor is told why.

    Approving marks the version's ties admin-verified. Raises NotVisible (404) for a draft or missing version.
    """
    if not user.is_admin:
        raise DisclosureError("Only platform admins decide on disclosures.")
    version = get_filed_version(session, user, version_id, for_update=True)
    try:
        status = DisclosureStatus(decision)
    except ValueError:
        status = None
    if status not in DECISIONS:
        raise DisclosureError("Choose approve, request changes or reject.", "decision")
    if version.status != DisclosureStatus.SUBMITTED:
        raise DisclosureError(
            f"Version {version.number} is already {_status_words(version.status)}: only "
            "a submitted version can be decided.",
            "decision",
        )
    reason = reason.strip()
    if status != DisclosureStatus.APPROVED and not reason:
        action = "request changes" if status == DisclosureStatus.CHANGES_REQUESTED else "reject"
        raise DisclosureError(f"Give a reason to {action}: the vendor sees it.", "reason")
    if status == DisclosureStatus.APPROVED:
        verify_ties(session, version)
    before = version.status
    version.status = status
    version.decided_by_id = user.id
    version.decided_at = utcnow()
    version.decision_reason = reason
    record_event(
        session,
        user,
        f"disclosure.{status.value}",
        "disclosure",
        version.id,
        before={"status": str(before)},
        after={"status": status.value, "reason": reason},
        vendor_org_id=version.vendor_org_id,
    )
    notify_org(
        session,
        version.vendor_org_id,
        "disclosure_decision",
        _decision_message(version, reason),
        f"/disclosure/{version.id}",
    )
    session.flush()
    _refresh_screening(session, user, version.vendor_org_id)
    return version


# --- Reading ties ---------------------------------------------------------------------------------------


def _kind_of_interest(interest: Interest, vendor_party_id: int) -> TieKind | None:
    prefix = "" if interest.subject_party_id == vendor_party_id else "elsewhere:"
    return KINDS_BY_CODE.get(prefix + interest.interest_type)


def tie_views(session: Session, version: DisclosureVersion) -> list[TieView]:
    """The version's ties, in section order, then by kind and name."""
    return tie_views_of(session, [version])[version.id]


# What a version's ties, or an admin's facts, are shown from: the views are kept between requests under these tables'
# counters (marketplace.transaction_cache), and read again by the first transaction after one of them changes.
TIE_VIEW_TABLES = ("interest", "commercialtie", "party", "organization")


def tie_views_of(session: Session, versions: list[DisclosureVersion]) -> dict[int, list[TieView]]:
    """{version id: tie_views(version)} for versions of one vendor, in three statements whatever their number, or
    none while the answer is kept."""
    if not versions:
        return {}
    ids = tuple(version.id for version in versions)
    vendor_org_id = versions[0].vendor_org_id
    kept = transaction_cache.shared_unless_written(
        session, ("disclosures.tie_views", ids), TIE_VIEW_TABLES, lambda: _read_tie_views(session, vendor_org_id, ids)
    )
    # Lists of their own: a caller may sort or add to what it is given.
    return {version_id: list(views) for version_id, views in kept.items()}


def _read_tie_views(session: Session, vendor_org_id: int, ids: tuple[int, ...]) -> dict[int, tuple[TieView, ...]]:
    org = cast(Organization, session.get(Organization, vendor_org_id))
    interests = _ties_in_many(session, Interest, ids)
    commercial = _ties_in_many(session, CommercialTie, ids)
    party_ids = {i.interested_party_id for i in interests} | {i.subject_party_id for i in interests}
    party_ids |= {c.counterparty_id for c in commercial}
    parties = {p.id: p for p in session.execute(select(Party).where(col(Party.id).in_(party_ids))).scalars()}
    order = {kind.code: index for index, kind in enumerate(TIE_KINDS)}
    found: dict[int, list[TieView]] = {version_id: [] for version_id in ids}
    for row in [*interests, *commercial]:
        found[cast(int, row.disclosure_id)].append(tie_view(row, parties, cast(int, org.party_id)))
    return {
        version_id: tuple(
            sorted(
                views,
                key=lambda v: (
                    SECTION_INDEX[v.section],
                    order.get(v.kind, len(order)),
                    normalize_name(v.party_name),
                    v.id,
                ),
            )
        )
        for version_id, views in found.items()
    }


def tie_view(row: Interest | CommercialTie, parties: dict[int, Party], vendor_party_id: int) -> TieView:
    """A tie, of a disclosure version or an admin's fact, as the pages show it; `parties` holds every party it names."""
    if isinstance(row, CommercialTie):
        return _commercial_view(row, parties)
    return _interest_view(row, parties, vendor_party_id)


def _interest_view(interest: Interest, parties: dict[int, Party], vendor_party_id: int) -> TieView:
    kind = _kind_of_interest(interest, vendor_party_id)
    party, subject = parties[interest.interested_party_id], parties[interest.subject_party_id]
    elsewhere = interest.subject_party_id != vendor_party_id
    return TieView(
        table=INTEREST_TABLE,
        id=interest.id,
        kind=kind.code if kind else interest.interest_type,
        kind_label=kind.label if kind else interest.interest_type,
        section=kind.section if kind else "other",
        party_name=party.name,
        party_kind=str(party.kind),
        subject_name=subject.name,
        subject_key=subject.name_normalized if elsewhere else "",
        role_title=interest.role_title,
        share_exact=interest.share_exact,
        share_min=interest.share_min,
        share_max=interest.share_max,
        share_min_exclusive=interest.share_min_exclusive,
        share_max_exclusive=interest.share_max_exclusive,
        shares_apply=interest.interest_type in COUNTABLE_INTEREST_TYPES,
        start_date=interest.start_date,
        end_date=interest.end_date,
        note=interest.note,
        verification_level=str(interest.verification_level),
    )


def _commercial_view(tie: CommercialTie, parties: dict[int, Party]) -> TieView:
    kind = KINDS_BY_CODE[str(tie.kind)]
    party = parties[tie.counterparty_id]
    return TieView(
        table=COMMERCIAL_TABLE,
        id=tie.id,
        kind=kind.code,
        kind_label=kind.label,
        section=kind.section,
        party_name=party.name,
        party_kind=str(party.kind),
        subject_name="",
        revenue_share_pct=tie.revenue_share_pct,
        start_date=tie.start_date,
        end_date=tie.end_date,
        note=tie.note,
        verification_level=str(tie.verification_level),
    )


def by_section(views: Iterable, tie_of=lambda item: item) -> list[tuple[Section, list]]:
    """Items (ties or changes) grouped under every section, empty sections included, in section order."""
    grouped: dict[str, list] = {section.code: [] for section in SECTIONS}
    for item in views:
        grouped[tie_of(item).section].append(item)
    return [(section, grouped[section.code]) for section in SECTIONS]


@dataclass(frozen=True)
class Review:
    version: DisclosureVersion
    vendor: Organization
    ties: list[TieView]
    baseline: DisclosureVersion | None  # the approved version it is compared with, if any
    changes: list[TieChange]  # added, removed and changed ties only

    @property
    def unchanged_count(self) -> int:
        return len(self.ties) - sum(1 for change in self.changes if change.new is not None)


def review_of(session: Session, user: User, version_id: int) -> Review:
    """A filed version for an admin, with what changed since the vendor's last approved version before it."""
    version = get_filed_version(session, user, version_id)
    # Held from here: the identity map holds rows weakly, and the tie views read the organisation too.
    vendor = cast(Organization, session.get(Organization, version.vendor_org_id))
    baseline = current_approved_version(session, version.vendor_org_id, before_number=version.number)
    views = tie_views_of(session, [version, baseline] if baseline else [version])
    ties, old = views[version.id], (views[baseline.id] if baseline else [])
    changes = [change for change in diff_ties(old, ties) if change.status != "unchanged"]
    changes.sort(key=lambda change: SECTION_INDEX[change.tie.section])
    return Review(version, vendor, ties, baseline, changes)
