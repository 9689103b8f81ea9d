"""Helpers for the jobs service tests."""

from datetime import timedelta

import pytest

from marketplace.db_types import utcnow
from marketplace.jobs.service import JobInput


@pytest.fixture
def job_input():
    """A valid job as a buyer would type it, with any field overridden."""

    def _make(**overrides) -> JobInput:
        deadline = (utcnow() + timedelta(days=10)).replace(tzinfo=None, second=0, microsecond=0)
        values = dict(
            title="Segment street scenes",
            modality="image",
            task_type="segmentation",
            volume=5000,
            unit="images",
            budget_min="10,000.00",
            budget_max="25,000.50",
            currency="USD",
            bid_deadline=deadline,
            delivery_date=(deadline + timedelta(days=30)).date(),
            languages=["English"],
            certifications=["soc2_type2"],
        )
        values.update(overrides)
        return JobInput(**values)

    return _make
