"""Portable proofs of neutrality (issue 17): a vendor asks for a signed, time-limited statement that, as of a date,
it has no tie of 10% or more, no board seat and no shared officer with any party of a list it gives. The platform
screens the vendor against the list as it screens it for a lab (screening.services.screen.screen_party, with a 10%
policy), signs the statement with its Ed25519 key if nothing stands in the way, and revokes it when a later change
makes it false (a `changes.ties_changed` listener). Labs check it offline with the platform's public key, or on the
verification page, which also knows about revocation.

The list never leaves the vendor's request: the statement carries its SHA-256 over the canonical list
(signing.list_digest) and its size; the parties it named are kept, never shown, for the re-checks.
"""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import Organization, User
from marketplace.accounts.suspension import ensure_active
from marketplace.audit.service import record_event
from marketplace.db_types import utcnow
from marketplace.errors import Refusal
from marketplace.neutrality import signing
from marketplace.neutrality.models import NeutralityStatement
from marketplace.notifications.service import notify_org
from marketplace.parties.models import Party
from marketplace.parties.service import find_party_by_identifier, normalize_name
from marketplace.screening.engine.verdicts import Policy, Rule
from marketplace.screening.services.screen import screen_party

THRESHOLD_PCT = 10.0
VALIDITY_DAYS = (7, 30, 90)
MAX_ENTRIES = 200
MAX_ENTRY = 300
# What the statement says is absent. Revenue shares (the contract rule) are no tie of ownership or control: a
# statement says nothing of them. Whatever else screening finds (an undisclosed owner large enough to matter, a
# possible name match, an unapproved disclosure) leaves the statement unprovable, so it is not signed.
BLOCKING = frozenset(rule for rule in Rule if rule != Rule.CONTRACT)
POLICY = Policy(exclude_at=THRESHOLD_PCT, review_at=THRESHOLD_PCT)
ISSUER = "Arm's Length"
CLAIM = (
    "As of {as_of}, {vendor} has no tie of {threshold:g}% or more (shares or votes, held directly or through others), "
    "no board seat and no shared officer with any party of the list whose SHA-256 is {digest} ({size} "
    "{entries}), in the ownership data {issuer} holds, its disclosure approved."
)


class NeutralityError(Refusal):
    """A refusal the vendor can understand; `field` names the form field it belongs to."""


def key_path() -> Path:
    return Path(current_app.config["NEUTRALITY_KEY_FILE"])


def public_key():
    return signing.platform_key(key_path()).public_key()


# ------------------------------------------------------------------------------------------------ the list


def resolve_list(session: Session, text: str) -> tuple[list[str], list[int]]:
    """The list's canonical entries and the register's parties they name. An entry is a name, or an identifier
    written `scheme:value` (GB-COH:01234567) or `:value`; a name names every party of that name. Raises
    NeutralityError naming the entries the register does not know: a statement about a party it has no data on
    would be true of nothing."""
    entries = signing.list_entries(text)
    if not entries:
        raise NeutralityError("List at least one party, one per line.", "parties")
    if len(entries) > MAX_ENTRIES:
        raise NeutralityError(f"List at most {MAX_ENTRIES} parties.", "parties")
    if any(len(entry) > MAX_ENTRY for entry in entries):
        raise NeutralityError(f"Keep each line under {MAX_ENTRY} characters.", "parties")
    party_ids: set[int] = set()
    unknown = []
    for entry in entries:
        found = _parties_named(session, entry)
        if not found:
            unknown.append(entry)
        party_ids |= found
    if unknown:
        shown = ", ".join(f"“{entry}”" for entry in unknown[:5]) + (" and others" if len(unknown) > 5 else "")
        raise NeutralityError(
            f"The register has no party {shown}: write the party's registered name, or its identifier as "
            "scheme:value (GB-COH:01234567).",
            "parties",
        )
    return entries, sorted(party_ids)


def _parties_named(session: Session, entry: str) -> set[int]:
    if ":" in entry:
        scheme, value = entry.split(":", 1)
        party = find_party_by_identifier(session, scheme.strip(), value.strip())
        if party is not None:
            return {party.id}
    return set(
        session.execute(
            select(col(Party.id)).where(
                col(Party.name_normalized) == normalize_name(entry), col(Party.merged_into_id).is_(None)
            )
        ).scalars()
    )


def _stands_in_the_way(session: Session, vendor: Organization, party_ids: list[int], as_of: datetime) -> bool:
    """Whether screening the vendor against the parties finds anything the statement denies or cannot prove."""
    if vendor.party_id is None:
        return True
    screening = screen_party(session, vendor.party_id, party_ids, POLICY, as_of.date())
    return any(finding.rule in BLOCKING for finding in screening.findings)


# ------------------------------------------------------------------------------------------------ asking


