"""Deals before they close: pending acquisitions, what they would change for each lab, and their closing."""
