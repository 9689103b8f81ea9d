"""The vendor search done by the database: filters, counts and pages over the stored verdicts.

Each search is checked page by page against the verdicts the vendors were given, so a wrong count, a wrong
filter or a page that skips or repeats a vendor shows up.
"""

import math
import re

import pytest
from sqlalchemy import event, func, select

from marketplace.accounts.models import Organization, VendorProfile
from marketplace.db_types import utcnow
from marketplace.disclosures.models import DisclosureStatus
from marketplace.extensions import db
from marketplace.screening.models import VerdictRecord, Waiver
from marketplace.screening.services.refresh import refresh_verdicts
from marketplace.screening.services.vendor_search import VendorSearch, search_vendors
from tests.factories import (
    BuyerFactory,
    DisclosureFactory,
    InterestFactory,
    PartyFactory,
    RivalFactory,
    VendorOrgFactory,
)

STAKES = {"clear": None, "review": 15.0, "exclude": 49.0}


def vendor(session, name: str, verdict: str, rival, modalities=(), approved: bool = True) -> Organization:
    """A vendor the rival gives this verdict (approved disclosure: no unverified finding unless asked)."""
    org = VendorOrgFactory(name=name)
    if approved:
        DisclosureFactory(vendor_org_id=org.id, status=DisclosureStatus.APPROVED, decided_at=utcnow())
    session.execute(select(VendorProfile).where(VendorProfile.org_id == org.id)).scalar_one().modalities = list(
        modalities
    )
    if STAKES[verdict] is not None:
        InterestFactory(interested_party_id=rival.id, subject_party_id=org.party_id, share_exact=STAKES[verdict])
    session.flush()
    return org


@pytest.fixture
def crowd(session):
    """40 vendors "Crowd 00".."Crowd 39" for one buyer: n % 3 gives exclude, review, clear; even ones do images.

    Another buyer names no rival (all clear for it), and a suspended excluded vendor has a stored verdict: neither
    may leak into the buyer's counts.
    """
    buyer = BuyerFactory()
    rival = PartyFactory(name="Cobalt Social")
    RivalFactory(buyer_org_id=buyer.org_id, party_id=rival.id)
    other = BuyerFactory()
    verdicts = {}
    for n in range(40):
        verdict = ("exclude", "review", "clear")[n % 3]
        name = f"Crowd {n:02d}"
        vendor(session, name, verdict, rival, ["image"] if n % 2 == 0 else ["text"])
        verdicts[name] = verdict
    suspended = vendor(session, "Crowd Suspended", "exclude", rival)
    refresh_verdicts(session, None)
    suspended.suspended_at = utcnow()
    session.flush()
    return {"buyer": buyer, "other": other, "rival": rival, "verdicts": verdicts}


def expected(verdicts: dict[str, str], search: VendorSearch, modalities: dict[str, str]) -> tuple[list, dict, int]:
    """(rows as (name, verdict), verdict counts, hidden excluded) worked out from the verdicts given."""
    found = sorted(
        (name, verdict)
        for name, verdict in verdicts.items()
        if all(word.lower() in name.lower() for word in search.text.split())
        and (not search.modality or modalities[name] == search.modality)
    )
    counts = {v: sum(1 for _, verdict in found if verdict == v) for v in ("clear", "review", "exclude")}
    if search.verdict:
        found = [row for row in found if row[1] == search.verdict]
    shown_excluded = search.show_excluded or search.verdict == "exclude"
    hidden = 0 if shown_excluded else sum(1 for _, verdict in found if verdict == "exclude")
    return [row for row in found if shown_excluded or row[1] != "exclude"], counts, hidden


def every_page(session, user, search: VendorSearch, per_page: int):
    """Every page of the search, in order, and the first page's VendorPage."""
    first = search_vendors(session, user, search, per_page)
    rows = []
    for number in range(1, first.pages + 1):
        page = search_vendors(session, user, VendorSearch(**{**search.__dict__, "page": number}), per_page)
        assert (page.page, page.pages, page.total) == (number, first.pages, first.total)
        assert len(page.rows) == (per_page if number < first.pages else first.total - per_page * (first.pages - 1))
        rows += page.rows
    return first, rows


