"""The walk: a vendor screened out of a buyer's confidential and invite-only jobs learns nothing about them.

A buyer posts a confidential job (codename, attachment, an answered question, a notification to the buyer) and
an invite-only job, both with words found nowhere else. Its rival holds 49% of one vendor (exclude) and 15% of
another (review). Signed in as each of them, we open every GET address of the app, with every id in the
database and every filter the lists take, and read every answer: no title, description, codename, file name,
question or link to those jobs may appear, and the jobs' own addresses must answer exactly as for a job that
does not exist. Once the buyer waives the review finding, that vendor does see the confidential job.
"""

import io
import itertools
import re
from datetime import timedelta
from urllib.parse import quote_plus

import pytest
from flask import g
from markupsafe import escape
from pypdf import PdfWriter
from sqlalchemy import select
from sqlmodel import SQLModel
from werkzeug.routing import Rule

from marketplace.accounts.models import Organization, User
from marketplace.api import tokens
from marketplace.db_types import utcnow
from marketplace.disclosures.models import DisclosureStatus
from marketplace.jobs.forms import JobSearchForm
from marketplace.jobs.models import Job, JobAttachment, Question
from marketplace.notifications.models import Notification
from tests.factories import (
    BidFactory,
    BuyerFactory,
    DisclosureFactory,
    InterestFactory,
    PartyFactory,
    QuestionFactory,
    VendorFactory,
    VendorOrgFactory,
)

CONFIDENTIAL_TITLE = "Nightjar protein-fold preference ranking"
CONFIDENTIAL_DESCRIPTION = "Rank quillwort assay transcripts by plausibility for the Nightjar programme."
INVITE_TITLE = "Kestrel multilingual red-team sweep"
INVITE_DESCRIPTION = "Probe the marrowfat dialogue model in eleven languages."
ATTACHMENT_NAME = "nightjar-labeling-guide.pdf"
QUESTION_TEXT = "Do the quillwort transcripts include speaker names?"
ANSWER_TEXT = "No: the quillwort transcripts are anonymised."
EARLY_QUESTION = "Can the marrowfat assays be labelled offshore?"
PUBLIC_TITLE = "Street-scene zebra crossings"
ABSENT_ID = 987_654_321

# An argument's name tells which table its ids come from; unknown names get every id in the database.
ARGUMENT_TABLES = {
    "job_id": ["job"],
    "attachment_id": ["jobattachment"],
    "question_id": ["question"],
    "bid_id": ["bid"],
    "version_id": ["disclosureversion"],
    "org_id": ["organization"],
    "rival_id": ["rival"],
    "waiver_id": ["waiver"],
    "tie_id": ["interest", "commercialtie"],
    "party_id": ["party"],
    "user_id": ["user_account"],
    "contract_id": ["contract"],
    "notification_id": ["notification"],
}


def job_form(**fields) -> dict:
    deadline = (utcnow() + timedelta(days=10)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "title": "A job",
        "description": "",
        "modality": "text",
        "task_type": "preference_ranking",
        "volume": "5000",
        "unit": "pairs",
        "quality_metric": "agreement",
        "quality_target_pct": "95",
        "languages": "English",
        "certifications": ["soc2_type2"],
        "hosting": "buyer_hosted",
        "budget_min": "10,000.00",
        "budget_max": "20,000.00",
        "currency": "USD",
        "bid_deadline": deadline,
        "delivery_date": (utcnow() + timedelta(days=60)).date().isoformat(),
        "visibility": "public",
        "bidding_mode": "sealed",
        "publish": "Publish",
    }
    data.update(fields)
    return data


def a_real_pdf() -> bytes:
    """A confidential job's PDF must be a PDF: its metadata is removed before vendors can read it."""
    writer = PdfWriter()
    writer.add_blank_page(100, 100)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def approved_vendor_user(name: str) -> User:
    org = VendorOrgFactory(name=name)
    DisclosureFactory(vendor_org_id=org.id, status=DisclosureStatus.APPROVED, decided_at=utcnow())
    return VendorFactory(org_id=org.id)


