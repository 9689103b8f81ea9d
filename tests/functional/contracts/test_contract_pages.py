"""A contract's pages for the buyer and the vendor, against the local Stripe: every step of the money flow."""

import io
import re

import pytest
from sqlalchemy import select

from marketplace.contracts.models import ContractStatus, Milestone, MilestoneStatus
from marketplace.notifications.models import Notification
from tests.factories import AdminFactory
from tests.functional.payments.stripe_support import (
    connect_vendor,
    fund,
    ledger,
    make_deal,
    only_milestone,
)


@pytest.fixture
def deal(session, stripe_config):
    return make_deal(session, total_minor=1_250_000)


def contract_url(deal, tail=""):
    return f"/contracts/{deal.contract.id}{tail}"


def milestone_url(deal, milestone, action):
    return f"/contracts/{deal.contract.id}/milestones/{milestone.id}/{action}"


def funded_and_delivered(session, deal, gateway, stripe_sim):
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    from marketplace.contracts import service

    service.deliver(session, deal.vendor, deal.contract.id, milestone.id, "Batch one, all boxed.", [], None)
    session.commit()
    return milestone


def test_the_buyer_sees_the_contract_and_can_fund_it_in_test_mode(client, login_as, deal):
    login_as(deal.buyer)
    page = client.get(contract_url(deal))
    assert page.status_code == 200
    assert "$12,500.00" in page.text
    assert "Not funded" in page.text
    assert "Fund $12,500.00 with Stripe" in page.text
    assert "Test mode" in page.text and "no real money moves" in page.text
    job_page = client.get(f"/jobs/{deal.contract.job_id}")
    assert f'href="/contracts/{deal.contract.id}"' in job_page.text


def test_the_vendor_sees_the_contract_without_the_buyers_buttons(client, login_as, deal):
    login_as(deal.vendor)
    page = client.get(contract_url(deal))
    assert page.status_code == 200
    assert "Not funded" in page.text
    assert "with Stripe" not in page.text
    assert "Payout account" in page.text
    listing = client.get("/contracts")
    assert f'href="/contracts/{deal.contract.id}"' in listing.text


def test_a_page_says_when_payments_are_off(app, client, login_as, deal, session):
    app.config["STRIPE_SECRET_KEY"] = ""
    login_as(deal.buyer)
    assert "Payments off" in client.get(contract_url(deal)).text
    response = client.post(milestone_url(deal, only_milestone(session, deal), "fund"))
    assert response.status_code == 400
    assert "Payments are not configured" in response.text


# ------------------------------------------------------------------------------------------------ milestones


def test_the_buyer_splits_the_contract_into_milestones(client, login_as, deal, session):
    login_as(deal.buyer)
    form = client.get(contract_url(deal, "/milestones"))
    assert 'value="The whole contract"' in form.text
    response = client.post(
        contract_url(deal, "/milestones"),
        data={
            "milestones-0-title": "Pilot batch",
            "milestones-0-amount": "2,500.00",
            "milestones-1-title": "Full set",
            "milestones-1-amount": "10000",
            "milestones-1-due_date": "2030-01-31",
            "milestones-2-title": "",
            "milestones-2-amount": "",
        },
    )
    assert response.status_code == 303
    milestones = (
        session.execute(select(Milestone).where(Milestone.contract_id == deal.contract.id).order_by(Milestone.number))
        .scalars()
        .all()
    )
    assert [(m.title, m.amount_minor, str(m.due_date)) for m in milestones] == [
        ("Pilot batch", 250_000, "None"),
        ("Full set", 1_000_000, "2030-01-31"),
    ]
    vendor_told = session.execute(
        select(Notification).where(Notification.user_id == deal.vendor.id, Notification.kind == "milestones_planned")
    ).first()
    assert vendor_told


