"""Browsing jobs: the buyer's own by state, vendors' search and filters, and what screening hides."""

import re
from datetime import timedelta

from flask import url_for

from marketplace.accounts.models import Organization
from marketplace.db_types import utcnow
from marketplace.extensions import db
from marketplace.jobs.models import JobAttachment, JobInvitation, JobStatus, Visibility
from tests.factories import AdminFactory, BidFactory, BuyerFactory, JobFactory, VendorFactory, VerifiedVendorFactory


def titles(response) -> list[str]:
    return re.findall(r'<tr data-testid="job-row">\s*<td><a href="[^"]+">([^<]+)</a>', response.get_data(as_text=True))


def result_count(response) -> str:
    return re.search(r'data-testid="result-count">([^<]+)<', response.get_data(as_text=True)).group(1).strip()


def tab_count(response, state: str) -> int:
    match = re.search(
        rf'data-testid="state-tab-{state}">.*?<span class="count">(\d+)</span>',
        response.get_data(as_text=True),
        re.S,
    )
    return int(match.group(1))


class TestBuyer:
    def test_sees_only_its_own_jobs_grouped_by_state_with_bid_counts(self, client, login_as):
        buyer = login_as(BuyerFactory())
        org = buyer.org_id
        JobFactory(buyer_org_id=org, title="Draft job", status=JobStatus.DRAFT)
        open_job = JobFactory(buyer_org_id=org, title="Open job")
        JobFactory(buyer_org_id=org, title="Closed job", bid_deadline=utcnow() - timedelta(days=1))
        JobFactory(buyer_org_id=org, title="Cancelled job", status=JobStatus.CANCELLED)
        JobFactory(title="Someone else's job")
        BidFactory(job_id=open_job.id)
        BidFactory(job_id=open_job.id)
        BidFactory(job_id=open_job.id, status="withdrawn")

        page = client.get(url_for("jobs.index"))
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        assert titles(page) == ["Draft job", "Open job", "Closed job", "Cancelled job"]
        assert '<tr class="group-row"><th colspan="9">Closed</th></tr>' in text
        assert re.search(r"Open job</a>.*?data-testid=\"bid-count\">2<", text, re.S)
        assert (tab_count(page, "all"), tab_count(page, "draft"), tab_count(page, "closed")) == (4, 1, 1)

    def test_filters_by_state(self, client, login_as):
        buyer = login_as(BuyerFactory())
        JobFactory(buyer_org_id=buyer.org_id, title="Draft job", status=JobStatus.DRAFT)
        JobFactory(buyer_org_id=buyer.org_id, title="Closed job", bid_deadline=utcnow() - timedelta(days=1))
        JobFactory(buyer_org_id=buyer.org_id, title="Open job")
        assert titles(client.get(url_for("jobs.index", state="draft"))) == ["Draft job"]
        assert titles(client.get(url_for("jobs.index", state="closed"))) == ["Closed job"]
        assert titles(client.get(url_for("jobs.index", state="open"))) == ["Open job"]


