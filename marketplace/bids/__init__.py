"""bids."""