def test_milestones_that_do_not_add_up_are_refused_with_the_typed_values_kept(client, login_as, deal):
    login_as(deal.buyer)
    response = client.post(
        contract_url(deal, "/milestones"),
        data={
            "milestones-0-title": "Pilot batch",
            "milestones-0-amount": "2500",
            "milestones-1-title": "Full set",
            "milestones-1-amount": "9000",
        },
    )
    assert response.status_code == 400
    assert "add up to $11,500.00, not the awarded $12,500.00 ($1,000.00 short)" in response.text
    assert 'value="Pilot batch"' in response.text and 'value="9000"' in response.text


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"milestones-0-title": "Pilot", "milestones-0-amount": ""}, "both a title and an amount"),
        ({"milestones-0-title": "Pilot", "milestones-0-amount": "ten"}, "is not an amount of money"),
        ({"milestones-0-title": "Pilot", "milestones-0-amount": "1.234"}, "at most 2 decimal places"),
        ({"milestones-0-title": "Pilot", "milestones-0-amount": "1e999999"}, "is not an amount of money"),
        ({"milestones-0-title": "Pilot", "milestones-0-amount": "9" * 30}, "too large to be real"),
        ({"milestones-0-title": "", "milestones-0-amount": ""}, "Give at least one milestone"),
    ],
)
def test_a_bad_milestone_row_is_refused(client, login_as, deal, row, message):
    login_as(deal.buyer)
    response = client.post(contract_url(deal, "/milestones"), data=row)
    assert response.status_code == 400
    assert message in response.text


# ------------------------------------------------------------------------------------------------ funding


def test_funding_sends_the_buyer_to_stripe_checkout_and_back(client, login_as, deal, session, stripe_sim):
    login_as(deal.buyer)
    milestone = only_milestone(session, deal)
    response = client.post(milestone_url(deal, milestone, "fund"))
    assert response.status_code == 303
    checkout = response.headers["Location"]
    assert checkout.startswith(stripe_sim.url + "/hosted/checkout/cs_test_")
    again = client.post(milestone_url(deal, milestone, "fund"))
    assert again.headers["Location"] == checkout
    paid = stripe_sim.pay(checkout)
    assert paid.status_code == 303
    back = paid.headers["Location"]
    assert back.endswith(f"/contracts/{deal.contract.id}?paid={milestone.id}")
    waiting = client.get(back.replace("http://localhost", ""))
    assert "Stripe is confirming your payment" in waiting.text
    assert 'http-equiv="refresh"' in waiting.text
    checked = client.post(milestone_url(deal, milestone, "check-payment"), follow_redirects=True)
    assert "Payment received: the milestone is funded." in checked.text
    assert "Funded — held by the platform" in checked.text
    assert "Stripe is confirming" not in client.get(back.replace("http://localhost", "")).text
    assert ledger(session, deal) == [("charge", 1_250_000)]


def test_a_funded_milestone_is_not_funded_again(client, login_as, deal, session, gateway, stripe_sim):
    fund(session, deal, gateway, stripe_sim, only_milestone(session, deal))
    login_as(deal.buyer)
    response = client.post(milestone_url(deal, only_milestone(session, deal), "fund"))
    assert response.status_code == 400
    assert "it needs no funding" in response.text


# ------------------------------------------------------------------------------------------------ payout account


def test_the_vendor_connects_a_payout_account_through_stripe_onboarding(client, login_as, deal, stripe_sim):
    login_as(deal.vendor)
    assert "Not connected" in client.get("/payments/payouts").text
    response = client.post("/payments/payouts/connect")
    assert response.status_code == 303
    link = response.headers["Location"]
    assert link.startswith(stripe_sim.url + "/hosted/onboarding/")
    assert "Not finished" in client.get("/payments/payouts").text
    done = stripe_sim.complete_onboarding(link)
    assert done.headers["Location"].endswith("/payments/payouts?returned=1")
    assert "Ready" in client.get("/payments/payouts?returned=1").text
    again = client.post("/payments/payouts/refresh", follow_redirects=True)
    assert "Payout account checked." in again.text


