"""A new vendor's checklist: what it has set up, what is left, and what each step opens.

It says only what holds for every lab alike: no step counts or names jobs it cannot see, so nothing in it tells a
vendor how any lab's screening treats it (whose rivals it is tied to, which labs hide their jobs from it).
"""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import transaction_cache
from marketplace.accounts.models import Organization, User, VendorProfile
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.disclosures.service import is_stale
from marketplace.payments.models import PayoutAccount
from marketplace.transaction_cache import plain


@dataclass(frozen=True)
class Step:
    name: str
    done: bool
    status: str  # where the vendor stands on this step, in words
    opens: str  # what finishing it opens, for every lab alike
    link: str
    action: str


def _profile_step(profile: VendorProfile | None) -> Step:
    done = profile is not None and bool(profile.summary and profile.modalities and profile.task_types)
    return Step(
        "Profile",
        done,
        "Complete." if done else "Say what you label (a summary, modalities and task types).",
        "Labs find you when they search vendors by what they need.",
        "/profile",
        "Edit the profile",
    )


def _versions(session: Session, org_id: int) -> tuple[DisclosureVersion | None, DisclosureVersion | None]:
    """The vendor's latest filed version and its latest approved one (current_approved_version), in one query."""
    of_vendor = col(DisclosureVersion.vendor_org_id) == org_id
    latest_filed = (
        select(col(DisclosureVersion.id))
        .where(of_vendor, col(DisclosureVersion.status) != DisclosureStatus.DRAFT)
        .order_by(col(DisclosureVersion.number).desc())
        .limit(1)
        .scalar_subquery()
    )
    latest_approved = (
        select(col(DisclosureVersion.id))
        .where(of_vendor, col(DisclosureVersion.status) == DisclosureStatus.APPROVED)
        .order_by(col(DisclosureVersion.number).desc())
        .limit(1)
        .scalar_subquery()
    )
    found = session.execute(
        select(DisclosureVersion).where(col(DisclosureVersion.id).in_([latest_filed, latest_approved]))
    ).scalars()
    by_number = sorted(found, key=lambda version: version.number, reverse=True)
    approved = next((v for v in by_number if v.status == DisclosureStatus.APPROVED), None)
    return (by_number[0] if by_number else None), approved


def _disclosure_step(latest: DisclosureVersion | None, approved: DisclosureVersion | None) -> Step:
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


def _payouts_step(account: PayoutAccount | None) -> Step:
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
    profile, account, latest, approved = _checklist_rows(session, user.org_id)
    return [_profile_step(profile), _disclosure_step(latest, approved), _payouts_step(account)]


# What the checklist reads; a change to any of these tables bumps its counter, under which the checklist is kept.
CHECKLIST_TABLES = frozenset({"organization", "vendorprofile", "payoutaccount", "disclosureversion"})


def _checklist_rows(session: Session, org_id: int) -> tuple[Any, Any, Any, Any]:
    """The vendor's profile, payout account, latest filed and latest approved versions, as plain values kept between
    transactions until one of CHECKLIST_TABLES changes (every page of a vendor's job list shows the checklist). The
    steps are worked out from them on each request: whether an approval is stale depends on the time."""

    def read() -> tuple[Any, Any, Any, Any]:
        # Its profile and payout account in one query, its versions in one.
        profile, account = session.execute(
            select(VendorProfile, PayoutAccount)
            .select_from(Organization)
            .outerjoin(VendorProfile, col(VendorProfile.org_id) == col(Organization.id))
            .outerjoin(PayoutAccount, col(PayoutAccount.org_id) == col(Organization.id))
            .where(col(Organization.id) == org_id)
        ).one()
        latest, approved = _versions(session, org_id)
        return plain(profile), plain(account), plain(latest), plain(approved)

    return transaction_cache.shared_unless_written(
        session, ("onboarding.checklist_rows", org_id), CHECKLIST_TABLES, read
    )
