"""Cancelling a milestone and ending a contract ask the buyer to confirm first, on pages that work without
JavaScript and say which money goes back; against the local Stripe."""

import re
from html import unescape

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.contracts import service
from marketplace.contracts.models import ContractStatus, Milestone, MilestoneStatus
from marketplace.db_types import utcnow
from marketplace.jobs.models import Job
from marketplace.notifications.models import Notification
from tests.factories import AdminFactory, BuyerFactory, VendorFactory
from tests.functional.payments.stripe_support import FEE_BPS, deliver, fund, ledger, make_deal, only_milestone


def page(response) -> str:
    """The page with its whitespace run together."""
    return " ".join(unescape(response.get_data(as_text=True)).split())


def words(html: str) -> str:
    """What a reader sees of the page: its text without the markup."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def deal(session, stripe_config):
    return make_deal(session, total_minor=1_250_000)


def cancel_url(deal, milestone) -> str:
    return f"/contracts/{deal.contract.id}/milestones/{milestone.id}/cancel"


def end_url(deal) -> str:
    return f"/contracts/{deal.contract.id}/end"


def state(session, deal) -> tuple:
    """What either page could change: money, milestones, the contract, the trail and the notifications."""
    session.expire_all()
    milestones = session.execute(
        select(Milestone.id, Milestone.status).where(Milestone.contract_id == deal.contract.id).order_by(Milestone.id)
    ).all()
    counts = [session.execute(select(func.count()).select_from(m)).scalar_one() for m in (AuditRecord, Notification)]
    return ledger(session, deal), tuple(milestones), deal.contract.status, *counts


def confirm_form(html: str, action: str) -> str | None:
    """The inside of the page's plain form posting to the action, if it offers one."""
    found = re.search(rf'<form method="post" action="{re.escape(action)}"[^>]*>(.*?)</form>', html)
    return found.group(1) if found else None


def post_the_page(app, client, url: str):
    """Post the page's own form with its token, CSRF checked as in production."""
    app.config["WTF_CSRF_ENABLED"] = True  # the app fixture turns it off again for the next test
    token = re.search(r'name="csrf_token" value="([^"]+)"', page(client.get(url))).group(1)
    return client.post(url, data={"csrf_token": token}, follow_redirects=True)


# ---------------------------------------------------------------------------------------------- cancelling a milestone


def test_cancelling_an_unfunded_milestone_says_no_money_moves(app, client, login_as, session, deal):
    milestone = only_milestone(session, deal)
    login_as(deal.buyer)
    before = state(session, deal)
    response = client.get(cancel_url(deal, milestone))
    html = page(response)

    assert response.status_code == 200
    assert f"Cancel milestone 1, “{milestone.title}”?" in html
    assert "It was never funded: no money moves." in html and "The vendor is told" in html
    assert "a cancelled milestone cannot be funded or delivered again." in html
    form = confirm_form(html, cancel_url(deal, milestone))
    assert form and 'name="csrf_token"' in form and ">Cancel milestone</button>" in form
    assert f'href="/contracts/{deal.contract.id}#milestone-{milestone.id}">Go back</a>' in form
    assert state(session, deal) == before

    done = post_the_page(app, client, cancel_url(deal, milestone))
    assert "Milestone cancelled." in page(done)
    assert only_milestone(session, deal).status == MilestoneStatus.CANCELLED
    assert ledger(session, deal) == []


def test_cancelling_a_funded_milestone_names_the_refund(app, client, login_as, session, deal, gateway, stripe_sim):
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    login_as(deal.buyer)
    contract_page = page(client.get(f"/contracts/{deal.contract.id}"))
    assert f'href="{cancel_url(deal, milestone)}">Cancel and refund</a>' in contract_page
    assert f'action="{cancel_url(deal, milestone)}"' not in contract_page

    before = state(session, deal)
    html = page(client.get(cancel_url(deal, milestone)))
    assert "The $12,500.00 the platform holds for it is refunded to you through Stripe" in words(html)
    assert "the vendor is not paid for this milestone" in html and "the refund cannot be taken back" in html
    assert ">Cancel and refund $12,500.00</button>" in confirm_form(html, cancel_url(deal, milestone))
    assert state(session, deal) == before

    done = post_the_page(app, client, cancel_url(deal, milestone))
    assert "Milestone cancelled and refunded." in page(done)
    assert ledger(session, deal) == [("charge", 1_250_000), ("refund", 1_250_000)]


def test_a_delivered_milestone_says_why_it_cannot_be_cancelled(client, login_as, session, deal, gateway, stripe_sim):
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    deliver(session, deal, milestone)
    login_as(deal.buyer)
    response = client.get(cancel_url(deal, milestone))
    assert response.status_code == 403
    assert "The vendor has delivered this milestone: accept or reject the delivery first." in page(response)
    assert confirm_form(page(response), cancel_url(deal, milestone)) is None


def test_with_payments_off_a_funded_milestone_says_its_money_cannot_be_returned(
    app, client, login_as, session, deal, gateway, stripe_sim
):
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    app.config["STRIPE_SECRET_KEY"] = ""
    login_as(deal.buyer)
    response = client.get(cancel_url(deal, milestone))
    assert response.status_code == 403
    assert "Payments are not configured, so this milestone's money cannot be returned now." in page(response)


