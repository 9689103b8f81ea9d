"""Answers read once per transaction. One page asks the same question several times (is this vendor's filing under
review? the job filter, the bid panel and the questions each ask): the first answer is kept in the session until it
writes anything (a flush, an UPDATE or DELETE statement) or the transaction ends, so that no answer outlives the
rows it was read from in this transaction. Another transaction's commit in between is seen by the next request,
as a page that read the answer once would see it.
"""

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

_KEY = "marketplace.transaction_cache"
T = TypeVar("T")


def cached(session: Session, key: Hashable, compute: Callable[[], T]) -> T:
    """compute(), or what it returned earlier in this transaction for the same key (callers name their area first:
    `("parties.awaiting_review", vendor_id)`)."""
    answers: dict[Hashable, Any] = session.info.setdefault(_KEY, {})
    if key not in answers:
        answers[key] = compute()
    result: T = answers[key]
    return result


@event.listens_for(Session, "after_flush")
@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, *_args: object) -> None:
    session.info.pop(_KEY, None)


@event.listens_for(Session, "do_orm_execute")
def _forget_on_writes(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info.pop(_KEY, None)
