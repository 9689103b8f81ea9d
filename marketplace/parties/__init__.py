"""The ownership graph: parties, BODS interests, and the platform's own commercial ties."""
