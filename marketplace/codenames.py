"""Each vendor's own codename for a confidential job: the job's codename and a tag of three letters or digits that
only that vendor is shown ("Project Amber Heron K7Q"), derived from the job, the vendor and the platform's marking
key, so nothing is stored and a leaked brief that carries it, even retyped, names the vendor it was shown to
(leaks)."""

import hashlib
import hmac

from flask import current_app

# No 0/O, 1/I: a tag read off a screenshot or a printout is read right.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
TAG_LENGTH = 3


def derived(purpose: bytes, job_id: int, vendor_org_id: int) -> bytes:
    """What the platform's marking key (MARKING_KEY, else SECRET_KEY) says of one vendor reading one job, for one
    purpose (a codename's tag, a leak mark): the same every time, nothing stored, and nothing of one purpose learned
    from another."""
    secret = current_app.config.get("MARKING_KEY") or current_app.config["SECRET_KEY"]
    key = hashlib.sha256(purpose + b":" + secret.encode()).digest()
    return hmac.new(key, f"{job_id}:{vendor_org_id}".encode(), hashlib.sha256).digest()


def tag_for(job_id: int, vendor_org_id: int) -> str:
    digest = derived(b"codename-tags", job_id, vendor_org_id)
    return "".join(ALPHABET[byte % len(ALPHABET)] for byte in digest[:TAG_LENGTH])


def codename_for(codename: str, job_id: int, vendor_org_id: int | None) -> str:
    """The codename this vendor reads; the job's own for anyone else (no organisation)."""
    if not codename or vendor_org_id is None:
        return codename
    return f"{codename} {tag_for(job_id, vendor_org_id)}"