class TestVendorBrowsing:
    def test_default_is_open_jobs_with_every_column(self, client, login_as):
        login_as(VendorFactory(timezone="Asia/Tokyo"))
        buyer = BuyerFactory()
        deadline = utcnow().replace(hour=3, minute=0, second=0, microsecond=0) + timedelta(days=3)
        JobFactory(
            buyer_org_id=buyer.org_id,
            title="Open job",
            modality="3d_lidar",
            task_type="segmentation",
            volume=12000,
            unit="frames",
            budget_min_minor=1_000_000,
            budget_max_minor=2_500_050,
            currency="GBP",
            bid_deadline=deadline,
        )
        JobFactory(title="Closed job", bid_deadline=utcnow() - timedelta(hours=1))
        JobFactory(title="Draft job", status=JobStatus.DRAFT)
        page = client.get(url_for("jobs.index"))
        text = page.get_data(as_text=True)
        assert titles(page) == ["Open job"]
        assert result_count(page) == "1 job"
        assert db.session.get(Organization, buyer.org_id).name in text
        for shown in (
            "3D / lidar",
            "Segmentation",
            "12,000 frames",
            "£10,000.00–£25,000.50",
            (deadline + timedelta(hours=9)).strftime("%Y-%m-%d 12:00 JST"),
        ):
            assert shown in text, shown
        assert "Draft" not in re.sub(r"<select.*?</select>", "", text, flags=re.S)
        assert 'data-testid="bid-count"' not in text

    def test_any_state_shows_closed_jobs_too_but_never_drafts(self, client, login_as):
        login_as(VendorFactory())
        JobFactory(title="Open job")
        JobFactory(title="Closed job", bid_deadline=utcnow() - timedelta(hours=1))
        JobFactory(title="Draft job", status=JobStatus.DRAFT)
        page = client.get(url_for("jobs.index", state=""))
        assert sorted(titles(page)) == ["Closed job", "Open job"]
        assert titles(client.get(url_for("jobs.index", state="closed"))) == ["Closed job"]

    def test_text_search_matches_title_and_description(self, client, login_as):
        login_as(VendorFactory())
        JobFactory(title="Lidar point clouds", description="Cars and pedestrians")
        JobFactory(title="Radiology images", description="Chest X-ray LIDAR-free classification")
        JobFactory(title="Call transcripts", description="Spanish audio")
        assert sorted(titles(client.get(url_for("jobs.index", q="lidar")))) == [
            "Lidar point clouds",
            "Radiology images",
        ]
        assert titles(client.get(url_for("jobs.index", q="lidar pedestrians"))) == ["Lidar point clouds"]
        assert titles(client.get(url_for("jobs.index", q="100%"))) == []

    def test_filters(self, client, login_as):
        login_as(VendorFactory())
        JobFactory(
            title="A",
            modality="text",
            task_type="red_teaming",
            currency="EUR",
            languages=["Japanese"],
            certifications=["iso27001"],
        )
        JobFactory(
            title="B",
            modality="text",
            task_type="evaluation",
            currency="USD",
            languages=["English", "Español"],
            certifications=["soc2_type2", "hipaa"],
        )
        JobFactory(
            title="C",
            modality="image",
            task_type="evaluation",
            currency="USD",
            languages=[],
            certifications=[],
        )

        def found(**params):
            return sorted(titles(client.get(url_for("jobs.index", **params))))

        assert found(modality="text") == ["A", "B"]
        assert found(task_type="evaluation") == ["B", "C"]
        assert found(currency="EUR") == ["A"]
        assert found(language="japanese") == ["A"]
        assert found(language="Español") == ["B"]
        assert found(certification="hipaa") == ["B"]
        assert found(modality="text", task_type="evaluation", certification="soc2_type2") == ["B"]

    def test_an_unknown_filter_value_is_refused_and_ignored(self, client, login_as):
        login_as(VendorFactory())
        JobFactory(title="A")
        page = client.get(url_for("jobs.index", modality="smell"))
        assert page.status_code == 400
        assert b"Not a valid choice" in page.data
        assert titles(page) == ["A"]

    def test_pagination_twenty_per_page(self, client, login_as):
        login_as(VendorFactory())
        start = utcnow() + timedelta(days=1)
        for n in range(25):
            JobFactory(title=f"Job {n:02d}", bid_deadline=start + timedelta(hours=n))
        first = client.get(url_for("jobs.index"))
        assert titles(first) == [f"Job {n:02d}" for n in range(20)]
        assert result_count(first) == "25 jobs · page 1 of 2"
        assert b'rel="next"' in first.data
        second = client.get(url_for("jobs.index", page=2))
        assert titles(second) == [f"Job {n:02d}" for n in range(20, 25)]
        assert b'rel="prev"' in second.data and b'rel="next"' not in second.data

    def test_pagination_keeps_the_filters(self, client, login_as):
        login_as(VendorFactory())
        for n in range(21):
            JobFactory(title=f"Lidar {n}", modality="3d_lidar")
        page = client.get(url_for("jobs.index", modality="3d_lidar", q="lidar"))
        next_link = re.search(r'href="([^"]+)" rel="next"', page.get_data(as_text=True)).group(1)
        assert "modality=3d_lidar" in next_link and "q=lidar" in next_link and "page=2" in next_link


