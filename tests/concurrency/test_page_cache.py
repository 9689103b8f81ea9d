"""Whole pages' answers kept between requests (marketplace.transaction_cache) never outlive the facts they came from.

The registry's party page, its search and suggested duplicates, and a lab's vendor search are kept as plain values
under the screening generation: each kind of fact they show is changed and committed for real after the answer was
kept, and the very next transaction (a request) must show it.
"""

import uuid
from datetime import date
from types import SimpleNamespace

import pytest
from sqlalchemy import delete, text, update

from marketplace import onboarding, transaction_cache, visibility
from marketplace.accounts.models import Organization, User, VendorProfile
from marketplace.db_types import utcnow
from marketplace.extensions import db
from marketplace.jobs import service as jobs
from marketplace.jobs.models import Job, JobAttachment, Question
from marketplace.ndas import service as ndas
from marketplace.ndas.models import Nda
from marketplace.notifications.models import Notification
from marketplace.parties import registry
from marketplace.parties.models import (
    CommercialKind,
    CommercialTie,
    NoOwnersDeclaration,
    Party,
    PartyDistinction,
    PartyIdentifier,
)
from marketplace.payments import service as payments
from marketplace.payments.models import PayoutAccount
from marketplace.screening.engine.verdicts import Rule, Verdict
from marketplace.screening.models import PendingRescreen, Rival, VerdictRecord
from marketplace.screening.services import queued
from marketplace.screening.services.vendor_search import VendorPage, VendorSearch, search_vendors
from tests.concurrency.harness import recording_statements, tables_named
from tests.factories import (
    AdminFactory,
    ApprovedDisclosureFactory,
    BuyerFactory,
    BuyerOrgFactory,
    InterestFactory,
    JobFactory,
    PartyFactory,
    QuestionFactory,
    RivalFactory,
    VendorFactory,
    VerifiedVendorOrgFactory,
)


def _world() -> dict:
    """An admin, a vendor organisation's party, and two parties with nothing to do with it yet."""
    vendor = VerifiedVendorOrgFactory()
    return {
        "admin": AdminFactory().id,
        "vendor": vendor.id,
        "party": vendor.party_id,
        "other": PartyFactory(name="Ostrava Holdings").id,
        "third": PartyFactory(name="Quillon Trading").id,
    }


def _detail(app, w: dict, statements: list[str] | None = None) -> registry.PartyDetail:
    """The party page's answer, in a transaction of its own (as a request has)."""
    detail, seen = recording_statements(
        app, lambda: registry.party_detail(db.session, db.session.get(User, w["admin"]), w["party"])
    )
    (statements if statements is not None else []).extend(seen)
    return detail


def _an_interest(w):
    InterestFactory(interested_party_id=w["other"], subject_party_id=w["party"], share_exact=40.0)


def _a_commercial_tie(w):
    db.session.add(CommercialTie(vendor_party_id=w["party"], counterparty_id=w["third"], kind=CommercialKind.CUSTOMER))


def _an_identifier(w):
    db.session.add(PartyIdentifier(party_id=w["party"], scheme="GB-COH", value="0999", value_normalized="0999"))


def _a_rival(w):
    RivalFactory(party_id=w["party"])


def _a_distinction(w):
    first, second = sorted((w["party"], w["other"]))
    db.session.add(PartyDistinction(first_party_id=first, second_party_id=second, reason="checked"))


def _a_merge_into_it(w):
    db.session.execute(update(Party).where(Party.id == w["third"]).values(merged_into_id=w["party"]))


def _a_renamed_organisation(w):
    db.session.execute(update(Organization).where(Organization.id == w["vendor"]).values(name="Renamed Labs"))


def _a_declaration(w):
    db.session.add(
        NoOwnersDeclaration(
            subject_party_id=w["party"],
            bods_statement_id="s-1",
            bods_record_id="r-1",
            source_description="Companies House",
            source_date=date(2020, 1, 1),
        )
    )


