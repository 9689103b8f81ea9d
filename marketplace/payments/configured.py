"""The Stripe gateway and the platform fee this app is configured with, for the pages and commands that move money."""

from flask import current_app

from marketplace.payments.gateway import StripeGateway, from_config


def current_gateway() -> StripeGateway | None:
    """The app's Stripe gateway, made once per configuration; None when payments are not configured."""
    config = current_app.config
    wanted = (config.get("STRIPE_SECRET_KEY"), config.get("STRIPE_API_BASE"))
    cached = current_app.extensions.get("stripe_gateway")
    if cached is None or cached[0] != wanted:
        cached = (wanted, from_config(config))
        current_app.extensions["stripe_gateway"] = cached
    return cached[1]


def fee_bps() -> int:
    return int(current_app.config.get("PLATFORM_FEE_BPS", 0))
