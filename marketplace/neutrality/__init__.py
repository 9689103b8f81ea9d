"""Portable proofs of neutrality: a vendor's signed, time-limited statement of no ties to a list of parties."""