def test_only_vendors_have_a_payout_account(client, login_as, deal):
    login_as(deal.buyer)
    assert client.get("/payments/payouts").status_code == 403
    assert client.post("/payments/payouts/connect").status_code == 403


# ------------------------------------------------------------------------------------------------ delivery


def test_the_vendor_delivers_with_a_note_and_files(client, login_as, deal, session, gateway, stripe_sim):
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    login_as(deal.vendor)
    assert client.get(milestone_url(deal, milestone, "deliver")).status_code == 200
    empty = client.post(milestone_url(deal, milestone, "deliver"), data={"note": ""})
    assert empty.status_code == 400
    assert "Say what you are delivering." in empty.text
    response = client.post(
        milestone_url(deal, milestone, "deliver"),
        content_type="multipart/form-data",
        data={
            "note": "All 10,000 images boxed; see the manifest.",
            "files": [(io.BytesIO(b"image,boxes\n1,3\n"), "manifest.csv", "text/csv")],
        },
    )
    assert response.status_code == 303
    login_as(deal.buyer)
    page = client.get(contract_url(deal))
    assert "All 10,000 images boxed; see the manifest." in page.text
    assert "Delivered — awaiting the buyer" in page.text
    file_url = re.search(r'href="(/contracts/\d+/files/\d+)"', page.text).group(1)
    download = client.get(file_url)
    assert download.status_code == 200 and download.data == b"image,boxes\n1,3\n"
    # Served as a download the browser may neither sniff nor run, and never cached.
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in download.headers["Content-Security-Policy"]
    assert "no-store" in download.headers["Cache-Control"]
    download.close()
    login_as(make_deal(session).buyer)
    assert client.get(file_url).status_code == 404


def test_an_unfunded_milestone_cannot_be_delivered(client, login_as, deal, session):
    login_as(deal.vendor)
    response = client.post(milestone_url(deal, only_milestone(session, deal), "deliver"), data={"note": "Early."})
    assert response.status_code == 400
    assert "it is not funded yet" in response.text


def test_the_buyer_rejects_with_a_reason_and_the_vendor_delivers_again(
    client, login_as, deal, session, gateway, stripe_sim
):
    milestone = funded_and_delivered(session, deal, gateway, stripe_sim)
    login_as(deal.buyer)
    missing = client.post(milestone_url(deal, milestone, "reject"), data={f"m{milestone.id}-reason": ""})
    assert missing.status_code == 400
    assert "Tell the vendor why you reject the delivery." in missing.text
    # The reason's box, drawn under an id of its milestone, keeps its label (axe: "Form elements must have labels").
    assert re.search(
        rf'<label for="reason-{milestone.id}">[^<]+</label>\s*<textarea[^>]*id="reason-{milestone.id}"', missing.text
    )
    response = client.post(
        milestone_url(deal, milestone, "reject"), data={f"m{milestone.id}-reason": "Occluded cars have no boxes."}
    )
    assert response.status_code == 303
    login_as(deal.vendor)
    page = client.get(contract_url(deal))
    assert "Occluded cars have no boxes." in page.text
    assert "Deliver again" in page.text
    again = client.post(milestone_url(deal, milestone, "deliver"), data={"note": "Occluded cars boxed too."})
    assert again.status_code == 303
    assert ledger(session, deal) == [("charge", 1_250_000)]


