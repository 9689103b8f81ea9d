"""Organisation name keys; TOTP steps and recovery codes, without a request."""

import time

import pyotp
import pytest

from marketplace.accounts import two_factor
from marketplace.accounts.names import org_name_key
from tests.factories import BuyerFactory


@pytest.mark.parametrize(
    "name",
    [
        "Northwind AI",
        "northwind ai",
        "Northwind AI, Inc.",
        "NORTHWIND-AI",
        "Northwind A.I. GmbH",
        "  Northwind   AI Ltd. ",
        "Nörthwind AI LLC",
    ],
)
def test_one_name_whatever_its_case_punctuation_or_legal_suffix(name):
    assert org_name_key(name) == "northwindai"


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("N\u043erthwind AI", "northwindai"),  # Cyrillic о
        ("Northw\u0456nd A\u0406", "northwindai"),  # Cyrillic і, І
        ("\uff2e\uff4f\uff52\uff54\uff48\uff57\uff49\uff4e\uff44 AI", "northwindai"),  # full-width
        ("\u041d\u043e\u0440\u0442\u0432\u0438\u043d\u0434", "nortvind"),
        ("\u6df1\u5ea6\u6c42\u7d22", "shenduqiusuo"),
    ],
)
def test_letters_of_other_scripts_are_transliterated_not_dropped(name, key):
    assert org_name_key(name) == key


def test_different_names_stay_different():
    assert org_name_key("Northwind AI") != org_name_key("Northwind Labs")
    assert org_name_key("Co") == "co"  # a suffix alone is a name
    assert org_name_key("...") == ""


def test_a_code_from_the_step_before_or_after_is_accepted_but_not_two_away():
    secret = pyotp.random_base32()
    now = time.time()
    totp = pyotp.TOTP(secret)
    assert two_factor._matching_step(secret, totp.at(now - 30), now) is not None
    assert two_factor._matching_step(secret, totp.at(now + 30), now) is not None
    assert two_factor._matching_step(secret, totp.at(now + 90), now) is None
    assert two_factor._matching_step(secret, "12345", now) is None


def test_an_earlier_step_is_refused_after_a_later_one(session):
    user = BuyerFactory()
    secret = pyotp.random_base32()
    totp = pyotp.TOTP(secret)
    two_factor.enable_totp(session, user, secret, totp.at(time.time() + 30))
    with pytest.raises(two_factor.SecondFactorError):
        two_factor.check_second_factor(session, user, totp.now())


def test_recovery_codes_are_random_hashed_and_single_use(session):
    user = BuyerFactory()
    secret = pyotp.random_base32()
    codes = two_factor.enable_totp(session, user, secret, pyotp.TOTP(secret).now())
    assert len(codes) == two_factor.RECOVERY_CODE_COUNT and all(len(c) == 23 for c in codes)
    assert two_factor.check_second_factor(session, user, codes[3]) == "recovery code"
    with pytest.raises(two_factor.SecondFactorError):
        two_factor.check_second_factor(session, user, codes[3])
    assert two_factor.unused_recovery_codes(session, user) == 9


def test_the_qr_code_is_svg_drawn_here():
    svg = two_factor.qr_svg(two_factor.provisioning_uri(pyotp.random_base32(), "a@b.example"))
    assert svg.lstrip().startswith("<svg") and "http" not in svg.replace("http://www.w3.org", "")
