"""Helpers for the jobs pages: a filled-in job form, screening a vendor out, reading notifications."""

from datetime import timedelta

import pytest
from flask import g
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.db_types import utcnow
from marketplace.notifications.models import Notification


def future_local(days: int = 10) -> str:
    """A datetime-local value `days` ahead (tests run their users in UTC unless they say otherwise)."""
    return (utcnow() + timedelta(days=days)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture
def job_form():
    """Valid form data for a new job, with any field overridden."""

    def _make(**overrides) -> dict:
        data = {
            "title": "Transcribe call-centre audio",
            "description": "Verbatim transcripts with speaker turns.",
            "modality": "audio",
            "task_type": "transcription",
            "volume": "1200",
            "unit": "hours",
            "quality_metric": "word error rate",
            "quality_target_pct": "97.5",
            "languages": "English, Spanish",
            "certifications": ["soc2_type2", "gdpr"],
            "data_residency": "EU only",
            "labeler_locations": "Spain, Portugal",
            "hosting": "buyer_hosted",
            "retention_days": "30",
            "deletion_terms": "Delete within 30 days of delivery and certify it.",
            "budget_min": "12,500.00",
            "budget_max": "30,000.50",
            "currency": "EUR",
            "bid_deadline": future_local(10),
            "delivery_date": (utcnow() + timedelta(days=60)).date().isoformat(),
            "visibility": "public",
            "bidding_mode": "sealed",
            "publish": "Publish",
        }
        data.update(overrides)
        return {key: value for key, value in data.items() if value is not None}

    return _make


@pytest.fixture
def notifications(session):
    """The notifications written to every user of an organisation, as (kind, message) pairs."""

    def _of(org_id: int, kind: str | None = None) -> list[tuple[str, str]]:
        query = (
            select(Notification.kind, Notification.message)
            .join(User, User.id == Notification.user_id)
            .where(User.org_id == org_id)
        )
        if kind:
            query = query.where(Notification.kind == kind)
        return [tuple(row) for row in session.execute(query.order_by(Notification.id))]

    return _of


@pytest.fixture
def switch_to(login_as):
    """Sign in as another user mid-test: the test's app context (and Flask-Login's cached user in g) is
    shared by every request of the test, so the cached user must be dropped too."""

    def _switch(user):
        login_as(user)
        g.pop("_login_user", None)
        return user

    return _switch
