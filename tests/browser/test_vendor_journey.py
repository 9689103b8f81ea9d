"""A vendor files its ownership disclosure, then bids on a public job, revises the bid, withdraws it (confirming
first) and bids again."""

from playwright.sync_api import expect

from tests.factories import BuyerOrgFactory, JobFactory, VendorFactory, VendorOrgFactory

VENDOR = "ines@scalewise.example"
JOB = "Annotate 20,000 lidar sweeps of city streets"


def _vendor_and_a_public_job():
    VendorFactory(email=VENDOR, name="Ines Duarte", org_id=VendorOrgFactory(name="Scalewise Data").id)
    lab = BuyerOrgFactory(name="Quasar Research")
    JobFactory(
        buyer_org_id=lab.id,
        title=JOB,
        modality="3d_lidar",
        task_type="segmentation",
        volume=20000,
        unit="sweeps",
        description="Cuboids and point-level segmentation of vehicles and pedestrians.",
    )
    JobFactory(
        buyer_org_id=lab.id,
        title="Rank 5,000 chatbot answers",
        modality="text",
        task_type="preference_ranking",
        volume=5000,
        unit="comparisons",
        description="Pairwise ranking.",
    )


def _approve_the_filing():
    from sqlalchemy import select

    from marketplace.disclosures.models import DisclosureVersion
    from marketplace.disclosures.service import decide_version
    from marketplace.extensions import db
    from tests.factories import AdminFactory

    version = db.session.execute(select(DisclosureVersion).order_by(DisclosureVersion.id.desc())).scalars().first()
    decide_version(db.session, AdminFactory(), version.id, "approved")


def _add_tie(page, kind, name, *, person=False, fields=None):
    """Fill the "Add a tie" form; `fields` maps labels to what to type."""
    form = page.locator("#add-tie")
    form.get_by_label("Kind of tie").select_option(label=kind)
    form.get_by_label("Name of the person or organisation").fill(name)
    form.get_by_label("a person" if person else "an organisation", exact=True).check()
    for label, value in (fields or {}).items():
        form.get_by_label(label, exact=True).fill(value)
    form.get_by_role("button", name="Add tie").click()


