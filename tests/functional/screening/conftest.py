"""Fixtures of the screening tests: whether the verdicts stored agree with a live screening."""

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organization, OrgKind
from marketplace.screening.models import VerdictRecord
from marketplace.screening.services.screen import findings_record, screen_pairs


@pytest.fixture
def stored_against_live(session):
    """Every (buyer, vendor) pair whose stored verdict or findings (what buyer-side lists show) differ from a
    live screening now: [(buyer id, vendor id, stored verdict, live verdict)], empty when all agree. A pair
    with no stored verdict is screened live by the lists, so it cannot disagree."""

    def _compare() -> list[tuple[int, int, str, str]]:
        buyers = session.execute(select(Organization.id).where(Organization.kind == OrgKind.BUYER)).scalars().all()
        vendors = session.execute(select(Organization).where(Organization.kind == OrgKind.VENDOR)).scalars().all()
        stored = {(r.buyer_org_id, r.vendor_org_id): r for r in session.execute(select(VerdictRecord)).scalars()}
        out = []
        for (buyer, vendor), screening in sorted(screen_pairs(session, buyers, vendors).items()):
            record = stored.get((buyer, vendor))
            if record is None:
                continue
            if (record.verdict, record.findings) != (screening.verdict.value, findings_record(screening.findings)):
                out.append((buyer, vendor, record.verdict, screening.verdict.value))
        return out

    return _compare
