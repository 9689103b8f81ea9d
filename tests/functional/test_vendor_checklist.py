"""A new vendor sees where it stands (profile, disclosure, payouts) and what each step opens, until every step is
done; the checklist reads the same for a vendor a lab excludes as for one it does not, so it says nothing of any
lab's rivals."""

import re

from sqlalchemy import select

from marketplace.accounts.models import VendorProfile
from marketplace.disclosures.models import DisclosureStatus
from marketplace.jobs.models import Visibility
from marketplace.payments.models import PayoutAccount
from tests.factories import (
    BuyerFactory,
    DisclosureFactory,
    JobFactory,
    VendorFactory,
    VerifiedVendorFactory,
)


def checklist(client) -> str:
    page = client.get("/jobs/").get_data(as_text=True)
    found = re.search(r'<section class="card checklist".*?</section>', page, re.S)
    return found.group(0) if found else ""


def complete_profile(session, org_id: int) -> None:
    session.flush()  # the factory's empty profile, if it made one
    profile = session.execute(select(VendorProfile).where(VendorProfile.org_id == org_id)).scalar_one_or_none()
    profile = profile or VendorProfile(org_id=org_id)
    profile.summary, profile.modalities, profile.task_types = "Medical transcription.", ["audio"], ["transcription"]
    session.add(profile)
    session.flush()


def test_a_new_vendor_sees_each_step_and_what_it_opens_until_all_are_done(client, session, login_as):
    vendor = login_as(VendorFactory())
    shown = checklist(client)
    assert "Getting set up: 0 of 3 done" in shown
    assert "Not filed yet" in shown and "Confidential and invite-only jobs open once it is approved" in shown
    assert "Payouts</strong>: Not set up." in shown and 'href="/payments/payouts"' in shown

    complete_profile(session, vendor.org_id)
    DisclosureFactory(vendor_org_id=vendor.org_id, status=DisclosureStatus.SUBMITTED)
    session.flush()
    shown = checklist(client)
    assert "Getting set up: 1 of 3 done" in shown
    assert "awaiting an admin&#39;s review: bidding is paused" in shown

    DisclosureFactory(vendor_org_id=vendor.org_id, number=2, status=DisclosureStatus.APPROVED)
    session.add(PayoutAccount(org_id=vendor.org_id, stripe_account_id="acct_ready", payouts_ready=True))
    session.flush()
    assert checklist(client) == ""  # every step done: the list of jobs only


def test_the_checklist_reads_the_same_whatever_a_labs_screening_says(client, session, login_as, exclude_vendor):
    lab = BuyerFactory()
    JobFactory(buyer_org_id=lab.org_id, visibility=Visibility.CONFIDENTIAL)
    JobFactory(buyer_org_id=lab.org_id, visibility=Visibility.INVITE_ONLY)
    excluded, clear = VerifiedVendorFactory(), VerifiedVendorFactory()
    exclude_vendor(lab.org_id, excluded.org_id)
    session.flush()
    login_as(excluded)
    seen_excluded = checklist(client)
    login_as(clear)
    seen_clear = checklist(client)
    assert seen_excluded and seen_excluded == seen_clear


def test_buyers_have_no_checklist(client, session, login_as):
    login_as(BuyerFactory())
    assert checklist(client) == ""
