"""Template filters and globals: money, local times, labels, and the notification badge."""

from datetime import date, datetime

from flask import Flask, has_request_context, request
from flask_login import current_user

from marketplace.dates import ALL_TIMEZONES, user_zone
from marketplace.extensions import db
from marketplace.guards import may_post_to, may_send, who_may
from marketplace.jobs.models import CERTIFICATIONS, HOSTING_OPTIONS, MODALITY_LABELS, TASK_TYPES
from marketplace.money import format_money
from marketplace.notifications.service import unread_count


def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M %Z") -> str:
    """A UTC time shown in the signed-in user's time zone."""
    if value is None:
        return "—"
    return value.astimezone(user_zone(current_user)).strftime(fmt)


def isodate(value: date | None) -> str:
    return value.isoformat() if value else "—"


def humanize(value: str | None) -> str:
    """A code such as 'changes_requested' as words."""
    if not value:
        return ""
    text = str(value)
    for table in (MODALITY_LABELS, TASK_TYPES, CERTIFICATIONS, HOSTING_OPTIONS):
        if text in table:
            return table[text]
    return text.replace("_", " ").capitalize()


def filesize(size_bytes: int) -> str:
    """A file's size as people read it: 512 bytes, 12.3 KB, 4.5 MB (1 KB = 1,024 bytes)."""
    if size_bytes < 1024:
        return f"{size_bytes} bytes" if size_bytes != 1 else "1 byte"
    if round(size_bytes / 1024, 1) < 1024:
        return f"{size_bytes / 1024:.1f} KB"
    return f"{size_bytes / 1024 / 1024:.1f} MB"


# How many addresses the templates' url_for keeps at most (endpoints without arguments, times script roots).
KEPT_URLS = 1000


def kept_url_for(app: Flask):
    """The templates' url_for: an address without arguments (the layout's fifteen to twenty links on every page)
    built once for each script root the app is served under and kept, as Werkzeug would build it again on every
    page (about 13 us a link). Any other address (with values, `_external`, relative to the blueprint, outside a
    request) is built each time."""
    kept: dict[tuple[str, str], str] = {}

    def url_for(endpoint: str, **values) -> str:
        if values or endpoint.startswith(".") or not has_request_context():
            return app.url_for(endpoint, **values)
        key = (request.script_root, endpoint)
        url = kept.get(key)
        if url is None:
            url = app.url_for(endpoint)
            if len(kept) < KEPT_URLS:
                kept[key] = url
        return url

    return url_for


def register(app: Flask) -> None:
    app.jinja_env.globals["url_for"] = kept_url_for(app)
    app.add_template_filter(lambda minor, currency="USD": format_money(minor, currency), "money")
    app.add_template_filter(localtime, "localtime")
    app.add_template_filter(isodate, "isodate")
    app.add_template_filter(humanize, "humanize")
    app.add_template_filter(filesize, "filesize")
    app.add_template_global(lambda: ALL_TIMEZONES, "all_timezones")
    app.add_template_global(may_send, "may_send")
    app.add_template_global(may_post_to, "may_post_to")
    app.add_template_global(who_may, "who_may")

    @app.context_processor
    def navigation_context():
        unread = 0
        if current_user.is_authenticated:
            unread = unread_count(db.session, current_user)
        return {"unread_notifications": unread, "demo_logins": app.config.get("DEMO_LOGINS")}
