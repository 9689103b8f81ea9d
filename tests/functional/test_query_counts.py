"""Pages do not multiply queries: each page's count of SQL statements is the same on the demo marketplace and on the
demo grown several times over (more jobs, bids, questions, vendors, notifications and parties), for a buyer, a
vendor and an admin. A page whose count grew with the data would read row by row (N+1)."""

from collections import Counter

import pytest
from sqlalchemy import event, select

from marketplace.accounts.models import Organization, User
from marketplace.bids.models import Bid
from marketplace.contracts.models import Contract
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.extensions import db
from marketplace.jobs.models import Job, Visibility
from marketplace.notifications.models import Notification
from marketplace.parties.models import CommercialKind, CommercialTie, Party, TieOrigin
from marketplace.screening.services.refresh import refresh_verdicts
from seed_data.seeding import DEMO_LOGINS
from tests.factories import (
    AdminFactory,
    BidFactory,
    InterestFactory,
    JobFactory,
    PartyFactory,
    QuestionFactory,
    VerifiedVendorFactory,
)

GROWTH = 6  # each kind of row added this many times over
SLACK = 1
# The most statements each page may read on the demo, the first time it is seen in a transaction that wrote the demo
# (so nothing kept between requests counts here: tests/concurrency/test_verdict_cache.py checks what is kept). The
# layout's unread count is read with the signed-in user; a vendor's checklist reads two statements; a job asked for
# twice in a request is read once. A page that keeps an answer under the screening generation reads the generation
# here too (one statement more than the answer alone; none of the answer once kept). Lower a ceiling when a page
# reads less.
CEILINGS = {
    ("buyer", "/jobs/"): 4,
    ("buyer", "/jobs/{job}"): 32,
    ("buyer", "/jobs/{job}/bids"): 23,
    ("buyer", "/contracts"): 2,
    ("buyer", "/contracts/{contract}"): 11,  # 10 and the generation: whether the vendor takes payouts is kept
    ("buyer", "/notifications/"): 1,
    ("buyer", "/vendors"): 6,
    ("buyer", "/vendors?q=label"): 5,
    ("buyer", "/vendors/{vendor}/screening"): 36,
    ("buyer", "/vendors/{vendor}"): 4,
    ("buyer", "/rivals"): 3,
    ("buyer", "/payments/statement"): 1,
    ("buyer", "/team"): 3,
    ("vendor", "/jobs/"): 29,
    ("vendor", "/jobs/{job}"): 8,
    ("vendor", "/bids/"): 4,
    ("vendor", "/bids/{bid}"): 6,
    ("vendor", "/notifications/"): 2,
    ("vendor", "/disclosure/"): 5,
    ("vendor", "/disclosure/{version}"): 6,
    ("vendor", "/profile"): 2,
    ("vendor", "/contracts"): 3,
    ("admin", "/admin/disclosures"): 2,
    ("admin", "/admin/disclosures?status=all"): 1,
    ("admin", "/admin/disclosures/{queued}"): 92,
    ("admin", "/admin/organizations"): 2,
    ("admin", "/admin/organizations/{vendor}"): 3,
    ("admin", "/admin/parties/"): 5,
    ("admin", "/admin/parties/{party}"): 17,
    ("admin", "/admin/audit"): 4,
}

# Pages by role (every page bench/pages.py measures); {job}, {contract}, {party}, {vendor}, {bid}, {version} and
# {queued} are the demo rows the page is about.
PAGES = {
    "buyer": [
        "/jobs/",
        "/jobs/{job}",
        "/jobs/{job}/bids",
        "/contracts",
        "/contracts/{contract}",
        "/notifications/",
        "/vendors",
        "/vendors?q=label",
        "/vendors/{vendor}/screening",
        "/vendors/{vendor}",
        "/rivals",
        "/payments/statement",
        "/team",
    ],
    "vendor": [
        "/jobs/",
        "/jobs/{job}",
        "/bids/",
        "/bids/{bid}",
        "/notifications/",
        "/disclosure/",
        "/disclosure/{version}",
        "/profile",
        "/contracts",
    ],
    "admin": [
        "/admin/disclosures",
        "/admin/disclosures?status=all",
        "/admin/disclosures/{queued}",
        "/admin/organizations",
        "/admin/organizations/{vendor}",
        "/admin/parties/",
        "/admin/parties/{party}",
        "/admin/audit",
    ],
}


def _counted(client, path: str) -> tuple[int, list[str]]:
    seen = []

    def count(_conn, _cursor, statement, *_args, **_kwargs):
        seen.append(statement.split("\n")[0][:90])

    connection = db.session.connection()
    event.listen(connection, "before_cursor_execute", count)
    try:
        status = client.get(path).status_code
    finally:
        event.remove(connection, "before_cursor_execute", count)
    return status, seen


