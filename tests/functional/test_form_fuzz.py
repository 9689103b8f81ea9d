"""Every form of the app, posted with hostile values as each kind of user, answers without a 500.

The routes are read from the app's URL map and the field names from every form class, so a new form or route is
fuzzed without being listed here. The objects the addresses name exist and belong to the users posting, so the
forms' own code runs (not only the 404 for an unknown id).
"""

import contextlib
import inspect

import pytest
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wtforms.fields.core import UnboundField

from marketplace.accounts import security
from marketplace.accounts.models import Organization, OrgRole, TokenPurpose
from marketplace.accounts.service import invite_colleague
from marketplace.bids.models import AwardRequest
from marketplace.bids.service import award_bid
from marketplace.certificates.models import CertificateStatus
from marketplace.contracts.models import Milestone
from marketplace.db_types import utcnow
from marketplace.disclosures.models import DisclosureStatus
from marketplace.disputes.models import Dispute
from marketplace.jobs.models import BiddingMode, JobStatus
from marketplace.parties import registry
from marketplace.parties.models import TieOrigin
from marketplace.webhooks import events as webhook_events
from marketplace.webhooks import service as webhook_service
from marketplace.webhooks.models import EventType, WebhookDelivery
from tests.conftest import make_app
from tests.factories import (
    PASSWORD,
    AdminFactory,
    BidFactory,
    BuyerFactory,
    CertificateFactory,
    DisclosureFactory,
    InterestFactory,
    JobFactory,
    PartyFactory,
    QuestionFactory,
    RivalFactory,
    VerifiedVendorFactory,
)

# Not fuzzed as a signed-in user: Stripe's webhook (signed bodies, tests/functional/payments) and the pages reached
# before signing in (fuzzed signed out, at the end of this file).
SKIPPED = {
    "payments.webhook",
    "accounts.sign_in",
    "accounts.sign_up",
    "accounts.accept_invite",
    "accounts.sign_out",
    "static",
}
ROUTES = sorted(
    (r for r in make_app("sqlite://").url_map.iter_rules() if "POST" in r.methods and r.endpoint not in SKIPPED),
    key=lambda r: r.rule,
)

# Each stands for a class of mistakes or attacks: empty, huge and exponent numbers, overlong text, a NUL byte,
# bidi and full-width characters, impossible dates, markup, LIKE wildcards.
HOSTILE = [
    "",
    "9" * 30,
    "1e999999",
    "-1",
    "x" * 5000,
    "a\x00b",
    "\u202eevil.pdf",
    "9999-12-31",
    "2026-02-30",
    "<script>alert(1)</script>%_",
    "１２３",
]


def _form_field_names() -> list[str]:
    """Every field name of every form class in the app (lists of rows as their first rows)."""
    import marketplace.models  # noqa: F401  (every area imported, so every form class exists)

    for name in (
        "accounts",
        "admin",
        "bids",
        "contracts",
        "disclosures",
        "disputes",
        "jobs",
        "parties",
        "payments",
        "screening",
        "audit",
        "deals",
        "neutrality",
        "concentration",
        "leaks",
        "certificates",
        "webhooks",
    ):
        for module in ("forms", "views"):
            with contextlib.suppress(ModuleNotFoundError):
                __import__(f"marketplace.{name}.{module}")
    names: set[str] = set()
    classes = [FlaskForm]
    while classes:
        cls = classes.pop()
        classes.extend(cls.__subclasses__())
        if not cls.__module__.startswith("marketplace."):
            continue
        for attribute, value in inspect.getmembers(cls):
            if isinstance(value, UnboundField):
                names.add(attribute)
                if value.field_class.__name__ == "FieldList":
                    names |= {f"{attribute}-0-{sub}" for sub in ("title", "amount", "due_date")}
    return sorted(names)


FIELDS = _form_field_names()


