"""A vendor's certificates: uploaded with their file, issuer, scope and dates, verified or rejected by an admin.

A certificate counts for a job that requires its kind while it is verified and not expired: through its expiry
date, and no longer the day after (the server's clock, UTC). The vendor's profile may still list certifications as
free text (self-declared, from before certificates were records); a lab reads those as self-declared only.

Who may download a certificate's file is decided in `visibility.get_certificate`.
"""

import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import visibility
from marketplace.accounts.models import Organization, User, VendorProfile
from marketplace.accounts.suspension import ensure_active
from marketplace.audit.service import record_event
from marketplace.certificates.models import Certificate, CertificateStatus
from marketplace.dates import months_before
from marketplace.db_types import utcnow
from marketplace.disclosures.evidence import FileType, sniff_type
from marketplace.downloads import display_name, store_private_file
from marketplace.errors import NotVisible, Refusal
from marketplace.jobs.models import CERTIFICATIONS
from marketplace.locking import lock_row
from marketplace.notifications.service import notify_admins, notify_org

FOLDER = "certificates"
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ISSUER = 200
MAX_SCOPE = 1000
MAX_REASON = 1000
# Issue dates further back, or expiry dates further ahead, are typing mistakes, not certificates.
OLDEST_ISSUE_YEARS = 30
LONGEST_VALIDITY_YEARS = 10
ACCEPTED_TYPES = {"application/pdf", "image/png", "image/jpeg"}
ACCEPTED_WORDS = "a PDF, PNG or JPEG file"
VENDOR_LINK = "/certificates"


class CertificateError(Refusal):
    """A refused upload or decision; `field` is the form field it belongs to."""


@dataclass(frozen=True)
class NewCertificate:
    kind: str
    issuer: str
    scope: str
    issued_on: date | None
    expires_on: date | None
    filename: str
    data: bytes  # as read by the view: at most one byte beyond the limit, so that a larger file is refused


@dataclass(frozen=True)
class Standing:
    """Whether a bidder holds a verified, current certificate of one kind a job requires."""

    kind: str
    label: str
    certificate: Certificate | None  # the one that counts (the latest expiry), or None
    self_declared: bool  # the vendor's profile lists it as free text


def today() -> date:
    return utcnow().date()


def label(kind: str) -> str:
    return CERTIFICATIONS.get(kind, kind.replace("_", " "))


def counts(certificate: Certificate, on: date | None = None) -> bool:
    """Whether the certificate counts on the day: verified, and its expiry date not passed."""
    return certificate.status == CertificateStatus.VERIFIED and certificate.expires_on >= (on or today())


def state(certificate: Certificate, on: date | None = None) -> str:
    """What the certificate's status means today, in a word for its badge: pending, verified, rejected, expired."""
    if certificate.status != CertificateStatus.REJECTED and certificate.expires_on < (on or today()):
        return "expired"
    return str(certificate.status)


def _check(new: NewCertificate, on: date) -> dict[str, str]:
    """Every field's problem, by field name (the form shows each beside its field)."""
    problems = {}
    if new.kind not in CERTIFICATIONS:
        problems["kind"] = "Pick the certification from the list."
    if not new.issuer.strip():
        problems["issuer"] = "Name who issued it (the certification body or auditor)."
    elif len(new.issuer.strip()) > MAX_ISSUER:
        problems["issuer"] = f"Keep the issuer under {MAX_ISSUER} characters."
    if not new.scope.strip():
        problems["scope"] = "Say what the certificate covers (sites, services, systems)."
    elif len(new.scope.strip()) > MAX_SCOPE:
        problems["scope"] = f"Keep the scope under {MAX_SCOPE:,} characters."
    if new.issued_on is None:
        problems["issued_on"] = "Give the date the certificate was issued."
    elif new.issued_on > on:
        problems["issued_on"] = "The issue date is in the future: give the date on the certificate."
    elif new.issued_on < months_before(on, 12 * OLDEST_ISSUE_YEARS):  # (a 29 February has no year-ago twin)
        problems["issued_on"] = f"That issue date is more than {OLDEST_ISSUE_YEARS} years ago: check the year."
    if new.expires_on is None:
        problems["expires_on"] = "Give the date the certificate expires."
    elif new.issued_on is not None and new.expires_on <= new.issued_on:
        problems["expires_on"] = "The expiry date must be after the issue date."
    elif new.expires_on < on:
        problems["expires_on"] = f"This certificate expired on {new.expires_on.isoformat()}: upload the current one."
    elif new.expires_on > on + timedelta(days=366 * LONGEST_VALIDITY_YEARS):
        problems["expires_on"] = f"That expiry date is more than {LONGEST_VALIDITY_YEARS} years ahead: check the year."
    shown = display_name(new.filename, "certificate")
    if not new.data:
        problems["file"] = "Choose the certificate's file (a PDF, PNG or JPEG)."
    elif len(new.data) > MAX_FILE_BYTES:
        problems["file"] = f"“{shown}” is larger than 10 MB."
    else:
        found = sniff_type(new.data[:16])
        if found is None or found.content_type not in ACCEPTED_TYPES:
            problems["file"] = f"“{shown}” is not {ACCEPTED_WORDS}: upload the certificate as one of those."
    return problems


