"""The playbook's part of the scheduled reminders run: deletion attestations reminded and escalated."""

from sqlalchemy.orm import Session

from marketplace.playbook import service


def run_deadlines(session: Session) -> str:
    """Remind vendors whose deletion attestation nears its deadline and escalate the overdue; its summary line."""
    return service.run_deadlines(session).summary()
