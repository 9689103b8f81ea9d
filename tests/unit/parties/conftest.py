"""Fixtures of the party and BODS tests: a second, empty database; libcovebods' checks on every export."""

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from tests.bods_checks import check_every_export
from tests.conftest import migrated_database


@pytest.fixture(autouse=True)
def exports_pass_libcovebods(monkeypatch):
    check_every_export(monkeypatch)


@pytest.fixture(scope="session")
def empty_database_url(tmp_path_factory):
    return migrated_database(tmp_path_factory.mktemp("roundtrip"), "bods_roundtrip")


@pytest.fixture
def empty_session(empty_database_url):
    """A session on a second, migrated, empty database, rolled back after the test."""
    engine = create_engine(empty_database_url)
    connection = engine.connect()
    transaction = connection.begin()
    other = Session(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield other
    finally:
        other.close()
        transaction.rollback()
        connection.close()
        engine.dispose()
