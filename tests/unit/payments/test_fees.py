"""The platform fee never loses or invents a cent, whatever the amount and the rate."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.money import MAX_AMOUNT_MINOR
from marketplace.payments.fees import percent, split_payout

amounts = st.integers(min_value=0, max_value=MAX_AMOUNT_MINOR)
rates = st.integers(min_value=0, max_value=10_000)


@given(amounts, rates)
def test_fee_and_payout_add_up_to_the_amount(amount, bps):
    payout = split_payout(amount, bps)
    assert payout.fee_minor + payout.vendor_minor == amount
    assert 0 <= payout.fee_minor <= amount
    assert payout.vendor_minor >= 0


@given(amounts, rates)
def test_the_fee_is_the_rate_rounded_to_the_nearest_minor_unit(amount, bps):
    fee = split_payout(amount, bps).fee_minor
    # |fee - amount * bps / 10000| <= 1/2, in integers: |10000 fee - amount bps| <= 5000
    assert abs(fee * 10_000 - amount * bps) <= 5_000


@given(amounts, amounts, rates)
def test_a_larger_amount_never_has_a_smaller_fee_or_payout(a, b, bps):
    small, large = sorted((a, b))
    assert split_payout(small, bps).fee_minor <= split_payout(large, bps).fee_minor
    assert split_payout(small, bps).vendor_minor <= split_payout(large, bps).vendor_minor


@given(amounts, rates, rates)
def test_a_higher_rate_never_has_a_smaller_fee(amount, r1, r2):
    low, high = sorted((r1, r2))
    assert split_payout(amount, low).fee_minor <= split_payout(amount, high).fee_minor


@given(st.lists(st.integers(min_value=1, max_value=10**12), min_size=1, max_size=12), rates)
def test_milestones_paid_one_by_one_add_up_to_the_contract(parts, bps):
    payouts = [split_payout(part, bps) for part in parts]
    assert sum(p.fee_minor + p.vendor_minor for p in payouts) == sum(parts)


def test_examples_a_finance_team_can_check():
    assert (split_payout(1_000_000, 1000).fee_minor, split_payout(1_000_000, 1000).vendor_minor) == (100_000, 900_000)
    assert split_payout(5, 1000).fee_minor == 1  # 0.5 rounds half up
    assert split_payout(4, 1000).fee_minor == 0
    assert split_payout(999, 0).vendor_minor == 999
    assert split_payout(999, 10_000).vendor_minor == 0


@pytest.mark.parametrize(("amount", "bps"), [(-1, 100), (100, -1), (100, 10_001)])
def test_impossible_inputs_are_refused(amount, bps):
    with pytest.raises(ValueError):
        split_payout(amount, bps)


def test_rates_read_as_percentages():
    assert percent(1000) == "10%"
    assert percent(250) == "2.5%"
    assert percent(0) == "0%"
