"""`flask seed` and contract money: played through the real services against the local Stripe, or not at all.

With the simulator, every funded, paid or refunded milestone of the demo has its Stripe objects: `payments
reconcile` agrees, completed contracts are paid out in full, statements add up, and the demo's buyer and vendor can
still fund, deliver, accept and refund. Without it, no contract shows money that never moved.
"""

from collections import defaultdict
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.accounts.models import Organization, User
from marketplace.contracts import service as contracts
from marketplace.contracts.models import (
    CLOSED_STATES,
    HELD_STATES,
    Contract,
    ContractKind,
    ContractStatus,
    Milestone,
    MilestoneStatus,
)
from marketplace.db_types import utcnow
from marketplace.jobs.models import Job, JobStatus
from marketplace.payments import service as payments
from marketplace.payments.fees import split_payout
from marketplace.payments.models import EntryKind, LedgerEntry
from marketplace.payments.reconcile import reconcile
from marketplace.playbook import service as playbook
from seed_data.seeding import SEED_DIR, DemoLoader, SeedDataError
from tests.functional.payments.stripe_support import FEE_BPS, URLS, free_port

CONTRACTED = (JobStatus.AWARDED, JobStatus.IN_PROGRESS, JobStatus.DELIVERED, JobStatus.COMPLETED)


@pytest.fixture
def seeded_with_money(seed, stripe_config):
    result = seed()
    assert result.exit_code == 0, result.output
    return result


def _user(session, email) -> User:
    return session.execute(select(User).where(User.email == email)).scalar_one()


def _org(session, name) -> Organization:
    return session.execute(select(Organization).where(Organization.name == name)).scalar_one()


def _milestones(session, contract) -> list[Milestone]:
    return list(
        session.execute(
            select(Milestone).where(Milestone.contract_id == contract.id).order_by(Milestone.number)
        ).scalars()
    )


def _sums(entries) -> dict[EntryKind, int]:
    sums: dict[EntryKind, int] = defaultdict(int)
    for entry in entries:
        sums[EntryKind(entry.kind)] += entry.amount_minor
    return sums


def _entries(session, **where) -> list[LedgerEntry]:
    query = select(LedgerEntry)
    for name, value in where.items():
        query = query.where(getattr(LedgerEntry, name) == value)
    return list(session.execute(query).scalars())


def test_the_demo_money_reconciles_with_stripe(app, seeded_with_money, session, gateway):
    assert "local Stripe simulator" in seeded_with_money.output
    assert "the ledger agrees with Stripe" in seeded_with_money.output
    assert reconcile(session, gateway)[0] == []
    result = app.test_cli_runner().invoke(args=["payments", "reconcile"])
    assert result.exit_code == 0, result.output
    assert "The ledger agrees with Stripe and with the contracts" in result.output


def test_every_job_status_follows_from_its_contracts_money(seeded_with_money, session):
    jobs = session.execute(select(Job)).scalars().all()
    assert {JobStatus(job.status) for job in jobs} == set(JobStatus) - {JobStatus.CLOSED}
    statuses = {MilestoneStatus(m.status) for m in session.execute(select(Milestone)).scalars()}
    assert statuses >= {
        MilestoneStatus.PENDING,
        MilestoneStatus.FUNDED,
        MilestoneStatus.DELIVERED,
        MilestoneStatus.RELEASED,
        MilestoneStatus.REFUNDED,
    }
    for contract in session.execute(select(Contract)).scalars():
        job = session.get(Job, contract.job_id)
        milestones = _milestones(session, contract)
        if job.status == JobStatus.AWARDED:
            assert all(m.status == MilestoneStatus.PENDING for m in milestones)
            assert not _entries(session, contract_id=contract.id)
        if job.status == JobStatus.DELIVERED:
            live = [m for m in milestones if m.status not in (MilestoneStatus.CANCELLED, MilestoneStatus.REFUNDED)]
            assert live and all(m.status == MilestoneStatus.DELIVERED for m in live)


