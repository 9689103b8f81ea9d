"""Admins suspend and reinstate organisations; a suspended one cannot act, and its open bids leave buyers' views."""

import re
from datetime import timedelta

import pytest
from flask import g, template_rendered
from sqlalchemy import func, select

from marketplace.accounts.models import Organization
from marketplace.audit.models import AuditRecord
from marketplace.bids.models import Bid, BidStatus
from marketplace.db_types import utcnow
from marketplace.disclosures import service as disclosures
from marketplace.jobs.models import Job, JobStatus, Question
from marketplace.notifications.models import Notification
from tests.factories import (
    BidFactory,
    BuyerFactory,
    BuyerOrgFactory,
    JobFactory,
    QuestionFactory,
    VendorFactory,
    VendorOrgFactory,
)
from tests.unit.disclosures.helpers import tie

REASON = "Misstated its ownership to buyers."


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def switch(login_as):
    def _switch(user):
        login_as(user)
        g.pop("_login_user", None)
        return user

    return _switch


@pytest.fixture
def market(session):
    """A lab with an open sealed job and a draft, two vendors bidding on the open job, a question to answer."""
    lab = BuyerOrgFactory(name="Northwind AI")
    buyer = BuyerFactory(org_id=lab.id)
    scalewise = VendorOrgFactory(name="Scalewise Data")
    vendor, colleague = VendorFactory(org_id=scalewise.id), VendorFactory(org_id=scalewise.id)
    rival_vendor = VendorFactory(org_id=VendorOrgFactory(name="Clear Label").id)
    job = JobFactory(
        buyer_org_id=lab.id,
        title="Label street scenes",
        bidding_mode="open",
        bid_deadline=utcnow() + timedelta(hours=3),
    )
    other_job = JobFactory(buyer_org_id=lab.id, title="Transcribe calls")
    draft = JobFactory(buyer_org_id=lab.id, title="Rank chatbot answers", status=JobStatus.DRAFT, published_at=None)
    bid = BidFactory(job_id=job.id, vendor_org_id=scalewise.id, total_minor=700_000)
    other_bid = BidFactory(job_id=job.id, vendor_org_id=rival_vendor.org_id, total_minor=650_000)
    question = QuestionFactory(job_id=job.id, vendor_org_id=scalewise.id)
    version = disclosures.start_new_version(session, vendor)
    added = disclosures.add_tie(session, vendor, version.id, tie(name="Founder Fund", share_exact=60.0))
    return {
        "lab": lab,
        "buyer": buyer,
        "vendor_org": scalewise,
        "vendor": vendor,
        "colleague": colleague,
        "job": job,
        "other_job": other_job,
        "draft": draft,
        "bid": bid,
        "other_bid": other_bid,
        "question": question,
        "version": version,
        "tie": added,
    }


def suspend(client, org, reason=REASON, follow=True):
    """Suspend as the signed-in admin; following the redirect shows (and so clears) the flashed message."""
    return client.post(f"/admin/organizations/{org.id}/suspend", data={"reason": reason}, follow_redirects=follow)


# --- Access --------------------------------------------------------------------------------------------

ADMIN_PAGES = [
    ("get", "/admin/organizations"),
    ("get", "/admin/organizations/{id}"),
    ("post", "/admin/organizations/{id}/suspend"),
    ("post", "/admin/organizations/{id}/reinstate"),
]


@pytest.mark.parametrize("method, path", ADMIN_PAGES)
@pytest.mark.parametrize("role", ["buyer", "vendor"])
def test_only_admins_manage_organisations(client, login_as, session, market, method, path, role):
    login_as(market["buyer"] if role == "buyer" else market["vendor"])
    response = getattr(client, method)(path.format(id=market["lab"].id), data={"reason": REASON})
    assert response.status_code == 403
    assert session.get(Organization, market["lab"].id).suspended_at is None


@pytest.mark.parametrize("method, path", ADMIN_PAGES)
def test_signed_out_visitors_are_sent_to_sign_in(client, market, method, path):
    response = getattr(client, method)(path.format(id=market["lab"].id))
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_an_unknown_organisation_is_404(client, login_as, admin):
    login_as(admin)
    assert client.get("/admin/organizations/999999").status_code == 404
    assert client.post("/admin/organizations/999999/suspend", data={"reason": REASON}).status_code == 404


