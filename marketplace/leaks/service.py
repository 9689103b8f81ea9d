"""Leak tracing (issue 17): every vendor that opens a confidential job's brief reads it with its own invisible mark
(leaks.marks), in the description and in its text and PDF attachments, derived from the job, the vendor and the
platform's secret (so nothing is written when a page is read). The lab uploads or pastes a leaked copy, and the
platform names the vendor whose mark it carries: only among the vendors that could open the brief (those that may
see the job, and accepted its NDA where it asks for one).
"""

import re
from dataclasses import dataclass
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import codenames, visibility
from marketplace.accounts.models import Organization, OrgKind, User
from marketplace.audit.service import record_event
from marketplace.errors import Refusal
from marketplace.jobs.models import Job, Visibility
from marketplace.leaks import marks

MARKED_TYPES = ("text/plain", "text/csv", "text/markdown")


class LeakError(Refusal):
    """A refusal the lab can understand; `field` names the form field."""


def mark_for(job_id: int, vendor_org_id: int) -> int:
    return int.from_bytes(codenames.derived(b"leak-marks", job_id, vendor_org_id)[:4], "big")


def marked(job: Job, user: User) -> bool:
    """Whether what this user reads of the job carries a mark: a vendor, on a confidential job."""
    return job.visibility == Visibility.CONFIDENTIAL and user.is_vendor and user.org_id is not None


def brief_for(job: Job, user: User) -> str:
    """The job's description as this user reads it."""
    if not marked(job, user):
        return job.description
    return marks.mark_text(job.description, mark_for(job.id, cast(int, user.org_id)))


def file_for(job: Job, user: User, data: bytes, content_type: str) -> bytes:
    """An attachment's bytes as this user downloads them (text and PDF files are marked; others are not)."""
    if not marked(job, user):
        return data
    kind = content_type.split(";")[0].strip().lower()
    mark = mark_for(job.id, cast(int, user.org_id))
    marked_file = marks.mark_file(data, mark, kind)
    if marked_file is not None:
        return marked_file
    if kind in MARKED_TYPES:
        try:
            return marks.mark_text(data.decode("utf-8"), mark).encode("utf-8")
        except UnicodeDecodeError:
            return data
    return data


def _codename_tags(codename: str, text: str) -> set[str]:
    """The tags that follow the job's codename in a leaked copy (however it was spaced or cased)."""
    if not codename:
        return set()
    words = r"\s+".join(re.escape(word) for word in codename.split())
    pattern = re.compile(words + rf"\s+([A-Z0-9]{{{codenames.TAG_LENGTH}}})\b", re.IGNORECASE)
    return {match.upper() for match in pattern.findall(text)}


@dataclass(frozen=True)
class Trace:
    found_marks: int
    vendors: list[Organization]


def trace(session: Session, user: User, job_id: int, text: str = "", file: bytes | None = None) -> Trace:
    """Name the vendors whose marks a leaked copy of the lab's confidential job carries. NotVisible (404) unless
    the user is the job's lab; LeakError when there is nothing to read."""
    job = visibility.get_own_job(session, user, job_id)
    if job.visibility != Visibility.CONFIDENTIAL:
        raise LeakError("Only a confidential job's brief is marked.", "text")
    if not text.strip() and not file:
        raise LeakError("Paste the leaked text, or choose the leaked file.", "text")
    in_file, file_text = marks.read_file(file) if file else (set(), "")
    exact = marks.marks_in_text(text) | in_file
    spacing = marks.spacing_mark(text) or marks.spacing_mark(file_text)
    # A vendor's own codename ("Project Amber Heron K7Q") survives retyping, where the hidden marks do not.
    tags = _codename_tags(job.codename, text + "\n" + file_text)
    found = len(exact) + (spacing is not None) + len(tags)
    vendors = []
    if found:
        for org in session.execute(
            select(Organization).where(col(Organization.kind) == OrgKind.VENDOR).order_by(col(Organization.id))
        ).scalars():
            mark = mark_for(job.id, org.id)
            # The hidden characters and a PDF's information carry the mark whole; spacing survives a few edits.
            if (
                mark in exact
                or (spacing is not None and marks.close(mark, spacing))
                or codenames.tag_for(job.id, org.id) in tags
            ):
                vendors.append(org)
    record_event(
        session,
        user,
        "leak.traced",
        "job",
        job.id,
        after={"marks_found": found, "vendor_org_ids": [org.id for org in vendors]},
        buyer_org_id=job.buyer_org_id,
    )
    return Trace(found, vendors)