def post_job(client, session, **fields) -> Job:
    response = client.post("/jobs/new", data=job_form(**fields), content_type="multipart/form-data")
    assert response.status_code == 303, response.get_data(as_text=True)[:2000]
    return session.execute(select(Job).where(Job.title == fields["title"])).scalar_one()


@pytest.fixture
def world(client, login_as, session):
    """The buyer, its three vendors, its rival, and the two secret jobs with everything around them."""
    buyer = BuyerFactory()
    excluded = approved_vendor_user("Scalewise Data")
    review = approved_vendor_user("Tagwell Review")
    clear = approved_vendor_user("Clearline Labs")
    cobalt = PartyFactory(name="Cobalt Social")
    InterestFactory(interested_party_id=cobalt.id, subject_party_id=_party(session, excluded), share_exact=49.0)
    InterestFactory(interested_party_id=cobalt.id, subject_party_id=_party(session, review), share_exact=15.0)

    login_as(buyer)
    assert client.post("/rivals", data={"name": "Cobalt Social"}).status_code == 303
    confidential = post_job(
        client,
        session,
        title=CONFIDENTIAL_TITLE,
        description=CONFIDENTIAL_DESCRIPTION,
        visibility="confidential",
        attachments=[(io.BytesIO(a_real_pdf()), ATTACHMENT_NAME)],
    )
    invite_only = post_job(
        client, session, title=INVITE_TITLE, description=INVITE_DESCRIPTION, visibility="invite_only"
    )
    public = post_job(client, session, title=PUBLIC_TITLE, description="Boxes around zebra crossings.")
    assert (
        client.post(
            f"/jobs/{invite_only.id}/invitations", data={"vendors": [excluded.org_id, review.org_id, clear.org_id]}
        ).status_code
        == 303
    )

    login_as(clear)
    assert client.post(f"/jobs/{confidential.id}/questions", data={"text": QUESTION_TEXT}).status_code == 303
    question = session.execute(select(Question).where(Question.text == QUESTION_TEXT)).scalar_one()
    login_as(buyer)
    assert (
        client.post(f"/jobs/{confidential.id}/questions/{question.id}/answer", data={"answer": ANSWER_TEXT}).status_code
        == 303
    )
    # Left from before the rival was named: a bid and a question of each screened-out vendor.
    early_bids = [BidFactory(job_id=confidential.id, vendor_org_id=v.org_id) for v in (excluded, review)]
    early_questions = [
        QuestionFactory(job_id=confidential.id, vendor_org_id=v.org_id, text=EARLY_QUESTION) for v in (excluded, review)
    ]
    attachment = session.execute(select(JobAttachment).where(JobAttachment.job_id == confidential.id)).scalar_one()
    assert session.execute(
        select(Notification)
        .join(User, User.id == Notification.user_id)
        .where(User.org_id == buyer.org_id, Notification.kind == "new_question")
    ).first()

    # The positive control: a clear vendor sees all of it, so the walk below is not vacuous.
    login_as(clear)
    page = client.get(f"/jobs/{confidential.id}").get_data(as_text=True)
    assert CONFIDENTIAL_TITLE in page and confidential.codename in page and ANSWER_TEXT in page
    download = client.get(f"/jobs/{confidential.id}/attachments/{attachment.id}")
    download.close()
    assert download.status_code == 200
    assert INVITE_TITLE in client.get(f"/jobs/{invite_only.id}").get_data(as_text=True)
    return {
        "buyer": buyer,
        "excluded": excluded,
        "review": review,
        "clear": clear,
        "cobalt": cobalt,
        "confidential": confidential,
        "invite_only": invite_only,
        "public": public,
        "attachment": attachment,
        "question": question,
        "early_bids": early_bids,
        "early_questions": early_questions,
    }


def _party(session, user: User) -> int:
    return session.get(Organization, user.org_id).party_id