# --- The list ------------------------------------------------------------------------------------------


def listed(response) -> list[str]:
    return re.findall(r'<a href="/admin/organizations/\d+">([^<]+)</a>', text(response))


@pytest.mark.parametrize(
    "query, expected",
    [
        ({}, ["Clear Label", "Northwind AI", "Scalewise Data"]),
        ({"q": "north"}, ["Northwind AI"]),
        ({"kind": "vendor"}, ["Clear Label", "Scalewise Data"]),
        ({"kind": "buyer"}, ["Northwind AI"]),
        ({"suspended": "suspended"}, ["Scalewise Data"]),
        ({"suspended": "active", "kind": "vendor"}, ["Clear Label"]),
    ],
    ids=["all", "search", "vendors", "buyers", "suspended", "active vendors"],
)
def test_the_list_searches_and_filters(client, login_as, session, admin, market, query, expected):
    login_as(admin)
    suspend(client, market["vendor_org"])
    response = client.get("/admin/organizations", query_string=query)
    assert response.status_code == 200
    assert listed(response) == expected


def test_the_list_shows_kind_users_and_suspension(client, login_as, admin, market):
    login_as(admin)
    suspend(client, market["vendor_org"])
    page = text(client.get("/admin/organizations", query_string={"q": "Scalewise"}))
    assert "Vendor" in page and '<td class="num">2</td>' in page and "Suspended" in page


# --- Suspending ----------------------------------------------------------------------------------------


def test_a_reason_is_required(client, login_as, session, admin, market):
    login_as(admin)
    response = suspend(client, market["vendor_org"], reason="   ", follow=False)
    assert response.status_code == 400
    assert "Give the reason: the organisation&#39;s users are told it." in text(response)
    assert session.get(Organization, market["vendor_org"].id).suspended_at is None


def test_an_overlong_reason_is_refused_and_kept(client, login_as, session, admin, market):
    login_as(admin)
    response = suspend(client, market["vendor_org"], reason="x" * 1001, follow=False)
    assert response.status_code == 400
    assert "x" * 1001 in text(response)
    assert session.get(Organization, market["vendor_org"].id).suspended_at is None


def test_suspending_records_it_and_tells_every_user_and_affected_buyer(client, login_as, session, admin, market):
    login_as(admin)
    response = suspend(client, market["vendor_org"], follow=False)
    assert response.status_code == 303
    org = session.get(Organization, market["vendor_org"].id)
    assert org.suspended_at is not None and org.suspended_reason == REASON
    record = session.execute(select(AuditRecord).where(AuditRecord.action == "organization.suspended")).scalar_one()
    assert (record.actor_id, record.vendor_org_id, record.buyer_org_id) == (admin.id, org.id, None)
    assert record.before == {"suspended": False} and record.after == {"suspended": True, "reason": REASON}
    for user in (market["vendor"], market["colleague"]):
        message = session.execute(
            select(Notification.message).where(
                Notification.user_id == user.id, Notification.kind == "organization_suspended"
            )
        ).scalar_one()
        assert REASON in message
    told = session.execute(
        select(Notification.message).where(
            Notification.user_id == market["buyer"].id, Notification.kind == "vendor_suspension"
        )
    ).scalar_one()
    assert "Scalewise Data is suspended" in told and REASON not in told
    page = text(client.get(response.headers["Location"]))
    assert "Scalewise Data is suspended. Its users have been told why." in page and REASON in page


def test_suspending_twice_is_refused(client, login_as, admin, market):
    login_as(admin)
    suspend(client, market["vendor_org"])
    response = suspend(client, market["vendor_org"], reason="Again.", follow=False)
    assert response.status_code == 400
    assert "Scalewise Data is already suspended." in text(response)


# --- What a suspended organisation cannot do -----------------------------------------------------------

VENDOR_ACTIONS = (
    "place a bid",
    "revise a bid",
    "withdraw a bid",
    "ask a question",
    "start a disclosure",
    "add a tie",
    "remove a tie",
    "submit a disclosure",
)
BUYER_ACTIONS = ("post a job", "change a job", "publish a job", "award a bid", "answer a question")
OFFER = {"price_per_unit": "0.70", "total": "7000.00", "turnaround_days": "20"}


