"""What screening answers: verdicts, findings, and a buyer's policy. Plain data, no database."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Verdict(StrEnum):
    CLEAR = "clear"
    REVIEW = "review"
    EXCLUDE = "exclude"

    @property
    def severity(self) -> int:
        return {"clear": 0, "review": 1, "exclude": 2}[self.value]


def worst(verdicts: Iterable[str]) -> Verdict:
    return max((Verdict(v) for v in verdicts), key=lambda v: v.severity, default=Verdict.CLEAR)


class Rule(StrEnum):
    CONTROL = "control"
    OWNERSHIP = "ownership"
    BOARD = "board"
    PEOPLE = "people"
    CONTRACT = "contract"
    UNKNOWN = "unknown"
    UNVERIFIED = "unverified"
    # A rival (or a member of its group) may be a party that goes by another name: see screening.matches.
    MATCH = "possible_match"


class Action(StrEnum):
    """What a policy does with a rule's finding."""

    EXCLUDE = "exclude"
    REVIEW = "review"
    IGNORE = "ignore"
    # Ownership only: exclude or review by the thresholds.
    THRESHOLD = "threshold"


DEFAULT_ACTIONS = {
    Rule.CONTROL: Action.EXCLUDE,
    Rule.OWNERSHIP: Action.THRESHOLD,
    Rule.BOARD: Action.EXCLUDE,
    Rule.PEOPLE: Action.REVIEW,
    Rule.CONTRACT: Action.REVIEW,
    Rule.UNKNOWN: Action.REVIEW,
    Rule.UNVERIFIED: Action.REVIEW,
    Rule.MATCH: Action.REVIEW,
}


@dataclass(frozen=True)
class Policy:
    """A buyer's screening policy. Percentages run from 0 to 100."""

    exclude_at: float = 25.0
    review_at: float = 10.0
    people_window_months: int = 24
    control_at: float = 50.0
    revenue_share_at: float = 30.0
    stale_after_months: int = 12
    actions: dict[Rule, str] = field(default_factory=lambda: dict(DEFAULT_ACTIONS))

    def action(self, rule: Rule) -> Action:
        return Action(self.actions.get(Rule(rule), DEFAULT_ACTIONS[Rule(rule)]))


@dataclass(frozen=True)
class Range:
    """A figure computed twice: once from every low end, once from every high end (percent)."""

    low: float
    high: float

    def as_dict(self) -> dict[str, float]:
        return {"low": round(self.low, 6), "high": round(self.high, 6)}


@dataclass(frozen=True)
class Source:
    """Where a tie that carries a finding came from."""

    description: str
    verification_level: str
    recorded: date | None = None


@dataclass
class Finding:
    rule: str
    verdict: Verdict
    rival: str | None
    explanation: str
    rival_party_id: int | None = None
    stake: Range | None = None
    # Each route as party names from the rival (or unknown owner) to the vendor, the largest first.
    paths: list[list[str]] = field(default_factory=list)
    # The same routes as party ids, for drawing the graph.
    path_ids: list[list[int]] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    as_of: date | None = None
    waived: bool = False
    # A possible match: the party that may be the rival (or a member of its group) under another name, and the
    # party it may be: the rival, or the member.
    matched_party_id: int | None = None
    matched_as_party_id: int | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "rule": str(self.rule),
            "verdict": str(self.verdict),
            "rival": self.rival,
            "stake": self.stake.as_dict() if self.stake else None,
            "explanation": self.explanation,
            "paths": self.paths,
        }


@dataclass(frozen=True)
class RivalResult:
    rival: str
    rival_party_id: int
    verdict: Verdict
    stake: Range


@dataclass
class Screening:
    vendor_org_id: int | None
    findings: list[Finding] = field(default_factory=list)
    rivals: list[RivalResult] = field(default_factory=list)
    as_of: date | None = None
    vendor_party_id: int | None = None

    @property
    def verdict(self) -> Verdict:
        """The worst finding, waived or not: what the buyer is shown."""
        return worst(f.verdict for f in self.findings)

    @property
    def access_verdict(self) -> Verdict:
        """The worst finding the buyer has not waived: what decides what the vendor may see and do."""
        return worst(f.verdict for f in self.findings if not f.waived)
