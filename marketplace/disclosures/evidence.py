"""Evidence: documents a vendor attaches to a disclosure version (PDF and images).

A file's type is read from its first bytes, never from its name or the browser's word for it. Files are stored
outside the web root under a generated name; the name the vendor gave is only ever shown, and offered again
when the file is downloaded. The vendor's own users and admins may read evidence; anyone else gets 404.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.accounts.models import User
from marketplace.accounts.suspension import ensure_active
from marketplace.audit.service import record_event
from marketplace.disclosures.models import DisclosureEvidence, DisclosureStatus, DisclosureVersion
from marketplace.disclosures.service import DisclosureError, check_draft, get_own_version
from marketplace.downloads import display_name, store_private_file
from marketplace.errors import NotVisible

MAX_EVIDENCE_BYTES = 10 * 1024 * 1024
MAX_FILES_PER_VERSION = 20
EVIDENCE_FOLDER = "evidence"
ACCEPTED_WORDS = "a PDF, PNG, JPEG, GIF or WebP file"


class EvidenceError(DisclosureError):
    """A refused upload; `field` is the form field it belongs to."""


@dataclass(frozen=True)
class FileType:
    content_type: str
    extension: str


def sniff_type(head: bytes) -> FileType | None:
    """The file's type from its first bytes (its magic number), or None when it is not one we accept."""
    if head.startswith(b"%PDF-"):
        return FileType("application/pdf", "pdf")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return FileType("image/png", "png")
    if head.startswith(b"\xff\xd8\xff"):
        return FileType("image/jpeg", "jpg")
    if head.startswith((b"GIF87a", b"GIF89a")):
        return FileType("image/gif", "gif")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return FileType("image/webp", "webp")
    return None


def shown_name(filename: str, extension: str) -> str:
    return display_name(filename, f"evidence.{extension}")


def evidence_folder(upload_folder: str | Path) -> Path:
    return Path(upload_folder) / EVIDENCE_FOLDER


def evidence_path(upload_folder: str | Path, evidence: DisclosureEvidence) -> Path:
    """Where the file is stored: always inside the evidence folder, whatever the row says."""
    folder = evidence_folder(upload_folder).resolve()
    path = (folder / evidence.stored_name).resolve()
    if path.parent != folder:
        raise LookupError("stored name escapes the evidence folder")
    return path


def evidence_of(session: Session, version_id: int) -> list[DisclosureEvidence]:
    """The version's evidence, in the order it was attached."""
    return list(
        session.execute(
            select(DisclosureEvidence)
            .where(col(DisclosureEvidence.version_id) == version_id)
            .order_by(col(DisclosureEvidence.id))
        ).scalars()
    )


@dataclass(frozen=True)
class EvidenceItem:
    evidence: DisclosureEvidence
    version_number: int


def evidence_of_vendor(
    session: Session, vendor_org_id: int, *, up_to_number: int | None = None, filed_only: bool = False
) -> list[EvidenceItem]:
    """Every document the vendor attached, newest version first (optionally: to versions up to a number)."""
    query = (
        select(DisclosureEvidence, col(DisclosureVersion.number))
        .join(DisclosureVersion, col(DisclosureVersion.id) == DisclosureEvidence.version_id)
        .where(col(DisclosureEvidence.vendor_org_id) == vendor_org_id)
    )
    if up_to_number is not None:
        query = query.where(col(DisclosureVersion.number) <= up_to_number)
    if filed_only:
        query = query.where(col(DisclosureVersion.status) != DisclosureStatus.DRAFT)
    query = query.order_by(col(DisclosureVersion.number).desc(), col(DisclosureEvidence.id))
    return [EvidenceItem(evidence, number) for evidence, number in session.execute(query).all()]


