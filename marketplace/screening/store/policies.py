"""Reading a buyer's policy and waivers as screening needs them."""

from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.db_types import in_ids
from marketplace.screening.engine.verdicts import DEFAULT_ACTIONS, Finding, Policy, Rule, Verdict
from marketplace.screening.models import ScreeningPolicy, Waiver


def policy_for(session: Session, buyer_org_id: int) -> Policy:
    """The buyer's policy, or the defaults of docs/screening.md when it has not set one."""
    row = session.execute(
        select(ScreeningPolicy).where(col(ScreeningPolicy.buyer_org_id) == buyer_org_id)
    ).scalar_one_or_none()
    if row is None:
        return Policy()
    actions = {**DEFAULT_ACTIONS, **{Rule(k): v for k, v in (row.actions or {}).items()}}
    return Policy(
        exclude_at=row.exclude_at,
        review_at=row.review_at,
        people_window_months=row.people_window_months,
        actions=actions,
    )


def waiver_keys(session: Session, buyer_org_ids, vendor_org_ids) -> set[tuple[int, int, str, int | None]]:
    """(buyer, vendor, rule, rival party) for every waiver among these buyers and vendors."""
    rows = session.execute(
        select(col(Waiver.buyer_org_id), col(Waiver.vendor_org_id), col(Waiver.rule), col(Waiver.rival_party_id)).where(
            col(Waiver.buyer_org_id).in_(list(buyer_org_ids)), in_ids(session, Waiver.vendor_org_id, vendor_org_ids)
        )
    ).all()
    return {tuple(row) for row in cast(Any, rows)}


def apply_waivers(findings: list[Finding], buyer_org_id: int, vendor_org_id: int, keys) -> None:
    """Mark the review findings the buyer has waived; an exclude finding can never be waived."""
    for finding in findings:
        key = (buyer_org_id, vendor_org_id, str(finding.rule), finding.rival_party_id)
        finding.waived = finding.verdict == Verdict.REVIEW and key in keys
