"""The screening engine: pure functions over an ownership graph, with no database and no web.

The graph the rules read (graph), look-through stakes (lookthrough), the seven rules and control groups (rules),
findings in words (explain), verdicts and policies as values (verdicts), and claims kept for their filer (claims).
"""
