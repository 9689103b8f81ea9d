"""Sign-up, sign-in, invitations and vendor profiles."""

import hashlib
import secrets
from dataclasses import dataclass
from typing import cast

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import changes
from marketplace.accounts import security
from marketplace.accounts.models import (
    Organization,
    OrgInvitation,
    OrgKind,
    OrgRole,
    Role,
    TokenPurpose,
    User,
    VendorProfile,
)
from marketplace.accounts.names import org_name_key
from marketplace.accounts.passwords import hash_password, needs_rehash, verify_password
from marketplace.accounts.security import IssuedToken
from marketplace.audit.service import record_event
from marketplace.db_types import utcnow
from marketplace.errors import Refusal
from marketplace.locking import lock_row
from marketplace.notifications.service import notify_admins
from marketplace.parties.models import Party, PartyKind
from marketplace.parties.service import normalize_name


class AccountError(Refusal):
    """A refusal the user can fix; `field` names the form field it belongs to."""


INVITATION_USED = "This invitation has been accepted already: sign in with its address."


class InvitationUsed(AccountError):
    """The invitation made its account already (a second click, or a second tab): there is nothing to join."""

    def __init__(self):
        super().__init__(INVITATION_USED)


def normalize_email(email: str) -> str:
    return email.strip().lower()


def email_taken(session: Session, email: str) -> bool:
    return _account_of(session, email) is not None


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    role: Role,
    org: Organization | None = None,
    timezone: str = "UTC",
    email_verified: bool = True,
) -> User:
    """A new user; `email_verified=False` when the address still has to be confirmed through a mailed link."""
    if email_taken(session, email):
        raise AccountError("An account with this email already exists.", "email")
    user = User(
        email=normalize_email(email),
        name=name.strip(),
        password_hash=hash_password(password),
        role=role,
        org_id=org.id if org else None,
        timezone=timezone,
        email_verified_at=utcnow() if email_verified else None,
    )
    session.add(user)
    session.flush()
    return user


@dataclass(frozen=True)
class SignUpResult:
    """What a sign-up did: a new unconfirmed account (mail it a confirmation link) or an address already in use
    (tell its owner). The page answers the same either way."""

    user: User
    created: bool
    confirmation: IssuedToken | None = None


def org_with_name(session: Session, name: str) -> Organization | None:
    """The organisation whose name is this one but for case, punctuation and legal suffix."""
    return session.execute(
        select(Organization).where(col(Organization.name_key) == org_name_key(name))
    ).scalar_one_or_none()


def sign_up(
    session: Session, *, org_name: str, kind: OrgKind, email: str, name: str, password: str, timezone: str = "UTC"
) -> SignUpResult:
    """Create an organisation, its node in the ownership graph, and its first user, whose address is unconfirmed;
    a new lab awaits an admin's verification before it publishes jobs.

    AccountError (field `org_name`) for a name that is taken. An address already in use creates nothing.
    """
    clean_name = org_name.strip()
    if not org_name_key(clean_name):
        raise AccountError("Give the organisation's name, with letters or digits.", "org_name")
    if org_with_name(session, clean_name) is not None:
        raise AccountError(
            "An organisation with this name is already on the marketplace. If it is yours, ask a "
            "colleague there to invite you.",
            "org_name",
        )
    existing = security.user_by_email(session, email)
    if existing is not None:
        hash_password(password)  # the same work as a new account, so that the answer takes as long
        return SignUpResult(existing, created=False)
    try:
        with session.begin_nested():
            party = Party(kind=PartyKind.ENTITY, name=clean_name, name_normalized=normalize_name(clean_name))
            session.add(party)
            session.flush()
            org = Organization(name=clean_name, kind=kind, party_id=party.id)
            session.add(org)
            session.flush()
            if kind == OrgKind.VENDOR:
                session.add(VendorProfile(org_id=org.id))
            user = create_user(
                session,
                email=email,
                name=name,
                password=password,
                role=Role(kind.value),
                org=org,
                timezone=timezone,
                email_verified=False,
            )
            user.org_role = OrgRole.OWNER
    except IntegrityError:
        # Someone took the name or the address between the checks and the insert. An address taken meanwhile is
        # answered as one taken before (the same page, and a mail to its owner): the checks above, in their order.
        existing = security.user_by_email(session, email)
        if existing is not None and org_with_name(session, clean_name) is None:
            return SignUpResult(existing, created=False)
        raise AccountError(
            "An organisation with this name is already on the marketplace. If it is yours, ask a "
            "colleague there to invite you.",
            "org_name",
        ) from None
    record_event(
        session,
        user,
        "organization.created",
        "organization",
        org.id,
        after={"name": org.name, "kind": kind.value, "verified": not org.awaiting_verification},
        buyer_org_id=org.id if kind == OrgKind.BUYER else None,
        vendor_org_id=org.id if kind == OrgKind.VENDOR else None,
    )
    if kind == OrgKind.BUYER:
        changes.lab_joined(session, user, buyer_org_id=org.id)
    if org.awaiting_verification:
        notify_admins(
            session,
            "lab_awaiting_verification",
            f"{org.name} signed up as a lab and awaits verification before it publishes jobs.",
            f"/admin/organizations/{org.id}",
        )
    return SignUpResult(
        user, created=True, confirmation=security.issue_token(session, user, TokenPurpose.CONFIRM_EMAIL)
    )


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The user whose email and password match, or None; upgrades old hashes on the way."""
    user = session.execute(select(User).where(col(User.email) == normalize_email(email))).scalar_one_or_none()
    if not verify_password(user.password_hash if user else None, password):
        return None
    if needs_rehash(cast(User, user).password_hash):
        cast(User, user).password_hash = hash_password(password)
    return user


def end_sessions(session: Session, user: User) -> None:
    """Sign out everywhere: every earlier copy of the session cookie stops working."""
    user.session_version += 1


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: OrgInvitation
    token: str


def invite_colleague(session: Session, inviter: User, email: str) -> IssuedInvitation:
    """Invite someone to the inviter's organisation; the token is shown once and stored only as a hash."""
    if inviter.org_id is None:
        raise AccountError("Only members of an organisation can invite colleagues.")
    existing = _account_of(session, email)
    # A colleague the organisation removed may be invited back: accepting gives the same account again (its history
    # kept). Any other account, here or elsewhere, keeps its address.
    if existing is not None and not (existing.org_id == inviter.org_id and existing.removed_at is not None):
        raise AccountError("That person already has an account.", "email")
    token = secrets.token_urlsafe(32)
    invitation = OrgInvitation(
        org_id=inviter.org_id, email=normalize_email(email), token_hash=_token_hash(token), invited_by_id=inviter.id
    )
    session.add(invitation)
    session.flush()
    return IssuedInvitation(invitation, token)


