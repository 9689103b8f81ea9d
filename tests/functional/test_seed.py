"""`flask seed`: the demo marketplace loads, refuses to mix with data, reloads with --reset."""

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Organization, OrgKind, Role, User
from marketplace.accounts.passwords import verify_password
from marketplace.audit.models import AuditRecord
from marketplace.bids.models import Bid, BidRevision, BidStatus
from marketplace.certificates.models import Certificate, CertificateStatus
from marketplace.certificates.service import current_certificates
from marketplace.contracts.models import Contract, ContractKind, ContractStatus
from marketplace.db_types import utcnow
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.jobs.models import Job, JobInvitation, JobStatus, Visibility
from marketplace.messages.models import BidMessage
from marketplace.ndas.models import NdaAcceptance
from marketplace.notifications.models import Notification
from marketplace.parties.models import Interest, Party, PartyKind
from marketplace.playbook.models import ContractPlaybook, PlaybookStatus
from marketplace.scoring.service import score_rows
from marketplace.screening.models import Rival, VerdictRecord
from marketplace.screening.services.screen import Verdict, screen_vendor
from marketplace.visibility import effective_status, visible_jobs
from seed_data.seeding import DEMO_LOGINS, DEMO_PASSWORD
from tests.factories import AdminFactory, BuyerFactory


@pytest.fixture
def seeded(seed):
    result = seed()
    assert result.exit_code == 0, result.output
    return result


