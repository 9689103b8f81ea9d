"""Notifications over the API: the organisation owner's (the token acts as the owner), as its page lists them."""

from sqlalchemy import select
from sqlmodel import col

from marketplace import visibility
from marketplace.accounts.models import User
from marketplace.api.routing import operation, page_of
from marketplace.api.schemas import ListQuery, NotificationOut, NotificationPage
from marketplace.extensions import db
from marketplace.notifications.models import Notification


@operation(
    "GET",
    "/notifications",
    summary="List the owner's notifications",
    scope="notifications:read",
    response=NotificationPage,
    query=ListQuery,
    tag="notifications",
)
def list_notifications(user: User, query: ListQuery) -> NotificationPage:
    """Newest first; a notification about a job your organisation may no longer see is gone, as on the page."""
    statement = select(Notification).where(
        col(Notification.user_id) == user.id, visibility.notification_filter(db.session, user)
    )
    rows, following = page_of(statement, Notification.id, query.cursor, query.limit, "list_notifications")
    return NotificationPage(
        items=[
            NotificationOut(
                id=n.id,
                kind=n.kind,
                message=n.message,
                link=n.link,
                created_at=n.created_at,
                read=n.read_at is not None,
            )
            for n in rows
        ],
        next=following,
    )