def attach_evidence(
    session: Session,
    user: User,
    version_id: int,
    *,
    filename: str,
    data: bytes,
    upload_folder: str | Path,
    description: str = "",
) -> DisclosureEvidence:
    """Store one document on the vendor's own draft.

    `data` is the file as read by the view, at most one byte beyond the limit so that a larger file is refused.
    Raises NotVisible (404) for another organisation's version, EvidenceError for a refused file or a filed
    version, OrganizationSuspended (403) for a suspended vendor.
    """
    ensure_active(session, user, "attach evidence")
    version = get_own_version(session, user, version_id, for_update=True)
    check_draft(version)
    if len(evidence_of(session, version.id)) >= MAX_FILES_PER_VERSION:
        raise EvidenceError(f"A version can have at most {MAX_FILES_PER_VERSION} documents.", "file")
    if not data:
        raise EvidenceError("Choose a file: that one is empty.", "file")
    shown = shown_name(filename, "bin")
    if len(data) > MAX_EVIDENCE_BYTES:
        raise EvidenceError(f"“{shown}” is larger than 10 MB.", "file")
    file_type = sniff_type(data[:16])
    if file_type is None:
        raise EvidenceError(f"“{shown}” is not {ACCEPTED_WORDS}: evidence must be one of those.", "file")
    description = description.strip()
    if len(description) > 300:
        raise EvidenceError("Keep the description under 300 characters.", "description")

    stored_name = store_private_file(evidence_folder(upload_folder), data, f".{file_type.extension}")
    evidence = DisclosureEvidence(
        version_id=version.id,
        vendor_org_id=version.vendor_org_id,
        filename=shown_name(filename, file_type.extension),
        description=description,
        stored_name=stored_name,
        content_type=file_type.content_type,
        size_bytes=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_by_id=user.id,
    )
    session.add(evidence)
    session.flush()
    record_event(
        session,
        user,
        "disclosure.evidence_attached",
        "disclosure",
        version.id,
        after={
            "evidence_id": evidence.id,
            "filename": evidence.filename,
            "content_type": evidence.content_type,
            "size_bytes": evidence.size_bytes,
            "sha256": evidence.sha256,
        },
        vendor_org_id=version.vendor_org_id,
    )
    return evidence


def remove_evidence(
    session: Session, user: User, version_id: int, evidence_id: int, upload_folder: str | Path
) -> DisclosureEvidence:
    """Take a document off the vendor's own draft. Raises NotVisible (404) for evidence not on it."""
    ensure_active(session, user, "remove evidence")
    version = get_own_version(session, user, version_id, for_update=True)
    evidence = session.get(DisclosureEvidence, evidence_id)
    if evidence is None or evidence.version_id != version.id:
        raise NotVisible(f"evidence {evidence_id}")
    check_draft(version)
    path = evidence_path(upload_folder, evidence)
    record_event(
        session,
        user,
        "disclosure.evidence_removed",
        "disclosure",
        version.id,
        before={"evidence_id": evidence.id, "filename": evidence.filename, "sha256": evidence.sha256},
        vendor_org_id=version.vendor_org_id,
    )
    session.delete(evidence)
    session.flush()
    path.unlink(missing_ok=True)
    return evidence


def get_readable_evidence(session: Session, user: User, evidence_id: int) -> DisclosureEvidence:
    """Evidence the user may read: a vendor's own organisation's, or, for an admin, that of a filed version
    (drafts stay private). Raises NotVisible (404) for any other, so that nobody learns it exists."""
    evidence = session.get(DisclosureEvidence, evidence_id)
    if evidence is None:
        raise NotVisible(f"evidence {evidence_id}")
    if user.is_vendor and user.org_id == evidence.vendor_org_id:
        return evidence
    if user.is_admin:
        version = cast(DisclosureVersion, session.get(DisclosureVersion, evidence.version_id))
        if version.status != DisclosureStatus.DRAFT:
            return evidence
    raise NotVisible(f"evidence {evidence_id}")


def readable_file(
    session: Session, user: User, upload_folder: str | Path, evidence_id: int
) -> tuple[DisclosureEvidence, Path]:
    """Evidence the user may read (as get_readable_evidence decides) and where its file is stored. Raises NotVisible
    (404) also for a row whose stored name would lead outside the evidence folder."""
    evidence = get_readable_evidence(session, user, evidence_id)
    try:
        return evidence, evidence_path(upload_folder, evidence)
    except LookupError as escaped:
        raise NotVisible(f"evidence {evidence_id}") from escaped
