"""Parsing and formatting money (marketplace.money): whatever a user types, an amount or a refusal in words."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.money import MAX_AMOUNT_MINOR, format_money, to_minor


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [
        ("1,250.50", "USD", 125_050),
        ("12", "USD", 1_200),
        (".5", "EUR", 50),
        ("5.", "USD", 500),
        ("1.500", "USD", 150),
        ("  3 ", "USD", 300),
        ("1500", "JPY", 1_500),
        (Decimal("1E+3"), "USD", 100_000),
    ],
)
def test_plain_amounts_are_read(text, currency, minor):
    assert to_minor(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1e200000", "is not an amount of money"),
        ("1e999999", "is not an amount of money"),
        ("NaN", "is not an amount of money"),
        ("Infinity", "is not an amount of money"),
        ("1 000", "not an amount"),
        ("", "not an amount"),
        (".", "not an amount"),
        ("9" * 30, "too large to be real"),
        ("1.005", "at most 2"),
        ("1.5", "at most 0"),
        ("x" * 10_000, "not an amount"),
    ],
)
def test_anything_else_is_refused_in_words(text, message):
    with pytest.raises(ValueError, match=message):
        to_minor(text, "JPY" if text == "1.5" else "USD")


def test_a_refusal_quotes_a_long_text_shortened():
    with pytest.raises(ValueError) as refused:
        to_minor("1" * 5_000 + "e5", "USD")
    assert len(str(refused.value)) < 120


@given(st.text(max_size=60), st.sampled_from(["USD", "EUR", "JPY"]))
def test_any_text_is_an_amount_within_bounds_or_a_value_error(text, currency):
    try:
        minor = to_minor(text, currency)
    except ValueError:
        return
    assert abs(minor) < 10**18


@given(st.integers(min_value=0, max_value=MAX_AMOUNT_MINOR), st.sampled_from(["USD", "EUR", "JPY", "CHF"]))
def test_formatting_and_reading_back_gives_the_same_minor_units(minor, currency):
    shown = format_money(minor, currency)
    number = shown.split(" ")[0].lstrip("$€¥")
    assert to_minor(number, currency) == minor