def vendor_actions(m):
    version, added = m["version"], m["tie"]
    return {
        "place a bid": (f"/jobs/{m['other_job'].id}/bid", OFFER, "place bids"),
        "revise a bid": (f"/bids/{m['bid'].id}/revise", OFFER, "revise bids"),
        "withdraw a bid": (f"/bids/{m['bid'].id}/withdraw", {}, "withdraw bids"),
        "ask a question": (f"/jobs/{m['job'].id}/questions", {"text": "Is it English only?"}, "ask questions"),
        "start a disclosure": ("/disclosure/new", {}, "file disclosures"),
        "add a tie": (
            f"/disclosure/{version.id}/ties",
            {"kind": "shareholding", "party_name": "Cobalt Social", "party_kind": "entity", "share_exact": "10"},
            "file disclosures",
        ),
        "remove a tie": (f"/disclosure/{version.id}/ties/interest/{added.id}/remove", {}, "file disclosures"),
        "submit a disclosure": (
            f"/disclosure/{version.id}/submit",
            {"attester_name": "Ana", "attester_title": "CEO", "attest": "y"},
            "submit disclosures",
        ),
    }


def buyer_actions(m):
    job, draft = m["job"], m["draft"]
    new_job = {
        "title": "Label lidar",
        "modality": "image",
        "task_type": "bounding_boxes",
        "volume": "100",
        "unit": "frames",
        "budget_min": "100",
        "budget_max": "200",
        "currency": "USD",
        "bid_deadline": (utcnow() + timedelta(days=5)).strftime("%Y-%m-%dT%H:%M"),
        "delivery_date": (utcnow() + timedelta(days=30)).date().isoformat(),
        "hosting": "vendor_cloud",
        "visibility": "public",
        "bidding_mode": "sealed",
        "publish": "Publish",
    }
    return {
        "post a job": ("/jobs/new", new_job, "post jobs"),
        "change a job": (f"/jobs/{draft.id}/edit", new_job, "change jobs"),
        "publish a job": (f"/jobs/{draft.id}/publish", {}, "publish jobs"),
        "award a bid": (f"/jobs/{job.id}/bids/{m['bid'].id}/award", {}, "award jobs"),
        "answer a question": (
            f"/jobs/{job.id}/questions/{m['question'].id}/answer",
            {"answer": "Yes."},
            "answer questions",
        ),
    }


def counts(session):
    """What any refused action would have changed."""
    return (
        session.execute(select(func.count(Bid.id))).scalar_one(),
        session.execute(select(func.count(Job.id)).where(Job.status == JobStatus.OPEN)).scalar_one(),
        session.execute(select(func.count(Question.id)).where(Question.answered_at.is_not(None))).scalar_one(),
        session.execute(select(func.count(AuditRecord.id))).scalar_one(),
    )


@pytest.mark.parametrize("action", VENDOR_ACTIONS)
def test_a_suspended_vendor_cannot_act(client, login_as, switch, session, admin, market, action):
    login_as(admin)
    suspend(client, market["vendor_org"])
    before = counts(session)
    bid_state = (market["bid"].status, market["bid"].revision)
    switch(market["vendor"])
    path, data, _words = vendor_actions(market)[action]
    response = client.post(path, data=data)
    assert response.status_code == 403
    page = text(response)
    # The one guard answers before the view, the same for every action.
    assert "Scalewise Data is suspended, so you cannot act on the marketplace." in page
    assert "Misstated its ownership to buyers." in page
    assert counts(session) == before
    assert (market["bid"].status, market["bid"].revision) == bid_state


@pytest.mark.parametrize("action", BUYER_ACTIONS)
def test_a_suspended_buyer_cannot_act(client, login_as, switch, session, admin, market, action):
    login_as(admin)
    suspend(client, market["lab"], reason="Unpaid invoices")
    before = counts(session)
    switch(market["buyer"])
    path, data, _words = buyer_actions(market)[action]
    response = client.post(path, data=data)
    assert response.status_code == 403
    assert (
        "Northwind AI is suspended, so you cannot act on the marketplace. Reason given by the platform: "
        "Unpaid invoices." in text(response)
    )
    assert counts(session) == before


@pytest.fixture
def rendered(app):
    """The context of every template the app renders during the test."""
    seen = []

    def _record(sender, template, context, **extra):
        seen.append(context)

    template_rendered.connect(_record, app)
    yield seen
    template_rendered.disconnect(_record, app)


