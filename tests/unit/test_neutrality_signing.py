"""Signing and checking neutrality statements offline: a signed statement checks; a changed byte, another key, a
bad signature or the past expiry does not; the list's digest ignores order, case, spacing and repeats."""

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest

from marketplace.neutrality import signing


def statement(key, **changes):
    now = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)
    body = {
        "format": signing.FORMAT,
        "id": "a" * 32,
        "key_id": signing.key_id(key.public_key()),
        "vendor": {"name": "Scalewise Data", "platform_id": 7},
        "as_of": now.isoformat(),
        "expires_at": (now + timedelta(days=30)).isoformat(),
        "list": {"sha256": signing.list_digest("Cobalt Social"), "entries": 1},
        "claim": "no tie",
    }
    body.update(changes)
    return json.dumps(signing.sign(key, body))


def test_a_signed_statement_checks_until_it_expires(tmp_path):
    key = signing.platform_key(tmp_path / "key.pem")
    document = statement(key)
    checked = signing.check(document, key.public_key(), now=datetime(2026, 12, 7, tzinfo=UTC))
    assert checked.statement["vendor"]["name"] == "Scalewise Data" and not checked.expired
    assert signing.check(document, key.public_key(), now=datetime(2027, 1, 6, 12, 0, tzinfo=UTC)).expired


def test_the_key_is_made_once_and_read_after(tmp_path):
    first = signing.platform_key(tmp_path / "key.pem")
    again = signing.platform_key(tmp_path / "key.pem")
    assert signing.key_id(first.public_key()) == signing.key_id(again.public_key())
    assert (tmp_path / "key.pem").stat().st_mode & 0o077 == 0  # owner-only


@pytest.mark.parametrize(
    "tamper, reason",
    [
        (lambda d: {**d, "statement": {**d["statement"], "claim": "no tie at all"}}, "changed after it was signed"),
        (
            lambda d: {**d, "statement": {**d["statement"], "expires_at": "2099-01-01T00:00:00+00:00"}},
            "changed after it was signed",
        ),
        (lambda d: {**d, "signature": base64.b64encode(b"x" * 64).decode()}, "changed after it was signed"),
        (lambda d: {**d, "signature": "not base64!"}, "not base64"),
        (lambda d: {"statement": {**d["statement"], "format": "other"}}, "not a neutrality statement"),
        (lambda d: {"signature": d["signature"]}, "no “statement” part"),
    ],
)
def test_a_changed_statement_does_not_check(tmp_path, tamper, reason):
    key = signing.platform_key(tmp_path / "key.pem")
    document = tamper(json.loads(statement(key)))
    with pytest.raises(signing.BadStatement, match=reason):
        signing.check(json.dumps(document), key.public_key())


def test_another_platforms_key_and_garbage_are_refused(tmp_path):
    key, other = signing.platform_key(tmp_path / "a.pem"), signing.platform_key(tmp_path / "b.pem")
    with pytest.raises(signing.BadStatement, match="another key"):
        signing.check(statement(key), other.public_key())
    forged = json.loads(statement(key))
    forged["statement"]["key_id"] = signing.key_id(other.public_key())  # claims the other key: its signature fails
    with pytest.raises(signing.BadStatement, match="changed after it was signed"):
        signing.check(json.dumps(forged), other.public_key())
    with pytest.raises(signing.BadStatement, match="not JSON"):
        signing.check("{not json", key.public_key())
    assert signing.load_public_key(signing.public_pem(key.public_key()).encode())
    with pytest.raises(signing.BadStatement, match="not a PEM"):
        signing.load_public_key(b"hello")


def test_the_lists_digest_ignores_order_case_spacing_and_repeats():
    one = signing.list_digest("Cobalt Social\nNorthwind  AI\n\n")
    assert one == signing.list_digest("  northwind ai\nCOBALT SOCIAL\ncobalt social")
    assert one != signing.list_digest("Cobalt Social")
    assert signing.list_entries("B\na\n a \n") == ["a", "b"]
