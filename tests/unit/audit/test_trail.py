"""The trail is hash-chained and append-only: a changed, removed or moved record is found, naming it."""

import pytest
from sqlalchemy import delete, select, text, update

from marketplace.audit.models import AuditRecord, AuditTrailIsAppendOnly
from marketplace.audit.service import GENESIS_HASH, record_event, verify_stored_trail
from tests.factories import AdminFactory


@pytest.fixture
def trail(session):
    """Five records by an admin, with before/after values of several JSON types."""
    admin = AdminFactory(email="root@platform.example")
    return [
        record_event(
            session,
            admin,
            "organization.suspended",
            "organization",
            n,
            before={"suspended": False},
            after={"suspended": True, "reason": f"Fraud «{n}»", "share": 12.5, "ids": [n, n + 1], "none": None},
            vendor_org_id=n,
        )
        for n in range(1, 6)
    ]


def raw(session, sql: str, **params) -> None:
    """Change the table behind the ORM's back, as someone with database access could."""
    session.execute(text(sql), params)


def test_each_record_carries_the_hash_of_the_one_before(trail):
    assert trail[0].prev_hash == GENESIS_HASH
    for before, after in zip(trail, trail[1:], strict=False):
        assert after.prev_hash == before.hash
    assert trail[0].actor_label == "root@platform.example"


def test_a_whole_trail_verifies_as_stored(session, trail):
    check = verify_stored_trail(session)
    assert check.whole and check.records == 5


def test_an_empty_trail_is_whole(session):
    check = verify_stored_trail(session)
    assert check.whole and check.records == 0


def test_a_changed_record_is_named(session, trail):
    raw(session, "UPDATE auditrecord SET after = :after WHERE id = :id", after='{"suspended": false}', id=trail[2].id)
    check = verify_stored_trail(session)
    assert check.problem.record_id == trail[2].id
    assert "changed" in check.problem.reason


def test_a_changed_actor_or_time_is_found(session, trail):
    raw(session, "UPDATE auditrecord SET actor_label = 'someone@else.example' WHERE id = :id", id=trail[1].id)
    assert verify_stored_trail(session).problem.record_id == trail[1].id


def test_a_removed_record_is_found_at_the_next_one(session, trail):
    raw(session, "DELETE FROM auditrecord WHERE id = :id", id=trail[1].id)
    check = verify_stored_trail(session)
    assert check.problem.record_id == trail[2].id
    assert "removed" in check.problem.reason


def test_removing_the_first_record_is_found(session, trail):
    raw(session, "DELETE FROM auditrecord WHERE id = :id", id=trail[0].id)
    assert verify_stored_trail(session).problem.record_id == trail[1].id


def test_records_put_out_of_order_are_found(session, trail):
    first, second = trail[1].id, trail[3].id
    raw(session, "UPDATE auditrecord SET id = -1 WHERE id = :id", id=first)
    raw(session, "UPDATE auditrecord SET id = :a WHERE id = :b", a=first, b=second)
    raw(session, "UPDATE auditrecord SET id = :b WHERE id = -1", b=second)
    check = verify_stored_trail(session)
    assert check.problem.record_id == first
    assert "does not follow" in check.problem.reason


def test_a_rehashed_change_still_breaks_the_next_link(session, trail):
    """Recomputing a changed record's own hash does not help: the next record names the old one."""
    from marketplace.audit.service import _digest

    row = dict(session.execute(select(AuditRecord.__table__).where(AuditRecord.id == trail[2].id)).mappings().one())
    row["action"] = "organization.reinstated"
    raw(
        session,
        "UPDATE auditrecord SET action = :action, hash = :hash WHERE id = :id",
        action=row["action"],
        hash=_digest(row),
        id=trail[2].id,
    )
    assert verify_stored_trail(session).problem.record_id == trail[3].id


def test_the_orm_refuses_to_change_a_record(session, trail):
    trail[0].action = "organization.reinstated"
    with pytest.raises(AuditTrailIsAppendOnly):
        session.flush()
    session.rollback()


def test_the_orm_refuses_to_delete_a_record(session, trail):
    session.delete(trail[0])
    with pytest.raises(AuditTrailIsAppendOnly):
        session.flush()
    session.rollback()


@pytest.mark.parametrize(
    "statement",
    [
        update(AuditRecord).values(action="organization.reinstated"),
        delete(AuditRecord),
    ],
    ids=["bulk update", "bulk delete"],
)
def test_bulk_orm_statements_are_refused(session, trail, statement):
    with pytest.raises(AuditTrailIsAppendOnly):
        session.execute(statement)
    assert verify_stored_trail(session).whole


def test_values_are_stored_as_the_hash_saw_them(session):
    """Tuples become lists, dates strings: what a later read gives back is what was hashed."""
    from datetime import date

    record_event(
        session, None, "waiver.added", "waiver", 1, after={"rules": ("people", "contract"), "on": date(2026, 1, 31)}
    )
    session.expire_all()
    stored = session.execute(select(AuditRecord)).scalar_one()
    assert stored.after == {"rules": ["people", "contract"], "on": "2026-01-31"}
    assert stored.actor_label == "system"
    assert verify_stored_trail(session).whole
