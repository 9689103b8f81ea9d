"""How a lab scores bids: weighted criteria set on the job, colleagues' scores, weighted totals, disagreements."""
