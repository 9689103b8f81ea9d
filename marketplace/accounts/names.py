"""When two organisation names are one name: case, accents, script, punctuation and legal suffixes do not count."""

import re
import unicodedata

from anyascii import anyascii

# Trailing words that name a legal form, not the organisation: "Northwind AI, Inc." is "Northwind AI".
LEGAL_SUFFIXES = frozenset(
    {
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "llc",
        "llp",
        "lp",
        "plc",
        "corp",
        "corporation",
        "co",
        "company",
        "gmbh",
        "ag",
        "kg",
        "ug",
        "sa",
        "sas",
        "sarl",
        "srl",
        "spa",
        "bv",
        "nv",
        "ab",
        "as",
        "oy",
        "pty",
        "pte",
        "kk",
        "sl",
        "ou",
    }
)
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def org_name_key(name: str) -> str:
    """'Northwind AI, Inc.', 'NORTHWIND-AI' and 'Northwind A.I. GmbH' all give 'northwindai'.

    Letters of every script are transliterated (anyascii), never dropped: dropping them let 'Nоrthwind AI', with a
    Cyrillic о, pass for a new name ('nrthwindai'), and left a name written in Cyrillic or Chinese no key at all.
    """
    folded = anyascii(unicodedata.normalize("NFKC", name)).lower()
    # "A.I." and "A I" are one word: drop dots and apostrophes inside words before splitting on the rest.
    words = _NOT_ALNUM.sub(" ", re.sub(r"[.'’]", "", folded)).split()
    while len(words) > 1 and words[-1] in LEGAL_SUFFIXES:
        words.pop()
    return "".join(words)