def secrets_of(world) -> list[str]:
    # Whole texts, single words, and the phrases around those words (found even where a searched word is cut).
    return [
        CONFIDENTIAL_TITLE,
        CONFIDENTIAL_DESCRIPTION,
        world["confidential"].codename,
        INVITE_TITLE,
        INVITE_DESCRIPTION,
        ATTACHMENT_NAME,
        QUESTION_TEXT,
        ANSWER_TEXT,
        EARLY_QUESTION,
        "quillwort",
        "marrowfat",
        "Nightjar",
        "Kestrel",
        "protein-fold preference",
        "multilingual red-team",
        "eleven languages",
        "speaker names",
        "anonymised",
        "offshore",
        "labeling-guide",
    ]


def secret_links(world, vendor: User) -> list[re.Pattern]:
    own_bid = next(b for b in world["early_bids"] if b.vendor_org_id == vendor.org_id)
    return [
        re.compile(p)
        for p in (
            rf"/jobs/{world['confidential'].id}(?!\d)",
            rf"/jobs/{world['invite_only'].id}(?!\d)",
            rf"/bids/{own_bid.id}(?!\d)",
            rf"/attachments/{world['attachment'].id}(?!\d)",
        )
    ]


def ids_in_database(session) -> dict[str, set[int]]:
    """Every id of every table."""
    return {
        table.name: set(session.execute(select(table.c.id)).scalars())
        for table in SQLModel.metadata.sorted_tables
        if "id" in table.c
    }


def arguments_for(rule: Rule, ids: dict[str, set[int]]) -> list[dict]:
    """Every way to fill the rule's arguments: all ids for a lone integer, the named table's ids otherwise."""
    every_id = sorted(set().union(*ids.values()) | {ABSENT_ID})
    names = sorted(rule.arguments)
    pools = []
    for name in names:
        converter = type(rule._converters[name]).__name__
        if "Integer" not in converter:
            pools.append(["x"])
        elif len(names) == 1:
            pools.append(every_id)
        else:
            tables = ARGUMENT_TABLES.get(name)
            pools.append(
                sorted(set().union(*(ids.get(t, set()) for t in tables)) | {ABSENT_ID}) if tables else every_id
            )
    return [dict(zip(names, values, strict=True)) for values in itertools.product(*pools)]


def query_strings(world) -> list[dict]:
    """Every value of every filter the lists take, each alone; words of the secrets; page 1 to 3."""
    variants: list[dict] = [{"page": page} for page in (1, 2, 3)]
    variants += [
        {"q": word}
        for word in ("Nightjar", "quillwort", "Kestrel", "marrowfat", world["confidential"].codename, "preference")
    ]
    search_form = JobSearchForm(None, include_drafts=True)
    for field in search_form:
        for value, _label in getattr(field, "choices", None) or []:
            if value:
                variants.append({field.name: value})
    variants += [{"state": "open", "page": page} for page in (2, 3)]
    variants += [{"language": "English"}, {"show_excluded": "y"}, {"show_excluded": "y", "q": "Nightjar"}]
    variants += [{"verdict": v} for v in ("clear", "review", "exclude")]
    variants += [{"status": s} for s in ("submitted", "approved", "all", "rejected")]
    variants += [{"kind": k} for k in ("buyer", "vendor")]
    for key in ("buyer", "vendor", "job", "job_id", "org", "keep", "merge"):
        variants += [{key: world["buyer"].org_id}, {key: world["confidential"].id}]
    return variants


def shows(body: str, secret: str) -> bool:
    """Whether the secret stands in the body as a word of its own: "4321" inside a hash or a timestamp is chance."""
    return re.search(rf"(?<![0-9a-z]){re.escape(secret.lower())}(?![0-9a-z])", body.lower()) is not None


