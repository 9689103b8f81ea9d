"""Which vendors a change to ties held in a party can give another verdict."""

from marketplace.accounts.models import Organization
from marketplace.parties.models import CommercialKind, CommercialTie, TieOrigin
from marketplace.screening.store.affected import affected_vendor_ids
from tests.factories import InterestFactory, PartyFactory, PersonFactory, VendorOrgFactory


def party(session, org):
    return session.get(Organization, org.id).party_id


def test_a_change_reaches_the_vendors_below_beside_and_sharing_people_but_not_above_or_apart(session):
    holdco = PartyFactory(name="HoldCo")
    below, seated, shares_a_director, customer, above, apart = (
        VendorOrgFactory(name=name) for name in ("Below", "Seated", "Shares a director", "Customer", "Above", "Apart")
    )
    subsidiary = PartyFactory(name="Sub")
    InterestFactory(interested_party_id=holdco.id, subject_party_id=subsidiary.id, share_exact=60.0)
    InterestFactory(interested_party_id=subsidiary.id, subject_party_id=party(session, below), share_exact=30.0)
    InterestFactory(
        interested_party_id=subsidiary.id,
        subject_party_id=party(session, seated),
        interest_type="boardMember",
        share_exact=None,
    )
    director = PersonFactory()
    for where in (subsidiary.id, party(session, shares_a_director)):
        InterestFactory(
            interested_party_id=director.id, subject_party_id=where, interest_type="boardMember", share_exact=None
        )
    session.add(
        CommercialTie(
            vendor_party_id=party(session, customer),
            counterparty_id=subsidiary.id,
            kind=CommercialKind.CUSTOMER,
            revenue_share_pct=40.0,
            origin=TieOrigin.ADMIN_FACT,
        )
    )
    InterestFactory(interested_party_id=party(session, above), subject_party_id=holdco.id, share_exact=70.0)
    session.flush()

    assert affected_vendor_ids(session, [holdco.id]) == {below.id, seated.id, shares_a_director.id, customer.id}
    assert affected_vendor_ids(session, [party(session, apart)]) == {apart.id}


def test_a_change_reaches_through_a_merge_and_is_read_in_one_statement_where_no_merge_is_met(session):
    """On PostgreSQL the vendors a change reaches are read in one statement; a merge met on the way is walked as
    before (the party merged into one below is below too)."""
    from sqlalchemy import event

    from marketplace.extensions import db

    holdco, subsidiary, absorbed = PartyFactory(name="HoldCo"), PartyFactory(name="Sub"), PartyFactory(name="Old Sub")
    below, through_merge, apart = (VendorOrgFactory(name=name) for name in ("Below", "Through merge", "Apart"))
    InterestFactory(interested_party_id=holdco.id, subject_party_id=subsidiary.id, share_exact=60.0)
    InterestFactory(interested_party_id=subsidiary.id, subject_party_id=party(session, below), share_exact=30.0)
    InterestFactory(interested_party_id=absorbed.id, subject_party_id=party(session, through_merge), share_exact=30.0)
    session.flush()
    seen: list[str] = []
    listener = lambda *args, **kwargs: seen.append(args[2])  # noqa: E731
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        assert affected_vendor_ids(session, [holdco.id]) == {below.id}
        read_without_merges = len(seen)
        absorbed.merged_into_id = subsidiary.id
        session.flush()
        assert affected_vendor_ids(session, [holdco.id]) == {below.id, through_merge.id}
        assert affected_vendor_ids(session, [party(session, apart)]) == {apart.id}
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    if session.get_bind().dialect.name == "postgresql":
        assert read_without_merges == 2  # the merges, and the rest in one