def test_flask_finds_the_seed_command_outside_the_app(tmp_path):
    """`flask --app marketplace seed` works although the app does not import the seed: the command is a Flask plugin
    (the `flask.commands` entry point), found by the real `flask` command line."""
    flask = Path(sys.executable).with_name("flask")
    env = {"PATH": str(flask.parent), "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}", "HOME": str(tmp_path)}
    result = subprocess.run(  # noqa: S603 (our own command)
        [str(flask), "--app", "marketplace", "seed", "--help"], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "Load seed_data/ into the database" in result.stdout
    assert "--reset" in result.stdout


def _count(session, query):
    return session.execute(select(func.count()).select_from(query.subquery())).scalar_one()


def _org(session, name):
    return session.execute(select(Organization).where(Organization.name == name)).scalar_one()


def _user(session, email):
    return session.execute(select(User).where(User.email == email)).scalar_one()


def test_seed_loads_the_whole_demo(seeded, session):
    assert "maya@northwind-ai.example" in seeded.output and DEMO_PASSWORD in seeded.output
    assert _count(session, select(Organization).where(Organization.kind == OrgKind.BUYER)) >= 3
    assert _count(session, select(Organization).where(Organization.kind == OrgKind.VENDOR)) >= 10
    org_parties = select(Organization.party_id).where(Organization.party_id.is_not(None))
    outside_rivals = select(Rival.party_id).where(Rival.party_id.not_in(org_parties)).distinct()
    assert _count(session, outside_rivals) >= 5

    jobs = session.execute(select(Job)).scalars().all()
    assert len(jobs) >= 12
    # No Stripe here: nothing that needs money moved (payments/test_seed_money.py loads the demo with the simulator).
    unfunded = {JobStatus.IN_PROGRESS, JobStatus.DELIVERED, JobStatus.COMPLETED, JobStatus.CLOSED}
    assert {JobStatus(job.status) for job in jobs} == set(JobStatus) - unfunded
    assert JobStatus.CLOSED in {effective_status(job) for job in jobs}
    assert {job.modality for job in jobs} == {"image", "video", "text", "audio", "3d_lidar", "multimodal"}
    assert {job.currency for job in jobs} >= {"USD", "EUR", "GBP"}
    assert all(job.codename for job in jobs if job.visibility == Visibility.CONFIDENTIAL)
    invite_only = [job.id for job in jobs if job.visibility == Visibility.INVITE_ONLY]
    assert invite_only and _count(session, select(JobInvitation).where(JobInvitation.job_id.in_(invite_only)))

    statuses = set(session.execute(select(DisclosureVersion.status).distinct()).scalars())
    assert {DisclosureStatus(status) for status in statuses} == set(DisclosureStatus)


def test_seeded_bids_have_revisions_and_every_outcome(seeded, session):
    assert {BidStatus(s) for s in session.execute(select(Bid.status).distinct()).scalars()} == set(BidStatus)
    most_revisions = session.execute(select(func.max(Bid.revision))).scalar_one()
    assert most_revisions >= 3
    assert _count(session, select(BidRevision)) > _count(session, select(Bid))
    contracted = (JobStatus.AWARDED, JobStatus.IN_PROGRESS, JobStatus.DELIVERED, JobStatus.COMPLETED)
    awards = select(Contract).where(Contract.kind == ContractKind.FULL)  # the demo's pilot is a contract too
    assert _count(session, awards) == _count(session, select(Job).where(Job.status.in_(contracted)))
    assert _count(session, select(Contract).where(Contract.kind == ContractKind.PILOT)) == 1


def test_demo_logins_work_with_the_published_password(seeded, session):
    for role, email in DEMO_LOGINS:
        user = _user(session, email)
        assert user.role == Role(role)
        assert verify_password(user.password_hash, DEMO_PASSWORD)
    assert _user(session, "maya@northwind-ai.example").org_id == _org(session, "Northwind AI").id
    assert _user(session, "ines@clearlabel.example").org_id == _org(session, "ClearLabel Studio").id


def test_vendor_bought_49_percent_by_a_rival_is_excluded_and_cannot_see_confidential_jobs(seeded, session):
    northwind = _org(session, "Northwind AI")
    scalewise = _org(session, "Scalewise Data")
    cobalt = session.execute(select(Party).where(Party.name == "Cobalt Social")).scalar_one()
    assert session.execute(
        select(Rival).where(Rival.buyer_org_id == northwind.id, Rival.party_id == cobalt.id)
    ).scalar_one()
    stake = session.execute(
        select(Interest).where(
            Interest.interested_party_id == cobalt.id, Interest.subject_party_id == scalewise.party_id
        )
    ).scalar_one()
    assert stake.share_exact == 49

    screening = screen_vendor(session, northwind.id, scalewise)
    assert screening.verdict == Verdict.EXCLUDE
    assert any("Cobalt Social" in finding.explanation for finding in screening.findings)

    confidential = set(
        session.execute(
            select(Job.id).where(
                Job.buyer_org_id == northwind.id,
                Job.visibility == Visibility.CONFIDENTIAL,
                Job.status != JobStatus.DRAFT,
            )
        ).scalars()
    )
    assert confidential
    scalewise_user = _user(session, "kwame@scalewise.example")
    seen_by_scalewise = set(session.execute(visible_jobs(session, scalewise_user).with_only_columns(Job.id)).scalars())
    assert not confidential & seen_by_scalewise
    clear_vendor = _user(session, "ines@clearlabel.example")
    seen_by_clear_vendor = set(session.execute(visible_jobs(session, clear_vendor).with_only_columns(Job.id)).scalars())
    assert confidential <= seen_by_clear_vendor


def test_screening_at_the_end_conflicts_bids_flags_the_contract_and_tells_the_lab(seeded, session):
    northwind = _org(session, "Northwind AI")
    scalewise = _org(session, "Scalewise Data")
    bids = (
        session.execute(
            select(Bid)
            .join(Job, Job.id == Bid.job_id)
            .where(Job.buyer_org_id == northwind.id, Bid.vendor_org_id == scalewise.id)
        )
        .scalars()
        .all()
    )
    assert bids and all(bid.conflicted for bid in bids)
    contract = session.execute(select(Contract).where(Contract.vendor_org_id == scalewise.id)).scalar_one()
    # The rival's 49% makes Scalewise excluded: the contract's change-of-control playbook ran (paused, to settle).
    assert contract.status == ContractStatus.PAUSED and "Cobalt Social" in contract.flagged_reason
    playbook = session.execute(select(ContractPlaybook).where(ContractPlaybook.contract_id == contract.id)).scalar_one()
    assert playbook.status == PlaybookStatus.RUNNING and playbook.deletion_due_on is not None
    maya = _user(session, "maya@northwind-ai.example")
    assert (
        session.execute(
            select(Notification).where(Notification.user_id == maya.id, Notification.kind == "verdict_changed")
        )
        .scalars()
        .first()
    )


def test_seeded_people_and_unknown_owners_are_in_the_graph(seeded, session):
    founder = session.execute(select(Party).where(Party.name == "Daniel Okafor")).scalar_one()
    assert founder.kind == PartyKind.PERSON
    roles = (
        session.execute(
            select(Interest).where(
                Interest.interested_party_id == founder.id, Interest.interest_type == "seniorManagingOfficial"
            )
        )
        .scalars()
        .all()
    )
    today = utcnow().date()
    assert any(role.end_date and role.end_date < today for role in roles)
    assert any(role.end_date is None and role.start_date and role.start_date <= today for role in roles)
    anonymous = session.execute(select(Party).where(Party.kind == PartyKind.UNSPECIFIED)).scalars().all()
    assert anonymous and anonymous[0].party_type == "anonymousEntity"


def test_second_run_refuses_and_changes_nothing(seeded, seed, session):
    before = _count(session, select(Organization))
    result = seed()
    assert result.exit_code == 1
    assert "already has organisations or users" in result.output
    assert _count(session, select(Organization)) == before


def test_seed_refuses_a_database_with_only_a_user(seed, session):
    AdminFactory()
    result = seed()
    assert result.exit_code == 1
    assert _count(session, select(Job)) == 0


def test_reset_empties_the_database_and_reloads(seeded, seed, session):
    stranger_id = BuyerFactory().id
    # Audit, verdict and notification rows would double if any table were left full.
    models = (Organization, User, Job, Bid, Rival, AuditRecord, VerdictRecord, Notification, Party)
    counts = {model: _count(session, select(model)) for model in models}

    result = seed("--reset")

    assert result.exit_code == 0, result.output
    assert session.get(User, stranger_id) is None
    assert {model: _count(session, select(model)) for model in counts} == {
        **counts,
        Organization: counts[Organization] - 1,
        User: counts[User] - 1,
        Party: counts[Party] - 1,
    }


def test_the_demo_lab_judges_whole_bids_behind_an_nda(seeded, session):
    """The demo shows issue 14's work: answers per requirement, weights and colleagues' scores (one disagreement),
    a thread with the bidder, and an NDA accepted by every bidder on the confidential job that requires it."""
    # By its whole title: the demo has two warehouse jobs, and PostgreSQL returns rows in no set order.
    warehouse = session.execute(
        select(Job).where(Job.title == "Bounding boxes for 120k warehouse robot camera frames")
    ).scalar_one()
    lab = _org(session, "Northwind AI")
    compared = [bid for bid in session.execute(select(Bid).where(Bid.job_id == warehouse.id)).scalars()]
    clear_label = next(b for b in compared if b.vendor_org_id == _org(session, "ClearLabel Studio").id)
    assert clear_label.requirement_answers["hosting"].startswith("Our AWS account")
    scores = score_rows(session, warehouse, [b for b in compared if b.status == BidStatus.ACTIVE])
    assert scores[clear_label.id].disagreements == ["Security: scores from 4 to 8"]
    thread = session.execute(select(BidMessage).where(BidMessage.bid_id == clear_label.id)).scalars().all()
    assert [m.from_buyer for m in thread] == [True, False, True]
    guarded = session.execute(select(Job).where(Job.requires_nda.is_(True))).scalars().all()
    assert [job.buyer_org_id for job in guarded] == [lab.id] and guarded[0].visibility == Visibility.CONFIDENTIAL
    bidders = {b.vendor_org_id for b in session.execute(select(Bid).where(Bid.job_id == guarded[0].id)).scalars()}
    accepted = set(session.execute(select(NdaAcceptance.vendor_org_id)).scalars())
    assert {vendor for vendor in bidders if vendor != _org(session, "Redline Evaluators").id} <= accepted


def test_the_demo_vendor_holds_a_verified_certificate_and_one_about_to_expire(seeded, session, app):
    """Issue 15: ClearLabel Studio's ISO 27001 runs for years, its SOC 2 Type II expires within a month (so the
    reminders have something to say), and a certificate awaits the admin's review; each file is a real PDF."""
    clear_label = _org(session, "ClearLabel Studio")
    held = {c.kind: c for c in current_certificates(session, {clear_label.id})}
    today = utcnow().date()
    assert (held["iso27001"].expires_on - today).days > 365
    assert 0 < (held["soc2_type2"].expires_on - today).days <= 30
    pending = session.execute(select(Certificate).where(Certificate.status == CertificateStatus.PENDING)).scalars()
    assert [c.vendor_org_id for c in pending] == [_org(session, "Scalewise Data").id]
    folder = Path(app.config["UPLOAD_FOLDER"]) / "certificates"
    assert (folder / held["iso27001"].stored_name).read_bytes().startswith(b"%PDF-")
