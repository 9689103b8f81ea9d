"""Money as integer minor units with a currency; never a float."""

import re
from decimal import ROUND_HALF_UP, Decimal

# Money columns are 64-bit; an amount above this is a typing mistake, not a price.
MAX_AMOUNT_MINOR = 10**15
_PLAIN_AMOUNT = re.compile(r"[+-]?(\d*)(?:\.(\d*))?")
_MAX_AMOUNT_TEXT = 40
_MAX_WHOLE_DIGITS = 16  # beyond MAX_AMOUNT_MINOR in any currency: refused before arithmetic
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW"})
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "JPY": "¥", "INR": "₹"}


def exponent(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2


def to_minor(amount: str | Decimal, currency: str) -> int:
    """Parse a major-unit amount ("1,250.50") into minor units; raises ValueError when it is not one.

    Only plain digits, an optional sign, thousands commas and a decimal point are read, and the text is bounded
    before any arithmetic: "1e999999" is refused in words, not computed.
    """
    text = str(amount).replace(",", "").strip()
    shown = str(amount).strip()
    shown = shown if len(shown) <= 24 else shown[:20] + "…"
    if isinstance(amount, Decimal) and amount.is_finite():
        text = f"{amount:f}"
    found = _PLAIN_AMOUNT.fullmatch(text) if len(text) <= _MAX_AMOUNT_TEXT else None
    if found is None or not (found[1] or found[2]):
        raise ValueError(f"“{shown}” is not an amount of money: write digits, such as 1,250.50")
    whole, fraction = found[1], found[2] or ""
    places = exponent(currency)
    if len(whole.lstrip("0")) > _MAX_WHOLE_DIGITS:
        raise ValueError("That amount is too large to be real; check the number of digits.")
    if len(fraction.rstrip("0")) > places:
        raise ValueError(f"{currency} amounts have at most {places} decimal places")
    scaled = Decimal(text).scaleb(places)
    return int(scaled.to_integral_value(rounding=ROUND_HALF_UP))


def to_major(minor: int, currency: str) -> Decimal:
    return Decimal(minor).scaleb(-exponent(currency))


def format_money(minor: int | None, currency: str) -> str:
    """'$1,250.50'; the currency code is added where the symbol alone is ambiguous."""
    if minor is None:
        return "—"
    places = exponent(currency)
    major = to_major(minor, currency)
    symbol = SYMBOLS.get(currency.upper())
    number = f"{major:,.{places}f}"
    return f"{symbol}{number}" if symbol else f"{number} {currency}"
