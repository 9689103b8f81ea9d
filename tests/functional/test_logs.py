"""Structured logs: one JSON object per line, carrying the request, the signed-in user and organisation; secrets
redacted. (Stripe calls: tests/unit/payments/test_gateway.py.)"""

import logging
import threading

from marketplace import logs
from tests.factories import BuyerFactory


def test_every_response_carries_a_request_id_and_is_logged_once_with_it(client, log_lines):
    response = client.get("/sign-in")
    request_id = response.headers[logs.REQUEST_ID_HEADER]
    assert len(request_id) == 32
    [line] = [line for line in log_lines() if line["logger"] == "marketplace.request"]
    assert line["request_id"] == request_id
    assert (line["method"], line["path"], line["status"], line["level"]) == ("GET", "/sign-in", 200, "INFO")
    assert line["duration_ms"] >= 0
    assert "user_id" not in line  # nobody is signed in


def test_each_request_gets_its_own_id(client, log_lines):
    first, second = client.get("/sign-in"), client.get("/sign-in")
    assert first.headers[logs.REQUEST_ID_HEADER] != second.headers[logs.REQUEST_ID_HEADER]
    lines = [line for line in log_lines() if line["logger"] == "marketplace.request"]
    assert [line["request_id"] for line in lines] == [r.headers[logs.REQUEST_ID_HEADER] for r in (first, second)]


def test_a_callers_plain_request_id_is_kept_and_anything_else_replaced(client, log_lines):
    kept = client.get("/sign-in", headers={logs.REQUEST_ID_HEADER: "lb-4f1c2a9e-77"})
    assert kept.headers[logs.REQUEST_ID_HEADER] == "lb-4f1c2a9e-77"
    forged = 'x", "level": "CRITICAL", "message": "admin signed in'
    replaced = client.get("/sign-in", headers={logs.REQUEST_ID_HEADER: forged})
    assert replaced.headers[logs.REQUEST_ID_HEADER] not in (forged, "lb-4f1c2a9e-77")
    assert [line["request_id"] for line in log_lines()] == ["lb-4f1c2a9e-77", replaced.headers[logs.REQUEST_ID_HEADER]]


def test_a_signed_in_request_names_its_user_and_organisation(client, session, login_as, log_lines):
    buyer = BuyerFactory()
    session.flush()
    login_as(buyer)
    client.get("/jobs/")
    [line] = [line for line in log_lines() if line["path"] == "/jobs/"]
    assert (line["user_id"], line["org_id"]) == (buyer.id, buyer.org_id)


def test_a_module_log_line_in_a_request_carries_the_request_and_secrets_are_redacted(app, log_lines):
    with app.test_request_context("/anything", headers={logs.REQUEST_ID_HEADER: "trace-12345678"}):
        app.preprocess_request()
        logging.getLogger("marketplace.bids.service").warning(
            "a bid went astray", extra={"bid_id": 7, "password": "hunter2", "stripe_secret": "sk_test_x"}
        )
    [line] = log_lines()
    assert line["message"] == "a bid went astray"
    assert (line["level"], line["logger"], line["request_id"], line["bid_id"]) == (
        "WARNING",
        "marketplace.bids.service",
        "trace-12345678",
        7,
    )
    assert (line["password"], line["stripe_secret"]) == ("[redacted]", "[redacted]")


def test_a_log_line_outside_any_request_is_still_one_json_object(app, log_lines):
    # A thread of its own: the test itself runs inside a request context.
    worker = threading.Thread(
        target=lambda: logging.getLogger("marketplace.payments.reconcile").info("ledger agrees", extra={"entries": 21})
    )
    worker.start()
    worker.join()
    [line] = log_lines()
    assert (line["message"], line["entries"]) == ("ledger agrees", 21)
    assert "request_id" not in line


def test_text_format_for_a_terminal(app):
    formatter = logs._formatter("text")
    record = logging.LogRecord("marketplace.x", logging.INFO, __file__, 1, "hello", None, None)
    assert formatter.format(record).endswith("INFO marketplace.x [-] hello")
