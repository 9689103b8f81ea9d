"""The change-of-control playbook (issue 17): set per contract at award from the lab's defaults; when a closed deal
makes the vendor excluded, data access is revoked through a signed call to the lab's storage and new access refused,
the work done is settled pro rata through Stripe (ledger and reconcile agreeing), and the vendor's officer must
attest deletion by a deadline, reminded and then escalated; or the lab goes on, its reason in the audit trail."""

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.audit.models import AuditRecord
from marketplace.bids.service import award_bid
from marketplace.contracts.models import ContractStatus, Milestone, MilestoneStatus
from marketplace.db_types import utcnow
from marketplace.notifications.models import Notification
from marketplace.playbook.models import ContractPlaybook, LabPlaybook, PlaybookStatus
from marketplace.webhooks.signing import HEADER, BadSignature, verify
from tests.factories import BidFactory, JobFactory, UserFactory
from tests.functional.disputes.helpers import agrees, run_reminders
from tests.functional.payments.stripe_support import connect_vendor, deliver, fund, ledger, only_milestone
from tests.functional.playbook.conftest import cobalt_buys_the_vendor


def text(response) -> str:
    return response.get_data(as_text=True)


def playbook(session, deal) -> ContractPlaybook:
    found = session.execute(
        select(ContractPlaybook).where(ContractPlaybook.contract_id == deal.contract.id)
    ).scalar_one()
    session.refresh(found)
    return found


def with_storage(client, login_as, deal, storage_server) -> str:
    """The lab registers its storage as a webhook endpoint for the data access events; its secret shown once."""
    login_as(deal.buyer)
    page = client.post(
        "/webhooks",
        data={"url": storage_server.url, "events": ["data_access.granted", "data_access.revoked"]},
    )
    assert page.status_code in (200, 303), text(page)[:500]
    secret = re.search(r"whsec_[A-Za-z0-9_\-]+", text(page)).group(0)
    return secret


def send_webhooks(app) -> str:
    """What `flask webhooks deliver` (cron, without a task queue) prints after sending what is due."""
    result = app.test_cli_runner().invoke(args=["webhooks", "deliver"])
    assert result.exit_code == 0, result.output
    return result.output


def give_access(client, deal, resource="s3://acme-labeling/batch-7/", days="30"):
    return client.post(
        f"/contracts/{deal.contract.id}/grants", data={"resource": resource, "access": "read", "days": days}
    )


def notices(session, org_id, kind) -> list[str]:
    return list(
        session.execute(
            select(Notification.message)
            .join(User, User.id == Notification.user_id)
            .where(Notification.kind == kind, User.org_id == org_id)
            .order_by(Notification.id)
        ).scalars()
    )


def admin_notices(session, admin, kind) -> list[str]:
    return list(
        session.execute(
            select(Notification.message).where(Notification.user_id == admin.id, Notification.kind == kind)
        ).scalars()
    )


def audit_actions(session, deal) -> list[str]:
    return list(
        session.execute(
            select(AuditRecord.action)
            .where(AuditRecord.subject_type == "contract", AuditRecord.subject_id == deal.contract.id)
            .order_by(AuditRecord.id)
        ).scalars()
    )


# ------------------------------------------------------------------------------------------------ set at award


def test_each_contract_gets_the_labs_defaults_when_it_is_made_and_keeps_them(client, session, login_as, world):
    assert (playbook(session, world).wind_down, playbook(session, world).deletion_days) == (True, 14)
    login_as(world.buyer)
    saved = client.post("/playbook/settings", data={"deletion_days": "30"}, follow_redirects=True)
    assert "Your playbook&#39;s defaults are saved" in text(saved)
    # The contract made before keeps its own; the lab changes it on its page until it runs.
    assert playbook(session, world).deletion_days == 14
    page = text(client.get(f"/contracts/{world.contract.id}"))
    assert "the vendor must attest deletion within 14 days" in page
    changed = client.post(f"/contracts/{world.contract.id}/playbook", data={"deletion_days": "7"})
    assert changed.status_code == 303
    assert (playbook(session, world).wind_down, playbook(session, world).deletion_days) == (False, 7)
    assert "playbook.set" in audit_actions(session, world)


def test_a_contract_made_after_new_defaults_gets_them(session, world):
    session.add(LabPlaybook(org_id=world.buyer.org_id, wind_down=False, deletion_days=5))
    job = JobFactory(buyer_org_id=world.buyer.org_id, bidding_mode="open")
    bid = BidFactory(job_id=job.id, vendor_org_id=world.vendor.org_id, total_minor=50_000)
    contract = award_bid(session, world.buyer, job.id, bid.id)
    made = session.execute(select(ContractPlaybook).where(ContractPlaybook.contract_id == contract.id)).scalar_one()
    assert (made.wind_down, made.deletion_days, made.status) == (False, 5, PlaybookStatus.ARMED)