CHANGES = {
    "an interest": (_an_interest, lambda d: len(d.holders) == 1 and d.summary.tie_count == 1),
    "a commercial tie": (_a_commercial_tie, lambda d: len(d.commercial) == 1),
    "an identifier": (_an_identifier, lambda d: "0999" in [i.value for i in d.summary.identifiers]),
    "a rival": (_a_rival, lambda d: d.rival_of == 1),
    "a distinction": (_a_distinction, lambda d: len(d.distinct_from) == 1),
    "a merge into it": (_a_merge_into_it, lambda d: [p.name for p in d.merged_from] == ["Quillon Trading"]),
    "a renamed organisation": (_a_renamed_organisation, lambda d: d.summary.organization.name == "Renamed Labs"),
    "a declaration": (_a_declaration, lambda d: len(d.declarations) == 1),
}


def test_the_party_page_is_kept_without_reading_it_again(race_app, build):
    w = build(_world)
    first = _detail(race_app, w)
    statements: list[str] = []
    again = _detail(race_app, w, statements)
    assert again == first
    assert not any("interest" in statement or "partyidentifier" in statement for statement in statements)
    # Plain values: nothing in the kept answer belongs to a session.
    assert not isinstance(again.party, Party)


@pytest.mark.parametrize("kind", list(CHANGES))
def test_the_next_transaction_after_a_change_shows_it_on_the_party_page(race_app, build, kind):
    change, shown = CHANGES[kind]
    w = build(_world)
    assert not shown(_detail(race_app, w))
    build(lambda: change(w))
    assert shown(_detail(race_app, w))


def test_no_rescreen_pending_is_kept_until_one_is_asked_for(race_app, build):
    """The registry's pages say when a re-screen of every pair is under way: that none is is kept between requests,
    and one asked for (committed) shows on the next."""
    build(lambda: None)

    def progress(statements: list[str]):
        found, seen = recording_statements(race_app, lambda: queued.progress_for_everyone(db.session))
        statements.extend(seen)
        return found

    assert progress([]) is None
    statements: list[str] = []
    assert progress(statements) is None
    assert not any("pendingrescreen" in statement for statement in statements)
    pending = build(_pending_for_everyone)
    try:
        assert progress([]) is not None
    finally:
        # The race database is shared: a re-screen left pending would make later tests screen live.
        build(lambda: db.session.execute(delete(PendingRescreen).where(PendingRescreen.id == pending)))


def _pending_for_everyone() -> int:
    row = PendingRescreen(buyer_org_id=None, reason="merge")
    db.session.add(row)
    db.session.flush()
    return row.id


def test_the_registry_list_is_kept_until_a_party_or_a_distinction_changes(race_app, build):
    """The registry's search and its suggested duplicates are kept between requests; a party added, and two parties
    marked as not the same, committed after, show on the next."""
    name = f"Vltava Freight {uuid.uuid4().hex[:8]}"  # the race database keeps earlier tests' parties
    first = build(lambda: PartyFactory(name=name).id)
    twin = build(lambda: PartyFactory(name=name).id)
    admin = build(lambda: AdminFactory().id)

    def listed(statements: list[str] | None = None) -> tuple[list[int], list[tuple[int, int]]]:
        def both():
            user = db.session.get(User, admin)
            found = [s.party.id for s in registry.search(db.session, user, name)]
            return found, [pair.ids for pair in registry.suggested_duplicates(db.session, user).pairs]

        answer, seen = recording_statements(race_app, both)
        (statements if statements is not None else []).extend(seen)
        return answer

    pair = (first, twin)
    found, pairs = listed()
    assert found == [first, twin] and pair in pairs
    statements: list[str] = []
    assert listed(statements) == (found, pairs)
    assert not any("partyidentifier" in statement for statement in statements)
    third = build(lambda: PartyFactory(name=name + " Two").id)
    assert listed()[0] == [first, twin, third]
    build(lambda: db.session.add(PartyDistinction(first_party_id=pair[0], second_party_id=pair[1], reason="checked")))
    assert pair not in listed()[1]


