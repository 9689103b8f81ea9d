"""Neutrality statements (issue 17): a vendor with no tie to the listed parties gets a signed statement naming only
the list's digest; a tie of 10% or more, a board seat, a shared officer, an undisclosed vendor or an unknown party
refuses it without naming the party; a later change revokes it; anyone checks it on the verification page or with
`flask verify-statement`, offline."""

import json

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow
from marketplace.disclosures.facts import FactInput, record_fact
from marketplace.neutrality import signing
from marketplace.neutrality.models import NeutralityStatement
from marketplace.notifications.models import Notification
from marketplace.parties.models import PartyIdentifier
from tests.factories import (
    AdminFactory,
    InterestFactory,
    PartyFactory,
    PersonFactory,
    VendorFactory,
    VerifiedVendorFactory,
)


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def world(session):
    """A vetted vendor, two rivals in the register (one with a Companies House number), and an admin."""
    vendor = VerifiedVendorFactory()
    cobalt, northwind = PartyFactory(name="Cobalt Social Ltd"), PartyFactory(name="Northwind AI")
    session.add(PartyIdentifier(party_id=cobalt.id, scheme="GB-COH", value="01234567", value_normalized="01234567"))
    admin = AdminFactory()
    session.commit()
    return vendor, cobalt, northwind, admin


def ask(client, parties: str, days: str = "30"):
    return client.post("/neutrality", data={"parties": parties, "days": days})


def test_a_vendor_with_no_tie_gets_a_statement_that_names_only_the_lists_digest(client, session, login_as, world):
    vendor, cobalt, northwind, _ = world
    login_as(vendor)
    assert ask(client, "GB-COH:01234567\nNorthwind AI").status_code == 303
    row = session.execute(select(NeutralityStatement)).scalar_one()
    document = text(client.get(f"/neutrality/{row.uid}.json"))
    assert "Northwind" not in document and "Cobalt" not in document  # the list never travels
    body = json.loads(document)["statement"]
    assert body["list"] == {"sha256": signing.list_digest("northwind ai\ngb-coh:01234567"), "entries": 2}
    assert body["vendor"]["name"] == session.get(Organization, vendor.org_id).name
    assert sorted(row.party_ids) == sorted([cobalt.id, northwind.id])
    assert 'data-testid="statement-state">Valid' in text(client.get("/neutrality"))
    assert session.execute(select(AuditRecord).where(AuditRecord.action == "neutrality.signed")).scalar_one()

    # Anyone (signed out) checks it, with the list it covers and with another.
    client.post("/sign-out")
    checked = text(
        client.post("/neutrality/verify", data={"document": document, "parties": "Northwind AI\ngb-coh:01234567"})
    )
    assert "Valid: signed by this platform" in checked and "It covers exactly your list." in checked
    other = text(client.post("/neutrality/verify", data={"document": document, "parties": "Northwind AI"}))
    assert "It covers another list than yours." in other


@pytest.mark.parametrize(
    "tie",
    [
        {"interest_type": "shareholding", "share_exact": 12.0},  # 10% or more
        {"interest_type": "votingRights", "share_exact": 10.0},
        {"interest_type": "appointmentOfBoard", "share_exact": None},
    ],
)
def test_a_tie_of_ten_percent_or_a_board_seat_refuses_the_statement_without_naming_the_party(
    client, session, login_as, world, tie
):
    vendor, cobalt, _, _ = world
    org = session.get(Organization, vendor.org_id)
    InterestFactory(interested_party_id=cobalt.id, subject_party_id=org.party_id, **tie)
    session.commit()
    login_as(vendor)
    refused = ask(client, "Northwind AI\nCobalt Social Ltd")
    page = text(refused)
    assert refused.status_code == 400
    assert "cannot sign that statement" in page and "Cobalt Social Ltd" in page  # the form comes back filled in
    assert page.count("Cobalt") == 1  # ... and the message does not name the party
    assert session.execute(select(NeutralityStatement)).first() is None


def test_a_small_stake_does_not_stand_in_the_way(client, session, login_as, world):
    vendor, cobalt, _, _ = world
    org = session.get(Organization, vendor.org_id)
    InterestFactory(interested_party_id=cobalt.id, subject_party_id=org.party_id, share_exact=9.0)
    session.commit()
    login_as(vendor)
    assert ask(client, "Cobalt Social Ltd").status_code == 303


def test_a_shared_officer_refuses_the_statement(client, session, login_as, world):
    vendor, cobalt, _, _ = world
    org = session.get(Organization, vendor.org_id)
    officer = PersonFactory(name="Dana Whitfield")
    for subject in (org.party_id, cobalt.id):
        InterestFactory(
            interested_party_id=officer.id, subject_party_id=subject, interest_type="boardMember", share_exact=None
        )
    session.commit()
    login_as(vendor)
    assert ask(client, "Cobalt Social Ltd").status_code == 400