@pytest.mark.parametrize("days", ["0", "91", "many", ""])
def test_settings_refusals_come_back_next_to_their_field(client, session, login_as, world, days):
    login_as(world.buyer)
    page = client.post("/playbook/settings", data={"deletion_days": days})
    assert page.status_code == 400
    assert "a whole number from 1 to 90" in text(page)
    assert f'value="{days}"' in text(page) or not days  # the form comes back filled in
    assert session.execute(select(LabPlaybook).where(LabPlaybook.org_id == world.buyer.org_id)).first() is None


def test_only_the_labs_managers_change_a_playbook_and_strangers_get_404(client, session, login_as, world):
    contract_url = f"/contracts/{world.contract.id}/playbook"
    login_as(world.vendor)
    assert client.post(contract_url, data={"deletion_days": "3"}).status_code == 403
    assert client.get("/playbook/settings").status_code == 403
    member = UserFactory(org_id=world.buyer.org_id, role="buyer", org_role="member")
    login_as(member)
    assert client.post(contract_url, data={"deletion_days": "3"}).status_code == 403
    assert client.get(contract_url).status_code == 200  # members read
    login_as(UserFactory(role="buyer"))
    assert client.get(contract_url).status_code == 404
    assert client.post(contract_url, data={"deletion_days": "3"}).status_code == 404
    assert playbook(session, world).deletion_days == 14


# ------------------------------------------------------------------------------------------------ data access


def test_access_given_is_sent_signed_to_the_labs_storage(client, session, login_as, world, storage):
    secret = with_storage(client, login_as, world, storage)
    given = give_access(client, world)
    assert given.status_code == 303
    send_webhooks(client.application)
    [(headers, body)] = storage.calls
    assert verify(secret, body, headers[HEADER]) > 0
    with pytest.raises(BadSignature):
        verify("whsec_another", body, headers[HEADER])
    sent = json.loads(body)
    assert sent["type"] == "data_access.granted"
    assert sent["data"]["resource"] == "s3://acme-labeling/batch-7/"
    assert sent["data"]["expires_on"] == (date.today() + timedelta(days=30)).isoformat()
    assert headers["Arms-Length-Event-Type"] == "data_access.granted"
    login_as(world.vendor)
    seen = text(client.get(f"/contracts/{world.contract.id}/playbook"))
    assert "s3://acme-labeling/batch-7/" in seen and "Live" in seen


def test_access_refusals(client, session, login_as, world, storage):
    login_as(world.buyer)
    refused = give_access(client, world)
    assert refused.status_code == 400 and "Register your storage as a webhook endpoint" in text(refused)
    with_storage(client, login_as, world, storage)
    for resource, days, message in (
        ("", "30", "Name the data"),
        ("s3://x/", "0", "from 1 to 365"),
        ("s3://x/", "400", "from 1 to 365"),
        ("s3://" + "x" * 600, "30", "500 characters"),
    ):
        page = give_access(client, world, resource, days)
        assert page.status_code == 400 and message in text(page)
    assert storage.calls == []


# ------------------------------------------------------------------------------------------------ the playbook runs


def test_a_closed_deal_runs_the_playbook_revoking_access_signed_and_refusing_more(
    client, session, login_as, world, storage
):
    secret = with_storage(client, login_as, world, storage)
    give_access(client, world)
    cobalt_buys_the_vendor(session, world)
    book = playbook(session, world)
    assert book.status == PlaybookStatus.RUNNING
    assert book.deletion_due_on == utcnow().date() + timedelta(days=14)
    session.refresh(world.contract)
    assert world.contract.status == ContractStatus.PAUSED
    # The revocation is a webhook event written in the deal's transaction, sent by the next sender (the queue's
    # worker, or `flask webhooks deliver`).
    send_webhooks(client.application)
    assert storage.events() == ["data_access.granted", "data_access.revoked"]
    headers, body = storage.calls[-1]
    assert json.loads(body)["type"] == "data_access.revoked"
    verify(secret, body, headers[HEADER])
    login_as(world.buyer)
    refused = give_access(client, world, "s3://acme-labeling/batch-8/")
    assert refused.status_code == 400 and "stopped new data access" in text(refused)
    page = text(client.get(f"/contracts/{world.contract.id}/playbook"))
    assert "Running since" in page and "Cobalt Social" in page  # the lab reads the finding
    assert "playbook.started" in audit_actions(session, world)
    assert any(
        "change-of-control playbook started" in m for m in notices(session, world.buyer.org_id, "playbook_started")
    )
    # The vendor learns what it must do, never why.
    login_as(world.vendor)
    seen = text(client.get(f"/contracts/{world.contract.id}/playbook"))
    assert "The lab is winding down this contract" in seen and "Revoked" in seen
    for secret_word in ("Cobalt", "screening", "exclude", "rival", "49%"):
        assert secret_word not in seen
    told = " ".join(notices(session, world.vendor.org_id, "playbook_started"))
    assert "attest it by" in told and "Cobalt" not in told and "screening" not in told