SEARCHES = [
    VendorSearch(text=text, verdict=verdict, modality=modality, show_excluded=show)
    for text in ("", "crowd 1")
    for verdict in ("", "clear", "review", "exclude")
    for modality in ("", "image")
    for show in (False, True)
]


@pytest.mark.parametrize(
    "search",
    SEARCHES,
    ids=lambda s: f"q={s.text or '-'},v={s.verdict or '-'},m={s.modality or '-'},x={int(s.show_excluded)}",
)
def test_every_page_of_every_search_holds_exactly_the_vendors_it_should(session, crowd, search):
    modalities = {name: "image" if int(name[-2:]) % 2 == 0 else "text" for name in crowd["verdicts"]}
    want, counts, hidden = expected(crowd["verdicts"], search, modalities)

    first, rows = every_page(session, crowd["buyer"], search, per_page=4)

    assert [(row.org.name, str(row.verdict)) for row in rows] == want
    assert first.total == len(want) and first.pages == max(1, math.ceil(len(want) / 4))
    assert first.verdict_counts == counts and first.hidden_excluded == hidden
    for row in rows:
        # The reasons are the stored findings of that very vendor.
        assert [f.verdict for f in row.screening.findings] == ([] if row.verdict == "clear" else [row.verdict])
        assert all("Cobalt Social" in reason for reason in row.reasons)


def test_pages_out_of_range_are_clamped(session, crowd):
    last = search_vendors(session, crowd["buyer"], VendorSearch(page=99), per_page=4)
    first = search_vendors(session, crowd["buyer"], VendorSearch(page=-3), per_page=4)
    # 40 vendors less 14 excluded: 26, on 7 pages of 4, the last holding 2.
    assert (last.page, last.pages, last.total, len(last.rows)) == (7, 7, 26, 2)
    assert [row.org.name for row in last.rows] == ["Crowd 37", "Crowd 38"]
    assert first.page == 1 and [row.org.name for row in first.rows] == ["Crowd 01", "Crowd 02", "Crowd 04", "Crowd 05"]
    nothing = search_vendors(session, crowd["buyer"], VendorSearch(text="nobody", page=5), per_page=4)
    assert (nothing.rows, nothing.total, nothing.page, nothing.pages, nothing.hidden_excluded) == ([], 0, 1, 1, 0)


def test_another_buyer_counts_its_own_verdicts(session, crowd):
    page = search_vendors(session, crowd["other"], VendorSearch(text="crowd"), per_page=4)
    assert page.verdict_counts == {"clear": 40, "review": 0, "exclude": 0}
    assert page.total == 40 and page.hidden_excluded == 0


def test_the_page_shows_the_counts_and_pages_the_database_worked_out(client, login_as, crowd):
    login_as(crowd["buyer"])
    first = client.get("/vendors", query_string={"q": "crowd"}).get_data(as_text=True)
    assert re.search(r"26 vendors · page 1 of 2", first)
    assert re.search(r'data-testid="hidden-excluded">14 excluded vendors hidden', first)
    second = client.get("/vendors", query_string={"q": "crowd", "page": 2}).get_data(as_text=True)
    found = re.findall(
        r'data-testid="vendor-row" data-verdict="(\w+)" class="([^"]*)">\s*<td><a href="[^"]+">'
        r"([^<]+)</a>",
        second,
    )
    assert [(name, verdict) for verdict, _, name in found] == [("Crowd 38", "clear")]
    shown = client.get("/vendors", query_string={"q": "crowd", "show_excluded": "y", "page": 2}).get_data(as_text=True)
    assert re.search(r"40 vendors · page 2 of 2", shown) and 'data-testid="hidden-excluded"' not in shown
    greyed = re.findall(r'data-verdict="exclude" class="greyed">\s*<td><a href="[^"]+">([^<]+)</a>', shown)
    assert greyed == ["Crowd 27", "Crowd 30", "Crowd 33", "Crowd 36", "Crowd 39"]


