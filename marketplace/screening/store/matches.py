"""Possible matches: a party that may be a buyer's rival, or a member of the rival's group, under another name.

Each rival's likely variants, and each likely variant of a member of its control group (parties.variants: the
matcher on stored keys, never a pair an admin marked as not the same; a merged party is the one it joined already),
are screened as if each were a rival, with the same rules. What those rules find becomes one *possible match*
finding per variant and rival, whose verdict is the policy's action for the match rule (review by default): only a
variant whose ties would matter gives a finding. Once an admin merges the two, the rules find it as the rival's own
(or its group's); once marked as not the same, the finding is gone. A variant that is in the rival's group already
gives nothing more.

The groups come from store.load_graph_below and engine.control_groups, read from what lies below the rivals,
so a vendor screened alone and in a batch gets the same variants.
"""

import dataclasses
from collections import defaultdict
from dataclasses import dataclass
from typing import NamedTuple, cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import transaction_cache
from marketplace.db_types import in_ids
from marketplace.parties.models import Party
from marketplace.parties.variants import LikelyMatch, unsettled_variant_ids, unsettled_variants
from marketplace.screening.engine import explain
from marketplace.screening.engine.verdicts import Action, Finding, Policy, Rule, Screening, Verdict

_ORDER = {rule: position for position, rule in enumerate(Rule)}


@dataclass(frozen=True)
class Lookalike:
    """`variant` is likely `matched` under another name, `score` (0–100) alike; `matched` is the rival `rival_id`
    itself, or a member of its group (`certain`: from the low ends of the shares too, not only the high ends)."""

    variant: Party
    matched: Party
    rival_id: int
    rival_name: str
    score: float
    certain: bool = True

    @property
    def member(self) -> bool:
        return self.matched.id != self.rival_id


class _Key(NamedTuple):
    """What the matcher reads of a party (parties.variants.unsettled_variants)."""

    id: int
    kind: str
    match_key: str


# What the matcher reads: names and merges, and the pairs marked as not the same.
_MATCHER_TABLES = ("party", "partydistinction")

Groups = dict[int, dict[int, bool]]  # {rival: {member: certain}}, as engine.control_groups gives them


def rival_variants(
    session: Session, rival_ids, groups_by_threshold: dict[float, Groups] | None = None
) -> dict[float | None, dict[int, list[Lookalike]]]:
    """{control threshold: {variant party id: the lookalikes naming the rivals it may be}} for the given (unmerged)
    rival parties and, per control threshold, their groups; under None, the rivals' own variants alone.

    One read of the matcher's blocks for every rival and every group member together."""
    ids = sorted(set(rival_ids))
    if not ids:
        return {None: {}}
    groups_by_threshold = groups_by_threshold or {}
    members = {member for groups in groups_by_threshold.values() for group in groups.values() for member in group}
    parties = session.execute(select(Party).where(in_ids(session, Party.id, members | set(ids)))).scalars().all()
    by_id = {party.id: party for party in parties}
    found = unsettled_variants(session, parties)
    out: dict[float | None, dict[int, list[Lookalike]]] = {None: _lookalikes(found, by_id, ids, {})}
    for threshold, groups in groups_by_threshold.items():
        out[threshold] = _lookalikes(found, by_id, ids, groups)
    return out


def variants_near(session: Session, rival_ids, party_ids, groups_of) -> dict[float | None, dict[int, list[Lookalike]]]:
    """What rival_variants gives, restricted to variants among the given parties (one vendor's part of the graph:
    no other party can give that vendor a finding), found the other way round: the parties' own likely variants
    are read (their few blocks), and `groups_of(ids)` ({control threshold: Groups}) tells which of those are a
    rival or in a rival's group, and whether the parties are. The matcher is symmetric, and whether a party is in a
    group depends only on what lies above it, so for these parties the answer is rival_variants'."""
    ids = sorted(set(rival_ids))
    near = set(party_ids)  # a rival too may be a variant of another rival's group member
    if not ids or not near:
        return {None: {}}
    likely = _likely_variants(session, near)
    matched = sorted(
        ((party_id, variant_id, score) for party_id in near for variant_id, score in likely[party_id]),
        key=lambda m: (-m[2], m[0], m[1]),
    )
    wanted = {party_id for party_id, _, _ in matched} | {variant_id for _, variant_id, _ in matched} | set(ids)
    by_id = {p.id: p for p in session.execute(select(Party).where(in_ids(session, Party.id, wanted))).scalars()}
    found = [LikelyMatch(by_id[party_id], by_id[variant_id], score) for party_id, variant_id, score in matched]
    # Turned round: the candidate is the party that may be a rival or in its group, the near party its variant.
    turned = [LikelyMatch(match.variant, match.party, match.score) for match in found]
    out: dict[float | None, dict[int, list[Lookalike]]] = {None: _lookalikes(turned, by_id, ids, {})}
    seeds = {match.party.id for match in turned} | {match.variant.id for match in turned}
    for threshold, groups in (groups_of(seeds) if seeds else {}).items():
        out[threshold] = _lookalikes(turned, by_id, ids, groups)
    return out


