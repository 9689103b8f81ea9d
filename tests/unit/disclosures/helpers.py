"""Small builders shared by the disclosure tests."""

from marketplace.disclosures import service
from marketplace.disclosures.service import TieInput


def tie(kind: str = "shareholding", name: str = "Cobalt Social", **fields) -> TieInput:
    """A tie as a vendor would type it; a person for the kinds only people hold."""
    if service.KINDS_BY_CODE[kind].person_only:
        fields.setdefault("party_kind", "person")
    if service.KINDS_BY_CODE[kind].revenue:
        fields.setdefault("revenue_share_pct", 10.0)
    return TieInput(kind=kind, party_name=name, **fields)


def submit(session, vendor, version):
    return service.submit_version(
        session, vendor, version.id, attester_name="Ana Officer", attester_title="CEO", attested=True
    )


def file_version(session, vendor, *ties: TieInput):
    """A new version with these ties added to what it copies, submitted."""
    version = service.start_new_version(session, vendor)
    for each in ties:
        service.add_tie(session, vendor, version.id, each)
    return submit(session, vendor, version)
