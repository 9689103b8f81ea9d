"""The disclosure pages' ties and an admin's recorded facts, kept between requests (marketplace.transaction_cache),
never outlive what they show: each kind of change is committed for real after the answer was kept, and the very next
transaction (a request) must show it.

The admin's review of a filed version, the vendor's disclosure page and its version page read a version's ties
(`tie_views_of`) and the facts admins recorded about the vendor (`recorded_facts`) from these answers.
"""

import pytest
from sqlalchemy import update

from marketplace import transaction_cache
from marketplace.disclosures import facts
from marketplace.disclosures import service as disclosures
from marketplace.disclosures.models import DisclosureVersion
from marketplace.extensions import db
from marketplace.parties.models import CommercialKind, CommercialTie, Interest, Party, TieOrigin, VerificationLevel
from tests.concurrency.harness import recording_statements, tables_named
from tests.factories import DisclosureFactory, InterestFactory, PartyFactory, VerifiedVendorOrgFactory


def _world() -> dict:
    """A vendor with an approved version, a filed version naming one owner, and one fact an admin recorded."""
    vendor = VerifiedVendorOrgFactory()
    filed = DisclosureFactory(vendor_org_id=vendor.id, number=2)
    owner = PartyFactory(name="Kestrel Holdings")
    InterestFactory(
        interested_party_id=owner.id,
        subject_party_id=vendor.party_id,
        share_exact=30.0,
        origin=TieOrigin.DISCLOSURE,
        disclosure_id=filed.id,
        verification_level=VerificationLevel.SELF_DECLARED,
    )
    director = PartyFactory(name="Odile Brandt", kind="person")
    InterestFactory(
        interested_party_id=director.id,
        subject_party_id=vendor.party_id,
        interest_type="board-member",
        share_exact=None,
        origin=TieOrigin.ADMIN_FACT,
    )
    return {"vendor": vendor.id, "party": vendor.party_id, "filed": filed.id, "owner": owner.id}


def _shown(app, w: dict, statements: list[str] | None = None) -> dict:
    """What the pages show of the filed version's ties and the admin's facts, in a transaction of its own."""

    def read() -> dict:
        version = db.session.get(DisclosureVersion, w["filed"])
        ties = disclosures.tie_views_of(db.session, [version])[w["filed"]]
        return {
            "ties": [(t.kind, t.party_name, t.share_exact, t.verification_level) for t in ties],
            "facts": [(f.tie.kind, f.tie.party_name) for f in facts.recorded_facts(db.session, w["vendor"])],
        }

    shown, seen = recording_statements(app, read)
    (statements if statements is not None else []).extend(seen)
    return shown


def _owner_renamed(w):
    db.session.execute(update(Party).where(Party.id == w["owner"]).values(name="Kestrel Group"))


def _tie_verified(w):
    db.session.execute(
        update(Interest)
        .where(Interest.disclosure_id == w["filed"])
        .values(verification_level=VerificationLevel.ADMIN_VERIFIED)
    )


def _a_commercial_tie(w):
    db.session.add(
        CommercialTie(
            vendor_party_id=w["party"],
            counterparty_id=PartyFactory(name="Lumen Robotics").id,
            kind=CommercialKind.CUSTOMER,
            origin=TieOrigin.DISCLOSURE,
            disclosure_id=w["filed"],
        )
    )


def _a_fact(w):
    InterestFactory(
        interested_party_id=PartyFactory(name="Tarn Capital").id,
        subject_party_id=w["party"],
        share_exact=12.0,
        origin=TieOrigin.ADMIN_FACT,
    )


CHANGES = {
    "an owner renamed": (_owner_renamed, lambda s: s["ties"][0][1] == "Kestrel Group"),
    "a tie verified": (_tie_verified, lambda s: s["ties"][0][3] == "admin-verified"),
    "a commercial tie filed": (_a_commercial_tie, lambda s: any(t[1] == "Lumen Robotics" for t in s["ties"])),
    "a fact recorded": (_a_fact, lambda s: any(name == "Tarn Capital" for _, name in s["facts"])),
}


def test_a_versions_ties_and_the_recorded_facts_are_kept_without_reading_them_again(race_app, build):
    w = build(_world)
    first = _shown(race_app, w)
    assert first["ties"] == [("shareholding", "Kestrel Holdings", 30.0, "self-declared")]
    assert first["facts"] == [("board-member", "Odile Brandt")]
    statements: list[str] = []
    assert _shown(race_app, w, statements) == first
    # (The version itself is read by the test, as the pages read it.)
    assert not tables_named(statements) & {"interest", "commercialtie", "party"}


@pytest.mark.parametrize("kind", list(CHANGES))
def test_the_next_transaction_after_a_change_shows_it(race_app, build, kind):
    change, shown = CHANGES[kind]
    w = build(_world)
    assert not shown(_shown(race_app, w))
    build(lambda: change(w))
    assert shown(_shown(race_app, w))


def test_a_tie_added_in_the_same_transaction_is_shown_at_once(race_app, build):
    """A vendor adding a tie to its draft sees it on the page its own request renders (nothing kept is used)."""
    w = build(_world)
    _shown(race_app, w)

    def add_then_read():
        _a_commercial_tie(w)
        db.session.flush()
        version = db.session.get(DisclosureVersion, w["filed"])
        names = [t.party_name for t in disclosures.tie_views_of(db.session, [version])[w["filed"]]]
        db.session.rollback()
        return names

    names, _ = recording_statements(race_app, add_then_read)
    assert "Lumen Robotics" in names
    assert "Lumen Robotics" not in [t[1] for t in _shown(race_app, w)["ties"]]


def test_every_table_the_kept_answers_read_is_in_their_list(race_app, build):
    w = build(_world)
    listed = set(disclosures.TIE_VIEW_TABLES)
    assert listed <= transaction_cache.KEPT_TABLES
    for compute in (
        lambda: disclosures._read_tie_views(db.session, w["vendor"], (w["filed"],)),
        lambda: facts._read_recorded_facts(db.session, w["vendor"]),
    ):
        read = tables_named(recording_statements(race_app, compute)[1])
        assert read <= listed, read - listed
