"""Who may reach a contract: its two parties (and admins, to read). Strangers get 404 on every contract and
payment address; the party whose action it is not gets 403."""

import io

import pytest
from sqlalchemy import select

from marketplace.contracts.models import Delivery, DeliveryFile, MilestoneStatus
from tests.factories import AdminFactory, BuyerFactory, VendorFactory
from tests.functional.payments.stripe_support import make_deal, only_milestone

CONTRACT_ADDRESSES = [
    ("GET", "/contracts/{c}"),
    ("GET", "/contracts/{c}/milestones"),
    ("POST", "/contracts/{c}/milestones"),
    ("POST", "/contracts/{c}/milestones/{m}/fund"),
    ("POST", "/contracts/{c}/milestones/{m}/check-payment"),
    ("GET", "/contracts/{c}/milestones/{m}/deliver"),
    ("POST", "/contracts/{c}/milestones/{m}/deliver"),
    ("POST", "/contracts/{c}/milestones/{m}/accept"),
    ("POST", "/contracts/{c}/milestones/{m}/reject"),
    ("GET", "/contracts/{c}/milestones/{m}/cancel"),
    ("POST", "/contracts/{c}/milestones/{m}/cancel"),
    ("POST", "/contracts/{c}/milestones/{m}/retry-payout"),
    ("POST", "/contracts/{c}/pause"),
    ("POST", "/contracts/{c}/continue"),
    ("GET", "/contracts/{c}/end"),
    ("POST", "/contracts/{c}/end"),
    ("POST", "/contracts/{c}/rating"),
    ("GET", "/contracts/{c}/files/{f}"),
]
# The pages that ask the buyer to confirm an action answer as the action does.
CONFIRMATIONS = [("GET", "/contracts/{c}/milestones/{m}/cancel"), ("GET", "/contracts/{c}/end")]
BUYER_ACTIONS = [
    a
    for a in CONTRACT_ADDRESSES
    if (a[0] == "POST" or a in CONFIRMATIONS) and "deliver" not in a[1] and "retry" not in a[1]
]
VENDOR_ACTIONS = [a for a in CONTRACT_ADDRESSES if "deliver" in a[1] or "retry" in a[1]]


@pytest.fixture
def deal(session, stripe_config, tmp_path):
    deal = make_deal(session, total_minor=300_000)
    milestone = only_milestone(session, deal)
    milestone.status = MilestoneStatus.DELIVERED
    delivery = Delivery(milestone_id=milestone.id, note="Done.")
    session.add(delivery)
    session.flush()
    deal.extra["file"] = DeliveryFile(
        delivery_id=delivery.id, filename="a.csv", stored_name="x" * 40, content_type="text/csv", size_bytes=1
    )
    session.add(deal.extra["file"])
    session.commit()
    deal.extra["milestone"] = milestone.id
    return deal


def address(deal, path: str, contract_id: int | None = None) -> str:
    return path.format(c=contract_id or deal.contract.id, m=deal.extra["milestone"], f=deal.extra["file"].id)


def call(client, method: str, url: str):
    if method == "GET":
        return client.get(url)
    return client.post(url, data={"note": "x", "stars": "5"}, content_type="multipart/form-data")


@pytest.mark.parametrize(("method", "path"), CONTRACT_ADDRESSES, ids=[f"{m} {p}" for m, p in CONTRACT_ADDRESSES])
@pytest.mark.parametrize("stranger", [BuyerFactory, VendorFactory], ids=["other buyer", "other vendor"])
def test_strangers_get_404_everywhere(client, login_as, deal, method, path, stranger):
    login_as(stranger())
    assert call(client, method, address(deal, path)).status_code == 404


@pytest.mark.parametrize(("method", "path"), CONTRACT_ADDRESSES, ids=[f"{m} {p}" for m, p in CONTRACT_ADDRESSES])
def test_a_missing_contract_is_404_even_to_a_party(client, login_as, deal, method, path):
    login_as(deal.buyer)
    assert call(client, method, address(deal, path, deal.contract.id + 1000)).status_code == 404


@pytest.mark.parametrize(("method", "path"), BUYER_ACTIONS, ids=[f"{m} {p}" for m, p in BUYER_ACTIONS])
def test_the_vendor_cannot_take_the_buyers_actions(client, login_as, deal, method, path):
    login_as(deal.vendor)
    assert call(client, method, address(deal, path)).status_code == 403


@pytest.mark.parametrize(("method", "path"), VENDOR_ACTIONS, ids=[f"{m} {p}" for m, p in VENDOR_ACTIONS])
def test_the_buyer_cannot_take_the_vendors_actions(client, login_as, deal, method, path):
    login_as(deal.buyer)
    assert call(client, method, address(deal, path)).status_code == 403


@pytest.mark.parametrize(
    ("method", "path"), BUYER_ACTIONS + VENDOR_ACTIONS, ids=[f"{m} {p}" for m, p in BUYER_ACTIONS + VENDOR_ACTIONS]
)
def test_an_admin_reads_but_does_not_act(client, login_as, deal, method, path):
    login_as(AdminFactory())
    assert call(client, method, address(deal, path)).status_code == 403


def test_a_colleague_of_the_buyer_is_a_party_too(client, login_as, deal):
    login_as(BuyerFactory(org_id=deal.buyer.org_id))
    assert client.get(f"/contracts/{deal.contract.id}").status_code == 200


def test_a_milestone_of_another_contract_is_404(client, login_as, deal, session):
    other = make_deal(session)
    login_as(deal.buyer)
    url = f"/contracts/{deal.contract.id}/milestones/{only_milestone(session, other).id}/cancel"
    assert client.post(url).status_code == 404


def test_a_file_of_another_contract_is_404_to_this_contracts_party(client, login_as, deal, session):
    other = make_deal(session)
    login_as(other.buyer)
    assert client.get(f"/contracts/{other.contract.id}/files/{deal.extra['file'].id}").status_code == 404


def test_strangers_do_not_see_the_contract_in_lists_or_statements(client, login_as, deal):
    login_as(BuyerFactory())
    assert f"/contracts/{deal.contract.id}" not in client.get("/contracts").text
    assert "No money has moved yet." in client.get("/payments/statement").text


def test_payment_pages_need_the_right_role(client, login_as, deal):
    login_as(deal.buyer)
    assert client.post("/payments/payouts/refresh").status_code == 403
    login_as(AdminFactory())
    assert client.get("/payments/payouts").status_code == 403
    assert client.get("/payments/statement").status_code == 200


def test_uploads_are_kept_outside_the_web_root(client, login_as, deal, session, gateway, stripe_sim):
    """A delivered file is served only through its contract's address, under a random name."""
    from tests.functional.payments.stripe_support import fund

    milestone = only_milestone(session, deal)
    milestone.status = MilestoneStatus.PENDING
    fund(session, deal, gateway, stripe_sim, milestone)
    login_as(deal.vendor)
    client.post(
        f"/contracts/{deal.contract.id}/milestones/{milestone.id}/deliver",
        content_type="multipart/form-data",
        data={"note": "Files", "files": [(io.BytesIO(b"x"), "../../etc/passwd", "text/plain")]},
    )
    stored = session.execute(select(DeliveryFile).order_by(DeliveryFile.id.desc())).scalars().first()
    assert stored.filename == "passwd"
    assert "/" not in stored.stored_name and len(stored.stored_name) == 40
