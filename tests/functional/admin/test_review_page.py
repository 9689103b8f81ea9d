"""The admin's review of a changed disclosure: the queue's filters and ages, the change marked, the picture,
the evidence, and the screening effect of approving, computed without writing anything."""

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow
from marketplace.disclosures import evidence as evidence_service
from marketplace.disclosures import service
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.disclosures.obligations import disclosure_obligations
from marketplace.parties.models import TieOrigin
from marketplace.screening.models import VerdictRecord
from marketplace.screening.services.screen import screen_vendor
from tests.factories import (
    BuyerOrgFactory,
    InterestFactory,
    PartyFactory,
    RivalFactory,
    VendorFactory,
    VendorOrgFactory,
)
from tests.unit.disclosures.helpers import file_version, submit, tie

PDF = b"%PDF-1.4\n%%EOF\n"


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def northwind(session):
    """A buyer naming Cobalt Social as its rival, and another buyer naming nobody."""
    buyer = BuyerOrgFactory(name="Northwind AI")
    RivalFactory(buyer_org_id=buyer.id, party_id=PartyFactory(name="Cobalt Social").id)
    BuyerOrgFactory(name="Quiet Labs")
    return buyer


@pytest.fixture
def changed(session, app, admin, vendor, northwind):
    """Version 1 (Cobalt Social 30%, Founder Fund 60%, with a register extract) approved; version 2 drops
    Cobalt Social, raises Founder Fund to 70% and adds a board member."""
    first = service.start_new_version(session, vendor)
    service.add_tie(session, vendor, first.id, tie(name="Cobalt Social", share_exact=30.0))
    service.add_tie(session, vendor, first.id, tie(name="Founder Fund", share_exact=60.0))
    upload = FileStorage(io.BytesIO(PDF), "register.pdf")
    evidence_service.attach_evidence(
        session,
        vendor,
        first.id,
        filename=upload.filename,
        data=upload.read(),
        upload_folder=app.config["UPLOAD_FOLDER"],
        description="Share register",
    )
    submit(session, vendor, first)
    service.decide_version(session, admin, first.id, "approved")
    second = service.start_new_version(session, vendor)
    for view in service.tie_views(session, second):
        service.remove_tie(session, vendor, second.id, view.table, view.id)
    service.add_tie(session, vendor, second.id, tie(name="Founder Fund", share_exact=70.0))
    service.add_tie(session, vendor, second.id, tie("boardMember", name="Rui Costa", party_kind="person"))
    return submit(session, vendor, second)


def test_the_review_marks_every_change(client, login_as, admin, changed):
    login_as(admin)
    page = text(client.get(f"/admin/disclosures/{changed.id}"))
    assert "Compared with version 1" in page
    assert page.count('data-status="removed"') == 1 and page.count('data-status="added"') == 1
    assert page.count('data-status="changed"') == 1
    removed = page.split('data-status="removed"')[1].split("</tr>")[0]
    assert "Cobalt Social" in removed
    changed_row = page.split('data-status="changed"')[1].split("</tr>")[0]
    assert "Founder Fund" in changed_row and '<span class="old">60%</span> → <strong>70%</strong>' in changed_row
    assert "Rui Costa" in page.split('data-status="added"')[1].split("</tr>")[0]