class CertificateProblems(CertificateError):
    """Several fields refused at once; `problems` maps each field to its message."""

    def __init__(self, problems: dict[str, str]):
        super().__init__(next(iter(problems.values())), next(iter(problems)))
        self.problems = problems


def upload(session: Session, user: User, new: NewCertificate, upload_folder: str | Path) -> Certificate:
    """Store a certificate of the vendor's own organisation, awaiting an admin's review; admins are told.

    Raises CertificateProblems (each field's message) for a bad field or file, OrganizationSuspended for a
    suspended vendor, NotVisible for anyone but a vendor."""
    if not user.is_vendor or user.org_id is None:
        raise NotVisible("certificates")
    ensure_active(session, user, "upload certificates")
    problems = _check(new, today())
    if problems:
        raise CertificateProblems(problems)
    file_type = cast(FileType, sniff_type(new.data[:16]))
    certificate = Certificate(
        vendor_org_id=user.org_id,
        kind=new.kind,
        issuer=new.issuer.strip(),
        scope=new.scope.strip(),
        issued_on=cast(date, new.issued_on),
        expires_on=cast(date, new.expires_on),
        filename=display_name(new.filename, f"certificate.{file_type.extension}"),
        stored_name=store_private_file(Path(upload_folder) / FOLDER, new.data, f".{file_type.extension}"),
        content_type=file_type.content_type,
        size_bytes=len(new.data),
        sha256=hashlib.sha256(new.data).hexdigest(),
        uploaded_by_id=user.id,
    )
    session.add(certificate)
    session.flush()
    record_event(
        session,
        user,
        "certificate.uploaded",
        "certificate",
        certificate.id,
        after=_summary(certificate),
        vendor_org_id=certificate.vendor_org_id,
    )
    vendor = cast(Organization, session.get(Organization, user.org_id))
    notify_admins(
        session,
        "certificate_uploaded",
        f"{vendor.name} uploaded {_article(label(certificate.kind))} certificate for review.",
        f"/admin/certificates/{certificate.id}",
    )
    return certificate


def _article(words: str) -> str:
    """ "an ISO 27001", "a SOC 2 Type II", "a HIPAA" (by how the letters are said: "eye-ess-oh")."""
    return f"{'an' if words[:1] in 'AEIOSFHLMNRX' and not words.startswith(('HIPAA', 'SOC', 'TISAX')) else 'a'} {words}"


def _summary(certificate: Certificate) -> dict:
    return {
        "kind": certificate.kind,
        "issuer": certificate.issuer,
        "scope": certificate.scope,
        "issued_on": certificate.issued_on.isoformat(),
        "expires_on": certificate.expires_on.isoformat(),
        "filename": certificate.filename,
        "sha256": certificate.sha256,
    }


def own_certificates(session: Session, user: User) -> list[Certificate]:
    """The vendor organisation's certificates, the latest expiry first."""
    if not user.is_vendor or user.org_id is None:
        raise NotVisible("certificates")
    return list(
        session.execute(
            select(Certificate)
            .where(col(Certificate.vendor_org_id) == user.org_id)
            .order_by(col(Certificate.expires_on).desc(), col(Certificate.id).desc())
        ).scalars()
    )


# ---------------------------------------------------------------- the admins' review


QUEUE_FILTERS = {"pending": "Awaiting review", "verified": "Verified", "rejected": "Rejected", "expired": "Expired"}


@dataclass(frozen=True)
class QueueRow:
    certificate: Certificate
    vendor_name: str
    waiting_days: int


def review_queue(session: Session, user: User, status: str = "pending") -> list[QueueRow]:
    """Certificates under one filter; those awaiting review the longest-waiting first. Admins only (404)."""
    if not user.is_admin:
        raise NotVisible("certificate queue")
    on = today()
    query = select(Certificate, col(Organization.name)).join(
        Organization, col(Organization.id) == col(Certificate.vendor_org_id)
    )
    if status == "expired":
        query = query.where(
            col(Certificate.status) != CertificateStatus.REJECTED, col(Certificate.expires_on) < on
        ).order_by(col(Certificate.expires_on).desc())
    elif status == "pending":
        query = query.where(col(Certificate.status) == CertificateStatus.PENDING).order_by(
            col(Certificate.uploaded_at), col(Certificate.id)
        )
    else:
        query = query.where(col(Certificate.status) == CertificateStatus(status)).order_by(
            col(Certificate.decided_at).desc(), col(Certificate.id).desc()
        )
    now = utcnow()
    return [QueueRow(cert, name, (now - cert.uploaded_at).days) for cert, name in session.execute(query).all()]


