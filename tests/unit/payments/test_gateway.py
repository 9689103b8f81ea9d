"""The gateway against the local Stripe: idempotency keys, refusals in words, keys and modes from configuration."""

import json

import pytest

from marketplace.config import ConfigError, load_config
from marketplace.payments.gateway import GatewayError, StripeGateway, from_config
from tests.functional.payments.stripe_support import TEST_KEY, free_port


def test_the_same_idempotency_key_brings_back_the_first_object(gateway):
    first = gateway.create_customer(
        name="Northwind AI", metadata={"organization_id": "7"}, idempotency_key="customer-test-same-key"
    )
    again = gateway.create_customer(
        name="Northwind AI", metadata={"organization_id": "7"}, idempotency_key="customer-test-same-key"
    )
    assert first == again


def test_a_key_reused_for_another_request_is_refused(gateway):
    gateway.create_customer(name="One", metadata={}, idempotency_key="customer-test-reused-key")
    with pytest.raises(GatewayError, match="same parameters"):
        gateway.create_customer(name="Another", metadata={}, idempotency_key="customer-test-reused-key")


def test_stripe_refusals_come_back_in_words(gateway):
    with pytest.raises(GatewayError, match="destination"):
        gateway.create_transfer(
            amount=100,
            currency="USD",
            destination="acct_nobody",
            source_charge_id=None,
            transfer_group="g",
            metadata={},
            idempotency_key="transfer-to-nobody",
        )


def test_an_unreachable_stripe_changes_nothing_and_says_so():
    gateway = StripeGateway(TEST_KEY, f"http://127.0.0.1:{free_port()}")
    with pytest.raises(GatewayError, match="could not be reached"):
        gateway.retrieve_payment_intent("pi_anything")


def test_the_interface_says_when_money_is_not_real(stripe_sim):
    assert "simulator" in StripeGateway(TEST_KEY, stripe_sim.url).mode_label
    assert "test mode" in StripeGateway("sk_test_abc").mode_label
    assert StripeGateway("sk_live_abc").mode_label is None


def test_a_live_key_is_refused_outside_production():
    with pytest.raises(ConfigError, match="live Stripe key"):
        load_config({"STRIPE_SECRET_KEY": "sk_live_123"})
    with pytest.raises(ConfigError, match="live Stripe key"):
        load_config({"STRIPE_SECRET_KEY": "rk_live_123", "MARKETPLACE_ENV": "staging"})
    with pytest.raises(ConfigError):
        from_config({"STRIPE_SECRET_KEY": "sk_live_123", "ENV_NAME": "development"})
    config = load_config({"STRIPE_SECRET_KEY": "sk_live_123", "MARKETPLACE_ENV": "production", "SECRET_KEY": "s"})
    assert from_config(config).test_mode is False


def test_payments_are_off_without_a_key():
    assert from_config(load_config({})) is None


def test_configuration_by_environment():
    config = load_config(
        {
            "STRIPE_SECRET_KEY": "sk_test_1",
            "STRIPE_WEBHOOK_SECRET": "whsec_1",
            "STRIPE_API_BASE": "http://127.0.0.1:8420",
            "PLATFORM_FEE_BPS": "750",
        }
    )
    assert (
        config["STRIPE_SECRET_KEY"],
        config["STRIPE_WEBHOOK_SECRET"],
        config["STRIPE_API_BASE"],
        config["PLATFORM_FEE_BPS"],
    ) == ("sk_test_1", "whsec_1", "http://127.0.0.1:8420", 750)
    assert load_config({})["PLATFORM_FEE_BPS"] == 1000


@pytest.mark.parametrize("value", ["ten", "-1", "10001", "2.5"])
def test_a_fee_that_is_not_basis_points_is_refused(value):
    with pytest.raises(ConfigError, match="PLATFORM_FEE_BPS"):
        load_config({"PLATFORM_FEE_BPS": value})


def test_every_stripe_call_is_logged_with_its_operation_and_ids_never_the_key(gateway, log_lines):
    customer = gateway.create_customer(name="Northwind AI", metadata={"organization_id": "7"}, idempotency_key="c-7")
    with pytest.raises(GatewayError):
        gateway.create_transfer(
            amount=100,
            currency="USD",
            destination="acct_nobody",
            source_charge_id=None,
            transfer_group="contract-1",
            metadata={},
            idempotency_key="transfer-to-nobody",
        )
    created, refused = [line for line in log_lines() if line["logger"] == "marketplace.payments.gateway"]
    assert (created["stripe_operation"], created["object_id"], created["outcome"]) == (
        "customer.create",
        customer,
        "ok",
    )
    assert created["idempotency_key"] == "c-7"
    assert "Northwind" not in json.dumps(created)  # names and metadata stay out
    assert refused["level"] == "WARNING"
    assert (refused["stripe_operation"], refused["param_destination"], refused["param_amount"]) == (
        "transfer.create",
        "acct_nobody",
        100,
    )
    assert refused["outcome"] != "ok"
    everything = "\n".join(json.dumps(line) for line in log_lines())
    assert TEST_KEY not in everything