def test_every_completed_contract_is_paid_out_in_full(seeded_with_money, session):
    completed = session.execute(select(Contract).where(Contract.status == ContractStatus.COMPLETED)).scalars().all()
    assert len(completed) >= 2
    for contract in completed:
        assert session.get(Job, contract.job_id).status == JobStatus.COMPLETED
        assert contract.created_at < contract.completed_at < utcnow() - timedelta(days=1)
        milestones = _milestones(session, contract)
        assert all(m.status in CLOSED_STATES for m in milestones)
        assert any(m.status == MilestoneStatus.RELEASED for m in milestones)
        for milestone in milestones:
            sums = _sums(_entries(session, milestone_id=milestone.id))
            if milestone.status == MilestoneStatus.RELEASED:
                expected = split_payout(milestone.amount_minor, milestone.fee_bps)
                assert sums[EntryKind.CHARGE] == milestone.amount_minor and not sums[EntryKind.REFUND]
                assert (sums[EntryKind.TRANSFER], sums[EntryKind.PLATFORM_FEE]) == (
                    expected.vendor_minor,
                    expected.fee_minor,
                )
            else:  # refunded: nothing kept, nothing paid out
                assert sums[EntryKind.CHARGE] == sums[EntryKind.REFUND]
                assert not sums[EntryKind.TRANSFER] and not sums[EntryKind.PLATFORM_FEE]
        everything = _sums(_entries(session, contract_id=contract.id))
        assert everything[EntryKind.CHARGE] - everything[EntryKind.REFUND] == (
            everything[EntryKind.TRANSFER] + everything[EntryKind.PLATFORM_FEE]
        )


@pytest.mark.parametrize(
    "email",
    ["maya@northwind-ai.example", "ines@clearlabel.example", "admin@armslength.example", "theo@larkspur.example"],
)
def test_statements_add_up_to_what_the_milestones_hold(seeded_with_money, session, email):
    user = _user(session, email)
    statement = payments.statement(session, user)
    assert statement.lines and statement.totals
    held: dict[str, int] = defaultdict(int)
    fees: dict[str, int] = defaultdict(int)
    for contract in session.execute(select(Contract).where(contracts.contract_filter(user))).scalars():
        for milestone in _milestones(session, contract):
            if milestone.status in HELD_STATES:
                held[milestone.currency] += milestone.amount_minor
            if milestone.status == MilestoneStatus.RELEASED:
                fees[milestone.currency] += split_payout(milestone.amount_minor, milestone.fee_bps).fee_minor
    for total in statement.totals:
        assert total.charged - total.refunded - total.paid_out - total.fees == total.held
        assert total.held == held[total.currency]
        assert total.fees == fees[total.currency]
    assert {t.currency for t in statement.totals if t.held} == {c for c, amount in held.items() if amount}


def test_the_demo_buyer_funds_the_vendor_delivers_the_buyer_accepts_and_cancels_for_a_refund(
    seeded_with_money, session, gateway, stripe_sim
):
    maya, ines = _user(session, "maya@northwind-ai.example"), _user(session, "ines@clearlabel.example")
    contract = session.execute(
        select(Contract).where(
            Contract.buyer_org_id == maya.org_id,
            Contract.vendor_org_id == ines.org_id,
            Contract.kind == ContractKind.FULL,  # the demo's pilot between them is another contract
        )
    ).scalar_one()
    assert contract.status == ContractStatus.ACTIVE
    assert payments.payout_account_of(session, ines.org_id).payouts_ready
    milestones = _milestones(session, contract)
    unfunded = next(m for m in milestones if m.status == MilestoneStatus.PENDING)
    held = next(m for m in milestones if m.status == MilestoneStatus.FUNDED)
    page = contracts.contract_page(session, maya, contract.id)
    actions = {view.milestone.id: view.actions for view in page.milestones}
    assert "fund" in actions[unfunded.id] and "cancel" in actions[held.id]

    url = contracts.funding_url(session, maya, gateway, contract.id, unfunded.id, fee_bps=FEE_BPS, **URLS)
    assert stripe_sim.pay(url).status_code == 303
    assert contracts.check_payment(session, maya, gateway, contract.id, unfunded.id, fee_bps=FEE_BPS)
    contracts.deliver(session, ines, contract.id, unfunded.id, "42,000 photos tagged.", [], None)
    assert contracts.accept_delivery(session, maya, gateway, contract.id, unfunded.id) is True
    contracts.cancel_milestone(session, maya, gateway, contract.id, held.id, fee_bps=FEE_BPS)
    session.commit()

    assert session.get(Milestone, unfunded.id).status == MilestoneStatus.RELEASED
    assert session.get(Milestone, held.id).status == MilestoneStatus.REFUNDED
    paid = _sums(_entries(session, milestone_id=unfunded.id))
    split = split_payout(unfunded.amount_minor, FEE_BPS)
    assert (paid[EntryKind.TRANSFER], paid[EntryKind.PLATFORM_FEE]) == (split.vendor_minor, split.fee_minor)
    assert _sums(_entries(session, milestone_id=held.id))[EntryKind.REFUND] == held.amount_minor
    assert reconcile(session, gateway)[0] == []


