"""The contracts' part of the scheduled reminders run (`flask reminders`, the queue's run): acceptance deadlines."""

from flask import current_app
from sqlalchemy.orm import Session

from marketplace.contracts.deadlines import run_acceptance_deadlines
from marketplace.payments.configured import current_gateway


def run_deadlines(session: Session) -> str:
    """Remind both sides of deliveries whose acceptance deadline nears; release those past it. Its summary line."""
    config = current_app.config
    run = run_acceptance_deadlines(
        session,
        current_gateway(),
        days=int(config.get("ACCEPTANCE_DAYS", 14)),
        remind_days=int(config.get("ACCEPTANCE_REMINDER_DAYS", 3)),
    )
    return run.summary()