def test_an_undisclosed_vendor_an_unknown_party_and_bad_input_are_refused_next_to_the_field(
    client, session, login_as, world
):
    undisclosed = VendorFactory()  # no approved disclosure: nothing to vouch for
    session.commit()
    login_as(undisclosed)
    assert "cannot sign that statement" in text(ask(client, "Northwind AI"))
    login_as(world[0])
    unknown = text(ask(client, "Northwind AI\nNo Such Holdings PLC"))
    assert "The register has no party “no such holdings plc”" in unknown
    too_long = ask(client, "Northwind AI", days="365")
    assert too_long.status_code == 400 and "Not a valid choice" in text(too_long)
    assert "List at least one party" in text(ask(client, "  \n  "))
    assert session.execute(select(NeutralityStatement)).first() is None


def test_a_later_change_revokes_the_statement_and_the_check_says_so(client, session, login_as, world):
    vendor, cobalt, _, admin = world
    login_as(vendor)
    ask(client, "Cobalt Social Ltd")
    row = session.execute(select(NeutralityStatement)).scalar_one()
    document = row.document
    # An admin records, from the register, that Cobalt bought 49% of the vendor.
    record_fact(
        session,
        admin,
        vendor.org_id,
        FactInput(
            kind="shareholding",
            party_name="Cobalt Social Ltd",
            party_id=cobalt.id,
            share_exact=49.0,
            verification_level="official register",
            source_url="https://registry.example/filing",
            source_date=utcnow().date(),
        ),
    )
    session.commit()
    session.refresh(row)
    assert row.revoked_at is not None
    told = session.execute(
        select(Notification.message).where(Notification.user_id == vendor.id, Notification.kind == "neutrality_revoked")
    ).scalar_one()
    assert "revoked" in told
    assert "Revoked" in text(client.get("/neutrality"))
    assert "Revoked: the signature holds" in text(client.post("/neutrality/verify", data={"document": document}))


def test_a_tampered_statement_fails_the_check_and_the_page_asks_for_one(client, session, login_as, world):
    vendor = world[0]
    login_as(vendor)
    ask(client, "Northwind AI")
    body = json.loads(session.execute(select(NeutralityStatement.document)).scalar_one())
    body["statement"]["vendor"]["name"] = "Someone Else Ltd"
    page = text(client.post("/neutrality/verify", data={"document": json.dumps(body)}))
    assert "Not valid." in page and "changed after it was signed" in page
    empty = client.post("/neutrality/verify", data={"document": ""})
    assert empty.status_code == 400 and "Paste the statement" in text(empty)


def test_only_the_vendor_and_admins_download_a_statement(client, session, login_as, world):
    vendor, _, _, admin = world
    login_as(vendor)
    ask(client, "Northwind AI")
    uid = session.execute(select(NeutralityStatement.uid)).scalar_one()
    login_as(VerifiedVendorFactory())
    assert client.get(f"/neutrality/{uid}.json").status_code == 404
    login_as(admin)
    assert client.get(f"/neutrality/{uid}.json").status_code == 200


def test_the_command_checks_a_statement_offline_with_the_public_key(client, session, login_as, world, app, tmp_path):
    vendor = world[0]
    login_as(vendor)
    ask(client, "Northwind AI")
    document = session.execute(select(NeutralityStatement.document)).scalar_one()
    (tmp_path / "statement.json").write_text(document)
    (tmp_path / "key.pem").write_text(text(client.get("/neutrality/public-key.pem")))
    (tmp_path / "list.txt").write_text("northwind ai\n")
    runner = app.test_cli_runner()
    base = ["verify-statement", str(tmp_path / "statement.json"), "--public-key", str(tmp_path / "key.pem")]
    result = runner.invoke(args=[*base, "--list", str(tmp_path / "list.txt")])
    assert result.exit_code == 0, result.output
    assert "It covers exactly your list." in result.output and "Valid: signed by key" in result.output
    (tmp_path / "list.txt").write_text("Cobalt Social Ltd\n")
    assert "another list" in runner.invoke(args=[*base, "--list", str(tmp_path / "list.txt")]).output
    tampered = json.loads(document)
    tampered["statement"]["threshold_pct"] = 50
    (tmp_path / "statement.json").write_text(json.dumps(tampered))
    result = runner.invoke(args=base)
    assert result.exit_code != 0 and "changed after it was signed" in result.output