def find_open_invitation(session: Session, token: str) -> OrgInvitation | None:
    return session.execute(
        select(OrgInvitation).where(
            col(OrgInvitation.token_hash) == _token_hash(token), col(OrgInvitation.accepted_at).is_(None)
        )
    ).scalar_one_or_none()


def find_invitation(session: Session, token: str) -> OrgInvitation | None:
    """The invitation this link carries, open or accepted already."""
    return session.execute(
        select(OrgInvitation).where(col(OrgInvitation.token_hash) == _token_hash(token))
    ).scalar_one_or_none()


def accept_invitation(
    session: Session, invitation: OrgInvitation, *, name: str, password: str, timezone: str = "UTC"
) -> User:
    """The invited person's account. InvitationUsed when the invitation made one already: it is read again
    under a lock, so that two submissions of the form at once make one account and the second is told so."""
    invitation = lock_row(session, OrgInvitation, invitation.id)
    if invitation.accepted_at is not None:
        raise InvitationUsed()
    org = cast(Organization, session.get(Organization, invitation.org_id))
    removed = _account_of(session, invitation.email)
    if removed is not None:
        return _reinstate(session, invitation, removed, name=name, password=password, timezone=timezone)
    # The inviter typed the address: its owner confirms it before first use, like everyone else.
    user = create_user(
        session,
        email=invitation.email,
        name=name,
        password=password,
        role=Role(str(org.kind)),
        org=org,
        timezone=timezone,
        email_verified=False,
    )
    user.org_role = OrgRole.MEMBER  # the owner makes a member a manager (or an approver) on the team page
    invitation.accepted_at = utcnow()
    return user


def _account_of(session: Session, email: str) -> User | None:
    return session.execute(select(User).where(col(User.email) == normalize_email(email))).scalar_one_or_none()


def _reinstate(
    session: Session, invitation: OrgInvitation, user: User, *, name: str, password: str, timezone: str
) -> User:
    """A removed colleague invited back: the same account, as a member, with the name and password given now."""
    if user.org_id != invitation.org_id or user.removed_at is None:
        # Taken since the invitation was made (it was checked then): by another organisation, or never removed.
        raise AccountError("That address has an account already: sign in with it, or ask for another invitation.")
    user.removed_at = None
    user.org_role = OrgRole.MEMBER
    user.approver = False
    user.name = name.strip()
    user.password_hash = hash_password(password)
    user.timezone = timezone
    user.session_version += 1  # nothing from before the removal opens a session again
    invitation.accepted_at = utcnow()
    record_event(
        session,
        user,
        "user.reinstated",
        "user",
        user.id,
        before={"removed": True},
        after={"role": OrgRole.MEMBER.value, "invited_by": invitation.invited_by_id},
        **cast(Organization, session.get(Organization, user.org_id)).audit_sides,
    )
    return user


def pending_invitations(session: Session, org_id: int) -> list[OrgInvitation]:
    return list(
        session.execute(
            select(OrgInvitation)
            .where(col(OrgInvitation.org_id) == org_id, col(OrgInvitation.accepted_at).is_(None))
            .order_by(col(OrgInvitation.created_at).desc())
        ).scalars()
    )


def org_members(session: Session, org_id: int) -> list[User]:
    return list(
        session.execute(
            select(User).where(col(User.org_id) == org_id, col(User.removed_at).is_(None)).order_by(User.name)
        ).scalars()
    )


def profile_for(session: Session, org_id: int) -> VendorProfile:
    profile = session.execute(select(VendorProfile).where(col(VendorProfile.org_id) == org_id)).scalar_one_or_none()
    if profile is None:
        profile = VendorProfile(org_id=org_id)
        session.add(profile)
        session.flush()
    return profile


def update_profile(session: Session, user: User, **fields) -> VendorProfile:
    """Change the vendor's profile; only vendors may, and only their own."""
    if not user.is_vendor:
        raise AccountError("Only vendors keep a profile.")
    profile = profile_for(session, cast(int, user.org_id))
    for key, value in fields.items():
        setattr(profile, key, value)
    profile.updated_at = utcnow()
    return profile


def vendor_count(session: Session) -> int:
    return session.execute(
        select(func.count(col(Organization.id))).where(col(Organization.kind) == OrgKind.VENDOR)
    ).scalar_one()