def test_the_wound_down_contract_holds_money_the_buyer_settles_through_its_playbook(
    seeded_with_money, session, gateway
):
    maya = _user(session, "maya@northwind-ai.example")
    wound_down = session.execute(
        select(Contract).where(Contract.vendor_org_id == _org(session, "Scalewise Data").id)
    ).scalar_one()
    # Cobalt's 49% made Scalewise excluded: the contract's change-of-control playbook paused it.
    assert wound_down.status == ContractStatus.PAUSED
    shares = playbook.proposed_shares(session, wound_down, None)
    assert shares and all(share.held_minor > 0 for share in shares)
    # Nothing of the work counted as done: everything held comes back to the lab, through Stripe.
    playbook.settle(session, maya, gateway, wound_down.id, {s.milestone.id: 0 for s in shares}, fee_bps=FEE_BPS)
    session.commit()
    assert all(session.get(Milestone, s.milestone.id).status == MilestoneStatus.REFUNDED for s in shares)
    assert reconcile(session, gateway)[0] == []


def test_the_history_is_dated_as_the_seed_files_say(seeded_with_money, session):
    # The completed transcription contract was paid 40 days ago, not when the seed ran.
    job = session.execute(select(Job).where(Job.title.like("Transcribe 800 hours%"))).scalar_one()
    contract = session.execute(select(Contract).where(Contract.job_id == job.id)).scalar_one()
    newest = session.execute(
        select(func.max(LedgerEntry.created_at)).where(LedgerEntry.contract_id == contract.id)
    ).scalar_one()
    assert (contract.completed_at - newest).total_seconds() == 0
    assert (job.delivery_date - contract.completed_at.date()).days == 0


# ------------------------------------------------------------------------------------------------ without Stripe


def _assert_no_money(session):
    assert session.execute(select(func.count(LedgerEntry.id))).scalar_one() == 0
    assert {MilestoneStatus(m.status) for m in session.execute(select(Milestone)).scalars()} == {
        MilestoneStatus.PENDING
    }
    contracted = session.execute(select(Job).where(Job.status.in_(CONTRACTED))).scalars().all()
    assert contracted and all(job.status == JobStatus.AWARDED for job in contracted)
    assert {ContractStatus(c.status) for c in session.execute(select(Contract)).scalars()} <= {
        ContractStatus.ACTIVE,
        ContractStatus.FLAGGED,
        ContractStatus.PAUSED,  # the playbook of the contract whose vendor turned excluded
    }


def test_without_a_stripe_key_contracts_stay_awarded_and_unfunded_and_the_seed_says_so(seed, session):
    result = seed()
    assert result.exit_code == 0, result.output
    assert "left awarded and unfunded" in result.output and "STRIPE_SECRET_KEY" in result.output
    _assert_no_money(session)


def test_with_the_simulator_down_contracts_stay_unfunded_and_the_seed_says_so(app, seed, session, stripe_config):
    stripe_config["STRIPE_API_BASE"] = f"http://127.0.0.1:{free_port()}"
    result = seed()
    assert result.exit_code == 0, result.output
    assert "does not answer" in result.output
    _assert_no_money(session)


def test_real_stripe_never_gets_demo_payments(seed, session, stripe_config):
    stripe_config["STRIPE_API_BASE"] = ""  # a test key for Stripe itself: nothing is sent there
    result = seed()
    assert result.exit_code == 0, result.output
    assert "only against the local Stripe simulator" in result.output
    _assert_no_money(session)


def test_contracts_json_must_lead_to_the_job_statuses_in_jobs_json(session, gateway, tmp_path):
    for path in SEED_DIR.glob("*.json"):
        (tmp_path / path.name).write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "contracts.json").write_text("[]", encoding="utf-8")
    loader = DemoLoader(session, data_dir=tmp_path, gateway=gateway, fee_bps=FEE_BPS)
    with pytest.raises(SeedDataError, match="in jobs.json, but its contract's history"):
        for _label, step in loader.steps():
            step()