def test_the_vendor_search_is_kept_for_the_lab_until_a_vendor_its_profile_or_its_verdict_changes(race_app, build):
    """A lab's vendor search is kept between requests for that lab; a profile, a stored verdict and a new vendor,
    committed after, show on the next. Another lab asking the same is answered for itself."""
    name = f"Moravia Labelling {uuid.uuid4().hex[:8]}"

    def world():
        return {
            "buyer": BuyerFactory().id,
            "other_buyer": BuyerFactory().id,
            "vendor": VerifiedVendorOrgFactory(name=name).id,
        }

    w = build(world)

    def search(who: str = "buyer", statements: list[str] | None = None, **asked) -> VendorPage:
        page, seen = recording_statements(
            race_app, lambda: search_vendors(db.session, db.session.get(User, w[who]), VendorSearch(text=name, **asked))
        )
        (statements if statements is not None else []).extend(seen)
        return page

    assert [row.org.id for row in search().rows] == [w["vendor"]]
    statements: list[str] = []
    assert [row.org.id for row in search(statements=statements).rows] == [w["vendor"]]
    assert not any("verdictrecord" in statement for statement in statements)
    assert not isinstance(search().rows[0].org, Organization)
    assert search(modality="image").rows == []
    build(
        lambda: db.session.execute(
            update(VendorProfile).where(VendorProfile.org_id == w["vendor"]).values(modalities=["image"])
        )
    )
    assert [row.org.id for row in search(modality="image").rows] == [w["vendor"]]
    excluded = {"rule": Rule.OWNERSHIP.value, "verdict": Verdict.EXCLUDE.value, "waived": False}
    buyer_org = build(lambda: db.session.get(User, w["buyer"]).org_id)
    build(
        lambda: db.session.add(
            VerdictRecord(
                buyer_org_id=buyer_org, vendor_org_id=w["vendor"], verdict=Verdict.EXCLUDE, findings=[excluded]
            )
        )
    )
    assert search().rows == [] and search().hidden_excluded == 1
    assert [row.org.id for row in search("other_buyer").rows] == [w["vendor"]]
    second = build(lambda: VerifiedVendorOrgFactory(name=name + " Two").id)
    assert [row.org.id for row in search("other_buyer").rows] == [w["vendor"], second]


def test_every_table_a_kept_registry_answer_reads_is_in_its_list(race_app, build):
    """Each registry answer is kept until one of the tables in its list changes (SEARCH_TABLES, PARTY_PAGE_TABLES,
    DUPLICATE_TABLES, written by hand beside the queries): a table read but missing from its list would let the
    answer outlive a change. Each answer is computed afresh (not from the cache) over a party with every kind of
    fact the page shows, and a twin to suggest as its duplicate."""
    w = build(_world)
    for change, _shown in CHANGES.values():
        build(lambda change=change: change(w))
    build(lambda: PartyFactory(name=db.session.get(Party, w["party"]).name))
    try:
        _every_kept_registry_answer_reads_only_its_tables(race_app, w)
    finally:
        # The race database is shared: a lab naming this party, with its holders, merges and ties, as a rival would
        # make every later re-screen read that group (test_rescreen_kept_parts counts the statements it sends).
        build(lambda: db.session.execute(delete(Rival).where(Rival.party_id == w["party"])))


def _every_kept_registry_answer_reads_only_its_tables(race_app, w: dict) -> None:
    today = date.today()
    answers = {
        "party page": (
            lambda: registry._party_detail(db.session, w["party"], today),
            registry.PARTY_PAGE_TABLES,
            {"party", "interest", "partyidentifier", "commercialtie", "rival", "partydistinction"},
        ),
        "search": (
            lambda: registry._search(db.session, "0999", registry.SEARCH_LIMIT),
            registry.SEARCH_TABLES,
            {"party", "partyidentifier"},
        ),
        "suggested duplicates": (
            lambda: registry._suggested_duplicates(db.session, None, registry.DUPLICATE_WINDOW),
            registry.DUPLICATE_TABLES,
            {"party", "partydistinction"},
        ),
    }
    for name, (compute, listed, surely_read) in answers.items():
        read = tables_named(recording_statements(race_app, compute)[1])
        assert surely_read <= read, (name, surely_read - read)  # the statements were seen at all
        assert read - listed == set(), f"the {name} reads {read - listed} but is not kept under them"
        assert listed <= transaction_cache.KEPT_TABLES, name  # another table's change bumps nothing


