"""One matcher for the whole app: when two parties' names are likely one party's.

A name is reduced to a *match key*: transliterated to ASCII (anyascii: "Résearch" is "Research", "Халкион" is
"Khalkion"), its legal form set aside (cleanco: GmbH, Ltd, G.m.b.H., Inc.), case and punctuation dropped, and
spellings that transliteration makes differ folded together (kh → h, c → k, y → i, ph → f, w → v, doubled
letters once). Two keys are compared with rapidfuzz's normalised Indel similarity (fuzz.ratio, 0–100):

- **LIKELY_AT = 90**: at or above, the names are likely one party's. In a name of ten letters that is one letter
  added, dropped or changed; "Halcyon Research GmbH" and "HALCYON RESEARCH, G.m.b.H." score 100, the Cyrillic
  "Халкион Ресерч" 97 against "Halcyon Research", while "Halcyon Robotics" scores 69.
- Numbers and single letters tell names apart however alike the rest is: "Rival Lab A" and "Rival Lab B", or
  "Holding 000123" and "Holding 000124", are never likely the same.

Only parties of the same kind (two organisations, or two people) are compared; unnamed owners never.

Comparing every party with every other is never needed: each party stores its key, the first and last BLOCK
letters of the key without spaces, and its numbers and single letters (indexed columns; parties.variants reads
them). Candidates for a name with numbers or single letters are the parties with exactly the same ones (a likely
match must have them); for any other name, the parties without any that share one of its two blocks. Only
candidates are scored. A variant without numbers that differs both in its first and in its last letters is
missed.
"""

import math
import re
from bisect import bisect_left
from collections import defaultdict
from functools import lru_cache

from anyascii import anyascii
from cleanco.clean import normalized, prepare_default_terms, strip_punct, strip_tail
from rapidfuzz import fuzz, process

LIKELY_AT = 90.0
BLOCK = 4
KEY_LENGTH = 300
_NOT_ALNUM = re.compile(r"[^0-9a-z]+")
# Applied in order to the key: spellings of one sound that transliteration or habit make differ.
_FOLDS = (("kh", "h"), ("ph", "f"), ("ck", "k"), (re.compile(r"c(?!h)"), "k"), ("y", "i"), ("w", "v"))
_DOUBLED = re.compile(r"([a-z])\1+")


# cleanco's legal forms in the order cleanco.basename tries them, and per last word the positions of those ending
# in it: basename tries every form in turn on the name's last words; a form can only match when its last word is
# the name's, so looking at those alone (in the same order) sets aside the same words.
_TERMS = prepare_default_terms()
_TERMS_ENDING: dict[str, list[int]] = defaultdict(list)
for _position, (_, _parts) in enumerate(_TERMS):
    _TERMS_ENDING[_parts[-1]].append(_position)


# cleanco's strip_tail (r"[^\.\w]+$" cut off) and normalized (casefolded, accents removed) on an ASCII name, the
# name matching.plain_key gives basename: the same results without a regular expression scanning the whole name and
# without a Unicode lookup per letter (two thirds of basename's time).
_ASCII_TAIL = "".join(c for c in map(chr, range(128)) if c != "." and not re.match(r"\w", c))


def _strip_tail(name: str) -> str:
    return name.rstrip(_ASCII_TAIL) if name.isascii() else strip_tail(name)


def _normalized(name: str) -> str:
    return name.lower() if name.isascii() else normalized(name)


def basename(name: str) -> str:
    """cleanco.basename(name) (the legal form at the end set aside), giving the same result in a tenth of the time."""
    name = _strip_tail(name)
    parts = name.split()
    normal_parts = [strip_punct(part) for part in _normalized(name).split()]
    position = 0
    while normal_parts:
        candidates = _TERMS_ENDING.get(normal_parts[-1])
        if not candidates:
            break
        at = bisect_left(candidates, position)
        while at < len(candidates):
            size, term_parts = _TERMS[candidates[at]]
            if normal_parts[-size:] == term_parts:
                break
            at += 1
        if at == len(candidates):
            break
        position = candidates[at] + 1
        size = _TERMS[candidates[at]][0]
        del normal_parts[-size:]
        del parts[-size:]
    return _strip_tail(" ".join(parts))


