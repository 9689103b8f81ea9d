"""Dispute and deadline tests run against the local Stripe simulator (localstripe plus Connect and Checkout)."""

from tests.functional.payments.stripe_support import (  # noqa: F401  (fixtures)
    gateway,
    stripe_config,
    stripe_sim,
    webhook_inbox,
)
