"""Disputes over a milestone's held money, mediated and decided by an admin."""