def test_a_review_verdict_or_a_playbook_that_does_not_wind_down_only_flags(client, session, login_as, world):
    cobalt_buys_the_vendor(session, world, share=10)  # 10%: a review, not an exclusion
    assert playbook(session, world).status == PlaybookStatus.ARMED
    login_as(world.buyer)
    client.post(f"/contracts/{world.contract.id}/playbook", data={"deletion_days": "14"})  # wind_down unticked
    cobalt_buys_the_vendor(session, world, share=49)
    assert playbook(session, world).status == PlaybookStatus.ARMED
    session.refresh(world.contract)
    assert world.contract.status == ContractStatus.FLAGGED


def test_the_lab_goes_on_instead_giving_its_reason(client, session, login_as, world):
    cobalt_buys_the_vendor(session, world)
    login_as(world.buyer)
    url = f"/contracts/{world.contract.id}/playbook/go-on"
    short = client.post(url, data={"reason": "ok"})
    assert short.status_code == 400 and "at least 10 characters" in text(short)
    assert "ok</textarea>" in text(short)
    # The contract page's plain "continue" is refused while the playbook runs: the reason is asked for.
    plain = client.post(f"/contracts/{world.contract.id}/continue")
    assert plain.status_code == 400 and "playbook is running" in text(plain)
    reason = "The stake is passive and our counsel cleared it."
    assert client.post(url, data={"reason": reason}).status_code == 303
    session.refresh(world.contract)
    assert world.contract.status == ContractStatus.ACTIVE
    assert playbook(session, world).status == PlaybookStatus.CONTINUED
    record = session.execute(
        select(AuditRecord).where(
            AuditRecord.action == "playbook.continued", AuditRecord.subject_id == world.contract.id
        )
    ).scalar_one()
    assert reason in json.dumps(record.after)
    again = client.post(url, data={"reason": reason})
    assert again.status_code == 400 and "Only a running playbook" in text(again)


