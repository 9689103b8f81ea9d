"""What changed between two disclosure versions: ties matched by what they are, not by their row ids.

A tie's key is (kind, interested party, subject, role title), names normalised, so a tie copied into a new
version matches its original. Ties with the same key (two stints in one role) are paired by start date.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import cast

from marketplace.parties.service import normalize_name

ADDED = "added"
REMOVED = "removed"
CHANGED = "changed"
UNCHANGED = "unchanged"


def _percent(value: float) -> str:
    return f"{round(value, 4):g}%"


@dataclass(frozen=True)
class TieView:
    """One tie of a version as a reader sees it, whichever table holds it."""

    table: str  # "interest" (a BODS interest) or "commercial" (the platform's own tie)
    id: int
    kind: str  # the tie kind code of marketplace.disclosures.service.TIE_KINDS
    kind_label: str
    section: str
    party_name: str
    party_kind: str
    subject_name: str
    # Empty when the subject is the vendor itself, so that renaming the vendor changes no key.
    subject_key: str = ""
    role_title: str = ""
    share_exact: float | None = None
    share_min: float | None = None
    share_max: float | None = None
    share_min_exclusive: bool = False
    share_max_exclusive: bool = False
    shares_apply: bool = False
    revenue_share_pct: float | None = None
    start_date: date | None = None
    end_date: date | None = None
    note: str = ""
    verification_level: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.kind, normalize_name(self.party_name), self.subject_key, normalize_name(self.role_title))

    @property
    def share_low(self) -> float:
        """The low end of the share: the figure that must fit within 100%."""
        if self.share_exact is not None:
            return self.share_exact
        return self.share_min if self.share_min is not None else 0.0

    @property
    def share_text(self) -> str:
        """'49%', '10%–20%', 'more than 25%', or 'not given' on a shareholding without a figure."""
        if self.share_exact is not None:
            return _percent(self.share_exact)
        low = high = None
        if self.share_min is not None:
            low = ("more than " if self.share_min_exclusive else "") + _percent(self.share_min)
        if self.share_max is not None:
            high = ("less than " if self.share_max_exclusive else "") + _percent(self.share_max)
        if low and high:
            return f"{low} – {high}"
        if low:
            return low if self.share_min_exclusive else f"at least {low}"
        if high:
            return high if self.share_max_exclusive else f"up to {high}"
        return "not given" if self.shares_apply else ""

    @property
    def revenue_text(self) -> str:
        return "" if self.revenue_share_pct is None else f"{_percent(self.revenue_share_pct)} of revenue"

    @property
    def dates_text(self) -> str:
        start = self.start_date.isoformat() if self.start_date else None
        end = self.end_date.isoformat() if self.end_date else None
        if start and end:
            return f"{start} – {end}"
        if start:
            return f"since {start}"
        if end:
            return f"until {end}"
        return ""

    def is_current(self, today: date) -> bool:
        return self.end_date is None or self.end_date > today


@dataclass(frozen=True)
class FieldChange:
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class TieChange:
    status: str  # added, removed, changed or unchanged
    old: TieView | None
    new: TieView | None
    changes: tuple[FieldChange, ...] = ()

    @property
    def tie(self) -> TieView:
        return cast(TieView, self.new or self.old)


_COMPARED = (
    ("Share", lambda t: t.share_text),
    ("Revenue share", lambda t: t.revenue_text),
    ("Start", lambda t: t.start_date.isoformat() if t.start_date else "—"),
    ("End", lambda t: t.end_date.isoformat() if t.end_date else "—"),
)


def _compare(old: TieView, new: TieView) -> TieChange:
    changes = tuple(
        FieldChange(label, read(old) or "—", read(new) or "—") for label, read in _COMPARED if read(old) != read(new)
    )
    return TieChange(CHANGED if changes else UNCHANGED, old, new, changes)


def _in_date_order(ties: list[TieView]) -> list[TieView]:
    return sorted(ties, key=lambda t: (t.start_date or date.min, t.end_date or date.max, t.id))


def _pair(olds: list[TieView], news: list[TieView]) -> dict[tuple[str, int], TieView | None]:
    """Pair ties of one key: first those that started on the same date, then the rest in date order."""
    unpaired = _in_date_order(olds)
    pairs: dict[tuple[str, int], TieView | None] = {}
    waiting = []
    for tie in _in_date_order(news):
        same_start = next((old for old in unpaired if old.start_date == tie.start_date), None)
        if same_start is None:
            waiting.append(tie)
        else:
            unpaired.remove(same_start)
            pairs[(tie.table, tie.id)] = same_start
    for tie in waiting:
        pairs[(tie.table, tie.id)] = unpaired.pop(0) if unpaired else None
    return pairs


def diff_ties(old: list[TieView], new: list[TieView]) -> list[TieChange]:
    """Every tie of `new` as added, changed or unchanged against `old`, then the ties of `old` removed."""
    old_by_key: dict[tuple, list[TieView]] = defaultdict(list)
    for tie in old:
        old_by_key[tie.key].append(tie)
    new_by_key: dict[tuple, list[TieView]] = defaultdict(list)
    for tie in new:
        new_by_key[tie.key].append(tie)
    partner: dict[tuple[str, int], TieView | None] = {}
    for key, new_group in new_by_key.items():
        partner.update(_pair(old_by_key.get(key, []), new_group))
    matched = {(t.table, t.id) for t in partner.values() if t is not None}
    result = []
    for tie in new:
        previous = partner[(tie.table, tie.id)]
        result.append(TieChange(ADDED, None, tie) if previous is None else _compare(previous, tie))
    result.extend(TieChange(REMOVED, tie, None) for tie in old if (tie.table, tie.id) not in matched)
    return result