def test_accepting_pays_the_vendor_less_the_fee_and_both_see_it(client, login_as, deal, session, gateway, stripe_sim):
    connect_vendor(session, deal, gateway, stripe_sim)
    milestone = funded_and_delivered(session, deal, gateway, stripe_sim)
    login_as(deal.buyer)
    response = client.post(milestone_url(deal, milestone, "accept"), follow_redirects=True)
    assert "Accepted. The vendor is paid." in response.text
    assert "Paid to the vendor" in response.text
    assert ledger(session, deal) == [("charge", 1_250_000), ("transfer", 1_125_000), ("platform_fee", 125_000)]
    login_as(deal.vendor)
    page = " ".join(client.get(contract_url(deal)).text.split())
    assert "The vendor received <strong>$11,250.00</strong> after the platform fee of $1,250.00 (10%)" in page
    statement = client.get("/payments/statement")
    assert "Paid to the vendor" in statement.text and "$11,250.00" in statement.text
    assert "Platform fee" in statement.text


def test_acceptance_waits_for_the_vendors_payout_account(client, login_as, deal, session, gateway, stripe_sim):
    milestone = funded_and_delivered(session, deal, gateway, stripe_sim)
    login_as(deal.buyer)
    response = client.post(milestone_url(deal, milestone, "accept"), follow_redirects=True)
    assert "The payment waits until the vendor connects its payout account." in response.text
    login_as(deal.vendor)
    assert "connect your payout account" in client.get(contract_url(deal)).text
    refused = client.post(milestone_url(deal, milestone, "retry-payout"))
    assert refused.status_code == 400
    assert "Connect your payout account first" in refused.text
    link = client.post("/payments/payouts/connect").headers["Location"]
    stripe_sim.complete_onboarding(link)
    paid = client.post("/payments/payouts/refresh", follow_redirects=True)
    assert "1 waiting payment(s) made." in paid.text
    assert only_milestone(session, deal).status == MilestoneStatus.RELEASED


# ------------------------------------------------------------------------------------------------ cancelling


def test_cancelling_a_funded_milestone_refunds_the_buyer(client, login_as, deal, session, gateway, stripe_sim):
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    login_as(deal.buyer)
    assert "Cancel and refund" in client.get(contract_url(deal)).text
    response = client.post(milestone_url(deal, milestone, "cancel"), follow_redirects=True)
    assert "Milestone cancelled and refunded." in response.text
    assert "Refunded to the buyer" in response.text
    assert ledger(session, deal) == [("charge", 1_250_000), ("refund", 1_250_000)]
    vendor_told = session.execute(
        select(Notification).where(Notification.user_id == deal.vendor.id, Notification.kind == "milestone_refunded")
    ).first()
    assert vendor_told


def test_cancelling_an_unfunded_milestone_moves_no_money(client, login_as, deal, session):
    login_as(deal.buyer)
    response = client.post(milestone_url(deal, only_milestone(session, deal), "cancel"), follow_redirects=True)
    assert "Milestone cancelled." in response.text
    assert ledger(session, deal) == []


# ------------------------------------------------------------------------------------------------ flagged contracts


def flag(deal):
    deal.contract.status = ContractStatus.FLAGGED
    deal.contract.flagged_reason = "Screening now says exclude: Cobalt Social holds 49% of the vendor."


def test_a_flagged_contract_shows_the_reason_and_the_buyers_choices(
    client, login_as, deal, session, gateway, stripe_sim
):
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    flag(deal)
    login_as(deal.buyer)
    page = client.get(contract_url(deal))
    assert "Cobalt Social holds 49% of the vendor." in page.text
    for label in ("Continue the contract", "Pause the contract", "End the contract and refund"):
        assert label in page.text
    paused = client.post(contract_url(deal, "/pause"), follow_redirects=True)
    assert "Contract paused." in paused.text
    login_as(deal.vendor)
    seen = client.get(contract_url(deal)).text
    assert "On hold for the buyer" in seen
    # The vendor learns only that it must wait: never the finding, the rival or the word "screening".
    assert "Cobalt Social" not in seen and "49%" not in seen
    assert "screening" not in seen.lower() and "exclude" not in seen.lower() and "flagged" not in seen.lower()
    assert "Cobalt Social" not in client.get("/contracts").text
    refused = client.post(milestone_url(deal, milestone, "deliver"), data={"note": "Done."})
    assert refused.status_code == 400
    assert "This contract is on hold for the buyer" in refused.text
    assert "screening" not in refused.text.lower()
    login_as(deal.buyer)
    ended = client.post(contract_url(deal, "/end"), follow_redirects=True)
    assert "Contract ended. Money not yet paid to the vendor was refunded to you." in ended.text
    assert ledger(session, deal) == [("charge", 1_250_000), ("refund", 1_250_000)]
    assert deal.contract.status == ContractStatus.ENDED


