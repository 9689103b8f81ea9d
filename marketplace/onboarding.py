"""A new vendor's checklist: what it has set up, what is left, and what each step opens.

It says only what holds for every lab alike: no step counts or names jobs it cannot see, so nothing in it tells a
vendor how any lab's screening treats it (whose rivals it is tied to, which labs hide their jobs from it).
"""

from dataclasses import dataclass
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import Organization, User, VendorProfile
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.disclosures.service import current_approved_version, is_stale
from marketplace.payments.models import PayoutAccount


@dataclass(frozen=True)
class Step:
    name: str
    done: bool
    status: str  # where the vendor stands on this step, in words
    opens: str  # what finishing it opens, for every lab alike
    link: str
    action: str


def _profile_step(session: Session, org_id: int) -> Step:
    profile = session.execute(select(VendorProfile).where(col(VendorProfile.org_id) == org_id)).scalar_one_or_none()
    done = profile is not None and bool(profile.summary and profile.modalities and profile.task_types)
    return Step(
        "Profile",
        done,
        "Complete." if done else "Say what you label (a summary, modalities and task types).",
        "Labs find you when they search vendors by what they need.",
        "/profile",
        "Edit the profile",
    )


def _disclosure_step(session: Session, org_id: int) -> Step:
    latest = session.execute(
        select(DisclosureVersion)
        .where(col(DisclosureVersion.vendor_org_id) == org_id, col(DisclosureVersion.status) != DisclosureStatus.DRAFT)
        .order_by(col(DisclosureVersion.number).desc())
        .limit(1)
    ).scalar_one_or_none()
    approved = current_approved_version(session, org_id)
    if latest is None:
        status, done = "Not filed yet: say who owns and controls your company, and file it for review.", False
    elif latest.status == DisclosureStatus.SUBMITTED:
        status, done = "Filed, awaiting an admin's review: bidding is paused until it is reviewed.", False
    elif latest.status == DisclosureStatus.CHANGES_REQUESTED:
        status, done = "An admin asked for changes: see the reason, and file a new version.", False
    elif latest.status == DisclosureStatus.REJECTED and approved is None:
        status, done = "Rejected: see the reason, and file a new version.", False
    elif is_stale(approved):
        status, done = "Approved more than 12 months ago: file a new version to keep it current.", False
    else:
        status, done = "Approved.", True
    return Step(
        "Ownership disclosure",
        done,
        status,
        "Confidential and invite-only jobs open once it is approved (each lab still screens you), and labs see your "
        "ownership as verified.",
        "/disclosure/",
        "Go to the disclosure",
    )


def _payouts_step(session: Session, org_id: int) -> Step:
    account = session.execute(select(PayoutAccount).where(col(PayoutAccount.org_id) == org_id)).scalar_one_or_none()
    done = account is not None and account.payouts_ready
    if done:
        status = "Ready to receive payouts."
    elif account is not None and account.stripe_account_id:
        status = "Started: finish the details Stripe asks for."
    else:
        status = "Not set up."
    return Step(
        "Payouts",
        done,
        status,
        "You are paid for accepted work (the lab's funds are held until it accepts a delivery).",
        "/payments/payouts",
        "Set up payouts",
    )


def vendor_checklist(session: Session, user: User) -> list[Step] | None:
    """The vendor's steps, or None for anyone else."""
    if not user.is_vendor or user.org_id is None:
        return None
    org = cast(Organization, session.get(Organization, user.org_id))
    return [_profile_step(session, org.id), _disclosure_step(session, org.id), _payouts_step(session, org.id)]
