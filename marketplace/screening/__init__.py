"""Screening: which vendors a buyer's rivals own, control or are tied to, and the verdict each buyer sees.

Laid out by what each part does, one way down (checked by import-linter, see docs/architecture.md):

- views, forms, commands: the web pages and the `flask screen` / `flask rescreen` commands;
- services/: screening a vendor for a buyer, rivals, the policy and waivers, the vendor search, refreshing stored
  verdicts after a change;
- store/: reading the ownership graph, the picture, likely name variants and stored policies from the database;
- models: the tables (rivals, policies, waivers, stored verdicts);
- engine/: the rules themselves, pure functions with no database and no web.
"""