def walk(client, app, session, world, vendor: User, secrets=None, links=None, api_token=None) -> list[str]:
    """Open every GET address as the user (the API's with its organisation's token, when given); return what leaked
    where."""
    problems = []
    secrets = secrets_of(world) if secrets is None else secrets
    links = secret_links(world, vendor) if links is None else links
    ids = ids_in_database(session)
    variants = query_strings(world)

    def check(url: str, response, typed=()) -> None:
        if response.status_code >= 500:
            problems.append(f"{url}: {response.status_code}")
        body = response.get_data().decode("utf-8", "replace") + str(response.headers)
        if url.startswith("/api/"):  # a problem's `instance` names the address asked for: that tells it nothing
            body = body.replace(url.split("?")[0], "")
        # What the vendor typed into a search is echoed back to it: that tells it nothing.
        for value in typed:
            for form in (str(value), escape(str(value)), quote_plus(str(value))):
                body = body.replace(form, "")
        for secret in secrets:
            if shows(body, secret):
                problems.append(f"{url}: shows {secret!r}")
        for pattern in links:
            if pattern.search(body):
                problems.append(f"{url}: links {pattern.pattern}")
        response.close()

    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint == "static":
            continue
        if rule.rule.startswith("/api/"):
            # The JSON API answers tokens, never this session: walked with the vendor organisation's token.
            if api_token is not None:
                headers = {"Authorization": f"Bearer {api_token}"}
                for values in arguments_for(rule, ids) if rule.arguments else [{}]:
                    url = rule.build(values, append_unknown=False)[1]
                    g.pop("_login_user", None)
                    check(url, client.get(url, headers=headers))
                    g.pop("_login_user", None)
            continue
        if rule.arguments:
            for values in arguments_for(rule, ids):
                url = rule.build(values, append_unknown=False)[1]
                check(url, client.get(url))
        else:
            url = rule.build({}, append_unknown=False)[1]
            plain = client.get(url)
            check(url, plain)
            # A page the vendor may not open (403) or that sends it elsewhere answers every query alike.
            for query in variants if plain.status_code == 200 else variants[:4]:
                check(f"{url}?{query}", client.get(url, query_string=query), typed=query.values())
    return problems


def job_routes(app):
    return [rule for rule in app.url_map.iter_rules() if "job_id" in rule.arguments and rule.endpoint != "static"]


def answers_like_a_missing_job(client, app, world) -> list[str]:
    """Each address of the secret jobs answers exactly as the same address of a job that does not exist."""
    problems = []
    for job in (world["confidential"], world["invite_only"]):
        for rule in job_routes(app):
            for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                values = {name: ABSENT_ID for name in rule.arguments}
                values["job_id"] = job.id
                if "attachment_id" in rule.arguments:
                    values["attachment_id"] = world["attachment"].id
                if "question_id" in rule.arguments:
                    values["question_id"] = world["question"].id
                real = rule.build(values, append_unknown=False)[1]
                missing = rule.build({**values, "job_id": ABSENT_ID}, append_unknown=False)[1]
                got, expected = (_status(client, url, method) for url in (real, missing))
                if got != expected:
                    problems.append(f"{method} {real}: {got}, but {expected} for a job that does not exist")
    return problems


def _status(client, url: str, method: str) -> int:
    response = client.open(url, method=method)
    response.close()
    return response.status_code


def notifications_of(session, vendor: User) -> list[tuple[str, str]]:
    return [
        tuple(row)
        for row in session.execute(
            select(Notification.message, Notification.link)
            .join(User, User.id == Notification.user_id)
            .where(User.org_id == vendor.org_id)
        )
    ]


@pytest.mark.parametrize("who", ["excluded", "review"])
def test_a_screened_out_vendor_learns_nothing_of_the_secret_jobs(client, app, session, login_as, world, who):
    vendor = login_as(world[who])
    confidential = world["confidential"]
    # It does see the buyer's public job: screening hides only what it must.
    assert PUBLIC_TITLE in client.get("/jobs/").get_data(as_text=True)
    assert client.get(f"/jobs/{world['public'].id}").status_code == 200

    assert client.get(f"/jobs/{confidential.id}").status_code == 404
    assert client.get(f"/jobs/{confidential.id}/attachments/{world['attachment'].id}").status_code == 404
    assert client.get(f"/jobs/{confidential.id}/bid").status_code == 404
    assert client.get(f"/jobs/{world['invite_only'].id}").status_code == 404
    assert client.post(f"/jobs/{confidential.id}/questions", data={"text": "Hello?"}).status_code == 404
    own_bid = next(b for b in world["early_bids"] if b.vendor_org_id == vendor.org_id)
    assert client.get(f"/bids/{own_bid.id}").status_code == 404

    assert answers_like_a_missing_job(client, app, world) == []
    token = tokens.create_token(session, vendor, "walk", list(tokens.SCOPES), 30).secret
    assert walk(client, app, session, world, vendor, api_token=token) == []

    secrets = [s.lower() for s in secrets_of(world)]
    for message, link in notifications_of(session, vendor):
        assert not any(s in message.lower() for s in secrets), message
        assert not any(p.search(link) or p.search(message) for p in secret_links(world, vendor)), link


