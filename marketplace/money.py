"""Money as integer minor units with a currency; never a float."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

# Money columns are 64-bit; an amount above this is a typing mistake, not a price.
MAX_AMOUNT_MINOR = 10**15
ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW"})
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "JPY": "¥", "INR": "₹"}


def exponent(currency: str) -> int:
    return 0 if currency.upper() in ZERO_DECIMAL_CURRENCIES else 2


def to_minor(amount: str | Decimal, currency: str) -> int:
    """Parse a major-unit amount ("1,250.50") into minor units; raises ValueError when it is not one."""
    text = str(amount).replace(",", "").strip()
    try:
        value = Decimal(text)
    except InvalidOperation as error:
        raise ValueError(f"“{amount}” is not an amount of money") from error
    if not value.is_finite():
        raise ValueError(f"“{amount}” is not an amount of money")
    places = exponent(currency)
    scaled = value * (10**places)
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{currency} amounts have at most {places} decimal places")
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