@pytest.fixture
def world(session):
    """A buyer, a verified vendor and an admin, with one of everything the addresses can name."""
    buyer, vendor, admin = BuyerFactory(), VerifiedVendorFactory(), AdminFactory()
    job = JobFactory(buyer_org_id=buyer.org_id, bidding_mode=BiddingMode.OPEN)
    awarded_job = JobFactory(buyer_org_id=buyer.org_id, bidding_mode=BiddingMode.OPEN)
    draft = JobFactory(buyer_org_id=buyer.org_id, status=JobStatus.DRAFT)
    bid = BidFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    winning = BidFactory(job_id=awarded_job.id, vendor_org_id=vendor.org_id)
    contract = award_bid(session, buyer, awarded_job.id, winning.id)
    milestone = session.query(Milestone).filter_by(contract_id=contract.id).first()
    question = QuestionFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    version = DisclosureFactory(vendor_org_id=vendor.org_id, number=2, status=DisclosureStatus.DRAFT)
    owner = PartyFactory(name="Cobalt Social")
    tie = InterestFactory(
        interested_party_id=owner.id,
        subject_party_id=session.get(Organization, vendor.org_id).party_id,
        origin=TieOrigin.DISCLOSURE,
        disclosure_id=version.id,
    )
    rival = RivalFactory(buyer_org_id=buyer.org_id)
    colleague = BuyerFactory(org_id=buyer.org_id, org_role=OrgRole.MEMBER)
    waiting = AwardRequest(
        job_id=job.id,
        bid_id=bid.id,
        buyer_org_id=buyer.org_id,
        requested_by_id=colleague.id,
        total_minor=1,
        currency="USD",
    )
    session.add(waiting)
    buyer.approver = True
    certificate = CertificateFactory(vendor_org_id=vendor.org_id, status=CertificateStatus.PENDING)
    distinction = registry.mark_distinct(
        session, admin, owner.id, PartyFactory(name="Cobalt Socials").id, "Different registry numbers."
    )
    dispute = Dispute(
        contract_id=contract.id,
        milestone_id=milestone.id,
        opened_by_side="buyer",
        reason="Half the boxes are missing.",
        milestone_status_before="funded",
        held_minor=contract.total_minor,
        currency=contract.currency,
        respond_by=utcnow(),
        evidence_until=utcnow(),
    )
    session.add(dispute)
    endpoint = webhook_service.register(
        session, buyer, "https://93.184.216.34/hook", ["bid.received"], "", webhook_service.Policy()
    )
    webhook_events.emit(session, buyer.org_id, EventType.BID_RECEIVED, {})
    delivery_id = session.query(WebhookDelivery).filter_by(endpoint_id=endpoint.id).one().id
    session.commit()
    ids = {
        "dispute_id": dispute.id,
        "job_id": job.id,
        "bid_id": bid.id,
        "question_id": question.id,
        "contract_id": contract.id,
        "milestone_id": milestone.id,
        "version_id": version.id,
        "tie_id": tie.id,
        "evidence_id": 1,
        "org_id": vendor.org_id,
        "rival_id": rival.id,
        "waiver_id": 1,
        "party_id": owner.id,
        "kind": "interest",
        "distinction_id": distinction.id,
        "token": "not-a-token",
        "session_id": 1,
        "deal_id": 1,
        "uid": "not-a-statement",
        "member_id": colleague.id,
        "request_id": waiting.id,
        "certificate_id": certificate.id,
        "grant_id": 1,
        "endpoint_id": endpoint.id,
        "delivery_id": delivery_id,
        "claim_id": 1,
        "token_id": 1,
        "user_id": buyer.id,
        "rest": "no-such-address",
    }
    return {"buyer": buyer, "vendor": vendor, "admin": admin, "ids": ids, "draft_id": draft.id}


def _url(rule, world) -> str:
    values = dict(world["ids"])
    if rule.endpoint in ("jobs.edit", "jobs.publish"):
        values["job_id"] = world["draft_id"]
    return rule.build({name: values[name] for name in rule.arguments}, append_unknown=False)[1]


@pytest.mark.parametrize("role", ["buyer", "vendor", "admin"])
@pytest.mark.parametrize("rule", ROUTES, ids=lambda r: r.endpoint)
def test_no_form_answers_hostile_input_with_a_500(client, login_as, world, rule, role):
    login_as(world[role])
    url = _url(rule, world)
    for value in HOSTILE:
        response = client.post(url, data={name: value for name in FIELDS})
        assert response.status_code < 500, (url, role, repr(value)[:40])


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_mixes_of_fields_and_values_never_give_a_500(client, login_as, world, data):
    rule = data.draw(st.sampled_from(ROUTES), label="route")
    role = data.draw(st.sampled_from(["buyer", "vendor", "admin"]), label="role")
    fields = data.draw(st.lists(st.sampled_from(FIELDS), max_size=12, unique=True), label="fields")
    values = data.draw(
        st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40)), min_size=len(fields), max_size=len(fields)),
        label="values",
    )
    login_as(world[role])
    response = client.post(_url(rule, world), data=dict(zip(fields, values, strict=True)))
    assert response.status_code < 500


# --- The forms reached before signing in -------------------------------------------------------------------------


@pytest.fixture
def signed_out_forms(session):
    """Every form a visitor posts before signing in, each with what makes its own code run: a live invitation, a
    live reset link, a password already given for an account with a second factor."""
    member, admin = BuyerFactory(), AdminFactory()
    invitation = invite_colleague(session, member, "newcomer@example.com")
    reset = security.issue_token(session, member, TokenPurpose.RESET_PASSWORD)
    session.commit()
    return {
        "/sign-in": None,
        "/sign-up": None,
        "/forgot-password": None,
        f"/invite/{invitation.token}": None,
        f"/reset-password/{reset.token}": None,
        "/sign-in/code": admin,
    }


def _post_signed_out(client, path, who, data):
    if who is not None:  # the password step first, so that the code form reads what is posted
        client.post("/sign-in", data={"email": who.email, "password": PASSWORD})
    return client.post(path, data=data)


def test_no_signed_out_form_answers_hostile_input_with_a_500(app, signed_out_forms):
    for path, who in signed_out_forms.items():
        for value in HOSTILE:
            client = app.test_client()
            response = _post_signed_out(client, path, who, {name: value for name in FIELDS})
            assert response.status_code < 500, (path, repr(value)[:40])


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_random_mixes_on_the_signed_out_forms_never_give_a_500(app, signed_out_forms, data):
    path = data.draw(st.sampled_from(sorted(signed_out_forms)), label="form")
    fields = data.draw(st.lists(st.sampled_from(FIELDS), max_size=12, unique=True), label="fields")
    values = data.draw(
        st.lists(st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40)), min_size=len(fields), max_size=len(fields)),
        label="values",
    )
    response = _post_signed_out(app.test_client(), path, signed_out_forms[path], dict(zip(fields, values, strict=True)))
    assert response.status_code < 500
