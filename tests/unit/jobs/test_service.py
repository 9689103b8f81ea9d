"""The rules of posting, changing, publishing and cancelling jobs, and of questions and answers."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from marketplace.audit.models import AuditRecord
from marketplace.db_types import utcnow
from marketplace.jobs import service
from marketplace.jobs.models import JobStatus, Visibility
from marketplace.jobs.service import JobError
from marketplace.notifications.models import Notification
from marketplace.visibility import NotVisible
from tests.factories import (
    BidFactory,
    BuyerFactory,
    JobFactory,
    QuestionFactory,
    UserFactory,
    VendorFactory,
    VerifiedVendorFactory,
)


def audit_actions(session, job_id: int) -> list[str]:
    return list(
        session.execute(
            select(AuditRecord.action)
            .where(AuditRecord.subject_type == "job", AuditRecord.subject_id == job_id)
            .order_by(AuditRecord.id)
        ).scalars()
    )


def notified(session, user) -> list[tuple[str, str]]:
    return [
        tuple(row)
        for row in session.execute(
            select(Notification.kind, Notification.message).where(Notification.user_id == user.id)
        )
    ]


class TestCreate:
    def test_publishing_needs_a_future_deadline(self, session, job_input):
        buyer = BuyerFactory()
        past = (utcnow() - timedelta(hours=1)).replace(tzinfo=None)
        with pytest.raises(JobError) as refused:
            service.create_job(
                session,
                buyer,
                job_input(bid_deadline=past, delivery_date=date.today() + timedelta(days=9)),
                publish=True,
            )
        assert refused.value.field == "bid_deadline"
        assert "future" in str(refused.value)

    def test_a_draft_may_have_a_past_deadline_but_cannot_be_published_so(self, session, job_input):
        buyer = BuyerFactory()
        past = (utcnow() - timedelta(hours=1)).replace(tzinfo=None)
        job = service.create_job(session, buyer, job_input(bid_deadline=past), publish=False)
        assert job.status == JobStatus.DRAFT
        with pytest.raises(JobError, match="deadline has passed"):
            service.publish_job(session, buyer, job.id)
        assert job.status == JobStatus.DRAFT

    def test_published_job_is_open_and_audited(self, session, job_input):
        buyer = BuyerFactory()
        job = service.create_job(session, buyer, job_input(), publish=True)
        assert job.status == JobStatus.OPEN
        assert job.published_at is not None
        assert job.buyer_org_id == buyer.org_id
        assert audit_actions(session, job.id) == ["job.published"]

    def test_money_is_converted_to_exact_minor_units(self, session, job_input):
        buyer = BuyerFactory()
        job = service.create_job(session, buyer, job_input(budget_min="1,250.10", budget_max="30,000"), publish=False)
        assert (job.budget_min_minor, job.budget_max_minor) == (125010, 3_000_000)
        # Exponent notation is refused in words, never computed ("1e999999" would overflow).
        with pytest.raises(JobError) as refused:
            service.create_job(session, buyer, job_input(budget_max="0.30e5"), publish=False)
        assert "is not an amount of money" in refused.value.errors["budget_max"]
        yen = service.create_job(
            session,
            buyer,
            job_input(currency="JPY", budget_min="1500000", budget_max="2,000,000"),
            publish=False,
        )
        assert (yen.budget_min_minor, yen.budget_max_minor) == (1_500_000, 2_000_000)

    def test_money_with_too_many_decimals_is_refused_not_rounded(self, session, job_input):
        with pytest.raises(JobError) as refused:
            service.create_job(session, BuyerFactory(), job_input(budget_min="10.005"), publish=False)
        assert refused.value.errors["budget_min"] == "USD amounts have at most 2 decimal places"

    def test_deadline_is_read_in_the_users_time_zone_and_stored_as_utc(self, session, job_input):
        buyer = BuyerFactory(timezone="America/New_York")
        summer = service.create_job(
            session,
            buyer,
            job_input(bid_deadline=datetime(2031, 7, 1, 9, 0), delivery_date=date(2031, 8, 1)),
            publish=True,
        )
        winter = service.create_job(
            session,
            buyer,
            job_input(bid_deadline=datetime(2031, 1, 15, 9, 0), delivery_date=date(2031, 2, 1)),
            publish=True,
        )
        session.expire_all()
        assert summer.bid_deadline == datetime(2031, 7, 1, 13, 0, tzinfo=UTC)
        assert winter.bid_deadline == datetime(2031, 1, 15, 14, 0, tzinfo=UTC)

    def test_a_time_skipped_by_the_clock_change_is_refused(self, session, job_input):
        buyer = BuyerFactory(timezone="America/New_York")
        with pytest.raises(JobError) as refused:
            service.create_job(
                session,
                buyer,
                job_input(bid_deadline=datetime(2031, 3, 9, 2, 30), delivery_date=date(2031, 4, 1)),
                publish=False,
            )
        assert refused.value.field == "bid_deadline"
        assert "does not exist in America/New_York" in str(refused.value)

    def test_every_problem_is_named_with_its_field(self, session, job_input):
        deadline = (utcnow() + timedelta(days=5)).replace(tzinfo=None)
        with pytest.raises(JobError) as refused:
            service.create_job(
                session,
                BuyerFactory(),
                job_input(
                    volume=0,
                    quality_target_pct=101,
                    budget_min="500",
                    budget_max="400",
                    bid_deadline=deadline,
                    delivery_date=deadline.date() - timedelta(days=1),
                    title="  ",
                ),
                publish=True,
            )
        assert refused.value.errors == {
            "title": "Give the job a title.",
            "volume": "The volume must be more than zero.",
            "quality_target_pct": "The quality target is a percentage from 0 to 100.",
            "budget_max": "The maximum budget must be at least the minimum.",
            "delivery_date": "The delivery date must be after the bid deadline.",
        }

    def test_budget_must_be_more_than_zero(self, session, job_input):
        with pytest.raises(JobError) as refused:
            service.create_job(session, BuyerFactory(), job_input(budget_min="0", budget_max="0"), publish=False)
        assert refused.value.errors["budget_min"] == "The minimum budget must be more than zero."

    def test_confidential_jobs_get_a_codename_public_ones_do_not(self, session, job_input):
        buyer = BuyerFactory()
        confidential = service.create_job(session, buyer, job_input(visibility="confidential"), publish=True)
        public = service.create_job(session, buyer, job_input(), publish=True)
        words = confidential.codename.split()
        assert words[0] == "Project" and len(words) == 3
        assert words[1] in service.CODENAME_ADJECTIVES and words[2] in service.CODENAME_BIRDS
        assert public.codename == ""

    def test_codenames_do_not_repeat(self, session, job_input):
        buyer = BuyerFactory()
        names = {
            service.create_job(session, buyer, job_input(visibility="confidential"), publish=False).codename
            for _ in range(15)
        }
        assert len(names) == 15

    def test_only_buyers_post_jobs(self, session, job_input):
        with pytest.raises(JobError):
            service.create_job(session, VendorFactory(), job_input(), publish=True)

    def test_attachments_are_stored_under_a_random_name(self, session, job_input, tmp_path):
        upload = service.NewAttachment("../../etc/passwd brief.pdf", "application/pdf", b"%PDF-1.7")
        job = service.create_job(
            session, BuyerFactory(), job_input(), publish=False, attachments=[upload], upload_folder=tmp_path
        )
        [stored] = service.attachments_of(session, job)
        assert stored.filename == "passwd brief.pdf"
        assert "passwd" not in stored.stored_name and len(stored.stored_name) >= 32
        assert (tmp_path / stored.stored_name).read_bytes() == b"%PDF-1.7"

    def test_an_attachment_over_10_mb_is_refused(self, session, job_input, tmp_path):
        big = service.NewAttachment("scan.tif", "image/tiff", b"x" * (service.MAX_ATTACHMENT_BYTES + 1))
        with pytest.raises(JobError) as refused:
            service.create_job(
                session, BuyerFactory(), job_input(), publish=False, attachments=[big], upload_folder=tmp_path
            )
        assert refused.value.field == "attachments"
        assert list(tmp_path.iterdir()) == []


class TestUpdate:
    def test_buyer_changes_an_open_job_without_bids(self, session, job_input):
        buyer = BuyerFactory()
        job = service.create_job(session, buyer, job_input(), publish=True)
        service.update_job(session, buyer, job.id, job_input(title="Segment night scenes", volume=7000))
        assert (job.title, job.volume) == ("Segment night scenes", 7000)

    def test_edit_refused_after_the_first_bid(self, session, job_input):
        buyer = BuyerFactory()
        job = service.create_job(session, buyer, job_input(), publish=True)
        BidFactory(job_id=job.id)
        with pytest.raises(JobError, match="already bid"):
            service.update_job(session, buyer, job.id, job_input(title="Changed"))
        assert job.title == "Segment street scenes"

    @pytest.mark.parametrize("status", [JobStatus.AWARDED, JobStatus.CANCELLED, JobStatus.COMPLETED])
    def test_edit_refused_once_past_open(self, session, job_input, status):
        buyer = BuyerFactory()
        job = JobFactory(buyer_org_id=buyer.org_id, status=status)
        with pytest.raises(JobError, match="can no longer be edited"):
            service.update_job(session, buyer, job.id, job_input())

    def test_edit_refused_once_closed_by_the_clock(self, session, job_input):
        buyer = BuyerFactory()
        job = JobFactory(buyer_org_id=buyer.org_id, bid_deadline=utcnow() - timedelta(minutes=1))
        with pytest.raises(JobError, match="closed"):
            service.update_job(session, buyer, job.id, job_input())

    def test_an_open_job_keeps_a_future_deadline(self, session, job_input):
        buyer = BuyerFactory()
        job = service.create_job(session, buyer, job_input(), publish=True)
        past = (utcnow() - timedelta(days=1)).replace(tzinfo=None)
        with pytest.raises(JobError) as refused:
            service.update_job(session, buyer, job.id, job_input(bid_deadline=past))
        assert refused.value.field == "bid_deadline"

    def test_another_buyers_job_is_not_found(self, session, job_input):
        job = JobFactory()
        with pytest.raises(NotVisible):
            service.update_job(session, BuyerFactory(), job.id, job_input())

    def test_turning_confidential_gives_a_codename(self, session, job_input):
        buyer = BuyerFactory()
        job = service.create_job(session, buyer, job_input(), publish=False)
        service.update_job(session, buyer, job.id, job_input(visibility="confidential"))
        assert job.visibility == Visibility.CONFIDENTIAL and job.codename.startswith("Project ")


class TestPublishAndCancel:
    def test_publish_a_draft(self, session):
        buyer = BuyerFactory()
        job = JobFactory(buyer_org_id=buyer.org_id, status=JobStatus.DRAFT, published_at=None)
        service.publish_job(session, buyer, job.id)
        assert job.status == JobStatus.OPEN
        assert audit_actions(session, job.id) == ["job.published"]
        with pytest.raises(JobError, match="already published"):
            service.publish_job(session, buyer, job.id)

    def test_cancel_tells_every_bidder_and_is_audited(self, session):
        buyer = BuyerFactory()
        job = JobFactory(buyer_org_id=buyer.org_id)
        bidder, withdrawn, bystander = VendorFactory(), VendorFactory(), VendorFactory()
        BidFactory(job_id=job.id, vendor_org_id=bidder.org_id)
        BidFactory(job_id=job.id, vendor_org_id=withdrawn.org_id, status="withdrawn")
        service.cancel_job(session, buyer, job.id)
        assert job.status == JobStatus.CANCELLED and job.cancelled_at is not None
        assert audit_actions(session, job.id) == ["job.cancelled"]
        assert notified(session, bidder) == [
            ("job_cancelled", f"“{job.title}”, which you bid on, was cancelled by the buyer.")
        ]
        assert notified(session, withdrawn) == [] and notified(session, bystander) == []

    def test_a_closed_job_can_still_be_cancelled(self, session):
        buyer = BuyerFactory()
        job = JobFactory(buyer_org_id=buyer.org_id, bid_deadline=utcnow() - timedelta(days=1))
        service.cancel_job(session, buyer, job.id)
        assert job.status == JobStatus.CANCELLED

    @pytest.mark.parametrize("status", [JobStatus.AWARDED, JobStatus.IN_PROGRESS, JobStatus.COMPLETED])
    def test_cancel_refused_after_award(self, session, status):
        buyer = BuyerFactory()
        job = JobFactory(buyer_org_id=buyer.org_id, status=status)
        with pytest.raises(JobError, match="awarded"):
            service.cancel_job(session, buyer, job.id)
        assert job.status == status
        assert audit_actions(session, job.id) == []

    def test_cancel_twice_is_refused(self, session):
        buyer = BuyerFactory()
        job = JobFactory(buyer_org_id=buyer.org_id, status=JobStatus.CANCELLED)
        with pytest.raises(JobError, match="already cancelled"):
            service.cancel_job(session, buyer, job.id)


class TestInvitations:
    def test_only_vendors_screening_lets_see_the_job_are_told(self, session, exclude_vendor):
        buyer = BuyerFactory()
        job = JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.INVITE_ONLY)
        clear, excluded = VerifiedVendorFactory(), VerifiedVendorFactory()
        exclude_vendor(buyer.org_id, excluded.org_id)
        result = service.invite_vendors(session, buyer, job.id, [clear.org_id, excluded.org_id])
        assert {org.id for org in result.invited} == {clear.org_id, excluded.org_id}
        assert [org.id for org in result.screened_out] == [excluded.org_id]
        assert notified(session, clear) == [("job_invitation", f"You are invited to bid on “{job.title}”.")]
        assert notified(session, excluded) == []

    def test_invitations_to_a_draft_are_told_at_publication(self, session):
        buyer = BuyerFactory()
        job = JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.INVITE_ONLY, status=JobStatus.DRAFT)
        vendor = VerifiedVendorFactory()
        service.invite_vendors(session, buyer, job.id, [vendor.org_id])
        assert notified(session, vendor) == []
        service.publish_job(session, buyer, job.id)
        assert [kind for kind, _ in notified(session, vendor)] == ["job_invitation"]

    def test_public_jobs_take_no_invitations(self, session):
        buyer = BuyerFactory()
        job = JobFactory(buyer_org_id=buyer.org_id)
        with pytest.raises(JobError, match="invite-only"):
            service.invite_vendors(session, buyer, job.id, [VendorFactory().org_id])


class TestQuestions:
    def test_ask_tells_the_buyer(self, session):
        buyer = BuyerFactory()
        job = JobFactory(buyer_org_id=buyer.org_id)
        service.ask_question(session, VendorFactory(), job.id, "  Are the recordings stereo?  ")
        assert notified(session, buyer) == [("new_question", f"New question on “{job.title}”.")]

    def test_questions_only_on_open_jobs_and_never_empty(self, session):
        vendor = VendorFactory()
        job = JobFactory(bid_deadline=utcnow() - timedelta(hours=1))
        with pytest.raises(JobError, match="open for bids"):
            service.ask_question(session, vendor, job.id, "Still time?")
        with pytest.raises(JobError, match="Write your question"):
            service.ask_question(session, vendor, JobFactory().id, "   ")

    def test_a_vendor_cannot_ask_about_a_job_it_may_not_see(self, session, exclude_vendor):
        job = JobFactory(visibility=Visibility.CONFIDENTIAL)
        vendor = VendorFactory()
        exclude_vendor(job.buyer_org_id, vendor.org_id)
        with pytest.raises(NotVisible):
            service.ask_question(session, vendor, job.id, "Who are you?")

    def test_answer_tells_every_vendor_that_may_see_the_job_and_nobody_else(self, session, exclude_vendor):
        buyer = BuyerFactory()
        job = JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.CONFIDENTIAL)
        asker, other, excluded = VerifiedVendorFactory(), VerifiedVendorFactory(), VerifiedVendorFactory()
        exclude_vendor(buyer.org_id, excluded.org_id)
        question = service.ask_question(session, asker, job.id, "Is diarisation needed?")
        service.answer_question(session, buyer, job.id, question.id, "Yes, two speakers.")
        told = ("question_answered", f"A question about “{job.title}” was answered.")
        assert told in notified(session, asker) and told in notified(session, other)
        assert notified(session, excluded) == []
        with pytest.raises(JobError, match="already answered"):
            service.answer_question(session, buyer, job.id, question.id, "Again")

    def test_answering_a_question_of_another_job_is_not_found(self, session):
        buyer = BuyerFactory()
        job = JobFactory(buyer_org_id=buyer.org_id)
        stranger = QuestionFactory()
        with pytest.raises(NotVisible):
            service.answer_question(session, buyer, job.id, stranger.id, "No")

    def test_unanswered_questions_show_only_to_the_asker_and_buyer(self, session):
        buyer = BuyerFactory()
        job = JobFactory(buyer_org_id=buyer.org_id)
        asker, other = VendorFactory(), VendorFactory()
        colleague = UserFactory(role="vendor", org_id=asker.org_id)
        asked = service.ask_question(session, asker, job.id, "Open question")
        answered = service.ask_question(session, other, job.id, "Answered question")
        service.answer_question(session, buyer, job.id, answered.id, "Here it is")

        def texts(user):
            return [(q.text, q.mine) for q in service.questions_for(session, user, job)]

        assert texts(buyer) == [("Open question", False), ("Answered question", False)]
        assert texts(colleague) == [("Open question", True), ("Answered question", False)]
        assert texts(other) == [("Answered question", True)]
        assert texts(VendorFactory()) == [("Answered question", False)]
        assert asked.vendor_org_id == asker.org_id


class TestBounds:
    """Values the database cannot hold are refused with a message, never a server error."""

    def test_huge_numbers_are_refused(self, session, job_input):
        with pytest.raises(JobError) as refused:
            service.create_job(
                session,
                BuyerFactory(),
                job_input(
                    volume=10**12,
                    budget_max="99,999,999,999,999",
                    retention_days=10**9,
                    quality_target_pct=Decimal("NaN"),
                ),
                publish=False,
            )
        assert set(refused.value.errors) == {"volume", "budget_max", "retention_days", "quality_target_pct"}
        assert refused.value.errors["budget_max"] == "Budgets above $10,000,000,000,000.00 cannot be posted."

    def test_attachments_kept_and_added_are_counted_together(self, session, job_input, tmp_path):
        buyer = BuyerFactory()
        files = [service.NewAttachment(f"{n}.txt", "text/plain", b"x") for n in range(service.MAX_ATTACHMENTS)]
        job = service.create_job(session, buyer, job_input(), publish=False, attachments=files, upload_folder=tmp_path)
        extra = [service.NewAttachment("one-more.txt", "text/plain", b"y")]
        with pytest.raises(JobError, match="at most 20 attachments"):
            service.update_job(session, buyer, job.id, job_input(), attachments=extra, upload_folder=tmp_path)
        assert len(list(tmp_path.iterdir())) == service.MAX_ATTACHMENTS
        first = service.attachments_of(session, job)[0]
        service.update_job(
            session,
            buyer,
            job.id,
            job_input(),
            attachments=extra,
            remove_attachment_ids=[first.id],
            upload_folder=tmp_path,
        )
        names = [a.filename for a in service.attachments_of(session, job)]
        assert "0.txt" not in names and "one-more.txt" in names
        assert len(list(tmp_path.iterdir())) == service.MAX_ATTACHMENTS
