"""Findings in words a buyer understands: one sentence naming the rule, the rival, the figure and its range,
the routes that carry it (the largest first), the sources with their verification levels, and the date."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import cast

from marketplace.parties.vocabulary import interest_words
from marketplace.screening.engine.verdicts import Range, Rule, Source, Verdict

ROUTES_SHOWN = 3
TIES_SHOWN = 3
RULE_LABELS = {
    Rule.CONTROL: "control",
    Rule.OWNERSHIP: "ownership",
    Rule.BOARD: "board",
    Rule.PEOPLE: "people",
    Rule.CONTRACT: "contract",
    Rule.UNKNOWN: "unknown owner",
    Rule.UNVERIFIED: "unverified",
    Rule.MATCH: "possible match",
}
LEADS = {Verdict.EXCLUDE: "Excluded", Verdict.REVIEW: "Review", Verdict.CLEAR: "Clear"}
# A role as held by someone: "Daniel Okafor is a senior managing official of ...".
ROLE_WORDS = {
    "boardMember": "a board member",
    "boardChair": "the board chair",
    "seniorManagingOfficial": "a senior managing official",
}


@dataclass(frozen=True)
class Route:
    """Parties from the rival (or unknown owner) to the vendor, and the share the route carries, if any."""

    ids: tuple[int, ...]
    names: tuple[str, ...]
    share: Range | None = None


@dataclass(frozen=True)
class Tie:
    """A tie cited as evidence: its kind (an interest type, a commercial kind) and where it came from."""

    edge_id: int
    kind: str
    source: Source


def percent(value: float) -> str:
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def figure(share: Range) -> str:
    """49% for an exact figure, 20–50% for a range."""
    low, high = percent(share.low), percent(share.high)
    return low if low == high else f"{low.rstrip('%')}–{high}"


def _route(route: Route) -> str:
    text = " → ".join(route.names)
    return f"{text} ({figure(route.share)})" if route.share is not None else text


def routes_text(routes: list[Route]) -> str:
    shown = "; ".join(_route(route) for route in routes[:ROUTES_SHOWN])
    more = len(routes) - ROUTES_SHOWN
    return f"{shown}; and {more} more route{'s' if more > 1 else ''}" if more > 0 else shown


@lru_cache(maxsize=4096)
def _tie_text(kind: str, source: Source) -> str:
    """A tie in words depends on its kind and source alone: a register's thousands of ties share a few dozen."""
    origin = " ".join(
        part for part in (source.description, source.recorded.isoformat() if source.recorded else "") if part
    )
    return ", ".join(part for part in (interest_words(kind), origin, source.verification_level) if part)


def ties_text(ties: list[Tie]) -> str:
    texts = list(dict.fromkeys(_tie_text(tie.kind, tie.source) for tie in ties))
    shown = "; ".join(texts[:TIES_SHOWN])
    more = len(texts) - TIES_SHOWN
    return f"{shown}; and {more} more tie{'s' if more > 1 else ''}" if more > 0 else shown


def sentence(
    verdict: Verdict, rule: Rule, body: str, as_of: date, routes: Sequence[Route] = (), ties: Sequence[Tie] = ()
) -> str:
    """'Excluded (ownership): Cobalt Social holds 49% of Scalewise Data (shareholding, ...), as of 2025-07-01.'"""
    text = f"{LEADS[verdict]} ({RULE_LABELS[Rule(rule)]}): {body}"
    # A single direct route says nothing the body has not said.
    if routes and (len(routes) > 1 or len(routes[0].ids) > 2):
        text += f", through {routes_text(list(routes))}"
    if ties:
        text += f" ({ties_text(list(ties))})"
    return f"{text}, as of {as_of.isoformat()}."


def group_clause(member: str, rival: str, certain: bool) -> str:
    """How a member of the rival's group is named: the rival itself, or a member (possibly) in its group."""
    if member == rival:
        return rival
    return f"{member}, {'' if certain else 'possibly '}in {rival}'s group,"


def control_body(rival: str, vendor: str, votes: Range | None, appointed: bool, certain: bool, itself: bool) -> str:
    if itself:
        return f"{vendor} is {rival} itself"
    verb = "controls" if certain else "may control"
    if appointed:
        return f"{rival} {verb} {vendor}: its group appoints the board"
    # Only the rival itself comes without votes (answered above).
    votes_held = figure(cast(Range, votes))
    return f"{rival} {verb} {vendor}: its group {'holds' if certain else 'may hold'} {votes_held} of the votes"


def ownership_body(rival: str, vendor: str, stake: Range, certain: bool, consolidated: bool) -> str:
    basis = ", counting its group's holdings in full" if consolidated else ""
    return f"{rival} {'holds' if certain else 'may hold'} {figure(stake)} of {vendor}{basis}"