def test_the_screening_effect_of_approving_is_shown_and_nothing_is_written(
    client, login_as, session, admin, vendor, northwind, changed
):
    org = session.get(Organization, vendor.org_id)
    assert screen_vendor(session, northwind.id, org).verdict == "exclude"  # version 1 still counts
    audit_count = len(session.execute(select(AuditRecord.id)).all())
    login_as(admin)

    page = text(client.get(f"/admin/disclosures/{changed.id}"))
    assert "Approving would change 1 buyer&#39;s verdict: Northwind AI exclude → clear." in page
    assert page.count('data-testid="verdict-shift"') == 1 and "Quiet Labs" not in page

    # Tried in a savepoint, rolled back: the version still awaits review and the verdict stands.
    session.expire_all()
    assert session.get(DisclosureVersion, changed.id).status == DisclosureStatus.SUBMITTED
    assert session.get(DisclosureVersion, changed.id).decided_at is None
    assert screen_vendor(session, northwind.id, org).verdict == "exclude"
    record = session.execute(
        select(VerdictRecord).where(
            VerdictRecord.buyer_org_id == northwind.id, VerdictRecord.vendor_org_id == vendor.org_id
        )
    ).scalar_one()
    assert record.verdict == "exclude"
    assert len(session.execute(select(AuditRecord.id)).all()) == audit_count

    # Approving does what the page said.
    client.post(f"/admin/disclosures/{changed.id}/decision", data={"decision": "approved"})
    assert screen_vendor(session, northwind.id, org).verdict == "clear"
    assert 'data-testid="approval-effect"' not in text(client.get(f"/admin/disclosures/{changed.id}"))


def test_an_approval_that_changes_nothing_says_so(client, login_as, session, admin, vendor, northwind):
    first = file_version(session, vendor, tie(name="Founder Fund", share_exact=60.0))
    service.decide_version(session, admin, first.id, "approved")
    second = file_version(session, vendor, tie("lender", name="Harbor Credit"))
    login_as(admin)
    page = text(client.get(f"/admin/disclosures/{second.id}"))
    assert "Approving would change no buyer&#39;s verdict (2 screened)." in page
    assert 'data-testid="verdict-shift"' not in page


def test_approving_a_first_disclosure_verifies_the_vendor_for_every_buyer(
    client, login_as, session, admin, vendor, northwind
):
    first = file_version(session, vendor, tie(name="Founder Fund", share_exact=60.0))
    login_as(admin)
    page = text(client.get(f"/admin/disclosures/{first.id}"))
    assert (
        "Approving would change 2 buyers&#39; verdicts: Northwind AI review → clear, Quiet Labs review → clear." in page
    )


def test_the_review_shows_the_picture_and_the_evidence(client, login_as, session, admin, vendor, changed):
    login_as(admin)
    page = text(client.get(f"/admin/disclosures/{changed.id}"))
    assert 'data-testid="ownership-graph"' in page
    # Version 1's Cobalt Social tie still counts until version 2 is approved, so it is drawn, as a rival.
    cobalt = page.split("<title>Cobalt Social</title>")[0].rsplit("<g ", 1)[1]
    assert "rival" in cobalt
    # The admin names no rival of its own: the legend says whose rival it is.
    legend = page.split('data-testid="legend"')[1].split("</ul>")[0]
    assert "Named as a rival by a buyer" in legend and "Your rival" not in legend
    evidence = session.execute(select(evidence_service.DisclosureEvidence)).scalar_one()
    section = page.split('<section class="card" id="evidence">')[1].split("</section>")[0]
    assert "register.pdf" in section and "Share register" in section and "Version 1" in section
    assert f"/admin/evidence/{evidence.id}" in section
    with client.get(f"/admin/evidence/{evidence.id}") as download:
        assert download.status_code == 200 and download.get_data() == PDF


def test_the_queue_filters_by_status_with_each_disclosures_age(client, login_as, session, admin, vendor, changed):
    changed.submitted_at = utcnow() - timedelta(days=6)
    other = VendorFactory(org_id=VendorOrgFactory(name="Drift Labels").id)
    sent_back = file_version(session, other, tie(name="Someone Ltd", share_exact=10.0))
    service.decide_version(session, admin, sent_back.id, "changes_requested", "Who else owns you?")
    session.flush()
    login_as(admin)

    submitted = text(client.get("/admin/disclosures?status=submitted"))
    row = submitted.split('data-testid="queue-row"')[1].split("</tr>")[0]
    assert "Scalewise Data" in row and "Version 2" in row and '<td class="num">6</td>' in row
    assert "Drift Labels" not in submitted
    requested = text(client.get("/admin/disclosures?status=changes_requested"))
    assert "Drift Labels" in requested and "Scalewise Data" not in requested
    assert "Material change overdue" in requested and "Stale" in requested  # the filters offered


