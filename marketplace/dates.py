"""Calendar arithmetic shared by every layer: pure functions of dates and time zones, no database, no request."""

import calendar
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

UTC = ZoneInfo("UTC")

# Every IANA time zone a user may choose, sorted (UTC included).
ALL_TIMEZONES: tuple[str, ...] = tuple(sorted(available_timezones() | {"UTC"}))


def months_before(day: date, months: int) -> date:
    """The same day `months` months earlier, or that month's last day when it is shorter (29 February two years
    back is 28 February)."""
    year, month_index = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month_index + 1, min(day.day, calendar.monthrange(year, month_index + 1)[1]))


def zone_named(name: str | None) -> ZoneInfo:
    """The time zone of that IANA name; UTC when the name is missing or unknown."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def user_zone(user: object) -> ZoneInfo:
    """A user's own time zone (UTC when unset or unknown): every page shows times in it."""
    return zone_named(getattr(user, "timezone", None))


def local_time(moment: datetime, user: object) -> str:
    """A UTC moment in the user's own time zone, as every page shows it."""
    return moment.astimezone(user_zone(user)).strftime("%Y-%m-%d %H:%M %Z")
