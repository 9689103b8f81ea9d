"""A re-screen after one tie, as the verdict-cache and kept-parts tests run it against a shared race database."""

from typing import Any

from sqlalchemy import event

from marketplace.extensions import db
from marketplace.screening.services.refresh import refresh_after_change
from tests.factories import InterestFactory


def rescreen_after_a_tie(app, w: dict, before=None, then=None) -> tuple[list[str], Any]:
    """A tie added to the vendor (`w["other"]` takes 10% of `w["vendor_party"]`) and the re-screen after it
    (refresh_after_change), in a transaction rolled back: `before(w)` runs first and `then(w)` after, in the same
    transaction. The statements the re-screen sent (whitespace collapsed), and what `then` answered."""
    with app.app_context():
        try:
            if before is not None:
                before(w)
            InterestFactory(interested_party_id=w["other"], subject_party_id=w["vendor_party"], share_exact=10.0)
            db.session.flush()
            seen: list[str] = []
            listener = lambda *args, **kwargs: seen.append(" ".join(args[2].split()))  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                refresh_after_change(db.session, None, party_ids=[w["vendor_party"]], vendor_org_ids=[w["vendor"]])
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
            return seen, then(w) if then is not None else None
        finally:
            db.session.rollback()
            db.session.remove()
