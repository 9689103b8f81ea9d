"""Which re-screens are asked for and not finished (PendingRescreen, written by screening.services.queued)."""

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import transaction_cache
from marketplace.screening.models import PendingRescreen


def pending_for(buyer_org_id: int | None) -> Select:
    """The pending re-screens that can change this buyer's verdicts: its own, and those of every buyer (None: those
    of every buyer alone, which an admin's merge or import asked for)."""
    every_buyer = col(PendingRescreen.buyer_org_id).is_(None)
    if buyer_org_id is None:
        return select(PendingRescreen).where(every_buyer)
    return select(PendingRescreen).where(or_(col(PendingRescreen.buyer_org_id) == buyer_org_id, every_buyer))


def rescreen_pending(session: Session, buyer_org_id: int | None) -> bool:
    """Whether a re-screen that can change this buyer's stored verdicts is asked for and not finished: until it is,
    those verdicts may be behind the graph, and nothing may decide access from them."""
    return session.execute(pending_for(buyer_org_id).limit(1)).first() is not None


def rescreen_pending_kept(session: Session, buyer_org_id: int | None) -> bool:
    """rescreen_pending, kept between requests under the pending re-screens' counter (a row written or deleted bumps
    it): most pages find none, and once that is kept they read nothing to know it."""
    return transaction_cache.shared_unless_written(
        session,
        ("screening.any_pending", buyer_org_id),
        {"pendingrescreen"},
        lambda: rescreen_pending(session, buyer_org_id),
    )
