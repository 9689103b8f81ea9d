"""Questions and answers: the answer reaches every vendor who can see the job, never naming who asked."""

import re

from flask import url_for
from sqlalchemy import event, select

from marketplace.accounts.models import Organization
from marketplace.extensions import db
from marketplace.jobs.models import Question, Visibility
from marketplace.notifications.models import Notification
from tests.factories import BuyerFactory, JobFactory, VendorFactory, VerifiedVendorFactory


def questions_section(response) -> str:
    return re.search(
        r'<section class="card" id="questions">.*?</section>', response.get_data(as_text=True), re.S
    ).group(0)


def org_name(session, org_id: int) -> str:
    return session.get(Organization, org_id).name


def test_vendor_asks_and_the_buyer_is_told(client, switch_to, session, notifications):
    buyer = BuyerFactory()
    job = JobFactory(buyer_org_id=buyer.org_id)
    asker = switch_to(VendorFactory())
    response = client.post(url_for("jobs.ask", job_id=job.id), data={"text": "Are there overlapping speakers?"})
    assert response.status_code == 303
    assert response.headers["Location"].endswith(url_for("jobs.show", job_id=job.id) + "#questions")
    assert notifications(buyer.org_id) == [("new_question", f"New question on “{job.title}”.")]
    mine = questions_section(client.get(url_for("jobs.show", job_id=job.id)))
    assert "Are there overlapping speakers?" in mine and "your organisation's question" in mine
    assert "Not answered yet." in mine

    switch_to(buyer)
    seen_by_buyer = questions_section(client.get(url_for("jobs.show", job_id=job.id)))
    assert "Are there overlapping speakers?" in seen_by_buyer and "Publish answer" in seen_by_buyer
    assert org_name(session, asker.org_id) not in seen_by_buyer
    # Each answer box, drawn under its question's id, keeps its label.
    box = re.search(r'<textarea[^>]*id="(answer-\d+)"', seen_by_buyer).group(1)
    assert f'<label for="{box}">' in seen_by_buyer


def test_an_empty_question_comes_back_with_a_message(client, login_as):
    job = JobFactory()
    login_as(VendorFactory())
    response = client.post(url_for("jobs.ask", job_id=job.id), data={"text": "   "})
    assert response.status_code == 400
    assert "Write your question." in questions_section(response)


def test_unanswered_question_is_hidden_from_other_vendors(client, switch_to):
    job = JobFactory()
    switch_to(VendorFactory())
    client.post(url_for("jobs.ask", job_id=job.id), data={"text": "Secret pricing question"})
    switch_to(VendorFactory())
    page = client.get(url_for("jobs.show", job_id=job.id))
    assert b"Secret pricing question" not in page.data
    assert b"No questions yet." in page.data


def test_answer_is_shown_to_every_vendor_without_naming_the_asker(
    client, switch_to, session, notifications, exclude_vendor
):
    buyer = BuyerFactory()
    job = JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.CONFIDENTIAL)
    asker, other, excluded = VerifiedVendorFactory(), VerifiedVendorFactory(), VerifiedVendorFactory()
    exclude_vendor(buyer.org_id, excluded.org_id)
    switch_to(asker)
    client.post(url_for("jobs.ask", job_id=job.id), data={"text": "Which file format?"})
    question = session.execute(select(Question).where(Question.job_id == job.id)).scalar_one()

    switch_to(buyer)
    empty = client.post(url_for("jobs.answer", job_id=job.id, question_id=question.id), data={"answer": ""})
    assert empty.status_code == 400 and "Write the answer." in questions_section(empty)
    response = client.post(
        url_for("jobs.answer", job_id=job.id, question_id=question.id),
        data={"answer": "JSON lines, one record per utterance."},
    )
    assert response.status_code == 303

    switch_to(other)
    seen = questions_section(client.get(url_for("jobs.show", job_id=job.id)))
    assert "Which file format?" in seen and "JSON lines, one record per utterance." in seen
    assert org_name(session, asker.org_id) not in seen and "your organisation" not in seen
    told = ("question_answered", f"A question about “{job.title}” was answered.")
    assert told in notifications(other.org_id) and told in notifications(asker.org_id)
    assert all(org_name(session, asker.org_id) not in message for _, message in notifications(other.org_id))
    assert notifications(excluded.org_id) == []