def test_the_stale_filter(client, login_as, session, admin, vendor):
    approved = file_version(session, vendor, tie(name="Founder Fund", share_exact=60.0))
    service.decide_version(session, admin, approved.id, "approved")
    approved.decided_at = utcnow() - timedelta(days=400)
    fresh = VendorFactory(org_id=VendorOrgFactory(name="Fresh Labels").id)
    service.decide_version(session, admin, file_version(session, fresh, tie(name="X Ltd")).id, "approved")
    session.flush()
    [obligation] = [o for o in disclosure_obligations(session) if o.kind == "stale"]
    login_as(admin)

    page = text(client.get("/admin/disclosures?status=stale"))
    assert page.count('data-testid="queue-row"') == 1
    row = page.split('data-testid="queue-row"')[1].split("</tr>")[0]
    assert "Scalewise Data" in row and "Version 1 was approved on" in row
    assert f'<td class="num">{(utcnow() - obligation.since).days}</td>' in row
    assert f"/admin/disclosures/{approved.id}" in row


def test_the_material_change_overdue_filter(client, login_as, session, admin, vendor):
    filed = file_version(session, vendor, tie(name="Founder Fund", share_exact=60.0))
    filed.submitted_at = utcnow() - timedelta(days=90)
    org = session.get(Organization, vendor.org_id)
    InterestFactory(
        interested_party_id=PartyFactory(name="Cobalt Social").id,
        subject_party_id=org.party_id,
        share_exact=12.0,
        origin=TieOrigin.ADMIN_FACT,
        recorded_at=utcnow() - timedelta(days=40),
    )
    session.flush()
    login_as(admin)

    page = text(client.get("/admin/disclosures?status=material_change_overdue"))
    row = page.split('data-testid="queue-row"')[1].split("</tr>")[0]
    assert "Scalewise Data" in row and "Cobalt Social: shareholding 12%" in row
    assert '<td class="num">10</td>' in row
    assert "No disclosure is stale." in text(client.get("/admin/disclosures?status=stale"))


def test_the_never_filed_filter(client, login_as, session, admin, vendor):
    VendorOrgFactory(name="Silent Labels")
    file_version(session, vendor, tie(name="Founder Fund", share_exact=60.0))
    login_as(admin)
    page = text(client.get("/admin/disclosures?status=never_filed"))
    assert page.count('data-testid="queue-row"') == 1
    row = page.split('data-testid="queue-row"')[1].split("</tr>")[0]
    assert "Silent Labels has never filed an ownership disclosure." in row and "None filed" in row


def test_an_unknown_filter_falls_back_to_the_submitted_queue(client, login_as, admin, changed):
    login_as(admin)
    page = text(client.get("/admin/disclosures?status=nonsense"))
    assert '<strong aria-current="page">Awaiting review</strong>' in page and "Scalewise Data" in page


def test_the_decision_comes_where_the_reading_ends_and_the_picture_names_parties_whole(
    client, login_as, session, admin, vendor
):
    long_name = "Northern Hemisphere Sovereign Wealth and Infrastructure Fund"
    filed = file_version(session, vendor, tie(name=long_name, share_exact=5.0))
    login_as(admin)
    page = text(client.get(f"/admin/disclosures/{filed.id}"))
    # Everything to read comes first; the decision form after the last tie, with a link to it at the top.
    assert page.index('href="#decision"') < page.index('data-testid="approval-effect"')
    for section in ('data-testid="ownership-picture"', 'id="evidence"', 'data-testid="facts"', "All ties of version"):
        assert page.index(section) < page.index('<section class="card" id="decision">'), section
    # The picture wraps a long name onto lines instead of cutting it.
    node = page.split(f"<title>{long_name}</title>")[1].split("</g>")[0]
    drawn = " ".join(re.findall(r"<tspan[^>]*>([^<]*)</tspan>", node))
    assert drawn == long_name and "…" not in node
