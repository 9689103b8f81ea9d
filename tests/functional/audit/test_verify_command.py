"""`flask audit verify`: exit 0 on a whole trail; non-zero naming the first bad record otherwise."""

import pytest
from sqlalchemy import text

from marketplace.audit.service import record_event
from tests.factories import AdminFactory


@pytest.fixture
def trail(session):
    admin = AdminFactory()
    return [
        record_event(
            session,
            admin,
            "disclosure.approved",
            "disclosure",
            n,
            before={"status": "submitted"},
            after={"status": "approved", "reason": ""},
            vendor_org_id=n,
        )
        for n in range(1, 5)
    ]


def verify(app):
    return app.test_cli_runner().invoke(args=["audit", "verify"])


def test_a_whole_trail_exits_0(app, trail):
    result = verify(app)
    assert result.exit_code == 0, result.output
    assert "whole: 4 records" in result.output


def test_a_changed_record_exits_non_zero_naming_it(app, session, trail):
    session.execute(text("UPDATE auditrecord SET subject_id = 99 WHERE id = :id"), {"id": trail[1].id})
    result = verify(app)
    assert result.exit_code != 0
    assert f"broken at record {trail[1].id}: it was changed after it was written" in result.output


def test_a_deleted_record_exits_non_zero_naming_the_next(app, session, trail):
    session.execute(text("DELETE FROM auditrecord WHERE id = :id"), {"id": trail[2].id})
    result = verify(app)
    assert result.exit_code != 0
    assert f"broken at record {trail[3].id}" in result.output


def test_a_reordered_trail_exits_non_zero_naming_the_first_out_of_place(app, session, trail):
    one, two = trail[0].id, trail[2].id
    for sql, params in (
        ("UPDATE auditrecord SET id = -5 WHERE id = :a", {"a": one}),
        ("UPDATE auditrecord SET id = :a WHERE id = :b", {"a": one, "b": two}),
        ("UPDATE auditrecord SET id = :b WHERE id = -5", {"b": two}),
    ):
        session.execute(text(sql), params)
    result = verify(app)
    assert result.exit_code != 0
    assert f"broken at record {one}: it does not follow the record before it" in result.output