def test_a_vendor_files_a_disclosure_then_bids_revises_withdraws_and_bids_again(
    page, live_server, commit_data, switch_user
):
    commit_data(_vendor_and_a_public_job)
    switch_user(VENDOR)

    page.get_by_role("link", name="Ownership disclosure").click()
    expect(page.get_by_test_id("no-approved")).to_be_visible()
    page.get_by_role("button", name="Start your disclosure").click()
    expect(page.get_by_role("status")).to_contain_text("Version 1 started")
    expect(page.get_by_role("heading", name="Version 1")).to_contain_text("Draft")

    _add_tie(page, "Shareholding", "Duarte Family Holdings", fields={"Exact share %": "60"})
    expect(page.get_by_role("status")).to_have_text("Duarte Family Holdings added.")
    _add_tie(page, "Shareholding", "Atlantic Seed Fund", fields={"Share at least %": "10", "Share at most %": "20"})
    _add_tie(page, "Board seat", "Rui Costa", person=True, fields={"Role title": "Independent director"})
    _add_tie(
        page,
        "Role elsewhere: senior manager",
        "Mei Tanaka",
        person=True,
        fields={
            "Organisation where they hold the role": "Cobalt Social",
            "Role title": "Head of data operations",
            "Start date": "2019-03-01",
            "End date": "2023-06-30",
        },
    )
    _add_tie(page, "Major customer", "Acme Robotics", fields={"Share of your revenue %": "35"})
    expect(page.get_by_role("status")).to_have_text("Acme Robotics added.")

    shareholders = page.get_by_test_id("section-shareholders").get_by_test_id("tie")
    expect(shareholders.filter(has_text="Duarte Family Holdings")).to_contain_text("60%")
    expect(shareholders.filter(has_text="Atlantic Seed Fund")).to_contain_text("10% – 20%")
    expect(page.get_by_test_id("section-board").get_by_test_id("tie")).to_contain_text("Independent director")
    former = page.get_by_test_id("section-people").get_by_test_id("tie")
    expect(former).to_contain_text("Role elsewhere: senior manager at Cobalt Social")
    expect(former).to_contain_text("2019-03-01 – 2023-06-30")
    expect(page.get_by_test_id("section-customers").get_by_test_id("tie")).to_contain_text("35% of revenue")

    # A shareholding that takes the total past 100% is refused beside the field, as typed.
    _add_tie(page, "Shareholding", "Late Investor LLC", fields={"Exact share %": "45"})
    form = page.locator("#add-tie")
    exact = form.get_by_label("Exact share %", exact=True)
    refusal = form.locator(".field", has=page.get_by_label("Exact share %", exact=True)).get_by_role("alert")
    expect(refusal).to_have_text("Shareholdings would add up to 115%, more than 100%.")
    expect(exact).to_have_value("45")
    expect(form.get_by_label("Name of the person or organisation")).to_have_value("Late Investor LLC")
    expect(form.get_by_label("Kind of tie")).to_have_value("shareholding")
    expect(shareholders).to_have_count(2)

    submit = page.locator("#submit")
    expect(submit.get_by_label("Officer's name")).to_have_value("Ines Duarte")
    submit.get_by_label("Officer's title").fill("Chief executive")
    submit.get_by_label("I attest that this disclosure is complete and true").check()
    submit.get_by_role("button", name="Submit version 1 (5 ties)").click()
    expect(page.get_by_role("status")).to_contain_text("Version 1 submitted.")
    expect(page.get_by_role("heading", name="Version 1")).to_contain_text("Submitted")
    page.get_by_role("link", name="← Ownership disclosure").click()
    expect(page.get_by_test_id("version-row")).to_contain_text("Submitted")

    # A public job, found by searching the job list.
    page.get_by_role("link", name="Find jobs").click()
    page.get_by_label("Search titles and descriptions").fill("lidar")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_test_id("result-count")).to_have_text("1 job")
    expect(page.get_by_test_id("job-row")).to_contain_text("Quasar Research")
    page.get_by_role("link", name=JOB).click()

    # Until an admin has reviewed the filing, bidding is paused, in the same words for every lab's job.
    expect(page.get_by_test_id("bid-refusal")).to_contain_text(
        "Bidding is paused while your ownership disclosure awaits"
    )
    commit_data(_approve_the_filing)
    page.reload()

    page.get_by_role("link", name="Place a bid").click()
    page.get_by_label("Price per unit", exact=True).fill("1.80")
    page.get_by_label("Total price", exact=True).fill("36,000")
    page.get_by_label("Turnaround (days)").fill("28")
    page.get_by_label("Quality guarantee (%)").fill("98.5")
    page.get_by_label("Proposal", exact=True).fill("A lidar team of 40 with two-pass review.")
    page.get_by_role("button", name="Place bid").click()
    expect(page.get_by_role("status")).to_contain_text("Your bid is placed.")
    expect(page.get_by_test_id("revision")).to_have_count(1)

    page.get_by_role("link", name="Revise", exact=True).click()
    expect(page.get_by_label("Total price", exact=True)).to_have_value("36000.00")
    page.get_by_label("Price per unit", exact=True).fill("1.65")
    page.get_by_label("Total price", exact=True).fill("33,000")
    page.get_by_role("button", name="Save revision 2").click()
    expect(page.get_by_role("status")).to_have_text("Revision 2 saved; earlier revisions are kept.")
    revisions = page.get_by_test_id("revision")
    expect(revisions).to_have_count(2)
    expect(revisions.first).to_contain_text("$33,000.00")
    expect(revisions.last).to_contain_text("$36,000.00")
    expect(page.locator("main")).to_contain_text("revision 2")

    # Withdrawing asks first, on a page of its own (a plain form: no script needed).
    page.get_by_role("link", name="Withdraw bid").click()
    expect(page.get_by_role("heading", name=f"Withdraw your bid on “{JOB}”?")).to_be_visible()
    expect(page.get_by_test_id("what-happens")).to_contain_text("$33,000.00")
    expect(page.get_by_test_id("cannot-undo")).to_contain_text("The withdrawal cannot be taken back")
    page.get_by_role("link", name="Go back").click()
    expect(page.locator(".badge-active")).to_have_text("Active")
    page.get_by_role("link", name="Withdraw bid").click()
    page.get_by_role("button", name="Withdraw bid").click()
    expect(page.get_by_role("status")).to_have_text(
        "Your bid is withdrawn. You may bid again on this job until its deadline."
    )
    expect(page.locator(".badge-withdrawn")).to_have_text("Withdrawn")
    expect(page.get_by_role("link", name="Revise", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Withdraw bid")).to_have_count(0)
    expect(page.get_by_test_id("withdrawal")).to_have_count(1)

    page.get_by_role("link", name=JOB).click()
    panel = page.get_by_test_id("bid-panel")
    expect(panel).to_contain_text("Withdrawn")
    expect(panel.get_by_role("link", name="Revise")).to_have_count(0)

    # Going to the revision form by its address leads to bidding again, not to a dead end.
    panel.get_by_role("link", name="See your bid").click()
    page.goto(page.url + "/revise")
    expect(page.get_by_role("status")).to_have_text("This bid is withdrawn, so there is nothing to revise.")
    expect(page.get_by_role("heading", name=f"Bid again on “{JOB}”")).to_be_visible()

    # Bidding again: the form holds the withdrawn terms; the bid is live again as revision 3.
    expect(page.get_by_label("Total price", exact=True)).to_have_value("33000.00")
    page.get_by_label("Total price", exact=True).fill("31,500")
    page.get_by_label("Turnaround (days)").fill("0")
    page.get_by_role("button", name="Bid again").click()
    expect(page.get_by_role("alert").filter(has_text="Turnaround is between 1")).to_be_visible()
    expect(page.get_by_label("Total price", exact=True)).to_have_value("31,500")
    page.get_by_label("Turnaround (days)").fill("25")
    page.get_by_role("button", name="Bid again").click()
    expect(page.get_by_role("status")).to_have_text(
        "Your bid is live again as revision 3; its history keeps the withdrawal."
    )
    expect(page.locator(".badge-active")).to_have_text("Active")
    revisions = page.get_by_test_id("revision")
    expect(revisions).to_have_count(3)
    expect(revisions.first).to_contain_text("$31,500.00")
    withdrawal = page.get_by_test_id("withdrawal")
    expect(withdrawal).to_have_count(1)
    expect(withdrawal).to_contain_text("Withdrawn on")
    page.get_by_role("link", name=JOB).click()
    expect(page.get_by_test_id("bid-panel").get_by_role("link", name="Revise")).to_be_visible()