def _names(app, org_id: int, statements: list[str] | None = None) -> dict[int, str]:
    """The organisation's name as the job pages read it, in a transaction of its own (nothing of it loaded)."""
    names, seen = recording_statements(app, lambda: visibility.organization_names(db.session, [org_id]))
    (statements if statements is not None else []).extend(seen)
    return names


def test_a_buyers_name_is_kept_until_its_organisation_changes(race_app, build):
    w = build(lambda: {"buyer": BuyerOrgFactory(name="Aldgate Research").id})
    assert _names(race_app, w["buyer"]) == {w["buyer"]: "Aldgate Research"}
    statements: list[str] = []
    assert _names(race_app, w["buyer"], statements) == {w["buyer"]: "Aldgate Research"}
    assert "organization" not in tables_named(statements)
    build(lambda: db.session.execute(update(Organization).where(Organization.id == w["buyer"]).values(name="Bow Labs")))
    assert _names(race_app, w["buyer"]) == {w["buyer"]: "Bow Labs"}


def test_an_id_naming_no_organisation_is_left_out_of_the_names(race_app, build):
    """As the one query did: a buyer's name among ids of which one names nothing, twice (read, then kept)."""
    w = build(lambda: {"buyer": BuyerOrgFactory(name="Limehouse Analytics").id})
    missing = 2**31 - 7
    for _ in range(2):
        names, _seen = recording_statements(
            race_app, lambda: visibility.organization_names(db.session, [w["buyer"], missing])
        )
        assert names == {w["buyer"]: "Limehouse Analytics"}


def _checklist(app, user_id: int, statements: list[str] | None = None) -> dict[str, bool]:
    """The vendor's checklist, step by step, in a transaction of its own."""
    steps, seen = recording_statements(
        app, lambda: onboarding.vendor_checklist(db.session, db.session.get(User, user_id))
    )
    (statements if statements is not None else []).extend(seen)
    return {step.name: step.done for step in steps}


def _a_complete_profile(w):
    db.session.execute(
        update(VendorProfile)
        .where(VendorProfile.org_id == w["vendor"])
        .values(summary="Boxes", modalities=["image"], task_types=["bounding_boxes"])
    )


def _payouts_ready(w):
    db.session.add(PayoutAccount(org_id=w["vendor"], stripe_account_id=f"acct_{uuid.uuid4().hex}", payouts_ready=True))


def _a_filing_approved(w):
    ApprovedDisclosureFactory(vendor_org_id=w["vendor"])


CHECKLIST_CHANGES = {
    "a complete profile": (_a_complete_profile, "Profile"),
    "payouts ready": (_payouts_ready, "Payouts"),
    "a filing approved": (_a_filing_approved, "Ownership disclosure"),
}


@pytest.mark.parametrize("kind", list(CHECKLIST_CHANGES))
def test_a_vendors_checklist_is_kept_until_its_profile_payouts_or_filing_change(race_app, build, kind):
    change, step = CHECKLIST_CHANGES[kind]
    w = build(lambda: {"user": (user := VendorFactory()).id, "vendor": user.org_id})
    first = _checklist(race_app, w["user"])
    assert first[step] is False
    statements: list[str] = []
    assert _checklist(race_app, w["user"], statements) == first
    assert not tables_named(statements) & {"vendorprofile", "payoutaccount", "disclosureversion"}
    build(lambda: change(w))
    assert _checklist(race_app, w["user"]) == {**first, step: True}


def test_whether_a_vendor_takes_payouts_is_kept_until_its_payout_account_changes(race_app, build):
    w = build(lambda: {"vendor": VerifiedVendorOrgFactory().id})

    def ready(statements: list[str] | None = None) -> bool:
        answer, seen = recording_statements(race_app, lambda: payments.payouts_ready(db.session, w["vendor"]))
        (statements if statements is not None else []).extend(seen)
        return answer

    assert ready() is False
    statements: list[str] = []
    assert ready(statements) is False
    assert "payoutaccount" not in tables_named(statements)
    build(lambda: _payouts_ready(w))
    assert ready() is True


