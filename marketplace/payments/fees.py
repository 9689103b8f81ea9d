"""The platform fee, in integer minor units: the fee and the payout always add up to the amount."""

from dataclasses import dataclass

BPS_PER_WHOLE = 10_000


@dataclass(frozen=True)
class Payout:
    amount_minor: int
    fee_minor: int
    vendor_minor: int


def split_payout(amount_minor: int, fee_bps: int) -> Payout:
    """The fee (rounded half up to a whole minor unit) and what the vendor gets, which is the rest.

    Integer arithmetic only: no cent is lost or invented, whatever the amount or the rate.
    """
    if amount_minor < 0:
        raise ValueError("an amount cannot be negative")
    if not 0 <= fee_bps <= BPS_PER_WHOLE:
        raise ValueError("a fee is between 0 and 10000 basis points")
    fee = (amount_minor * fee_bps + BPS_PER_WHOLE // 2) // BPS_PER_WHOLE
    return Payout(amount_minor, fee, amount_minor - fee)


def percent(fee_bps: int) -> str:
    """1000 → '10%', 250 → '2.5%'."""
    whole, rest = divmod(fee_bps, 100)
    return f"{whole}%" if rest == 0 else f"{fee_bps / 100:g}%"