def test_a_vendor_without_a_stored_verdict_is_screened_live_counted_and_not_stored(session, crowd):
    buyer = crowd["buyer"]
    late_exclude = vendor(session, "Crowd 40", "exclude", crowd["rival"])
    late_unverified = vendor(session, "Crowd 41", "clear", crowd["rival"], approved=False)

    page = search_vendors(session, buyer, VendorSearch(text="crowd"), per_page=4)
    assert page.verdict_counts == {"clear": 13, "review": 14, "exclude": 15}
    assert page.hidden_excluded == 15 and page.total == 27

    excluded = search_vendors(session, buyer, VendorSearch(verdict="exclude", page=4), per_page=4)
    assert [row.org.name for row in excluded.rows] == ["Crowd 36", "Crowd 39", "Crowd 40"]
    assert "Cobalt Social holds 49%" in excluded.rows[-1].reasons[0]
    review = search_vendors(session, buyer, VendorSearch(verdict="review", page=4), per_page=4)
    assert [(row.org.name, row.verdict) for row in review.rows] == [("Crowd 37", "review"), ("Crowd 41", "review")]
    assert [f.rule for f in review.rows[-1].screening.findings] == ["unverified"]
    # Not in the clear ones, nor hidden among them.
    clear = search_vendors(session, buyer, VendorSearch(verdict="clear", text="crowd"), per_page=50)
    assert clear.total == 13 and {"Crowd 40", "Crowd 41"}.isdisjoint(row.org.name for row in clear.rows)
    # A GET page stores nothing: the next refresh does.
    stored = (
        session.execute(
            select(VerdictRecord.vendor_org_id).where(
                VerdictRecord.vendor_org_id.in_([late_exclude.id, late_unverified.id])
            )
        )
        .scalars()
        .all()
    )
    assert stored == []


def test_without_a_queue_every_unstored_vendor_is_screened_live_however_many(app, session, crowd, monkeypatch):
    """No worker would ever store them: the limit on what one page screens applies only with a queue (the queue's
    side: tests/queue/test_new_lab_queue.py)."""
    assert not app.config["REDIS_URL"]
    monkeypatch.setitem(app.config, "SCREENED_LIVE_UP_TO", 0)
    vendor(session, "Crowd 40", "exclude", crowd["rival"])
    vendor(session, "Crowd 41", "review", crowd["rival"])
    page = search_vendors(session, crowd["buyer"], VendorSearch(text="crowd", show_excluded=True), per_page=50)
    assert page.unscreened == 0 and page.total == 42
    assert {"Crowd 40", "Crowd 41"} <= {row.org.name for row in page.rows}


def test_a_waived_review_is_still_shown_and_counted_as_review(session, crowd):
    buyer = crowd["buyer"]
    waived = session.execute(select(Organization).where(Organization.name == "Crowd 01")).scalar_one()
    session.add(
        Waiver(
            buyer_org_id=buyer.org_id,
            vendor_org_id=waived.id,
            rule="ownership",
            rival_party_id=crowd["rival"].id,
            reason="We know their board.",
        )
    )
    session.flush()
    refresh_verdicts(session, None, buyer_org_ids=[buyer.org_id])

    page = search_vendors(session, buyer, VendorSearch(verdict="review"), per_page=4)
    assert page.verdict_counts == {"clear": 13, "review": 13, "exclude": 14} and page.total == 13
    [row] = [row for row in page.rows if row.org.name == "Crowd 01"]
    assert row.verdict == "review" and [f.waived for f in row.screening.findings] == [True]


def _statements_during(action) -> list[str]:
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement.lower())

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    return seen


def _reads_the_graph(statements: list[str]) -> bool:
    return any(re.search(r"\bfrom interest\b|\bjoin interest\b", statement) for statement in statements)


def test_with_every_verdict_stored_the_graph_is_never_read(session, crowd):
    buyer = crowd["buyer"]
    assert (
        session.scalar(
            select(func.count()).select_from(VerdictRecord).where(VerdictRecord.buyer_org_id == buyer.org_id)
        )
        == 41
    )

    statements = _statements_during(lambda: search_vendors(session, buyer, VendorSearch(page=3), per_page=4))

    assert not _reads_the_graph(statements)
    # The vendors without a stored verdict, the counts, the page: three statements, however many vendors.
    assert len(statements) == 3
    # One vendor without a stored verdict is screened, and only it.
    vendor(session, "Crowd 40", "exclude", crowd["rival"])
    statements = _statements_during(lambda: search_vendors(session, buyer, VendorSearch(page=3), per_page=4))
    assert _reads_the_graph(statements)
