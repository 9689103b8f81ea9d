"""marketplace.dates: month arithmetic the screening windows rely on."""

from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from marketplace.dates import months_before


def test_a_shorter_month_gives_its_last_day():
    assert months_before(date(2024, 2, 29), 24) == date(2022, 2, 28)
    assert months_before(date(2026, 3, 31), 1) == date(2026, 2, 28)
    assert months_before(date(2024, 3, 31), 1) == date(2024, 2, 29)
    assert months_before(date(2026, 1, 15), 1) == date(2025, 12, 15)
    assert months_before(date(2026, 6, 1), 0) == date(2026, 6, 1)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(9999, 11, 30)), st.integers(min_value=0, max_value=600))
def test_the_month_moves_back_exactly_and_the_day_only_shrinks(day, months):
    earlier = months_before(day, months)
    assert (day.year * 12 + day.month) - (earlier.year * 12 + earlier.month) == months
    last_of_its_month = (earlier + timedelta(days=1)).day == 1
    assert earlier.day == day.day or (earlier.day < day.day and last_of_its_month)


def test_an_unknown_or_missing_time_zone_is_utc():
    from datetime import UTC, datetime
    from types import SimpleNamespace

    from marketplace.dates import local_time, user_zone, zone_named

    assert zone_named("Europe/Lisbon").key == "Europe/Lisbon"
    assert zone_named(None).key == zone_named("Mars/Olympus").key == zone_named("../etc").key == "UTC"
    moment = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert local_time(moment, SimpleNamespace(timezone="Asia/Tokyo")) == "2026-07-01 21:00 JST"
    assert local_time(moment, SimpleNamespace(timezone="")) == "2026-07-01 12:00 UTC"
    assert user_zone(object()).key == "UTC"  # an anonymous user has no time zone
