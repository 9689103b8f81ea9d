"""libcovebods' additional checks on every export the command tests make."""

import pytest

from tests.bods_checks import check_every_export


@pytest.fixture(autouse=True)
def exports_pass_libcovebods(monkeypatch):
    check_every_export(monkeypatch)