def test_after_the_buyer_waives_the_finding_the_vendor_under_review_sees_the_job(client, session, login_as, world):
    review, confidential = world["review"], world["confidential"]
    login_as(world["buyer"])
    response = client.post(
        f"/vendors/{review.org_id}/waivers",
        data={
            "rule": "ownership",
            "rival_party_id": str(world["cobalt"].id),
            "reason": "Cobalt's stake is passive; we checked the shareholder agreement.",
        },
    )
    assert response.status_code == 303

    login_as(review)
    page = client.get(f"/jobs/{confidential.id}")
    assert page.status_code == 200
    assert CONFIDENTIAL_TITLE in page.get_data(as_text=True) and ANSWER_TEXT in page.get_data(as_text=True)
    assert CONFIDENTIAL_TITLE in client.get("/jobs/").get_data(as_text=True)
    assert INVITE_TITLE in client.get(f"/jobs/{world['invite_only'].id}").get_data(as_text=True)

    # The excluded vendor is still held out: an exclude finding cannot be waived.
    login_as(world["excluded"])
    assert client.get(f"/jobs/{confidential.id}").status_code == 404


# --- Everyone else: a vendor probing with an unreviewed filing, another lab, and the lab itself -----------------

SEALED_TERMS = ["98,765.43", "9876543", "43.21", "4321"]


def _sealed_bid(session, world):
    """The clear vendor's sealed bid on the confidential job, before its deadline."""
    from marketplace.bids.service import Offer, place_bid

    return place_bid(
        session,
        world["clear"],
        world["confidential"].id,
        Offer(price_per_unit_minor=4_321, total_minor=9_876_543, turnaround_days=17),
    )


def test_a_prober_another_lab_and_the_lab_itself_find_no_secret(client, app, session, login_as, world):
    from marketplace.disclosures import service as disclosures
    from marketplace.disclosures.service import TieInput

    bid = _sealed_bid(session, world)
    prober = approved_vendor_user("Probe Analytics")
    version = disclosures.start_new_version(session, prober)
    disclosures.add_tie(
        session,
        prober,
        version.id,
        TieInput(kind="shareholding", party_name="Cobalt Social", party_kind="entity", share_exact=30.0),
    )
    disclosures.submit_version(
        session, prober, version.id, attester_name="Ana Probe", attester_title="CEO", attested=True
    )
    other_lab = BuyerFactory()
    bid_link = re.compile(rf"/bids/{bid.id}(?!\d)")

    # The prober: the secret jobs and the sealed terms, as for any vendor the lab screens out.
    login_as(prober)
    assert (
        walk(
            client,
            app,
            session,
            world,
            prober,
            secrets=secrets_of(world) + SEALED_TERMS,
            links=[bid_link, *secret_links(world, world["excluded"])[:2]],
        )
        == []
    )
    # Another lab: nothing of this lab's jobs, bids or terms.
    login_as(other_lab)
    assert (
        walk(client, app, session, world, other_lab, secrets=secrets_of(world) + SEALED_TERMS, links=[bid_link]) == []
    )
    # The lab itself, before the deadline: every page and its audit export, and no sealed term anywhere.
    login_as(world["buyer"])
    assert walk(client, app, session, world, world["buyer"], secrets=SEALED_TERMS, links=[]) == []
    export = client.get("/audit/export.jsonl").get_data(as_text=True)
    assert not any(shows(export, term) for term in SEALED_TERMS)
