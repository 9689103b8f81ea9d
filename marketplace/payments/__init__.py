"""Payments through Stripe: funding, holding, releasing and refunding milestones."""
