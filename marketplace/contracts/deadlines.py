"""The acceptance deadline: after a delivery the lab has ACCEPTANCE_DAYS to accept or reject it; silence releases
the payment, through the same release as an acceptance (payments.release), and both sides are reminded
ACCEPTANCE_REMINDER_DAYS before.

Run with the disclosure reminders (`flask reminders`, or the queue's scheduled run). Safe to run again, or twice at
once: each delivery is locked with its milestone and re-read, a reminder is recorded on the delivery before it is
sent, and a milestone no longer delivered (accepted, rejected, disputed) is left alone. A contract on hold for the
buyer's review is not released meanwhile: its deadline is acted on at the first run after the buyer continues it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import cast

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace.audit.service import record_event
from marketplace.contracts.lifecycle import contract_link, lock_with_contract, settle
from marketplace.contracts.models import (
    Contract,
    ContractStatus,
    Delivery,
    DeliveryDecision,
    Milestone,
    MilestoneStatus,
)
from marketplace.db_types import utcnow
from marketplace.notifications.service import notify_org
from marketplace.payments import service as payments
from marketplace.payments.gateway import StripeGateway

# Who the audit trail names for what the platform's clock does.
PLATFORM_CLOCK = SimpleNamespace(id=None, email="the platform (acceptance deadline)")


def acceptance_deadline(delivery: Delivery, days: int) -> datetime:
    """When the delivery's payment is released if the lab has neither accepted nor rejected it."""
    return delivery.delivered_at + timedelta(days=days)


def lab_decides_by(delivery: Delivery) -> datetime:
    """acceptance_deadline under the app's ACCEPTANCE_DAYS: the lab accepts or rejects until then; from then on its
    silence has accepted the delivery (the server's clock decides, not when the next run comes), so it may still
    accept, no longer reject."""
    return acceptance_deadline(delivery, int(current_app.config.get("ACCEPTANCE_DAYS", 14)))


def silence_accepted(delivery: Delivery, now: datetime | None = None) -> bool:
    """Whether the lab's time to decide on this waiting delivery has ended (at `now`, or by the clock): its silence
    has accepted it. The one test of it: the rejection, the contract's actions and its page all ask here."""
    return (now or utcnow()) >= lab_decides_by(delivery)


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


@dataclass
class DeadlineRun:
    reminded: int = 0
    released: int = 0
    accepted_waiting: int = 0  # accepted by the deadline, the payout waiting for the vendor's account
    on_hold: int = 0

    def summary(self) -> str:
        return (
            f"Acceptance deadlines: {self.reminded} reminded, {self.released} released, "
            f"{self.accepted_waiting} accepted with the payout waiting, {self.on_hold} on hold."
        )


def _waiting_deliveries(session: Session, before: datetime) -> list[int]:
    """Ids of deliveries still waiting for the lab's decision, delivered before the given moment."""
    return list(
        session.execute(
            select(col(Delivery.id))
            .join(Milestone, col(Milestone.id) == Delivery.milestone_id)
            .where(
                col(Delivery.decision) == DeliveryDecision.WAITING,
                col(Milestone.status) == MilestoneStatus.DELIVERED,
                col(Delivery.delivered_at) <= before,
            )
            .order_by(col(Delivery.delivered_at), col(Delivery.id))
        ).scalars()
    )


def run_acceptance_deadlines(
    session: Session, gateway: StripeGateway | None, *, days: int, remind_days: int, now: datetime | None = None
) -> DeadlineRun:
    """Remind both sides of each delivery whose deadline nears, and release each one past it."""
    now = now or utcnow()
    run = DeadlineRun()
    for delivery_id in _waiting_deliveries(session, now - timedelta(days=max(days - remind_days, 0))):
        milestone_id = cast(Delivery, session.get(Delivery, delivery_id)).milestone_id
        contract, milestone = cast(tuple[Contract, Milestone], lock_with_contract(session, milestone_id))
        delivery = session.execute(
            select(Delivery)
            .where(col(Delivery.id) == delivery_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).scalar_one()
        if milestone.status != MilestoneStatus.DELIVERED or delivery.decision != DeliveryDecision.WAITING:
            continue  # decided, or disputed, since the list was read (another run, the buyer)
        deadline = acceptance_deadline(delivery, days)
        if contract.status != ContractStatus.ACTIVE:
            run.on_hold += 1
        elif now >= deadline and gateway is not None:
            paid = _accept_at_deadline(session, gateway, contract, milestone, delivery, now)
            run.released += paid
            run.accepted_waiting += not paid
        elif now < deadline and delivery.reminded_at is None:
            delivery.reminded_at = now
            _remind(session, contract, milestone, deadline)
            run.reminded += 1
    session.flush()
    return run


def _remind(session: Session, contract: Contract, milestone: Milestone, deadline: datetime) -> None:
    label = f"milestone {milestone.number} “{milestone.title}”"
    notify_org(
        session,
        contract.buyer_org_id,
        "acceptance_deadline",
        f"Accept or reject the delivery of {label} by {_when(deadline)}: after that its payment is released to the "
        "vendor by itself.",
        contract_link(contract),
    )
    notify_org(
        session,
        contract.vendor_org_id,
        "acceptance_deadline",
        f"If the buyer neither accepts nor rejects your delivery of {label} by {_when(deadline)}, its payment is "
        "released to you then.",
        contract_link(contract),
    )


def _accept_at_deadline(
    session: Session,
    gateway: StripeGateway,
    contract: Contract,
    milestone: Milestone,
    delivery: Delivery,
    now: datetime,
) -> bool:
    """Accept the (locked) delivery as the lab's silence does, then release the payment as an acceptance does."""
    delivery.decision, delivery.decided_at = DeliveryDecision.ACCEPTED, now
    delivery.reason = "Accepted by the acceptance deadline: the buyer neither accepted nor rejected it in time."
    milestone.status, milestone.accepted_at, milestone.updated_at = MilestoneStatus.ACCEPTED, now, now
    record_event(
        session,
        PLATFORM_CLOCK,
        "milestone.accepted_at_deadline",
        "milestone",
        milestone.id,
        before={"status": str(MilestoneStatus.DELIVERED)},
        after={"status": str(MilestoneStatus.ACCEPTED), "delivery_id": delivery.id, "deadline": _when(now)},
        buyer_org_id=contract.buyer_org_id,
        vendor_org_id=contract.vendor_org_id,
    )
    label = f"milestone {milestone.number} “{milestone.title}”"
    for org_id in (contract.buyer_org_id, contract.vendor_org_id):
        notify_org(
            session,
            org_id,
            "accepted_at_deadline",
            f"The delivery of {label} was neither accepted nor rejected in time: it is accepted and its payment "
            "released to the vendor.",
            contract_link(contract),
        )
    paid = payments.release(session, gateway, PLATFORM_CLOCK, contract, milestone)
    if not paid:
        notify_org(
            session,
            contract.vendor_org_id,
            "payout_waiting",
            f"Payment for {label} is waiting: "
            f"{milestone.last_payment_error or 'connect or finish your payout account to receive it.'}",
            contract_link(contract),
        )
    settle(session, PLATFORM_CLOCK, contract)
    return paid