def _a_payout_account(w):
    db.session.add(PayoutAccount(org_id=w["vendor"], stripe_account_id=f"acct_{uuid.uuid4().hex}"))


def _a_tie_elsewhere(w):
    InterestFactory(interested_party_id=w["other"], subject_party_id=w["third"], share_exact=20.0)


@pytest.mark.parametrize("change", [_a_payout_account, _a_tie_elsewhere, _a_complete_profile])
def test_a_kept_name_outlives_a_commit_to_other_tables(race_app, build, change):
    """Organisation names are kept under the organisation table's own counter (and '*'): a commit writing other
    tables, even ones screening reads, leaves them kept; one renaming the organisation is seen at once."""
    w = build(_world)
    name = _names(race_app, w["vendor"])[w["vendor"]]
    assert name != "Renamed Labs"
    build(lambda: change(w))
    statements: list[str] = []
    assert _names(race_app, w["vendor"], statements) == {w["vendor"]: name}
    assert "organization" not in tables_named(statements)
    build(lambda: _a_renamed_organisation(w))
    assert _names(race_app, w["vendor"]) == {w["vendor"]: "Renamed Labs"}


def test_a_write_naming_no_table_drops_every_answer_kept_by_table(race_app, build):
    """Raw SQL writing a watched table (as an import's COPY, or a migration, may) cannot be told apart by table: it
    bumps '*', under which every answer kept by table is kept too."""
    w = build(lambda: {"buyer": BuyerOrgFactory(name="Wapping Intelligence").id})
    assert _names(race_app, w["buyer"]) == {w["buyer"]: "Wapping Intelligence"}
    build(
        lambda: db.session.execute(
            text("UPDATE organization SET name = 'Shadwell Intelligence' WHERE id = :id"), {"id": w["buyer"]}
        )
    )
    assert _names(race_app, w["buyer"]) == {w["buyer"]: "Shadwell Intelligence"}


def _table_generation(app, name: str) -> int | None:
    with app.app_context():
        try:
            return db.session.execute(
                text("SELECT generation FROM table_generation WHERE name = :name"), {"name": name}
            ).scalar()
        finally:
            db.session.remove()


def test_a_commit_bumps_the_tables_it_wrote_once_and_a_rollback_none(race_app, build):
    w = build(lambda: {**_world(), "buyer": BuyerOrgFactory().id})
    build(lambda: _a_renamed_organisation(w))
    start = _table_generation(race_app, "organization")
    others = {name: _table_generation(race_app, name) for name in ("*", "interest", "party")}
    assert start is not None and others["*"] is not None
    with race_app.app_context():
        _a_renamed_organisation(w)
        db.session.flush()
        db.session.rollback()
        db.session.remove()
    assert _table_generation(race_app, "organization") == start
    build(lambda: _a_renamed_organisation(w))
    assert _table_generation(race_app, "organization") == start + 1
    # Tables no kept answer reads have no counter; the others were not bumped by these commits.
    admin = w["admin"]
    build(lambda: db.session.add(Notification(user_id=admin, kind="note", message="Hello.")))
    assert _table_generation(race_app, "notification") is None
    assert {name: _table_generation(race_app, name) for name in others} == others


def _job_world() -> dict:
    """A lab's job with a vendor's question, asked by a named colleague of the vendor."""
    buyer = BuyerFactory()
    vendor = VendorFactory(name="Ilse Marsh")
    job = JobFactory(buyer_org_id=buyer.org_id)
    QuestionFactory(job_id=job.id, vendor_org_id=vendor.org_id, asked_by_id=vendor.id, text="Which formats?")
    return {"buyer": buyer.id, "vendor": vendor.id, "vendor_org": vendor.org_id, "lab": buyer.org_id, "job": job.id}


