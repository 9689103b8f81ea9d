"""Calendar arithmetic shared by every layer: pure functions of dates and time zones, no database, no request."""

import calendar
from datetime import date


def months_before(day: date, months: int) -> date:
    """The same day `months` months earlier, or that month's last day when it is shorter (29 February two years
    back is 28 February)."""
    year, month_index = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month_index + 1, min(day.day, calendar.monthrange(year, month_index + 1)[1]))
