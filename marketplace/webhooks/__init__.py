"""Outgoing webhooks: calls the platform makes to an organisation's own systems, signed so they can tell it was us."""
