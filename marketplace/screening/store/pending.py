"""Which re-screens are asked for and not finished (PendingRescreen, written by screening.services.queued)."""

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.screening.models import PendingRescreen


def pending_for(buyer_org_id: int) -> Select:
    """The pending re-screens that can change this buyer's verdicts: its own, and those of every buyer."""
    return select(PendingRescreen).where(
        or_(col(PendingRescreen.buyer_org_id) == buyer_org_id, col(PendingRescreen.buyer_org_id).is_(None))
    )


def rescreen_pending(session: Session, buyer_org_id: int) -> bool:
    """Whether a re-screen that can change this buyer's stored verdicts is asked for and not finished: until it is,
    those verdicts may be behind the graph, and nothing may decide access from them."""
    return session.execute(pending_for(buyer_org_id).limit(1)).first() is not None
