"""Shared steps of the dispute and deadline tests: a contract funded and delivered against the local Stripe."""

from sqlalchemy import select

from marketplace.audit.models import AuditRecord
from marketplace.notifications.models import Notification
from marketplace.payments.reconcile import reconcile
from tests.functional.payments.stripe_support import connect_vendor, deliver, fund, make_deal, only_milestone


def delivered_deal(session, gateway, stripe_sim, *, connected=True, total_minor=1_000_000):
    """A contract whose one milestone is funded and delivered; the vendor's payout account connected or not."""
    deal = make_deal(session, total_minor=total_minor)
    if connected:
        connect_vendor(session, deal, gateway, stripe_sim)
    milestone = only_milestone(session, deal)
    fund(session, deal, gateway, stripe_sim, milestone)
    deal.extra["delivery"] = deliver(session, deal, milestone)
    return deal, milestone


def notices(session, user, kind) -> list[str]:
    return list(
        session.execute(
            select(Notification.message)
            .where(Notification.user_id == user.id, Notification.kind == kind)
            .order_by(Notification.id)
        ).scalars()
    )


def actions(session, subject_type, subject_id) -> list[str]:
    return list(
        session.execute(
            select(AuditRecord.action)
            .where(AuditRecord.subject_type == subject_type, AuditRecord.subject_id == subject_id)
            .order_by(AuditRecord.id)
        ).scalars()
    )


def agrees(session, gateway) -> bool:
    differences, _ = reconcile(session, gateway)
    assert differences == []
    return True


def run_reminders(app) -> str:
    result = app.test_cli_runner().invoke(args=["reminders"])
    assert result.exit_code == 0, result.output
    return result.output
