"""Leak tracing: invisible per-vendor marks in a confidential job's brief and files, and naming a leak's source."""