def test_the_buyer_may_continue_a_flagged_contract(client, login_as, deal):
    flag(deal)
    login_as(deal.buyer)
    response = client.post(contract_url(deal, "/continue"), follow_redirects=True)
    assert "The contract goes on." in response.text
    assert deal.contract.status == ContractStatus.ACTIVE


def test_an_active_contract_is_not_paused_or_ended_here(client, login_as, deal):
    login_as(deal.buyer)
    for action in ("/pause", "/end"):
        response = client.post(contract_url(deal, action))
        assert response.status_code == 400
        assert "flagged by screening" in response.text


# ------------------------------------------------------------------------------------------------ ratings


def completed(session, deal, gateway, stripe_sim):
    from marketplace.contracts import service

    connect_vendor(session, deal, gateway, stripe_sim)
    milestone = funded_and_delivered(session, deal, gateway, stripe_sim)
    service.accept_delivery(session, deal.buyer, gateway, deal.contract.id, milestone.id)
    session.commit()


def test_after_completion_the_buyer_rates_the_vendor_on_its_profile(
    client, login_as, deal, session, gateway, stripe_sim
):
    login_as(deal.buyer)
    early = client.post(contract_url(deal, "/rating"), data={"stars": "5", "comment": "Great"})
    assert early.status_code == 400
    assert "once the contract is complete" in early.text
    completed(session, deal, gateway, stripe_sim)
    assert "Rate the vendor" in client.get(contract_url(deal)).text
    missing = client.post(contract_url(deal, "/rating"), data={"comment": "Kept this comment"})
    assert missing.status_code == 400
    assert "Choose 1 to 5 stars." in missing.text and "Kept this comment" in missing.text
    response = client.post(
        contract_url(deal, "/rating"), data={"stars": "4", "comment": "Careful, a day late."}, follow_redirects=True
    )
    assert "your rating is on the vendor&#39;s profile" in response.text
    profile = client.get(f"/vendors/{deal.vendor.org_id}")
    assert "Careful, a day late." in profile.text
    assert re.search(r'data-testid="rating-average">4.0<', profile.text)
    twice = client.post(contract_url(deal, "/rating"), data={"stars": "1", "comment": ""})
    assert twice.status_code == 400
    assert "already rated" in twice.text


# ------------------------------------------------------------------------------------------------ statements


def test_the_admin_sees_every_payment_and_the_platforms_fees(client, login_as, deal, session, gateway, stripe_sim):
    completed(session, deal, gateway, stripe_sim)
    other = make_deal(session, total_minor=50_000)
    fund(session, other, gateway, stripe_sim, only_milestone(session, other))
    login_as(AdminFactory())
    page = client.get("/payments/statement")
    assert page.status_code == 200
    assert page.text.count('data-testid="ledger-row"') == 4
    assert re.search(r'data-testid="fees-total">\$1,250.00<', page.text)
    assert re.search(r'data-testid="held-total">\$500.00<', page.text)
    assert client.get(contract_url(deal)).status_code == 200


def test_a_statement_shows_only_the_organisations_own_contracts(client, login_as, deal, session, gateway, stripe_sim):
    fund(session, deal, gateway, stripe_sim, only_milestone(session, deal))
    login_as(make_deal(session).buyer)
    page = client.get("/payments/statement")
    assert "No money has moved yet." in page.text
