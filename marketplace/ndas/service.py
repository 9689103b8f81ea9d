"""A lab's NDA: versions it publishes, the confidential jobs it guards, and vendors' acceptances.

A lab publishes its NDA as text, with the PDF it signs if it has one; each publication is a new version. On a
confidential job that requires it, a vendor that may see the job reads the title, the data-handling terms, the budget
and the dates, but not the brief (the description, the questions and answers, the attachments), and may neither ask
nor bid, until one of its users accepts the lab's current version for the organisation. A new version asks again.
Each acceptance records who, when, which version and from which organisation, goes into the audit trail, and is
listed to the lab.

The NDA is read before the award, so it must not name the lab: a text or PDF naming the organisation is refused (the
job's codename or "the Disclosing Party" stand for it), and the PDF loses its identifying metadata like every file of
a confidential job.
"""

import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from anyascii import anyascii
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import transaction_cache, visibility
from marketplace.accounts.models import Organization, User
from marketplace.accounts.names import LEGAL_SUFFIXES
from marketplace.accounts.suspension import ensure_active
from marketplace.audit.service import record_event
from marketplace.downloads import display_name, store_private_file
from marketplace.errors import NotVisible, Refusal
from marketplace.jobs.models import Job, JobStatus, Visibility
from marketplace.jobs.scrubbing import UnreadableFile, scrub
from marketplace.ndas.models import Nda, NdaAcceptance

FOLDER = "ndas"
MAX_TEXT = 50_000
MAX_PDF_BYTES = 10 * 1024 * 1024
_WORDS = re.compile(r"[a-z0-9]+")


class NdaError(Refusal):
    default_field = "text"


@dataclass(frozen=True)
class NewPdf:
    filename: str
    data: bytes


@dataclass(frozen=True)
class Gate:
    """What a vendor must accept before the job's brief opens."""

    nda: Nda
    lab_label: str  # the lab's name, or the job's codename


@dataclass(frozen=True)
class Acceptance:
    vendor: str
    person: str
    version: int
    accepted_at: object
    current: bool


def current(session: Session, buyer_org_id: int) -> Nda | None:
    return session.execute(
        select(Nda).where(col(Nda.buyer_org_id) == buyer_org_id).order_by(col(Nda.version).desc()).limit(1)
    ).scalar_one_or_none()


def current_shown(session: Session, buyer_org_id: int):
    """current() for the lab's own job pages, as plain values kept between requests until an NDA changes."""
    return transaction_cache.shared_unless_written(
        session,
        ("ndas.current", buyer_org_id),
        {"nda"},
        lambda: transaction_cache.plain(current(session, buyer_org_id)),
    )


def _words(text: str) -> list[str]:
    return _WORDS.findall(anyascii(unicodedata.normalize("NFKC", text)).lower().replace(".", ""))


def names_the_lab(text: str, lab_name: str) -> bool:
    """Whether the text names the organisation: its name's words in a row (legal form aside, any case, accents or
    script), or, for a name of six letters or more, its letters run together ("NorthwindAI")."""
    name = _words(lab_name)
    while len(name) > 1 and name[-1] in LEGAL_SUFFIXES:
        name.pop()
    if not name:
        return False
    words = _words(text)
    if any(words[i : i + len(name)] == name for i in range(len(words) - len(name) + 1)):
        return True
    key = "".join(name)
    return len(key) >= 6 and key in "".join(words)


def _pdf_text(data: bytes) -> str:
    try:
        return "\n".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(data)).pages)
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise NdaError("This PDF could not be read: save it again and upload the new copy.", "pdf") from error


def publish(session: Session, user: User, text: str, pdf: NewPdf | None, upload_folder: str) -> Nda:
    """A new version of the lab's NDA. Raises NdaError for an empty or oversized text, a PDF that is not one or
    cannot be read, and a text or PDF that names the lab."""
    ensure_active(session, user, "publish an NDA")
    if not user.is_buyer or user.org_id is None:
        raise NotVisible("nda")
    lab = cast(Organization, session.get(Organization, user.org_id))
    text = (text or "").strip()
    if not text:
        raise NdaError("Write the NDA's text: vendors read it before they accept.")
    if len(text) > MAX_TEXT:
        raise NdaError(f"Keep the NDA under {MAX_TEXT:,} characters.")
    if names_the_lab(text, lab.name):
        raise NdaError(
            f"The text names {lab.name}: vendors read it before the award, when a confidential job does not name "
            "you. Write “the Disclosing Party” instead."
        )
    stored = None
    if pdf is not None:
        if len(pdf.data) > MAX_PDF_BYTES:
            raise NdaError("The PDF is larger than 10 MB.", "pdf")
        if not pdf.data.startswith(b"%PDF-"):
            raise NdaError("That file is not a PDF.", "pdf")
        if names_the_lab(_pdf_text(pdf.data), lab.name):
            raise NdaError(
                f"The PDF names {lab.name}: vendors read it before the award. Upload one that does not.", "pdf"
            )
        try:
            stored = scrub(pdf.data, pdf.filename)
        except UnreadableFile as error:
            raise NdaError(str(error), "pdf") from error
    previous = current(session, lab.id)
    nda = Nda(buyer_org_id=lab.id, version=(previous.version + 1) if previous else 1, text=text, created_by_id=user.id)
    if stored is not None and pdf is not None:
        nda.stored_name = store_private_file(Path(upload_folder) / FOLDER, stored.data)
        nda.filename = display_name(pdf.filename, "nda.pdf")
        nda.size_bytes, nda.metadata_note = len(stored.data), stored.note[:1000]
    session.add(nda)
    session.flush()
    record_event(session, user, "nda.published", "nda", nda.id, after={"version": nda.version}, buyer_org_id=lab.id)
    return nda


