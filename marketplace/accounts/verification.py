"""Labs are verified by an admin before they publish jobs: anyone can type a famous lab's name at sign-up.

Until then a new lab signs in, names rivals and drafts jobs; publishing is refused with the reason.
"""

from sqlalchemy.orm import Session

from marketplace.accounts.models import Organization, User
from marketplace.audit.service import record_event
from marketplace.db_types import utcnow
from marketplace.locking import lock_row
from marketplace.notifications.service import notify_org

AWAITING_VERIFICATION = (
    "{name} is awaiting verification by the platform: you can name rivals and draft jobs "
    "now, and publish them once an admin has verified your lab."
)


class VerificationError(ValueError):
    """An organisation that cannot be verified (not a lab, or verified already)."""


def publishing_refusal(session: Session, user: User) -> str | None:
    """Why the user's lab may not publish jobs yet, or None."""
    org = session.get(Organization, user.org_id) if user.org_id else None
    if org is not None and org.awaiting_verification:
        return AWAITING_VERIFICATION.format(name=org.name)
    return None


def verify_lab(session: Session, admin: User, org_id: int) -> Organization:
    """An admin vouches for a lab: it may publish jobs. Audited; the lab's users are told.

    LookupError for an unknown organisation; VerificationError for one that needs no verification.
    """
    if not admin.is_admin:
        raise PermissionError("Only admins verify labs.")
    org = lock_row(session, Organization, org_id)  # two admins at once: the second finds it verified
    if org is None:
        raise LookupError(org_id)
    if not org.awaiting_verification:
        raise VerificationError(
            f"{org.name} needs no verification." if org.verified_at is None else f"{org.name} is already verified."
        )
    org.verified_at = utcnow()
    record_event(
        session,
        admin,
        "organization.verified",
        "organization",
        org.id,
        before={"verified": False},
        after={"verified": True},
        buyer_org_id=org.id,
    )
    notify_org(session, org.id, "lab_verified", f"{org.name} is verified: you can now publish jobs.", "/jobs/mine")
    return org