def role_text(kind: str, entity: str, ended: date | None) -> str:
    role = ROLE_WORDS.get(kind) or interest_words(kind)
    if ended is None:
        return f"is {role} of {entity}"
    return f"was {role} of {entity} until {ended.isoformat()}"


def board_seat_body(member: str, kind: str, vendor: str) -> str:
    return f"{member} holds a board seat ({interest_words(kind)}) in {vendor}"


def shared_role_body(person: str, vendor_role: str, member_role: str) -> str:
    return f"{person} {vendor_role} and {member_role}"


def contract_interest_body(member: str, kind: str, vendor: str) -> str:
    return f"{member} holds {interest_words(kind)} in {vendor}"


def exclusive_body(vendor: str, member: str) -> str:
    return f"{vendor} has an exclusive agreement with {member}"


def revenue_body(vendor: str, rival: str, revenue: Range) -> str:
    return f"{figure(revenue)} of {vendor}'s revenue comes from {rival}'s group"


# BODS unspecifiedReason codes in words; the code itself follows, as the source gave it.
UNSPECIFIED_REASON_WORDS = {
    "subjectUnableToConfirmOrIdentifyBeneficialOwner": "the company could not identify or confirm its owner",
    "interestedPartyHasNotProvidedInformation": "the owner has not provided the information",
    "subjectExemptFromDisclosure": "the company is exempt from disclosure",
    "interestedPartyExemptFromDisclosure": "the owner is exempt from disclosure",
    "unknown": "the reason is unknown",
    "informationUnknownToPublisher": "the publisher does not know",
}


def unknown_owner_body(owner: str, vendor: str, stake: Range, certain: bool, reason: str = "") -> str:
    """ "an unidentified owner, X, holds 30% of V": with the source's reason for not naming it, when it gave one."""
    return (
        f"an unidentified owner, {owner}{_not_named(reason)}, {'holds' if certain else 'may hold'} "
        f"{figure(stake)} of {vendor}"
    )


def _not_named(reason: str) -> str:
    if not reason:
        return ""
    words = UNSPECIFIED_REASON_WORDS.get(reason)
    return f" (not named: {words}, {reason})" if words else f" (not named: {reason})"


def undisclosed_body(vendor: str, entity: str, holder: str, kind: str, reason: str = "") -> str:
    if entity == vendor:
        return (
            f"part of {vendor}'s ownership is undisclosed: {holder}{_not_named(reason)} holds an "
            f"{interest_words(kind)} in it"
        )
    return (
        f"part of {vendor}'s ownership is undisclosed: {holder}{_not_named(reason)} holds an "
        f"{interest_words(kind)} in {entity}, which holds a share of {vendor}"
    )


def reasons_text(bodies: list[str]) -> str:
    """Several reasons for one finding, the surest first, in one sentence."""
    bodies = list(dict.fromkeys(bodies))
    more = len(bodies) - ROUTES_SHOWN
    text = "; ".join(bodies[:ROUTES_SHOWN])
    return f"{text}; and {more} more tie{'s' if more > 1 else ''}" if more > 0 else text


def unverified_body(vendor: str, approved_on: date | None, as_of: date, months: int) -> str:
    if approved_on is None:
        return f"{vendor} has no approved disclosure"
    if approved_on > as_of:
        return f"{vendor} had no approved disclosure yet (its disclosure was approved on {approved_on.isoformat()})"
    return f"{vendor}'s latest approved disclosure, of {approved_on.isoformat()}, is more than {months} months old"


def possible_match_text(
    verdict: Verdict,
    variant: str,
    rival: str,
    score: float,
    were_one: list[str],
    group_of: str | None = None,
    certain: bool = True,
) -> str:
    """A possible match in words: the two names, how alike, what the rules would find were they one party (each
    finding dated), and how an admin settles it. With `group_of`, `rival` names a member of that rival's group."""
    found = " ".join(were_one)
    member = ""
    if group_of is not None:
        member = (
            f"; {rival} belongs to {group_of}'s group (controlled by {group_of}),"
            if certain
            else f"; {rival} may belong to {group_of}'s group (possibly controlled by {group_of}),"
        )
    return (
        f"{LEADS[verdict]} ({RULE_LABELS[Rule.MATCH]}): {variant} may be {rival} under another name (the names "
        f"are {score:.0f}% alike once legal forms, punctuation, case and accents are set aside){member} and no "
        f"admin has merged them or marked them as not the same. Were they one party, the rules would find: {found} "
        "To settle it, an admin merges the two parties in the registry, or marks them as not the same."
    )
