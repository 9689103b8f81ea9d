"""A BODS "no beneficial owners" declaration is shown where a vendor's or a party's ownership is shown."""

from marketplace.parties.bods import import_bods
from marketplace.parties.models import Party
from tests.factories import AdminFactory, BuyerFactory, VendorOrgFactory

PUBLICATION = {"publicationDate": "2024-01-02", "bodsVersion": "0.4", "publisher": {"name": "Test publisher"}}


def declare_no_owners(session, vendor_party: Party, ended: bool = False) -> None:
    vendor_party.bods_record_id = "kestrel"
    session.flush()
    statements = [
        {
            "statementId": "kestrel-no-bo-0000000000000000000000000",
            "statementDate": "2024-03-01",
            "recordId": "kestrel-no-bo",
            "recordType": "relationship",
            "recordStatus": "new",
            "declarationSubject": "kestrel",
            "publicationDetails": PUBLICATION,
            "source": {"type": ["officialRegister"], "description": "Companies House"},
            "recordDetails": {
                "isComponent": False,
                "subject": "kestrel",
                "interestedParty": {"reason": "noBeneficialOwners"},
            },
        }
    ]
    if ended:
        statements.append(
            {
                **statements[0],
                "statementId": "kestrel-no-bo-closed-00000000000000000000",
                "statementDate": "2024-06-01",
                "recordStatus": "closed",
            }
        )
    import_bods(session, None, statements, "no-owners.json")


def test_the_vendor_screening_page_shows_the_declaration(client, login_as, session):
    vendor = VendorOrgFactory(name="Kestrel Labels")
    declare_no_owners(session, session.get(Party, vendor.party_id))
    login_as(BuyerFactory())

    html = client.get(f"/vendors/{vendor.id}/screening").get_data(as_text=True)

    assert "Declared: no beneficial owners (Companies House, 2024-03-01)" in html


def test_the_registry_page_shows_the_declaration(client, login_as, session):
    vendor = VendorOrgFactory(name="Kestrel Labels")
    party = session.get(Party, vendor.party_id)
    declare_no_owners(session, party)
    login_as(AdminFactory())

    html = client.get(f"/admin/parties/{party.id}").get_data(as_text=True)
    assert 'data-testid="no-owners-declaration">Declared: no beneficial owners (Companies House, 2024-03-01)' in html


def test_a_closed_declaration_is_not_shown(client, login_as, session):
    vendor = VendorOrgFactory(name="Kestrel Labels")
    party = session.get(Party, vendor.party_id)
    declare_no_owners(session, party, ended=True)
    login_as(AdminFactory())

    html = client.get(f"/admin/parties/{party.id}").get_data(as_text=True)

    assert "Declared: no beneficial owners" not in html