class TestScreening:
    """An excluded vendor sees the buyer's public jobs only; confidential ones hide the buyer's name."""

    def _buyer_with_jobs(self):
        buyer = BuyerFactory()
        org = buyer.org_id
        public = JobFactory(buyer_org_id=org, title="Public lidar job")
        confidential = JobFactory(
            buyer_org_id=org,
            title="Secret lidar job",
            visibility=Visibility.CONFIDENTIAL,
            codename="Project Amber Heron",
        )
        invite_only = JobFactory(buyer_org_id=org, title="Invited lidar job", visibility=Visibility.INVITE_ONLY)
        return buyer, public, confidential, invite_only

    def test_excluded_vendor_sees_public_jobs_only_everywhere(self, client, login_as, session, exclude_vendor):
        buyer, public, confidential, invite_only = self._buyer_with_jobs()
        vendor = VendorFactory()
        exclude_vendor(buyer.org_id, vendor.org_id)
        session.add(JobInvitation(job_id=invite_only.id, vendor_org_id=vendor.org_id))
        attachment = JobAttachment(
            job_id=confidential.id,
            filename="spec.pdf",
            stored_name="secretstored1",
            content_type="application/pdf",
            size_bytes=1,
        )
        session.add(attachment)
        session.flush()
        login_as(vendor)

        for params in ({}, {"state": ""}, {"q": "lidar"}, {"q": "secret"}, {"modality": "image"}):
            page = client.get(url_for("jobs.index", **params))
            assert "Secret lidar job" not in page.get_data(as_text=True)
            assert "Invited lidar job" not in page.get_data(as_text=True)
        listing = client.get(url_for("jobs.index", q="lidar"))
        assert titles(listing) == ["Public lidar job"]
        assert result_count(listing) == "1 job"
        assert tab_count(listing, "open") == 1 and tab_count(listing, "all") == 1
        assert client.get(url_for("jobs.show", job_id=public.id)).status_code == 200
        assert client.get(url_for("jobs.show", job_id=confidential.id)).status_code == 404
        assert client.get(url_for("jobs.show", job_id=invite_only.id)).status_code == 404
        assert (
            client.get(url_for("jobs.attachment", job_id=confidential.id, attachment_id=attachment.id)).status_code
            == 404
        )
        assert client.post(url_for("jobs.ask", job_id=confidential.id), data={"text": "Hi"}).status_code == 404

    def test_clear_vendor_sees_confidential_jobs_under_a_codename(self, client, login_as, session):
        buyer, public, confidential, invite_only = self._buyer_with_jobs()
        buyer_name = session.get(Organization, buyer.org_id).name
        login_as(VerifiedVendorFactory())
        listing = client.get(url_for("jobs.index", q="lidar"))
        assert sorted(titles(listing)) == ["Public lidar job", "Secret lidar job"]
        text = listing.get_data(as_text=True)
        row = re.search(r"Secret lidar job</a>.*?</tr>", text, re.S).group(0)
        assert "Project Amber Heron" in row and buyer_name not in row
        assert "badge-confidential" in row
        show = client.get(url_for("jobs.show", job_id=confidential.id)).get_data(as_text=True)
        assert "Project Amber Heron" in show and buyer_name not in show
        assert client.get(url_for("jobs.show", job_id=invite_only.id)).status_code == 404
        # Searching by the buyer's name finds nothing that could unmask the codename.
        assert titles(client.get(url_for("jobs.index", q=buyer_name))) == []

    def test_invite_only_is_seen_only_by_invited_clear_vendors(self, client, switch_to, exclude_vendor):
        buyer, _, _, invite_only = self._buyer_with_jobs()
        invited, excluded_invited, uninvited = VerifiedVendorFactory(), VerifiedVendorFactory(), VerifiedVendorFactory()
        exclude_vendor(buyer.org_id, excluded_invited.org_id)
        switch_to(buyer)
        response = client.post(
            url_for("jobs.invite", job_id=invite_only.id),
            data={"vendors": [str(invited.org_id), str(excluded_invited.org_id)]},
        )
        assert response.status_code == 303
        for vendor, sees in ((invited, True), (excluded_invited, False), (uninvited, False)):
            switch_to(vendor)
            assert ("Invited lidar job" in titles(client.get(url_for("jobs.index")))) is sees
            assert client.get(url_for("jobs.show", job_id=invite_only.id)).status_code == (200 if sees else 404)

    def test_admin_sees_every_job(self, client, login_as, exclude_vendor):
        self._buyer_with_jobs()
        JobFactory(title="Someone's draft", status=JobStatus.DRAFT)
        login_as(AdminFactory())
        page = client.get(url_for("jobs.index"))
        assert sorted(titles(page)) == [
            "Invited lidar job",
            "Public lidar job",
            "Secret lidar job",
            "Someone&#39;s draft",
        ]