def _job_parts(app, w: dict, who: str, statements: list[str] | None = None) -> dict:
    """What the job page shows of its files, questions and the lab's NDA to this user, in a transaction of its own."""

    def read() -> dict:
        user, job = db.session.get(User, w[who]), db.session.get(Job, w["job"])
        nda = ndas.current_shown(db.session, w["lab"])
        return {
            "files": [a.filename for a in jobs.attachments_shown(db.session, job)],
            "questions": [(q.text, q.answer, q.asked_by, q.mine) for q in jobs.questions_for(db.session, user, job)],
            "nda": nda.version if nda else None,
        }

    parts, seen = recording_statements(app, read)
    (statements if statements is not None else []).extend(seen)
    return parts


def _a_file(w):
    db.session.add(
        JobAttachment(
            job_id=w["job"], filename="spec.pdf", stored_name=uuid.uuid4().hex, content_type="text/plain", size_bytes=3
        )
    )


def _an_answer(w):
    db.session.execute(update(Question).where(Question.job_id == w["job"]).values(answer="CSV", answered_at=utcnow()))


def _the_asker_renamed(w):
    db.session.execute(update(User).where(User.id == w["vendor"]).values(name="Ilse Marsh-Okafor"))


def _an_nda(w):
    db.session.add(Nda(buyer_org_id=w["lab"], version=1, text="Keep it secret.", created_by_id=w["buyer"]))


JOB_PAGE_CHANGES = {
    "a file": (_a_file, "buyer", lambda p: p["files"] == ["spec.pdf"]),
    "an answer": (_an_answer, "buyer", lambda p: p["questions"][0][1] == "CSV"),
    "the asker renamed": (_the_asker_renamed, "vendor", lambda p: p["questions"][0][2] == "Ilse Marsh-Okafor"),
    "an NDA": (_an_nda, "buyer", lambda p: p["nda"] == 1),
}


@pytest.mark.parametrize("kind", list(JOB_PAGE_CHANGES))
def test_the_job_pages_files_questions_and_nda_are_kept_until_they_change(race_app, build, kind):
    change, who, shown = JOB_PAGE_CHANGES[kind]
    w = build(_job_world)
    first = _job_parts(race_app, w, who)
    assert not shown(first)
    statements: list[str] = []
    assert _job_parts(race_app, w, who, statements) == first
    # (The user and the job are read by this test itself, as the page reads them.)
    assert not tables_named(statements) & {"jobattachment", "question", "nda"}
    build(lambda: change(w))
    assert shown(_job_parts(race_app, w, who))


def test_each_viewer_is_shown_only_its_own_of_the_kept_questions(race_app, build):
    """The questions are kept once for the job; who asked, and an unanswered question, are still shown to the
    asker's side alone (and the lab), whoever read them first."""
    w = build(_job_world)
    other = build(lambda: VendorFactory().id)
    assert _job_parts(race_app, w, "buyer")["questions"] == [("Which formats?", "", "", False)]
    assert _job_parts(race_app, w, "vendor")["questions"] == [("Which formats?", "", "Ilse Marsh", True)]
    assert _job_parts(race_app, {**w, "other": other}, "other")["questions"] == []
    build(lambda: _an_answer(w))
    assert _job_parts(race_app, {**w, "other": other}, "other")["questions"] == [("Which formats?", "CSV", "", False)]


def test_every_table_a_kept_job_page_answer_reads_is_in_its_list(race_app, build):
    w = build(_job_world)
    build(lambda: (_a_file(w), _an_answer(w), _an_nda(w)))
    answers = {
        "files": (lambda: jobs.attachments_of(db.session, SimpleNamespace(id=w["job"])), {"jobattachment"}),
        "questions": (lambda: jobs._read_question_rows(db.session, w["job"]), {"question", "user_account"}),
        "NDA": (lambda: ndas.current(db.session, w["lab"]), {"nda"}),
    }
    for name, (compute, listed) in answers.items():
        read = tables_named(recording_statements(race_app, compute)[1])
        # (tables_named finds "job" inside "jobattachment": the files' query names no other table.)
        assert listed <= read and read - listed <= ({"job"} if name == "files" else set()), name
        assert listed <= transaction_cache.KEPT_TABLES, name