def request_statement(session: Session, user: User, list_text: str, days: int) -> NeutralityStatement:
    """Sign a statement for the user's vendor organisation, valid for `days`. Raises NeutralityError when it may
    not be signed, without saying which party stands in the way."""
    ensure_active(session, user, "ask for neutrality statements")
    if not user.is_vendor or user.org_id is None:
        raise NeutralityError("Only vendors ask for neutrality statements.")
    if days not in VALIDITY_DAYS:
        raise NeutralityError("Choose how long the statement stays valid.", "days")
    vendor = cast(Organization, session.get(Organization, user.org_id))
    entries, party_ids = resolve_list(session, list_text)
    now = utcnow().replace(microsecond=0)
    if _stands_in_the_way(session, vendor, party_ids, now):
        raise NeutralityError(
            "The platform cannot sign that statement: its ownership data shows a tie with a party of this list, or "
            "cannot rule one out (an owner not yet disclosed, a name that may be the same party, a disclosure not yet "
            "approved). Your disclosure page shows what the platform holds about your organisation.",
            "parties",
        )
    key = signing.platform_key(key_path())
    digest = signing.list_digest("\n".join(entries))
    statement: dict[str, Any] = {
        "format": signing.FORMAT,
        "id": uuid.uuid4().hex,
        "issuer": ISSUER,
        "key_id": signing.key_id(key.public_key()),
        "vendor": {"name": vendor.name, "platform_id": vendor.id},
        "as_of": now.isoformat(),
        "expires_at": (now + timedelta(days=days)).isoformat(),
        "threshold_pct": THRESHOLD_PCT,
        "list": {"sha256": digest, "entries": len(entries)},
        "claim": CLAIM.format(
            as_of=now.date().isoformat(),
            vendor=vendor.name,
            threshold=THRESHOLD_PCT,
            digest=digest,
            size=len(entries),
            entries="entry" if len(entries) == 1 else "entries",
            issuer=ISSUER,
        ),
    }
    row = NeutralityStatement(
        uid=statement["id"],
        vendor_org_id=vendor.id,
        requested_by_id=user.id,
        as_of=now,
        expires_at=now + timedelta(days=days),
        threshold_pct=THRESHOLD_PCT,
        list_sha256=digest,
        list_size=len(entries),
        party_ids=party_ids,
        key_id=statement["key_id"],
        document=signing.canonical(signing.sign(key, statement)).decode("utf-8"),
    )
    session.add(row)
    session.flush()
    record_event(
        session,
        user,
        "neutrality.signed",
        "neutrality_statement",
        row.id,
        after={"id": row.uid, "list_sha256": digest, "entries": len(entries), "expires_at": statement["expires_at"]},
        vendor_org_id=vendor.id,
    )
    return row


def statements_of(session: Session, user: User) -> list[NeutralityStatement]:
    """The user's organisation's statements, newest first."""
    return list(
        session.execute(
            select(NeutralityStatement)
            .where(col(NeutralityStatement.vendor_org_id) == user.org_id)
            .order_by(col(NeutralityStatement.id).desc())
        ).scalars()
    )


# ------------------------------------------------------------------------------------------------ later changes


def recheck(session: Session, actor, *, party_ids=None, vendor_org_ids=()) -> list[NeutralityStatement]:
    """Re-check every live statement after ties changed (the `changes.ties_changed` listener), and revoke each that
    a change made false; its vendor is told. Live statements are few (each lasts at most 90 days)."""
    now = utcnow()
    live = session.execute(
        select(NeutralityStatement).where(
            col(NeutralityStatement.revoked_at).is_(None), col(NeutralityStatement.expires_at) > now
        )
    ).scalars()
    revoked = []
    for row in live:
        vendor = cast(Organization, session.get(Organization, row.vendor_org_id))
        if not _stands_in_the_way(session, vendor, row.party_ids, now):
            continue
        row.revoked_at = now
        row.revoked_reason = "A later change to the ownership data made it untrue."
        record_event(
            session,
            actor,
            "neutrality.revoked",
            "neutrality_statement",
            row.id,
            before={"revoked": False},
            after={"revoked": True, "id": row.uid},
            vendor_org_id=row.vendor_org_id,
        )
        notify_org(
            session,
            row.vendor_org_id,
            "neutrality_revoked",
            f"Your neutrality statement of {row.as_of.date().isoformat()} is revoked: a change to the ownership data "
            "made it untrue. Labs checking it are told so.",
            "/neutrality",
        )
        revoked.append(row)
    session.flush()
    return revoked


# ------------------------------------------------------------------------------------------------ checking


@dataclass(frozen=True)
class Verification:
    state: str  # valid, expired, revoked, invalid
    reason: str = ""
    statement: dict[str, Any] | None = None
    # Whether a list given alongside hashes to the statement's digest (None: no list given).
    list_matches: bool | None = None

    @property
    def words(self) -> str:
        return {
            "valid": "Valid: signed by this platform, not expired, not revoked.",
            "expired": "Expired: the signature holds, but the statement is past its expiry.",
            "revoked": "Revoked: the signature holds, but a later change made the statement untrue.",
            "invalid": "Not valid.",
        }[self.state]


def verify(session: Session | None, document: str, list_text: str = "") -> Verification:
    """Check a statement against the platform's public key, and (given a session) against revocation."""
    try:
        checked = signing.check(document, public_key())
    except signing.BadStatement as error:
        return Verification("invalid", str(error))
    matches = None
    if list_text.strip():
        matches = signing.list_digest(list_text) == checked.statement.get("list", {}).get("sha256")
    if checked.expired:
        return Verification("expired", statement=checked.statement, list_matches=matches)
    if session is not None:
        revoked = session.execute(
            select(col(NeutralityStatement.revoked_at)).where(
                col(NeutralityStatement.uid) == checked.statement.get("id")
            )
        ).scalar_one_or_none()
        if revoked is not None:
            return Verification("revoked", statement=checked.statement, list_matches=matches)
    return Verification("valid", statement=checked.statement, list_matches=matches)