def for_review(session: Session, user: User, certificate_id: int) -> tuple[Certificate, Organization]:
    """A certificate and its vendor, for an admin. NotVisible (404) for anyone else or no such certificate."""
    certificate = session.get(Certificate, certificate_id)
    if certificate is None or not user.is_admin:
        raise NotVisible(f"certificate {certificate_id}")
    return certificate, cast(Organization, session.get(Organization, certificate.vendor_org_id))


def _decidable(session: Session, user: User, certificate_id: int) -> Certificate:
    for_review(session, user, certificate_id)
    certificate = cast(Certificate, lock_row(session, Certificate, certificate_id))
    if certificate.status != CertificateStatus.PENDING:
        raise CertificateError(f"This certificate was already {certificate.status}: nothing was changed.", None)
    return certificate


def verify(session: Session, user: User, certificate_id: int) -> Certificate:
    """The admin verifies a certificate awaiting review: it counts for jobs that require it until it expires. The
    vendor is told. Refused for a decided or expired certificate; NotVisible (404) for anyone but an admin."""
    certificate = _decidable(session, user, certificate_id)
    if certificate.expires_on < today():
        raise CertificateError(
            f"It expired on {certificate.expires_on.isoformat()}: reject it and ask the vendor for the current one.",
            None,
        )
    _decide(session, user, certificate, CertificateStatus.VERIFIED, "")
    notify_org(
        session,
        certificate.vendor_org_id,
        "certificate_verified",
        f"Your {label(certificate.kind)} certificate is verified: labs requiring it see it until it expires on "
        f"{certificate.expires_on.isoformat()}.",
        VENDOR_LINK,
    )
    return certificate


def reject(session: Session, user: User, certificate_id: int, reason: str) -> Certificate:
    """The admin rejects a certificate awaiting review, with a reason the vendor reads. Refused without a reason
    or for a decided certificate; NotVisible (404) for anyone but an admin."""
    reason = (reason or "").strip()
    if not reason:
        raise CertificateError("Give the reason: the vendor reads it to upload a better certificate.", "reason")
    if len(reason) > MAX_REASON:
        raise CertificateError(f"Keep the reason under {MAX_REASON:,} characters.", "reason")
    certificate = _decidable(session, user, certificate_id)
    _decide(session, user, certificate, CertificateStatus.REJECTED, reason)
    notify_org(
        session,
        certificate.vendor_org_id,
        "certificate_rejected",
        f"Your {label(certificate.kind)} certificate was not accepted. Reason: {reason}",
        VENDOR_LINK,
    )
    return certificate


def _decide(session: Session, user: User, certificate: Certificate, status: CertificateStatus, reason: str) -> None:
    before = str(certificate.status)
    certificate.status = status
    certificate.decided_by_id = user.id
    certificate.decided_at = utcnow()
    certificate.decision_reason = reason
    session.flush()
    record_event(
        session,
        user,
        f"certificate.{status.value}",
        "certificate",
        certificate.id,
        before={"status": before},
        after={"status": status.value, **({"reason": reason} if reason else {})},
        vendor_org_id=certificate.vendor_org_id,
    )


# ---------------------------------------------------------------- what a lab reads


def current_certificates(session: Session, vendor_org_ids: set[int], on: date | None = None) -> list[Certificate]:
    """The certificates that count on the day (verified, not expired) of these vendors."""
    if not vendor_org_ids:
        return []
    return list(
        session.execute(
            select(Certificate).where(
                col(Certificate.vendor_org_id).in_(vendor_org_ids),
                col(Certificate.status) == CertificateStatus.VERIFIED,
                col(Certificate.expires_on) >= (on or today()),
            )
        ).scalars()
    )


def standings(
    session: Session, required: list[str], vendor_org_ids: set[int], on: date | None = None
) -> dict[int, list[Standing]]:
    """For each vendor, each required certification with the verified, current certificate that counts for it
    (or None), and whether its profile lists it as free text. Empty when the job requires none."""
    if not required or not vendor_org_ids:
        return {}
    best: dict[tuple[int, str], Certificate] = {}
    for certificate in current_certificates(session, vendor_org_ids, on):
        key = (certificate.vendor_org_id, certificate.kind)
        if key not in best or certificate.expires_on > best[key].expires_on:
            best[key] = certificate
    declared = dict(
        session.execute(
            select(col(VendorProfile.org_id), col(VendorProfile.certifications)).where(
                col(VendorProfile.org_id).in_(vendor_org_ids)
            )
        ).all()
    )
    return {
        vendor: [
            Standing(kind, label(kind), best.get((vendor, kind)), kind in (declared.get(vendor) or []))
            for kind in required
        ]
        for vendor in vendor_org_ids
    }


def file_of(session: Session, user: User, certificate_id: int, upload_folder: str | Path) -> tuple[Certificate, Path]:
    """The certificate and the folder its file is in, for a user `visibility.get_certificate` allows. 404 otherwise."""
    return visibility.get_certificate(session, user, certificate_id), Path(upload_folder) / FOLDER
