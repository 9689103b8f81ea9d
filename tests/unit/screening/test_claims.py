"""Which claim about one relationship counts at each date (marketplace.screening.engine.claims), on hand-made rows."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.screening.engine.claims import (
    counts_only_for_filer,
    one_claim_at_a_time,
    raise_commercial,
    raise_interest,
)
from marketplace.screening.engine.graph import CommercialEdge, Edge
from marketplace.screening.engine.verdicts import Source

D = date
NEW_YEAR_2024 = D(2024, 1, 1)


def stake(
    id_,
    share,
    start=None,
    end=None,
    level="official register",
    on=NEW_YEAR_2024,
    low=None,
    high=None,
    low_exclusive=False,
    kind="shareholding",
):
    low = share if low is None else low
    high = share if high is None else high
    return Edge(id_, 1, 2, kind, low, high, low_exclusive, False, start, end, "", Source(f"source {id_}", level, on))


def counted_at(rows, day):
    """The one row active on `day` (None when no row is), checking there is never more than one."""
    active = [row for row in rows if row.active_at(day)]
    assert len(active) <= 1, active
    return active[0] if active else None


def figure(rows, day):
    row = counted_at(rows, day)
    return None if row is None else (row.low, row.high)


def resolve(*rows_and_streams):
    rows = [row for row, _ in rows_and_streams]
    return one_claim_at_a_time(rows, [stream for _, stream in rows_and_streams], raise_interest)


# --- versions of one claim -----------------------------------------------------------------------------------


def test_a_version_ending_on_the_day_the_next_starts_is_followed_by_it():
    rows = resolve((stake(1, 75.0, end=D(2026, 6, 1)), "record"), (stake(2, 20.0, start=D(2026, 6, 1)), "record"))

    assert figure(rows, D(2026, 5, 31)) == (75.0, 75.0)
    assert figure(rows, D(2026, 6, 1)) == (20.0, 20.0)
    assert figure(rows, D(2026, 7, 1)) == (20.0, 20.0)


@pytest.mark.parametrize("later", [5.0, 20.0, 90.0])
def test_an_update_without_a_start_date_counts_from_where_the_version_before_ended(later):
    rows = resolve((stake(1, 75.0, start=D(2020, 1, 1), end=D(2026, 6, 1)), "record"), (stake(2, later), "record"))

    assert figure(rows, D(2019, 1, 1)) == (later, later)
    assert figure(rows, D(2025, 1, 1)) == (75.0, 75.0)
    assert figure(rows, D(2026, 7, 1)) == (later, later)


def test_of_two_open_versions_of_one_claim_the_one_started_last_counts():
    rows = resolve((stake(1, 75.0, start=D(2020, 1, 1)), "record"), (stake(2, 20.0, start=D(2026, 6, 2)), "record"))

    assert figure(rows, D(2026, 6, 1)) == (75.0, 75.0)
    assert figure(rows, D(2026, 6, 2)) == (20.0, 20.0)


def test_a_gap_between_versions_stays_a_gap():
    rows = resolve(
        (stake(1, 30.0, start=D(2010, 1, 1), end=D(2012, 1, 1)), "record"),
        (stake(2, 30.0, start=D(2024, 1, 1)), "record"),
    )

    assert figure(rows, D(2013, 1, 1)) is None
    assert [(row.start, row.end) for row in rows] == [(D(2010, 1, 1), D(2012, 1, 1)), (D(2024, 1, 1), None)]


# --- concurrent claims from different sources ------------------------------------------------------------------


def test_a_checked_figure_beats_a_self_declared_lower_one():
    rows = resolve(
        (stake(1, 30.0, level="admin-verified"), "approved v1"),
        (stake(2, 12.0, level="self-declared", on=D(2025, 1, 1)), "pending v2"),
    )

    row = counted_at(rows, D(2025, 6, 1))
    assert (row.low, row.high, row.source.description) == (30.0, 30.0, "source 1")


def test_a_self_declared_higher_figure_raises_a_checked_one_and_is_quoted():
    rows = resolve(
        (stake(1, 30.0, level="admin-verified"), "approved v1"), (stake(2, 40.0, level="self-declared"), "pending v2")
    )

    row = counted_at(rows, D(2025, 6, 1))
    assert (row.low, row.high, row.source.description) == (40.0, 40.0, "source 2")


def test_a_self_declared_range_raises_each_end_on_its_own():
    rows = resolve(
        (stake(1, 45.0, level="admin-verified"), "approved"),
        (stake(2, None, low=40.0, high=60.0, level="self-declared"), "pending"),
    )

    assert figure(rows, D(2025, 1, 1)) == (45.0, 60.0)


def test_a_newer_checked_figure_lowers_an_older_checked_one():
    rows = resolve(
        (stake(1, 30.0, level="admin-verified", on=D(2024, 1, 1)), "approved v1"),
        (stake(2, 10.0, level="official register", on=D(2026, 3, 1)), "registry"),
    )

    assert figure(rows, D(2026, 6, 1)) == (10.0, 10.0)


def test_a_news_report_recorded_by_an_admin_beats_an_older_approved_figure():
    rows = resolve(
        (stake(1, 30.0, level="admin-verified", on=D(2024, 1, 1)), "approved v1"),
        (stake(2, 49.0, level="third-party source", on=D(2026, 6, 12)), "fact"),
    )

    assert figure(rows, D(2026, 7, 1)) == (49.0, 49.0)


def test_of_two_self_declared_claims_the_newer_counts():
    rows = resolve(
        (stake(1, 30.0, level="self-declared", on=D(2024, 1, 1)), "v1"),
        (stake(2, 20.0, level="self-declared", on=D(2025, 1, 1)), "v2"),
    )

    assert figure(rows, D(2025, 6, 1)) == (20.0, 20.0)


def test_a_claim_counts_only_over_its_own_period():
    rows = resolve(
        (stake(1, 30.0, level="admin-verified", start=D(2020, 1, 1)), "approved"),
        (stake(2, 60.0, level="self-declared", start=D(2025, 1, 1), end=D(2026, 1, 1)), "pending"),
    )

    assert figure(rows, D(2024, 6, 1)) == (30.0, 30.0)
    assert figure(rows, D(2025, 6, 1)) == (60.0, 60.0)
    assert figure(rows, D(2026, 6, 1)) == (30.0, 30.0)


def test_an_unknown_share_next_to_a_figure_reads_as_zero_to_a_hundred():
    rows = resolve(
        (stake(1, 30.0, level="admin-verified"), "approved"), (stake(2, None, level="self-declared"), "pending")
    )
    assert figure(rows, D(2025, 1, 1)) == (30.0, 100.0)

    rows = resolve(
        (stake(1, None, level="admin-verified"), "approved"), (stake(2, 40.0, level="self-declared"), "pending")
    )
    assert figure(rows, D(2025, 1, 1)) == (40.0, 100.0)


def test_an_inclusive_bound_beats_an_exclusive_one_of_the_same_figure():
    rows = resolve(
        (stake(1, 25.0, low=25.0, high=30.0, low_exclusive=True, level="admin-verified"), "approved"),
        (stake(2, 25.0, level="self-declared"), "pending"),
    )

    row = counted_at(rows, D(2025, 1, 1))
    assert (row.low, row.low_exclusive, row.high) == (25.0, False, 30.0)


def test_a_revenue_share_is_raised_never_lowered_by_a_self_declared_claim():
    def tie(id_, share, level):
        return CommercialEdge(id_, 1, 2, "customer", share, None, None, Source(f"source {id_}", level))

    [row] = one_claim_at_a_time(
        [tie(1, 35.0, "admin-verified"), tie(2, 10.0, "self-declared")], ["a", "b"], raise_commercial
    )
    assert row.revenue_share_pct == 35.0
    [row] = one_claim_at_a_time(
        [tie(1, 35.0, "admin-verified"), tie(2, 50.0, "self-declared")], ["a", "b"], raise_commercial
    )
    assert (row.revenue_share_pct, row.source.description) == (50.0, "source 2")


# --- whatever the rows, one counts at any date ------------------------------------------------------------------

_days = st.one_of(st.none(), st.dates(min_value=D(2020, 1, 1), max_value=D(2020, 1, 20)))
_levels = st.sampled_from(["self-declared", "admin-verified", "official register", "third-party source"])


@st.composite
def claim_rows(draw):
    count = draw(st.integers(1, 6))
    rows, streams = [], []
    for id_ in range(1, count + 1):
        start, end = draw(_days), draw(_days)
        if start is not None and end is not None and end <= start:
            start, end = end, start if end < start else None
        share = draw(st.one_of(st.none(), st.floats(0, 100)))
        rows.append(
            stake(
                id_,
                share,
                start=start,
                end=end,
                level=draw(_levels),
                on=draw(st.dates(min_value=D(2019, 1, 1), max_value=D(2019, 12, 31))),
            )
        )
        streams.append(draw(st.sampled_from("abc")))
    return rows, streams


@given(claim_rows(), st.dates(min_value=D(2019, 12, 25), max_value=D(2020, 1, 25)))
def test_exactly_one_row_counts_wherever_any_claim_does(case, day):
    rows, streams = case
    resolved = one_claim_at_a_time(rows, streams, raise_interest)

    active = [row for row in resolved if row.active_at(day)]
    assert len(active) == (1 if any(row.active_at(day) for row in rows) else 0)
    if active and not any(r.active_at(day) and r.source.verification_level == "self-declared" for r in rows):
        # With no self-declared claim active, the figure is one of the claims' own.
        assert (active[0].low, active[0].high) in {(r.low, r.high) for r in rows if r.active_at(day)}


@pytest.mark.parametrize(
    ("self_declared", "about_filer", "approved", "only_filers"),
    [
        (True, False, False, True),  # about another party, unreviewed
        (True, False, True, True),  # about another party, self-declared (approval makes it admin-verified instead)
        (True, True, False, True),  # about the filer itself, awaiting review: it would reach what the filer holds
        (True, True, True, False),  # about the filer, approved: counts for everyone
        (False, False, False, False),  # checked (admin-verified, a register): never only the filer's
        (False, True, True, False),
    ],
)
def test_whose_claim_counts(self_declared, about_filer, approved, only_filers):
    assert counts_only_for_filer(self_declared=self_declared, about_filer=about_filer, approved=approved) == only_filers