def test_a_suspended_organisations_users_see_why_on_every_page(client, login_as, switch, admin, market, rendered):
    login_as(admin)
    suspend(client, market["vendor_org"])
    switch(market["colleague"])
    seen = rendered
    seen.clear()
    for path in ("/jobs/", "/bids/", "/disclosure/", "/notifications/"):
        assert client.get(path).status_code == 200, path
    notices = {context.get("suspension_notice") for context in seen}
    assert notices == {
        "Scalewise Data is suspended by the platform: Misstated its ownership to buyers. "
        "Until an admin reinstates it, you can read but not act."
    }
    switch(market["buyer"])
    seen.clear()
    client.get("/jobs/")
    assert seen and all(context.get("suspension_notice") is None for context in seen)


# --- Buyers' views -----------------------------------------------------------------------------------


def comparison_vendors(client, job) -> str:
    return text(client.get(f"/jobs/{job.id}/bids"))


def listed_bid_count(client, job) -> int:
    page = text(client.get("/jobs/"))
    rows = re.findall(r'href="/jobs/(\d+)".*?data-testid="bid-count">(\d+)<', page, re.S)
    return dict((int(j), int(n)) for j, n in rows)[job.id]


def test_open_bids_leave_the_buyers_views_and_come_back_on_reinstatement(
    client, login_as, switch, session, admin, market
):
    job = market["job"]
    switch(market["buyer"])
    assert "Scalewise Data" in comparison_vendors(client, job)
    assert listed_bid_count(client, job) == 2

    switch(admin)
    suspend(client, market["vendor_org"])
    switch(market["buyer"])
    page = comparison_vendors(client, job)
    assert "Scalewise Data" not in page and "Clear Label" in page
    assert listed_bid_count(client, job) == 1
    response = client.post(f"/jobs/{job.id}/bids/{market['bid'].id}/award")
    assert response.status_code == 303
    assert "Scalewise Data is suspended and cannot be awarded." in text(client.get(response.headers["Location"]))
    assert session.get(Bid, market["bid"].id).status == BidStatus.ACTIVE

    switch(admin)
    assert client.post(f"/admin/organizations/{market['vendor_org'].id}/reinstate").status_code == 303
    switch(market["buyer"])
    assert "Scalewise Data" in comparison_vendors(client, job)
    assert listed_bid_count(client, job) == 2


def test_an_awarded_bid_stays_in_view_when_its_vendor_is_suspended(client, login_as, switch, session, admin, market):
    market["bid"].status = BidStatus.AWARDED
    market["job"].status = JobStatus.AWARDED
    session.flush()
    login_as(admin)
    suspend(client, market["vendor_org"])
    switch(market["buyer"])
    assert "Scalewise Data" in comparison_vendors(client, market["job"])


# --- Reinstating -------------------------------------------------------------------------------------


def test_reinstating_restores_the_right_to_act(client, login_as, switch, session, admin, market):
    login_as(admin)
    suspend(client, market["vendor_org"])
    response = client.post(f"/admin/organizations/{market['vendor_org'].id}/reinstate")
    assert response.status_code == 303
    org = session.get(Organization, market["vendor_org"].id)
    assert org.suspended_at is None and org.suspended_reason == ""
    record = session.execute(select(AuditRecord).where(AuditRecord.action == "organization.reinstated")).scalar_one()
    assert record.before["reason"] == REASON and record.after == {"suspended": False}
    assert (
        session.execute(
            select(func.count(Notification.id)).where(
                Notification.user_id == market["vendor"].id, Notification.kind == "organization_reinstated"
            )
        ).scalar_one()
        == 1
    )

    switch(market["vendor"])
    response = client.post(f"/jobs/{market['job'].id}/questions", data={"text": "Is it English only?"})
    assert response.status_code == 303
    response = client.post(f"/bids/{market['bid'].id}/withdraw")
    assert response.status_code == 303
    assert session.get(Bid, market["bid"].id).status == BidStatus.WITHDRAWN


def test_reinstating_an_active_organisation_is_refused(client, login_as, admin, market):
    login_as(admin)
    response = client.post(f"/admin/organizations/{market['lab'].id}/reinstate")
    assert response.status_code == 400
    assert "Northwind AI is not suspended." in text(response)
