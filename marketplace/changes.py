"""Ties changed: the one announcement the areas below screening make, and screening answers.

Disclosures, admin facts and the party registry change who holds what. Each must have every verdict brought up to
date in its own transaction, but screening reads those areas, so they cannot import it without a cycle. They
announce the change here instead; the app factory registers screening's answer
(screening.services.queued.ties_changed): a change to known parties re-screens, for every lab, every vendor it can
reach before the caller commits; a change to any party (a merge, an import) is queued when there is a task queue
(marketplace.tasks), with access screened live until it is done, and re-screens at once when there is none.

Announcing with nobody listening is an error, never a silent skip: a change that no re-screen followed would leave
stored verdicts that no longer match the graph.
"""

from collections.abc import Callable, Iterable

_listeners: list[Callable[..., object]] = []


class NobodyListening(RuntimeError):
    """Ties changed before screening was registered (marketplace.create_app registers it)."""


def listen(listener: Callable[..., object]) -> None:
    """Register a listener once: listener(session, actor, party_ids=..., vendor_org_ids=...)."""
    if listener not in _listeners:
        _listeners.append(listener)


def ties_changed(
    session: object, actor: object, *, party_ids: Iterable[int] | None, vendor_org_ids: Iterable[int] = ()
) -> None:
    """Ties held in these parties changed (None: any may have, as after an import or a merge); the given vendors
    are re-screened whatever the ties reach (a filer's own claims count for it alone)."""
    if not _listeners:
        raise NobodyListening("Ties changed but screening is not registered: create the app first.")
    for listener in _listeners:
        listener(
            session,
            actor,
            party_ids=None if party_ids is None else list(party_ids),
            vendor_org_ids=list(vendor_org_ids),
        )


# A verdict that changed: the second announcement, made by screening itself once a changed verdict is stored, for
# the areas above it that act on one (a contract's change-of-control playbook). Nobody listening is fine here.
_verdict_listeners: list[Callable[..., object]] = []


def listen_verdicts(listener: Callable[..., object]) -> None:
    """Register once: listener(session, actor, buyer_org_id=..., vendor_org_id=..., before=..., after=...)."""
    if listener not in _verdict_listeners:
        _verdict_listeners.append(listener)


def verdict_changed(
    session: object, actor: object, *, buyer_org_id: int, vendor_org_id: int, before: str, after: str
) -> None:
    """A lab's stored verdict on a vendor changed from `before` to `after` ("clear", "review", "exclude")."""
    for listener in _verdict_listeners:
        listener(session, actor, buyer_org_id=buyer_org_id, vendor_org_id=vendor_org_id, before=before, after=after)


# A lab joined: the third announcement, made by accounts (below screening) when a buyer organisation is made, so that
# its verdicts on every vendor are stored before its lists need them. Nobody listening is fine: a list screens live
# the vendors it has no stored verdict for, up to a page's worth (screening.services.vendor_search).
_lab_listeners: list[Callable[..., object]] = []


def listen_labs(listener: Callable[..., object]) -> None:
    """Register once: listener(session, actor, buyer_org_id=...)."""
    if listener not in _lab_listeners:
        _lab_listeners.append(listener)


def lab_joined(session: object, actor: object, *, buyer_org_id: int) -> None:
    """A buyer organisation was made, in the caller's transaction."""
    for listener in _lab_listeners:
        listener(session, actor, buyer_org_id=buyer_org_id)
