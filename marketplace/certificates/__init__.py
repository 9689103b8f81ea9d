"""A vendor's certifications as records: a certificate file, issuer, scope and expiry, verified by an admin."""
