"""Webhook tests: private addresses allowed (the receivers run on 127.0.0.1), and the Stripe simulator's fixtures
for the contract events."""

import pytest

from tests.functional.payments.stripe_support import (  # noqa: F401  (fixtures)
    gateway,
    stripe_config,
    stripe_sim,
    webhook_inbox,
)
from tests.functional.webhooks.receiver import Answer, Receiver


@pytest.fixture(autouse=True)
def allow_private(app):
    """As the tests' and the demo's configuration: receivers on this machine may be called, over plain http."""
    saved = {key: app.config.get(key) for key in ("WEBHOOKS_ALLOW_PRIVATE", "WEBHOOKS_READ_TIMEOUT")}
    app.config.update(WEBHOOKS_ALLOW_PRIVATE=True, WEBHOOKS_READ_TIMEOUT=2)
    yield app.config
    app.config.update(saved)


@pytest.fixture
def receiver():
    """receiver(*answers): a started receiver, stopped after the test."""
    started = []

    def _start(*answers: Answer) -> Receiver:
        box = Receiver(*answers).__enter__()
        started.append(box)
        return box

    yield _start
    for box in started:
        box.__exit__(None, None, None)
