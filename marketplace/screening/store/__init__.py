"""Reading screening's inputs from the database: the ownership graph (loader), the picture drawn of it (picture),
likely name variants (matches), which vendors a change can reach (affected), and a buyer's stored policy (policies).
"""