def test_the_cancel_page_answers_as_cancelling_does(client, login_as, session, deal):
    milestone = only_milestone(session, deal)
    url = cancel_url(deal, milestone)
    for stranger in (BuyerFactory(), VendorFactory()):
        login_as(stranger)
        assert client.get(url).status_code == 404
    other = make_deal(session)
    login_as(deal.buyer)
    assert client.get(cancel_url(deal, only_milestone(session, other))).status_code == 404
    assert client.get(f"/contracts/{deal.contract.id + 1000}/milestones/{milestone.id}/cancel").status_code == 404
    for party in (deal.vendor, AdminFactory()):
        login_as(party)
        assert client.get(url).status_code == 403
    session.get(Organization, deal.buyer.org_id).suspended_at = utcnow()
    session.commit()
    login_as(deal.buyer)
    response = client.get(url)
    assert response.status_code == 403 and "is suspended, so you cannot act on the marketplace" in page(response)


# ------------------------------------------------------------------------------------------------ ending the contract


@pytest.fixture
def flagged(session, deal, gateway, stripe_sim):
    """The contract split in three: the first funded, the second unfunded, the third paid to the vendor; then
    flagged by screening."""
    from marketplace.contracts.service import PlannedMilestone
    from tests.functional.payments.stripe_support import connect_vendor

    service.plan_milestones(
        session,
        deal.buyer,
        gateway,
        deal.contract.id,
        [
            PlannedMilestone("Pilot batch", 250_000),
            PlannedMilestone("Full set", 800_000),
            PlannedMilestone("Audit", 200_000),
        ],
        fee_bps=FEE_BPS,
    )
    session.commit()
    pilot, full, audit = (
        session.execute(select(Milestone).where(Milestone.contract_id == deal.contract.id).order_by(Milestone.number))
        .scalars()
        .all()
    )
    connect_vendor(session, deal, gateway, stripe_sim)
    fund(session, deal, gateway, stripe_sim, audit)
    deliver(session, deal, audit)
    service.accept_delivery(session, deal.buyer, gateway, deal.contract.id, audit.id)
    fund(session, deal, gateway, stripe_sim, pilot)
    deal.contract.status = ContractStatus.FLAGGED
    deal.contract.flagged_reason = "Screening now says exclude: Cobalt Social holds 49% of the vendor."
    session.commit()
    assert [m.status for m in (pilot, full, audit)] == [
        MilestoneStatus.FUNDED,
        MilestoneStatus.PENDING,
        MilestoneStatus.RELEASED,
    ]
    return deal


def test_the_end_page_lists_what_is_refunded_dropped_and_kept(app, client, login_as, session, flagged):
    deal = flagged
    login_as(deal.buyer)
    contract_page = page(client.get(f"/contracts/{deal.contract.id}"))
    assert f'href="{end_url(deal)}">End the contract and refund</a>' in contract_page
    assert f'action="{end_url(deal)}"' not in contract_page

    before = state(session, deal)
    response = client.get(end_url(deal))
    html = page(response)
    assert response.status_code == 200
    vendor = session.get(Organization, deal.vendor.org_id).name
    assert f"End the contract for “{session.get(Job, deal.contract.job_id).title}” with {vendor}?" in html
    assert re.search(r'data-testid="refund-total">\$2,500\.00<', html)
    assert "Milestone 1, “Pilot batch” (funded, held by the platform): $2,500.00" in html
    assert "Cancelled, never funded (no money moves): Milestone 2, “Full set”: $8,000.00" in words(html)
    assert "Unchanged: Milestone 3, “Audit”: $2,000.00, paid to the vendor" in words(html)
    assert "Ending cannot be undone" in html and "The vendor is told." in html
    form = confirm_form(html, end_url(deal))
    assert form and ">End the contract and refund $2,500.00</button>" in form and 'name="csrf_token"' in form
    assert f'href="/contracts/{deal.contract.id}">Go back</a>' in form
    assert state(session, deal) == before

    done = post_the_page(app, client, end_url(deal))
    assert "Contract ended." in page(done)
    assert deal.contract.status == ContractStatus.ENDED
    assert ("refund", 250_000) in ledger(session, deal)


def test_an_accepted_milestone_awaiting_its_payout_is_named_as_refunded(
    client, login_as, session, deal, gateway, stripe_sim
):
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    deliver(session, deal, milestone)
    service.accept_delivery(session, deal.buyer, gateway, deal.contract.id, milestone.id)  # no payout account yet
    deal.contract.status = ContractStatus.PAUSED
    session.commit()
    login_as(deal.buyer)
    html = page(client.get(end_url(deal)))
    assert "(accepted, payout still waiting: the vendor will not be paid for it): $12,500.00" in html


def test_an_active_contract_says_it_cannot_be_ended_here(client, login_as, session, deal):
    login_as(deal.buyer)
    response = client.get(end_url(deal))
    assert response.status_code == 403
    assert "Only a contract flagged by screening can be ended here." in page(response)
    assert confirm_form(page(response), end_url(deal)) is None


def test_the_end_page_answers_as_ending_does(client, login_as, session, deal):
    deal.contract.status = ContractStatus.FLAGGED
    session.commit()
    url = end_url(deal)
    for stranger in (BuyerFactory(), VendorFactory()):
        login_as(stranger)
        assert client.get(url).status_code == 404
    login_as(deal.buyer)
    assert client.get(f"/contracts/{deal.contract.id + 1000}/end").status_code == 404
    for party in (deal.vendor, AdminFactory()):
        login_as(party)
        response = client.get(url)
        assert response.status_code == 403
        # The vendor learns nothing of the flag from it.
        assert "Cobalt" not in page(response) and "screening" not in page(response).lower()
    session.get(Organization, deal.buyer.org_id).suspended_at = utcnow()
    session.commit()
    login_as(deal.buyer)
    response = client.get(url)
    assert response.status_code == 403 and "is suspended, so you cannot act on the marketplace" in page(response)
    assert deal.contract.status == ContractStatus.FLAGGED