def plain_key(name: str) -> str:
    """The name transliterated, without its legal form, case and punctuation: "Halcyon Résearch, Ltd." →
    "halcyon research"."""
    ascii_name = anyascii(name or "")
    base = basename(ascii_name) or ascii_name
    words = _NOT_ALNUM.sub(" ", base.lower()).split()
    if len(words) > 1 and words[0] == "the":
        words = words[1:]
    return " ".join(words)


def match_key(name: str) -> str:
    """The name as the matcher compares it, spellings folded: "HALCYON RESEARCH, G.m.b.H." → "halkion research"."""
    key = plain_key(name)
    for pattern, replacement in _FOLDS:  # a plain string is replaced as its pattern would be, faster
        key = key.replace(pattern, replacement) if isinstance(pattern, str) else pattern.sub(replacement, key)
    return _DOUBLED.sub(r"\1", key)[:KEY_LENGTH]


def blocks(key: str) -> tuple[str, str]:
    """The first and the last BLOCK letters of the key without spaces: a candidate shares at least one."""
    joined = key.replace(" ", "")
    return joined[:BLOCK], joined[-BLOCK:]


def match_columns(name: str) -> dict[str, str]:
    """The stored columns of a party with this name (used when a party is written, and by bulk loaders)."""
    return dict(_match_columns(name))


@lru_cache(maxsize=8192)  # a register repeats people's names and companies' renamed forms
def _match_columns(name: str) -> dict[str, str]:
    key = match_key(name)
    head, tail = blocks(key)
    return {"match_key": key, "match_head": head, "match_tail": tail, "match_telling": telling_block(key)}


TELLING_LENGTH = 120


def telling_block(key: str) -> str:
    """The key's numbers and single letters, which a likely match must share exactly: a block of its own, so that
    a numbered name ("Holding 01234") is looked up among the few names with its numbers, not among every name
    that starts like it."""
    return " ".join(_telling(key))[:TELLING_LENGTH]


def _telling(key: str) -> list[str]:
    """The words that tell names apart on their own: numbers and single letters."""
    return sorted(word for word in key.split() if word.isdigit() or len(word) == 1)


def similarity(first: str, second: str) -> float:
    """How alike two names are, 0–100, after both are reduced to match keys; 0 when their numbers or single
    letters differ."""
    return key_similarity(match_key(first), match_key(second))


def key_similarity(first: str, second: str) -> float:
    if not first or not second or _telling(first) != _telling(second):
        return 0.0
    return fuzz.ratio(first, second)


def telling(key: str) -> tuple[str, ...]:
    """What must be equal for two keys to be alike at all (numbers and single letters)."""
    return tuple(_telling(key))


def likely_among(key: str, keys: list[str]) -> list[tuple[int, float]]:
    """(position, similarity) of the keys alike enough to `key` to be likely the same, scored together in
    rapidfuzz's C loop; the caller still checks their numbers and single letters (telling()), as key_similarity
    does."""
    if not key or not keys:
        return []
    found = process.extract(key, keys, scorer=fuzz.ratio, processor=None, score_cutoff=LIKELY_AT, limit=None)
    return [(position, score) for _, score, position in found if keys[position]]


def shortest_likely(length: int) -> int:
    """The shortest key a key of this length can be likely the same as: Indel similarity s needs
    |a - b| <= (1 - s)(a + b)."""
    slack = (100.0 - LIKELY_AT) / 100.0
    return math.floor(length * (1 - slack) / (1 + slack))


def longest_likely(length: int) -> int:
    """The longest key a key of this length can be likely the same as."""
    slack = (100.0 - LIKELY_AT) / 100.0
    return math.ceil(length * (1 + slack) / (1 - slack))


def likely_same(first: str, second: str) -> bool:
    return similarity(first, second) >= LIKELY_AT