def test_an_answer_tells_every_user_of_every_vendor_that_may_see_the_job_in_one_statement(
    client, switch_to, session, exclude_vendor
):
    """However many vendors may see the job, their users' notifications are written by one INSERT ... SELECT (not a
    row built per user), and only theirs: a colleague of the asker is told, an excluded vendor's users are not."""
    buyer = BuyerFactory()
    job = JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.CONFIDENTIAL)
    asker = VerifiedVendorFactory()
    colleague = VendorFactory(org_id=asker.org_id)
    others = [VerifiedVendorFactory() for _ in range(4)]
    excluded = VerifiedVendorFactory()
    exclude_vendor(buyer.org_id, excluded.org_id)
    question = Question(job_id=job.id, vendor_org_id=asker.org_id, asked_by_id=asker.id, text="Which format?")
    session.add(question)
    session.flush()

    switch_to(buyer)
    written: list[str] = []
    connection = db.session.connection()
    listener = lambda _conn, _cursor, statement, *_: written.append(statement)  # noqa: E731
    event.listen(connection, "before_cursor_execute", listener)
    try:
        response = client.post(
            url_for("jobs.answer", job_id=job.id, question_id=question.id), data={"answer": "JSON lines."}
        )
    finally:
        event.remove(connection, "before_cursor_execute", listener)
    assert response.status_code == 303
    [insert] = [s for s in written if s.lstrip().upper().startswith("INSERT INTO NOTIFICATION")]
    assert "SELECT" in insert.upper()  # the users chosen by the database, not sent as rows
    told = session.execute(
        select(Notification.user_id).where(Notification.job_id == job.id, Notification.kind == "question_answered")
    ).scalars()
    assert sorted(told) == sorted([asker.id, colleague.id, *(other.id for other in others)])


def test_a_question_of_another_job_is_not_found(client, login_as, session):
    buyer = login_as(BuyerFactory())
    mine = JobFactory(buyer_org_id=buyer.org_id)
    other = JobFactory()
    question = Question(job_id=other.id, vendor_org_id=VendorFactory().org_id, text="Hello?")
    session.add(question)
    session.flush()
    response = client.post(url_for("jobs.answer", job_id=mine.id, question_id=question.id), data={"answer": "Hi"})
    assert response.status_code == 404
    assert question.answer == ""


def test_invitations_from_the_job_page(client, switch_to, session, notifications, exclude_vendor):
    buyer = BuyerFactory()
    job = JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.INVITE_ONLY)
    clear, excluded = VerifiedVendorFactory(), VerifiedVendorFactory()
    exclude_vendor(buyer.org_id, excluded.org_id)
    switch_to(buyer)
    page = client.get(url_for("jobs.show", job_id=job.id)).get_data(as_text=True)
    assert org_name(session, clear.org_id) in page and 'name="vendors"' in page

    nothing = client.post(url_for("jobs.invite", job_id=job.id), data={})
    assert nothing.status_code == 400
    assert "Pick at least one vendor that is not invited yet." in nothing.get_data(as_text=True)

    response = client.post(
        url_for("jobs.invite", job_id=job.id),
        data={"vendors": [str(clear.org_id), str(excluded.org_id)]},
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert f"Screening keeps the job hidden from {org_name(session, excluded.org_id)}" in text
    assert notifications(clear.org_id) == [("job_invitation", f"You are invited to bid on “{job.title}”.")]
    assert notifications(excluded.org_id) == []


def test_public_jobs_offer_no_invitations(client, login_as):
    buyer = login_as(BuyerFactory())
    job = JobFactory(buyer_org_id=buyer.org_id)
    assert b'name="vendors"' not in client.get(url_for("jobs.show", job_id=job.id)).data
    response = client.post(
        url_for("jobs.invite", job_id=job.id),
        data={"vendors": [str(VendorFactory().org_id)]},
        follow_redirects=True,
    )
    assert b"Only invite-only jobs take invitations" in response.data


def test_a_vendor_cut_off_from_a_confidential_job_no_longer_reads_what_it_was_told(
    client, switch_to, session, exclude_vendor
):
    buyer = BuyerFactory()
    job = JobFactory(buyer_org_id=buyer.org_id, visibility=Visibility.CONFIDENTIAL, title="Frontier eval set")
    vendor = VerifiedVendorFactory()
    switch_to(vendor)
    client.post(url_for("jobs.ask", job_id=job.id), data={"text": "Which languages?"})
    question = session.execute(select(Question).where(Question.job_id == job.id)).scalar_one()
    switch_to(buyer)
    client.post(url_for("jobs.answer", job_id=job.id, question_id=question.id), data={"answer": "English."})

    unread = re.compile(r'data-testid="unread-count">(\d+)<')
    switch_to(vendor)
    page = client.get(url_for("notifications.index")).get_data(as_text=True)
    assert "Frontier eval set" in page and unread.search(page)[1] == "1"

    exclude_vendor(buyer.org_id, vendor.org_id)

    assert client.get(url_for("jobs.show", job_id=job.id)).status_code == 404
    page = client.get(url_for("notifications.index")).get_data(as_text=True)
    assert "Frontier eval set" not in page and unread.search(page) is None
    assert str(job.id) not in re.findall(r'href="/jobs/(\d+)', page)