def _likely_variants(session: Session, party_ids: set[int]) -> dict[int, tuple[tuple[int, float], ...]]:
    """Each party's likely variants (parties.variants.unsettled_variants: (variant id, score)), kept between
    transactions per party under the counters of those two tables until a party or a distinction changes: a
    re-screen after a tie changed, which wrote neither, reads again only the parties no earlier screening asked
    about (a vendor under a large group has thousands, most of them shared with the group's other vendors).
    A party's answer does not depend on the others asked with it (unsettled_variants)."""

    def compute(keys: list[tuple[str, int]]) -> dict[tuple[str, int], tuple[tuple[int, float], ...]]:
        ids = [party_id for _, party_id in keys]
        # As the matcher reads them (id, kind, key), not as whole parties: building thousands took longer than
        # matching them. Whole parties for those matched only (variants_near).
        rows = session.execute(
            select(col(Party.id), col(Party.kind), col(Party.match_key)).where(in_ids(session, Party.id, ids))
        ).all()
        out: dict[int, list[tuple[int, float]]] = {party_id: [] for party_id in ids}
        for party_id, variant_id, score in unsettled_variant_ids(session, cast(list[Party], [_Key(*r) for r in rows])):
            out[party_id].append((variant_id, score))
        return {("screening.likely_variants", party_id): tuple(found) for party_id, found in out.items()}

    kept = transaction_cache.shared_per_party_unless_written(
        session, [("screening.likely_variants", party_id) for party_id in party_ids], _MATCHER_TABLES, compute
    )
    return {party_id: found for (_, party_id), found in kept.items()}


def _lookalikes(
    found: list[LikelyMatch], by_id: dict[int, Party], rival_ids: list[int], groups: Groups
) -> dict[int, list[Lookalike]]:
    """The matches naming a rival, or a member of its group that the variant is not in already; per variant and
    rival, the rival's own match first, then the most alike."""
    rivals = set(rival_ids)
    in_groups: dict[int, list[int]] = defaultdict(list)  # member -> the rivals whose group holds it
    for rival, group in groups.items():
        for member in group:
            if member != rival:
                in_groups[member].append(rival)
    best: dict[tuple[int, int], Lookalike] = {}
    for match in found:
        party, variant = match.party, match.variant
        named = []
        if party.id in rivals:
            named.append(Lookalike(variant, party, party.id, party.name, match.score))
        for rival in in_groups.get(party.id, ()):
            if variant.id not in groups[rival]:
                named.append(Lookalike(variant, party, rival, by_id[rival].name, match.score, groups[rival][party.id]))
        for lookalike in named:
            key = (variant.id, lookalike.rival_id)
            if key not in best or _rank(lookalike) < _rank(best[key]):
                best[key] = lookalike
    out: dict[int, list[Lookalike]] = defaultdict(list)
    for (variant_id, _), lookalike in sorted(best.items()):
        out[variant_id].append(lookalike)
    return dict(out)


def _rank(lookalike: Lookalike) -> tuple:
    return (lookalike.member, not lookalike.certain, -lookalike.score, lookalike.matched.id)


def _verdict(policy: Policy) -> Verdict | None:
    action = policy.action(Rule.MATCH)
    return None if action == Action.IGNORE else Verdict(action.value)


def as_possible_matches(
    screening: Screening, variants: dict[int, list[Lookalike]], rival_ids: set[int], policy: Policy
) -> Screening:
    """The screening with what the variants' runs found turned into possible-match findings against the rivals
    they may be; the variants' own findings and results kept only where a variant is a rival itself."""
    by_variant: dict[int, list[Finding]] = defaultdict(list)
    kept = []
    for finding in screening.findings:
        if finding.rival_party_id in variants:
            by_variant[finding.rival_party_id].append(finding)
            if finding.rival_party_id not in rival_ids:
                continue
        kept.append(finding)
    verdict = _verdict(policy)
    if verdict is not None:
        for variant_id, found in by_variant.items():
            for match in variants[variant_id]:
                if match.rival_id in rival_ids:
                    kept.append(_possible_match(match, found, verdict, screening))
    kept.sort(key=lambda f: (-f.verdict.severity, _ORDER[Rule(f.rule)], f.rival or ""))
    return dataclasses.replace(
        screening, findings=kept, rivals=[r for r in screening.rivals if r.rival_party_id in rival_ids]
    )


def _possible_match(match: Lookalike, found: list[Finding], verdict: Verdict, screening: Screening) -> Finding:
    strongest = max(found, key=lambda f: (f.verdict.severity, f.stake.high if f.stake else 0.0))
    as_of = screening.as_of or strongest.as_of
    text = explain.possible_match_text(
        verdict,
        match.variant.name,
        match.matched.name,
        match.score,
        [f.explanation for f in found],
        group_of=match.rival_name if match.member else None,
        certain=match.certain,
    )
    return Finding(
        rule=Rule.MATCH.value,
        verdict=verdict,
        rival=match.rival_name,
        explanation=text,
        rival_party_id=match.rival_id,
        stake=strongest.stake,
        paths=[path for f in found for path in f.paths][:5],
        path_ids=[path for f in found for path in f.path_ids][:5],
        sources=list({(s.description, s.verification_level, s.recorded): s for f in found for s in f.sources}.values()),
        as_of=as_of,
        matched_party_id=match.variant.id,
        matched_as_party_id=match.matched.id,
    )
