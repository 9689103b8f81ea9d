"""A contract's page keeps its milestones, deliveries, files, rating and job between requests
(marketplace.transaction_cache), and never shows them older than the last commit: each kind of change is committed
for real after the rows were kept, and the very next transaction (a request) must show it. Who may see the contract,
and what either side may do now (which the clock decides too), are decided on every request."""

import re
import uuid
from datetime import timedelta
from types import SimpleNamespace

import pytest
import time_machine
from sqlalchemy import update

from marketplace import transaction_cache
from marketplace.accounts.models import User
from marketplace.contracts import service as contracts
from marketplace.contracts.models import (
    Delivery,
    DeliveryFile,
    Milestone,
    MilestoneStatus,
    Rating,
)
from marketplace.db_types import utcnow
from marketplace.errors import NotVisible
from marketplace.extensions import db
from marketplace.jobs.models import Job
from tests.concurrency.harness import recording_statements
from tests.factories import BuyerFactory, ContractFactory, JobFactory, VendorFactory

KEPT = {"milestone", "delivery", "deliveryfile", "rating", "job"}


def _read_from(statements: list[str]) -> set[str]:
    """The tables the statements select from (not those a join names: the page's money statement joins the job and
    its milestones to each ledger entry, and is read on every request)."""
    return {name for statement in statements for name in re.findall(r"\bFROM (\w+)", statement)}


def _world() -> dict:
    """An active contract of one milestone between a lab and a vendor, and a lab with nothing to do with it."""
    buyer, vendor = BuyerFactory(), VendorFactory()
    job = JobFactory(buyer_org_id=buyer.org_id, title="Radiology boxes")
    contract = ContractFactory(job_id=job.id, buyer_org_id=buyer.org_id, vendor_org_id=vendor.org_id)
    milestone = db.session.query(Milestone).filter_by(contract_id=contract.id).one()
    return {
        "buyer": buyer.id,
        "vendor": vendor.id,
        "stranger": BuyerFactory().id,
        "contract": contract.id,
        "milestone": milestone.id,
        "job": job.id,
        "lab": buyer.org_id,
        "vendor_org": vendor.org_id,
    }


def _page(app, w: dict, who: str = "buyer", statements: list[str] | None = None) -> dict:
    """What the contract's page shows this user, in a transaction of its own (as a request has)."""

    def read() -> dict:
        page = contracts.contract_page(db.session, db.session.get(User, w[who]), w["contract"])
        return {
            "job": page.job.title,
            "milestones": [(v.milestone.status, sorted(v.actions)) for v in page.milestones],
            "deliveries": [
                (d.delivery.note, [f.filename for f in d.files]) for v in page.milestones for d in v.deliveries
            ],
            "rating": page.rating.stars if page.rating else None,
            "actions": sorted(page.contract_actions),
        }

    shown, seen = recording_statements(app, read)
    (statements if statements is not None else []).extend(seen)
    return shown


def _funded(w):
    db.session.execute(update(Milestone).where(Milestone.id == w["milestone"]).values(status=MilestoneStatus.FUNDED))


def _delivered(w, when=None):
    db.session.execute(update(Milestone).where(Milestone.id == w["milestone"]).values(status=MilestoneStatus.DELIVERED))
    delivery = Delivery(milestone_id=w["milestone"], note="Batch one.", delivered_by_id=w["vendor"])
    if when is not None:
        delivery.delivered_at = when
    db.session.add(delivery)
    db.session.flush()
    return delivery.id


def _a_file(w):
    delivery = _delivered(w)
    db.session.add(
        DeliveryFile(
            delivery_id=delivery,
            filename="boxes.csv",
            stored_name=uuid.uuid4().hex,
            content_type="text/csv",
            size_bytes=3,
        )
    )


def _rated(w):
    db.session.add(Rating(contract_id=w["contract"], vendor_org_id=w["vendor_org"], buyer_org_id=w["lab"], stars=4))


def _job_renamed(w):
    db.session.execute(update(Job).where(Job.id == w["job"]).values(title="Radiology boxes, phase two"))


CHANGES = {
    "a milestone funded": (_funded, lambda p: p["milestones"][0][0] == MilestoneStatus.FUNDED),
    "a delivery": (_delivered, lambda p: p["deliveries"] == [("Batch one.", [])]),
    "a delivered file": (_a_file, lambda p: p["deliveries"] == [("Batch one.", ["boxes.csv"])]),
    "a rating": (_rated, lambda p: p["rating"] == 4),
    "the job renamed": (_job_renamed, lambda p: p["job"] == "Radiology boxes, phase two"),
}


def test_the_contracts_rows_are_kept_without_reading_them_again(race_app, build):
    w = build(_world)
    first = _page(race_app, w)
    assert first["milestones"] == [(MilestoneStatus.PENDING, ["cancel", "fund"])]
    statements: list[str] = []
    assert _page(race_app, w, statements=statements) == first
    assert not _read_from(statements) & KEPT
    # The contract itself is read on every request: it decides who may see the page.
    assert "contract" in _read_from(statements)


@pytest.mark.parametrize("kind", list(CHANGES))
def test_the_next_transaction_after_a_change_shows_it(race_app, build, kind):
    change, shown = CHANGES[kind]
    w = build(_world)
    assert not shown(_page(race_app, w))
    build(lambda: change(w))
    assert shown(_page(race_app, w))


def test_a_stranger_is_refused_whoever_read_the_page_before(race_app, build):
    w = build(_world)
    _page(race_app, w, "buyer")
    _page(race_app, w, "vendor")
    with pytest.raises(NotVisible):
        _page(race_app, w, "stranger")


def test_the_labs_time_to_decide_ends_by_the_clock_while_the_rows_stay_kept(race_app, build):
    """Nothing is written when the acceptance deadline passes: the kept delivery is judged again by each request."""
    w = build(_world)
    build(lambda: _delivered(w, when=utcnow()))
    assert _page(race_app, w)["milestones"] == [(MilestoneStatus.DELIVERED, ["accept", "reject"])]
    days = race_app.config.get("ACCEPTANCE_DAYS", 14)
    with time_machine.travel(utcnow() + timedelta(days=days, minutes=1)):
        statements: list[str] = []
        assert _page(race_app, w, statements=statements)["milestones"] == [(MilestoneStatus.DELIVERED, ["accept"])]
        assert not _read_from(statements) & KEPT


def test_every_table_the_kept_rows_read_is_in_their_list(race_app, build):
    w = build(_world)
    build(lambda: (_a_file(w), _rated(w)))

    # (The contract is read by the page itself, before: only its id and its job's are asked for.)
    contract = SimpleNamespace(id=w["contract"], job_id=w["job"])
    rows, statements = recording_statements(race_app, lambda: contracts._read_page_rows(db.session, contract))
    assert rows.files and rows.rating
    assert _read_from(statements) == set(contracts.CONTRACT_PAGE_TABLES) == KEPT
    assert KEPT <= transaction_cache.KEPT_TABLES