def test_settling_pays_the_work_done_pro_rata_through_stripe_and_the_ledger_agrees(
    client, session, login_as, world, gateway, stripe_sim
):
    connect_vendor(session, world, gateway, stripe_sim)
    milestone = only_milestone(session, world)
    milestone.due_date = utcnow().date() + timedelta(days=10)
    session.commit()
    fund(session, world, gateway, stripe_sim, milestone)
    # Funded as long before now as the due date (its midnight, UTC) is after: half the time has passed when the deal
    # closes a moment later, whatever the time of day the test runs at.
    due = datetime.combine(milestone.due_date, datetime.min.time(), tzinfo=UTC)
    milestone.funded_at = utcnow() - (due - utcnow())
    session.commit()
    cobalt_buys_the_vendor(session, world)
    login_as(world.buyer)
    page = text(client.get(f"/contracts/{world.contract.id}/playbook"))
    assert "50% — pro rata: 50% of the time from funding to the due date" in page
    key = f"percent_{milestone.id}"
    bad = client.post(f"/contracts/{world.contract.id}/playbook/settle", data={key: "140"})
    assert bad.status_code == 400 and "from 0 to 100" in text(bad) and 'value="140"' in text(bad)
    done = client.post(f"/contracts/{world.contract.id}/playbook/settle", data={key: "40"})
    assert done.status_code == 303
    session.refresh(milestone)
    charged = ledger(session, world)[0][1]
    assert milestone.status == MilestoneStatus.RELEASED and milestone.payout_minor == charged * 40 // 100
    assert ("refund", charged - charged * 40 // 100) in ledger(session, world)
    assert agrees(session, gateway)
    session.refresh(world.contract)
    assert world.contract.status in (ContractStatus.ENDED, ContractStatus.COMPLETED)
    assert playbook(session, world).status == PlaybookStatus.SETTLED
    assert "playbook.settled" in audit_actions(session, world)
    told = " ".join(notices(session, world.vendor.org_id, "playbook_settled"))
    assert "40% done" in told


def test_a_delivery_waiting_is_proposed_whole_and_a_disputed_milestone_waits_for_the_admin(
    client, session, login_as, world, gateway, stripe_sim
):
    milestone = only_milestone(session, world)
    fund(session, world, gateway, stripe_sim, milestone)
    deliver(session, world, milestone)
    cobalt_buys_the_vendor(session, world)
    login_as(world.buyer)
    assert "100% — delivered, waiting for your decision" in text(client.get(f"/contracts/{world.contract.id}/playbook"))
    session.execute(
        select(Milestone).where(Milestone.id == milestone.id)
    ).scalar_one().status = MilestoneStatus.DISPUTED
    session.commit()
    refused = client.post(f"/contracts/{world.contract.id}/playbook/settle", data={f"percent_{milestone.id}": "100"})
    assert refused.status_code == 400 and "is disputed: an admin decides where its money goes first" in text(refused)
    assert playbook(session, world).status == PlaybookStatus.RUNNING  # nothing settled


# ------------------------------------------------------------------------------------------------ the attestation


def attest(client, deal, **changes):
    data = {
        "officer_name": "Dana Whitfield",
        "officer_title": "Chief Operating Officer",
        "deleted_on": utcnow().date().isoformat(),
        "details": "Buckets, labeling tool exports and nightly backups.",
        "confirmed": "y",
    }
    data.update(changes)
    return client.post(f"/contracts/{deal.contract.id}/playbook/attest", data=data)


def test_an_officer_attests_the_deletion_and_the_lab_is_told(client, session, login_as, world):
    login_as(world.vendor)
    assert attest(client, world).status_code == 400  # nothing is asked before the playbook runs
    cobalt_buys_the_vendor(session, world)
    for changes, message in (
        ({"officer_name": ""}, "Give your full name"),
        ({"officer_title": ""}, "Give your title"),
        ({"deleted_on": (utcnow().date() + timedelta(days=1)).isoformat()}, "today or earlier"),
        ({"deleted_on": (utcnow().date() - timedelta(days=30)).isoformat()}, "after the wind-down began"),
        ({"confirmed": ""}, "tick the box"),
    ):
        page = attest(client, world, **changes)
        assert page.status_code == 400 and message in text(page), message
        assert "Dana Whitfield" in text(page) or changes.get("officer_name") == ""
    member = UserFactory(org_id=world.vendor.org_id, role="vendor", org_role="member")
    login_as(member)
    assert attest(client, world).status_code == 403
    login_as(world.buyer)
    assert attest(client, world).status_code == 403
    login_as(world.vendor)
    assert attest(client, world).status_code == 303
    book = playbook(session, world)
    assert (book.officer_name, book.deleted_on) == ("Dana Whitfield", utcnow().date())
    assert "playbook.attested" in audit_actions(session, world)
    assert notices(session, world.buyer.org_id, "deletion_attested")
    again = attest(client, world)
    assert again.status_code == 400 and "attested already" in text(again)


def test_the_deadline_is_reminded_once_then_escalated_once_to_the_admins(app, client, session, login_as, world):
    cobalt_buys_the_vendor(session, world)
    due = playbook(session, world).deletion_due_on
    with time_machine.travel(due - timedelta(days=5), tick=False):
        assert "0 reminded, 0 escalated" in run_reminders(app)
    for _ in range(2):
        with time_machine.travel(due - timedelta(days=2), tick=False):
            run_reminders(app)
    assert len(notices(session, world.vendor.org_id, "attestation_due")) == 1
    for _ in range(2):
        with time_machine.travel(due + timedelta(days=1), tick=False):
            run_reminders(app)
    admin_told = admin_notices(session, world.extra["admin"], "attestation_overdue")
    assert len(admin_told) == 1 and f"#{world.contract.id}" in admin_told[0]
    assert len(notices(session, world.buyer.org_id, "attestation_overdue")) == 1
    with time_machine.travel(due + timedelta(days=1), tick=False):
        login_as(world.extra["admin"])
        listed = text(client.get("/admin/playbooks"))
    assert f"#{world.contract.id}" in listed


def test_reading_a_contract_whose_playbook_row_is_missing_writes_nothing(client, session, login_as, world):
    session.delete(playbook(session, world))
    session.commit()
    login_as(world.buyer)
    for path in (f"/contracts/{world.contract.id}", f"/contracts/{world.contract.id}/playbook"):
        page = client.get(path)
        assert page.status_code == 200 and "within 14 days" in text(page)  # the lab's defaults stand in
    assert session.execute(select(ContractPlaybook)).first() is None
    assert client.post(f"/contracts/{world.contract.id}/playbook", data={"deletion_days": "9"}).status_code == 303
    assert playbook(session, world).deletion_days == 9
