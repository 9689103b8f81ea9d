"""Possible matches: a party that may be a buyer's rival under another name.

Each rival's likely variants (parties.variants: the matcher on stored keys, never a pair an admin marked as not
the same; a merged party is the rival already) are screened as if each were the rival, with the same rules. What
those rules find becomes one *possible match* finding per variant and rival, whose verdict is the policy's action
for the match rule (review by default): only a variant whose ties would matter gives a finding. Once an admin
merges the two, the rules find it as the rival's own; once marked as not the same, the finding is gone.
"""

import dataclasses
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.parties.models import Party
from marketplace.parties.variants import LikelyMatch, unsettled_variants
from marketplace.screening import explain
from marketplace.screening.verdicts import Action, Finding, Policy, Rule, Screening, Verdict

_ORDER = {rule: position for position, rule in enumerate(Rule)}


def rival_variants(session: Session, rival_ids) -> dict[int, list[LikelyMatch]]:
    """{variant party id: the matches naming the rivals it may be}, for the given (unmerged) rival parties."""
    ids = sorted(set(rival_ids))
    if not ids:
        return {}
    rivals = session.execute(select(Party).where(Party.id.in_(ids))).scalars().all()
    found: dict[int, list[LikelyMatch]] = defaultdict(list)
    for match in unsettled_variants(session, rivals):
        found[match.variant.id].append(match)
    return dict(found)


def _verdict(policy: Policy) -> Verdict | None:
    action = policy.action(Rule.MATCH)
    return None if action == Action.IGNORE else Verdict(action.value)


def as_possible_matches(screening: Screening, variants: dict[int, list[LikelyMatch]], rival_ids: set[int],
                        policy: Policy) -> Screening:
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
                if match.party.id in rival_ids:
                    kept.append(_possible_match(match, found, verdict, screening))
    kept.sort(key=lambda f: (-f.verdict.severity, _ORDER[Rule(f.rule)], f.rival or ""))
    return dataclasses.replace(screening, findings=kept,
                               rivals=[r for r in screening.rivals if r.rival_party_id in rival_ids])


def _possible_match(match: LikelyMatch, found: list[Finding], verdict: Verdict, screening: Screening) -> Finding:
    strongest = max(found, key=lambda f: (f.verdict.severity, f.stake.high if f.stake else 0.0))
    as_of = screening.as_of or strongest.as_of
    text = explain.possible_match_text(verdict, match.variant.name, match.party.name, match.score,
                                       [f.explanation for f in found])
    return Finding(rule=Rule.MATCH.value, verdict=verdict, rival=match.party.name, explanation=text,
                   rival_party_id=match.party.id, stake=strongest.stake,
                   paths=[path for f in found for path in f.paths][:5],
                   path_ids=[path for f in found for path in f.path_ids][:5],
                   sources=list({(s.description, s.verification_level, s.recorded): s
                                 for f in found for s in f.sources}.values()),
                   as_of=as_of, matched_party_id=match.variant.id)