def _grow(session, buyer: User, vendor: User, demo_job: Job) -> None:
    """Every kind of row a page lists, GROWTH times over, where the demo users see them: on the pages' own job (its
    bids) and vendor (the owners its screening page weighs) too."""
    vendor_party_id = session.get(Organization, vendor.org_id).party_id
    registry_party_id = session.execute(select(Party.id).order_by(Party.id).limit(1)).scalar_one()
    for n in range(GROWTH):
        other_vendor = VerifiedVendorFactory()
        job = JobFactory(buyer_org_id=buyer.org_id, title=f"Grown job {n}", visibility=Visibility.PUBLIC)
        JobFactory(buyer_org_id=buyer.org_id, title=f"Grown confidential job {n}", visibility=Visibility.CONFIDENTIAL)
        BidFactory(job_id=job.id, vendor_org_id=vendor.org_id)
        BidFactory(job_id=job.id, vendor_org_id=other_vendor.org_id)
        BidFactory(job_id=demo_job.id, vendor_org_id=other_vendor.org_id)
        QuestionFactory(job_id=job.id, vendor_org_id=vendor.org_id)
        for user in (buyer, vendor):
            session.add(Notification(user_id=user.id, kind="grown", message=f"Grown {n}", link=f"/jobs/{job.id}"))
        holder = PartyFactory(name=f"Grown Holding {n} AG")
        InterestFactory(interested_party_id=holder.id, subject_party_id=PartyFactory().id, share_exact=40.0)
        InterestFactory(interested_party_id=holder.id, subject_party_id=vendor_party_id, share_exact=1.0)
        # A commercial tie of the registry's party page's own party, to another party each time.
        session.add(
            CommercialTie(
                vendor_party_id=registry_party_id,
                counterparty_id=PartyFactory(name=f"Grown Customer {n} Ltd").id,
                kind=CommercialKind.CUSTOMER,
                revenue_share_pct=5.0,
                origin=TieOrigin.ADMIN_FACT,
            )
        )
    session.flush()


@pytest.fixture
def demo(seed, session):
    result = seed()
    assert result.exit_code == 0, result.output
    users = {role: session.execute(select(User).where(User.email == email)).scalar_one() for role, email in DEMO_LOGINS}
    buyer_org = session.get(Organization, users["buyer"].org_id)
    job = session.execute(select(Job).where(Job.buyer_org_id == buyer_org.id).order_by(Job.id)).scalars().first()
    return users, job


def _rows(session, users, job) -> dict[str, int]:
    contract = session.execute(select(Contract).where(Contract.buyer_org_id == users["buyer"].org_id)).scalars().first()
    party = session.execute(select(Party).order_by(Party.id)).scalars().first()
    vendor_org_id = users["vendor"].org_id
    first = lambda query: session.execute(query.limit(1)).scalar_one()  # noqa: E731
    return {
        "job": job.id,
        "contract": contract.id,
        "party": party.id,
        "vendor": vendor_org_id,
        "bid": first(select(Bid.id).where(Bid.vendor_org_id == vendor_org_id).order_by(Bid.id)),
        "version": first(
            select(DisclosureVersion.id)
            .where(DisclosureVersion.vendor_org_id == vendor_org_id)
            .order_by(DisclosureVersion.id.desc())
        ),
        "queued": first(
            select(DisclosureVersion.id)
            .where(DisclosureVersion.status == DisclosureStatus.SUBMITTED)
            .order_by(DisclosureVersion.id)
        ),
    }


def test_every_page_reads_the_same_number_of_statements_however_much_data_there_is(client, session, demo, login_as):
    users, job = demo
    users["admin"] = AdminFactory()
    session.flush()
    rows = _rows(session, users, job)

    def counts() -> dict[tuple[str, str], tuple[int, list[str]]]:
        found = {}
        for role, paths in PAGES.items():
            login_as(users[role])
            for path in paths:
                found[role, path] = _counted(client, path.format(**rows))
        return found

    before = counts()
    _grow(session, users["buyer"], users["vendor"], job)
    refresh_verdicts(session, None)  # as a vendor's filing or a fact does: new vendors have stored verdicts
    after = counts()
    assert all(status == 200 for status, _ in before.values()), {k: v for k, v in before.items() if v[0] != 200}
    over = {page: (len(seen), CEILINGS[page]) for page, (_, seen) in before.items() if len(seen) > CEILINGS[page]}
    assert over == {}, f"statements on the demo over the page's ceiling: {over}"
    # One statement either way is the identity map: a row a page reads twice is read again only if nothing held it in
    # between. Reading row by row would add at least GROWTH.
    grew = {
        page: (len(before[page][1]), len(after[page][1]))
        for page in before
        if len(after[page][1]) > len(before[page][1]) + SLACK
    }
    added = {page: list((Counter(after[page][1]) - Counter(before[page][1])).items())[:3] for page in grew}
    assert grew == {}, f"statements per page, demo -> grown {GROWTH}x: {grew}; the statements added: {added}"
