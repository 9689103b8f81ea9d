"""The JSON API (/api/v1): per-organisation tokens, problem details, and endpoints over the pages' own services."""