def require(session: Session, user: User, job_id: int, required: bool) -> Job:
    """Turn the NDA requirement of the lab's own confidential job on or off."""
    job = visibility.get_own_job(session, user, job_id)
    ensure_active(session, user, "change jobs")
    if required:
        if job.visibility != Visibility.CONFIDENTIAL:
            raise NdaError("Only a confidential job can require an NDA: anyone may read a public job's brief.", None)
        if current(session, job.buyer_org_id) is None:
            raise NdaError("Publish your NDA first (NDA in the menu), then require it here.", None)
        if job.status in (JobStatus.CANCELLED, JobStatus.COMPLETED):
            raise NdaError("This job is over: there is no brief left to guard.", None)
    if job.requires_nda != required:
        job.requires_nda = required
        record_event(
            session,
            user,
            "nda.required" if required else "nda.not_required",
            "job",
            job.id,
            buyer_org_id=job.buyer_org_id,
        )
    return job


def _accepted(session: Session, nda_id: int, vendor_org_id: int) -> bool:
    return (
        session.execute(
            select(col(NdaAcceptance.id)).where(
                col(NdaAcceptance.nda_id) == nda_id, col(NdaAcceptance.vendor_org_id) == vendor_org_id
            )
        ).first()
        is not None
    )


NOT_ACCEPTED = "Accept the lab's NDA on the job's page first: then read the brief, ask and bid."


def unaccepted(session: Session, vendor_org_id: int, job: Job) -> Nda | None:
    """The lab's current NDA when the job requires it and the vendor's organisation has not accepted that version."""
    if not job.requires_nda or job.visibility != Visibility.CONFIDENTIAL:
        return None
    nda = current(session, job.buyer_org_id)
    if nda is None or _accepted(session, nda.id, vendor_org_id):
        return None
    return nda


def gate(session: Session, user: User, job: Job) -> Gate | None:
    """What the user must accept before the job's brief opens, or None when it is open to them (the lab, admins,
    a job that requires no NDA, a vendor that accepted the current version)."""
    if not user.is_vendor or user.org_id is None:
        return None
    nda = unaccepted(session, user.org_id, job)
    return None if nda is None else Gate(nda, visibility.buyer_label(session, job, user))


def accept(session: Session, user: User, job_id: int, version: int) -> NdaAcceptance | None:
    """The vendor's organisation accepts the lab's current NDA, from a job it may see. None when it already had.
    Raises NdaError when the version read is no longer the current one."""
    ensure_active(session, user, "accept an NDA")
    job = visibility.get_visible_job(session, user, job_id)
    found = gate(session, user, job)
    nda = current(session, job.buyer_org_id)
    if nda is None or not user.is_vendor or user.org_id is None:
        raise NotVisible(f"NDA of job {job_id}")
    if nda.version != version:
        raise NdaError(
            f"The lab published version {nda.version} while you were reading version {version}: read it, then accept.",
            None,
        )
    if found is None:
        return None
    acceptance = NdaAcceptance(nda_id=nda.id, vendor_org_id=user.org_id, user_id=user.id, job_id=job.id)
    session.add(acceptance)
    session.flush()
    record_event(
        session,
        user,
        "nda.accepted",
        "nda",
        nda.id,
        after={"version": nda.version, "job_id": job.id},
        buyer_org_id=job.buyer_org_id,
        vendor_org_id=user.org_id,
    )
    return acceptance


def acceptances(session: Session, user: User) -> list[Acceptance]:
    """Every acceptance of the lab's NDA, newest first: the vendor, the person, the version, when, and whether it is
    the current version."""
    if not user.is_buyer or user.org_id is None:
        raise NotVisible("nda acceptances")
    latest = current(session, user.org_id)
    rows = session.execute(
        select(NdaAcceptance, col(Nda.version), col(Organization.name), col(User.name))
        .join(Nda, col(Nda.id) == col(NdaAcceptance.nda_id))
        .join(Organization, col(Organization.id) == col(NdaAcceptance.vendor_org_id))
        .join(User, col(User.id) == col(NdaAcceptance.user_id))
        .where(col(Nda.buyer_org_id) == user.org_id)
        .order_by(col(NdaAcceptance.accepted_at).desc(), col(NdaAcceptance.id).desc())
    ).all()
    return [
        Acceptance(vendor, person, version, row.accepted_at, latest is not None and version == latest.version)
        for row, version, vendor, person in rows
    ]


def versions(session: Session, user: User) -> list[Nda]:
    if not user.is_buyer or user.org_id is None:
        raise NotVisible("nda")
    return list(
        session.execute(
            select(Nda).where(col(Nda.buyer_org_id) == user.org_id).order_by(col(Nda.version).desc())
        ).scalars()
    )


def pdf_of(session: Session, user: User, nda_id: int) -> Nda:
    """The NDA's PDF for its lab, or for a vendor that may see one of the lab's jobs requiring it. 404 otherwise."""
    nda = session.get(Nda, nda_id)
    if nda is None or not nda.stored_name:
        raise NotVisible(f"nda {nda_id}")
    if user.is_buyer and user.org_id == nda.buyer_org_id:
        return nda
    guarded = session.execute(
        visibility.visible_jobs(session, user)
        .where(col(Job.buyer_org_id) == nda.buyer_org_id, col(Job.requires_nda).is_(True))
        .limit(1)
    ).first()
    if user.is_vendor and guarded is not None:
        return nda
    raise NotVisible(f"nda {nda_id}")
