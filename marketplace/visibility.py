"""The one place that decides who may see what.

Every list, count, search, page and notification about jobs and bids goes through these functions, so that
none can forget a screening verdict. Anything a user may not know exists raises NotVisible, answered as 404.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from sqlalchemy import Select, false, literal, null, or_, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key
from sqlmodel import col

from marketplace import transaction_cache
from marketplace.accounts.models import Organization, OrgKind, User
from marketplace.bids.models import Bid, BidStatus
from marketplace.certificates.models import Certificate, CertificateStatus
from marketplace.codenames import codename_for
from marketplace.contracts.models import Contract
from marketplace.db_types import in_ids, utcnow
from marketplace.disputes.models import Dispute
from marketplace.errors import NotVisible  # noqa: F401  (raised and caught as visibility.NotVisible too)
from marketplace.jobs.models import BiddingMode, Job, JobInvitation, JobStatus, Visibility
from marketplace.neutrality.models import NeutralityStatement
from marketplace.notifications.models import Notification
from marketplace.parties.counting import awaiting_review, vendors_awaiting_review
from marketplace.payments.models import EntryKind, LedgerEntry
from marketplace.screening.models import VerdictRecord
from marketplace.screening.services.screen import Verdict, screen_pairs_for_page, verdicts_for_vendor
from marketplace.screening.store.pending import rescreen_pending_kept

# The kind of notification a message in a bid's thread sends (marketplace.messages).
THREAD_NOTIFICATION = "bid_message"


def _vendor_verdicts(session: Session, vendor_org: Organization) -> dict[int, Verdict]:
    return verdicts_for_vendor(session, vendor_org)


def filing_under_review(session: Session, vendor_org_id: int) -> bool:
    """While a vendor's filed disclosure awaits an admin, its unreviewed claims count against it for every lab, and
    what it may see and do is the same for every lab: public jobs only, no bidding. So no unreviewed claim can
    reveal, by what changes for the vendor, whether a lab names some party as a rival."""
    return awaiting_review(session, vendor_org_id)


def _vendor_job_filter(session: Session, vendor_org: Organization):
    """SQL condition for the jobs a vendor may see, following the verdict table of docs/screening.md."""
    if filing_under_review(session, vendor_org.id):
        return (Job.status != JobStatus.DRAFT) & (Job.visibility == Visibility.PUBLIC)
    verdicts = _vendor_verdicts(session, vendor_org)
    # Excluded, and under review without a waiver: public jobs only.
    restricted = [buyer for buyer, verdict in verdicts.items() if verdict != Verdict.CLEAR]
    invited = select(col(JobInvitation.job_id)).where(col(JobInvitation.vendor_org_id) == vendor_org.id)
    beyond_public = or_(
        col(Job.visibility) == Visibility.CONFIDENTIAL,
        (col(Job.visibility) == Visibility.INVITE_ONLY) & col(Job.id).in_(invited),
    )
    return (col(Job.status) != JobStatus.DRAFT) & or_(
        col(Job.visibility) == Visibility.PUBLIC,
        beyond_public & col(Job.buyer_org_id).not_in(restricted),
    )


def job_filter(session: Session, user: User):
    """SQL condition selecting the jobs this user may see."""
    if user.is_admin:
        return col(Job.id).is_not(None)
    if user.org_id is None:
        return false()
    if user.is_buyer:
        return Job.buyer_org_id == user.org_id
    # Built once per transaction (until it writes): the job page asks for it for the job, the notifications and
    # the vendor's own bid. Its inputs (the filing under review, the verdicts) are kept for as long already.
    return transaction_cache.cached(
        session,
        ("visibility.vendor_job_filter", user.org_id),
        lambda: _vendor_job_filter(session, cast(Organization, session.get(Organization, user.org_id))),
    )


def notification_filter(session: Session, user: User):
    """SQL condition on Notification: those about no job, or about a job this user may still see. A vendor cut
    off from a job after it was told about it (an answer, an invitation) no longer reads what it was told; nor, once
    a lab's screening excludes it, what it was told of that lab's messages (the thread went with the bid), even
    about a public job it still sees."""
    seen = or_(
        col(Notification.job_id).is_(None),
        col(Notification.job_id).in_(select(col(Job.id)).where(job_filter(session, user))),
    )
    if not user.is_vendor or user.org_id is None:
        return seen
    vendor_org = cast(Organization, session.get(Organization, user.org_id))
    excluding = [
        buyer for buyer, verdict in _vendor_verdicts(session, vendor_org).items() if verdict == Verdict.EXCLUDE
    ]
    if not excluding:
        return seen
    excluding_jobs = select(col(Job.id)).where(col(Job.buyer_org_id).in_(excluding))
    return seen & ~((col(Notification.kind) == THREAD_NOTIFICATION) & col(Notification.job_id).in_(excluding_jobs))


def visible_jobs(session: Session, user: User) -> Select:
    """A query of every job this user may see; callers add their own filters and ordering."""
    return select(Job).where(job_filter(session, user))


def get_visible_job(session: Session, user: User, job_id: int) -> Job:
    """The job, if this user may see it.

    Raises NotVisible (404) when the job does not exist or the user may not know it exists. Asked again in the same
    transaction (the job page, then its bid panel), the answer is the one read first, until the session writes
    anything (transaction_cache.cached).
    """
    job = transaction_cache.cached(
        session,
        ("visibility.visible_job", user.id, job_id),
        lambda: session.execute(visible_jobs(session, user).where(col(Job.id) == job_id)).scalar_one_or_none(),
    )
    if job is None:
        raise NotVisible(f"job {job_id}")
    return job


def shows_names_of(viewer: User, org_id: int | None) -> bool:
    """Whether the viewer sees who, by name, did something for organisation `org_id` (a question, an answer, a
    delivery, a decision): their own colleagues only. The other side sees the organisation (or the job's codename),
    never a person."""
    return viewer.org_id is not None and viewer.org_id == org_id


def names_of(session: Session, user_ids) -> dict[int, str]:
    """The names of these users, by id (for shows_names_of's callers)."""
    ids = {user_id for user_id in user_ids if user_id is not None}
    if not ids:
        return {}
    return dict(session.execute(select(col(User.id), col(User.name)).where(col(User.id).in_(ids))).all())


def get_own_job(session: Session, user: User, job_id: int) -> Job:
    """A job of the buyer's own organisation, for changing it. Raises NotVisible (404) otherwise."""
    job = session.get(Job, job_id)
    if job is None or not user.is_buyer or job.buyer_org_id != user.org_id:
        raise NotVisible(f"job {job_id}")
    return job


def vendor_known_to_lab(vendor_org: Organization) -> bool:
    """Whether a lab may be told of this vendor by name outside the pages (a webhook): a vendor organisation its
    vendor search lists, i.e. not suspended. Anything else (a suspended vendor, an organisation that is no vendor)
    is not named at all."""
    return vendor_org.kind == OrgKind.VENDOR and vendor_org.suspended_at is None


def verdict_between(session: Session, buyer_org_id: int, vendor_org: Organization) -> Verdict:
    """The (buyer, vendor) verdict every surface uses."""
    return _vendor_verdicts(session, vendor_org).get(buyer_org_id, Verdict.CLEAR)


def effective_status(job: Job, now: datetime | None = None) -> JobStatus:
    """The job's state by the server's clock: an open job past its deadline is closed."""
    now = now or utcnow()
    if job.status == JobStatus.OPEN and now >= job.bid_deadline:
        return JobStatus.CLOSED
    return JobStatus(job.status)


def bid_amounts_visible(job: Job, now: datetime | None = None) -> bool:
    """A sealed job shows the buyer its bid amounts only after the deadline; while best and final offers are due,
    no job shows any until they are (the lab must not read one offer before the others are in)."""
    now = now or utcnow()
    if job.final_offers_due is not None and now < job.final_offers_due:
        return False
    return job.bidding_mode == BiddingMode.OPEN or now >= job.bid_deadline


def sealed_until(job: Job, now: datetime | None = None) -> datetime | None:
    """Until when the job's bid terms are sealed to the lab, or None when they are open to it."""
    now = now or utcnow()
    if job.final_offers_due is not None and now < job.final_offers_due:
        return job.final_offers_due
    return job.bid_deadline if job.bidding_mode == BiddingMode.SEALED and now < job.bid_deadline else None


def organization_names(session: Session, org_ids: Iterable[int]) -> dict[int, str]:
    """{organisation id: its name}, kept between transactions until an organisation changes (under the organisation
    table's own counter: a rename bumps it); a transaction that wrote one reads them afresh. An organisation this
    transaction has loaded already (the signed-in user's) is named from the session, with no statement."""
    wanted = set(org_ids)
    names: dict[int, str] = {}
    for org_id in wanted:
        loaded = session.identity_map.get(identity_key(Organization, org_id))
        if loaded is not None and "name" in loaded.__dict__:
            names[org_id] = loaded.name
    if len(names) == len(wanted):
        return names

    def read(keys: list[tuple[str, int]]) -> dict[tuple[str, int], str | None]:
        read_names = dict(
            session.execute(
                select(col(Organization.id), col(Organization.name)).where(
                    col(Organization.id).in_([key[1] for key in keys])
                )
            ).all()
        )
        return {key: read_names.get(key[1]) for key in keys}  # None: no such organisation

    others = [("visibility.organization_name", org_id) for org_id in wanted if org_id not in names]
    kept = transaction_cache.shared_many_unless_written(session, others, {"organization"}, read)
    return names | {key[1]: name for key, name in kept.items() if name is not None}


def buyer_label(session: Session, job: Job, viewer: User) -> str:
    """The buyer's name, or the job's codename for a confidential job not yet awarded to the viewer."""
    return buyer_labels(session, [job], viewer)[job.id]


def buyer_labels(session: Session, jobs: list[Job], viewer: User) -> dict[int, str]:
    """{job id: buyer_label} for many jobs in two queries, whatever their number: the buyers' names, and which of
    the confidential jobs are awarded to the viewer."""
    return _buyer_labels(session, jobs, viewer.org_id, admin=bool(viewer.is_admin))


def buyer_label_for_org(session: Session, job: Job, org_id: int) -> str:
    """The buyer's name as every user of that organisation reads it (a notification to a vendor's users)."""
    return _buyer_labels(session, [job], org_id, admin=False)[job.id]


def _buyer_labels(session: Session, jobs: list[Job], viewer_org_id: int | None, *, admin: bool) -> dict[int, str]:
    names = organization_names(session, {job.buyer_org_id for job in jobs})
    hidden = [
        job.id
        for job in jobs
        if not (admin or viewer_org_id == job.buyer_org_id or job.visibility != Visibility.CONFIDENTIAL)
    ]
    # The vendor the job was awarded to knows the lab, and so does one running its paid pilot: either has a contract
    # with the lab for the job (marketplace.bids.pilots).
    awarded_to_viewer = set(
        session.execute(
            select(col(Contract.job_id)).where(
                col(Contract.job_id).in_(hidden), col(Contract.vendor_org_id) == viewer_org_id
            )
        ).scalars()
        if hidden
        else ()
    )
    return {
        job.id: names[job.buyer_org_id]
        if job.id not in hidden or job.id in awarded_to_viewer
        else codename_for(job.codename, job.id, viewer_org_id) or "Confidential buyer"
        for job in jobs
    }


def comparable_bids(session: Session, user: User, job: Job) -> list[Bid]:
    """The bids a buyer compares: its own job's live bids, without conflicted ones or suspended vendors' open ones.

    Raises NotVisible (404) when the job is not the buyer's own.
    """
    if not (user.is_admin or (user.is_buyer and job.buyer_org_id == user.org_id)):
        raise NotVisible(f"bids of job {job.id}")
    query = select(Bid).where(col(Bid.job_id) == job.id, comparable_bid_condition()).order_by(col(Bid.created_at))
    return list(session.execute(query).scalars())


def comparable_bid_condition():
    """SQL condition for the bids a buyer compares and counts: not withdrawn, not conflicted, and no open bid
    of a suspended vendor (it comes back when the vendor is reinstated)."""
    suspended = select(Organization.id).where(Organization.suspended_at.is_not(None))
    return (
        (Bid.status != BidStatus.WITHDRAWN)
        & Bid.conflicted.is_(False)
        & or_(Bid.status != BidStatus.ACTIVE, Bid.vendor_org_id.not_in(suspended))
    )


def own_bids(session: Session, user: User) -> Select:
    """The vendor's own bids on jobs it may still see."""
    if not user.is_vendor or user.org_id is None:
        return select(Bid).where(false())
    visible_ids = select(col(Job.id)).where(job_filter(session, user))
    return select(Bid).where(col(Bid.vendor_org_id) == user.org_id, col(Bid.job_id).in_(visible_ids))


def get_own_bid(session: Session, user: User, bid_id: int) -> Bid:
    """One of the vendor's own bids. Raises NotVisible (404) for any other bid."""
    bid = session.execute(own_bids(session, user).where(col(Bid.id) == bid_id)).scalar_one_or_none()
    if bid is None:
        raise NotVisible(f"bid {bid_id}")
    return bid


def get_proposal_bid(session: Session, user: User, bid_id: int) -> Bid:
    """A bid whose whole proposal (terms, answers, files) the user may read: the vendor's own, or one the lab
    compares on its own job once its amounts are visible (a sealed job's, after the deadline: terms and proposal
    open together). Raises NotVisible (404) otherwise."""
    if user.is_vendor:
        return get_own_bid(session, user, bid_id)
    if (user.is_buyer and user.org_id is not None) or user.is_admin:
        query = (
            select(Bid)
            .join(Job, col(Job.id) == col(Bid.job_id))
            .where(col(Bid.id) == bid_id, comparable_bid_condition())
        )
        if not user.is_admin:
            query = query.where(col(Job.buyer_org_id) == user.org_id)
        found = session.execute(query).scalar_one_or_none()
        if found is not None and bid_amounts_visible(cast(Job, session.get(Job, found.job_id))):
            return found
    raise NotVisible(f"proposal of bid {bid_id}")


def get_thread_bid(session: Session, user: User, bid_id: int) -> Bid:
    """A bid whose private message thread the user may read and write in: the vendor's own bid while the lab's
    screening does not exclude the vendor (a conflicted bid's thread disappears with it), or a bid the lab compares
    on its own job (on a sealed job, once the deadline has passed). Raises NotVisible (404) for anything else,
    admins included: the thread is the two sides' own."""
    if user.is_vendor and user.org_id is not None:
        bid = get_own_bid(session, user, bid_id)
        job = cast(Job, session.get(Job, bid.job_id))
        vendor_org = cast(Organization, session.get(Organization, user.org_id))
        if bid.conflicted or verdict_between(session, job.buyer_org_id, vendor_org) == Verdict.EXCLUDE:
            raise NotVisible(f"thread of bid {bid_id}")
        return bid
    if user.is_buyer and user.org_id is not None:
        found = session.execute(
            select(Bid)
            .join(Job, col(Job.id) == col(Bid.job_id))
            .where(col(Bid.id) == bid_id, col(Job.buyer_org_id) == user.org_id, comparable_bid_condition())
        ).scalar_one_or_none()
        # A sealed job's bidders stay unknown to the lab until the deadline: so do their threads.
        if found is not None and bid_amounts_visible(cast(Job, session.get(Job, found.job_id))):
            return found
    raise NotVisible(f"thread of bid {bid_id}")


def dispute_filter(user: User):
    """SQL condition for the disputes a user may know exist: its own organisation's, as buyer or vendor of the
    contract, and every one for an admin."""
    if user.is_admin:
        return col(Dispute.id).is_not(None)
    if user.org_id is None:
        return false()
    return col(Dispute.contract_id).in_(
        select(col(Contract.id)).where(
            or_(col(Contract.buyer_org_id) == user.org_id, col(Contract.vendor_org_id) == user.org_id)
        )
    )


def get_dispute(session: Session, user: User, dispute_id: int) -> Dispute:
    """A dispute the user may read: only the contract's two organisations and admins. Raises NotVisible (404)."""
    found = session.execute(
        select(Dispute).where(col(Dispute.id) == dispute_id, dispute_filter(user))
    ).scalar_one_or_none()
    if found is None:
        raise NotVisible(f"dispute {dispute_id}")
    return found


def vendor_ids_seeing(session: Session, job: Job, *, among: Iterable[int] | None = None, live: bool = True) -> set[int]:
    """The vendor organisations that may see the job: who is told of its answers, its cancellation, an invitation,
    and how many the lab's page counts. From the stored verdicts, which every change keeps equal to a live
    screening (screening.refresh), in a few queries whatever the number of vendors: never a screening per vendor.
    What each vendor then reads is still decided live (notification_filter, job_filter).

    Public: every active vendor. Confidential: those whose stored findings, waived ones aside, are all clear.
    Invite-only: the invited among those. A draft: none.

    While a re-screen that can change the lab's verdicts waits on the task queue (a rival just named, a policy
    changed, parties merged), its stored verdicts may be behind: every vendor is then screened live, never read.
    `among`: only these vendors are asked about (the bidders told of a cancellation, the invited), so that only
    they are screened live. `live=False`, for a count shown to the lab alone: nothing is screened, the stored
    verdicts are taken as they are, and a vendor without one is left out (verdicts_updating says when to say so).
    """
    if job.status == JobStatus.DRAFT:
        return set()
    active = select(col(Organization.id)).where(
        col(Organization.kind) == OrgKind.VENDOR, col(Organization.suspended_at).is_(None)
    )
    vendor_ids = set(session.execute(active).scalars())
    if among is not None:
        vendor_ids &= set(among)
    if job.visibility == Visibility.PUBLIC:
        return vendor_ids
    # A vendor whose filing awaits review sees public jobs only (filing_under_review).
    seeing = vendor_ids - vendors_awaiting_review(session)
    if job.visibility == Visibility.INVITE_ONLY:
        seeing &= set(
            session.execute(
                select(col(JobInvitation.vendor_org_id)).where(col(JobInvitation.job_id) == job.id)
            ).scalars()
        )
    if live and verdicts_updating(session, job.buyer_org_id):
        return seeing - _barred_live(session, job, seeing)
    # One statement: the lab's verdicts that are not clear, with their findings (a waived finding lets the vendor
    # see the job), and the active vendors with no stored verdict for the lab (usually none: every change stores
    # them), found by the database. Reading the lab's every stored verdict took a second or more at 100,000 vendors.
    stored = select(col(VerdictRecord.id)).where(
        col(VerdictRecord.buyer_org_id) == job.buyer_org_id, col(VerdictRecord.vendor_org_id) == col(Organization.id)
    )
    rows = session.execute(
        union_all(
            select(col(VerdictRecord.vendor_org_id), literal(True), col(VerdictRecord.findings)).where(
                col(VerdictRecord.buyer_org_id) == job.buyer_org_id, col(VerdictRecord.verdict) != Verdict.CLEAR.value
            ),
            select(col(Organization.id), literal(False), null()).where(
                col(Organization.kind) == OrgKind.VENDOR, col(Organization.suspended_at).is_(None), ~stored.exists()
            ),
        )
    ).all()
    seeing -= {
        vendor
        for vendor, is_stored, findings in rows
        if is_stored and any(f.get("verdict") != Verdict.CLEAR.value and not f.get("waived") for f in findings or [])
    }
    # A vendor never yet screened for this lab (no stored verdict) is screened now: a gap is never taken as clear.
    unstored = seeing & {vendor for vendor, is_stored, _ in rows if not is_stored}
    return seeing - (_barred_live(session, job, unstored) if live else unstored)


def _barred_live(session: Session, job: Job, vendor_ids: set[int]) -> set[int]:
    """Of these vendors, those a screening for the job's lab done now does not clear."""
    if not vendor_ids:
        return set()
    vendors = session.execute(select(Organization).where(in_ids(session, Organization.id, vendor_ids))).scalars().all()
    live = screen_pairs_for_page(session, [job.buyer_org_id], vendors)
    return {vendor_id for (_, vendor_id), screening in live.items() if screening.access_verdict != Verdict.CLEAR}


def count_vendors_seeing(session: Session, job: Job) -> int:
    """How many vendor organisations may see the job, for the lab's own page (vendor_ids_seeing). A count shown to
    the lab, never who is told or let in: kept between requests while the screening generation stays the same (it
    is read from watched tables alone: vendors, filings, stored verdicts, pending re-screens, invitations), keyed by
    what the job's own row decides (its status and visibility) and the date (a vendor never screened is screened).

    While a re-screen of the lab waits on the queue, counted from the stored verdicts as they are, screening no one:
    screening every vendor live for a number took seconds a page at 10,000 vendors. The page then says the count is
    updating (verdicts_updating)."""
    key = ("visibility.count_vendors_seeing", job.id, job.buyer_org_id, job.status, job.visibility, utcnow().date())

    def count() -> int:
        return len(vendor_ids_seeing(session, job, live=not verdicts_updating(session, job.buyer_org_id)))

    return transaction_cache.shared(session, key, count)


def verdicts_updating(session: Session, buyer_org_id: int) -> bool:
    """Whether a re-screen of this lab waits on the queue: its stored verdicts, and counts made from them, may be
    behind the graph until it is done (kept between requests, as the lab's pages' "Updating verdicts" is)."""
    return rescreen_pending_kept(session, buyer_org_id)


def get_money_document_entry(session: Session, user: User, entry_id: int, kind: EntryKind) -> LedgerEntry:
    """The ledger entry behind a money document: a CHARGE is the paying lab's receipt, a PLATFORM_FEE the paid
    vendor's payout statement. Only that organisation's users and admins may have it: anyone else, the other party
    to the contract included, gets NotVisible (404)."""
    entry = session.get(LedgerEntry, entry_id)
    if entry is not None and entry.kind == kind:
        owner = entry.buyer_org_id if kind == EntryKind.CHARGE else entry.vendor_org_id
        if user.is_admin or (user.org_id is not None and user.org_id == owner):
            return entry
    raise NotVisible(f"{kind} document {entry_id}")


def get_neutrality_statement(session: Session, user: User, uid: str) -> NeutralityStatement:
    """A signed neutrality statement, to download: its vendor's own users, and admins. Raises NotVisible (404) for
    anyone else (a lab checks a statement it was sent on the public verify page, never by its uid)."""
    row = session.execute(select(NeutralityStatement).where(col(NeutralityStatement.uid) == uid)).scalar_one_or_none()
    if row is None or not (user.is_admin or (user.org_id is not None and row.vendor_org_id == user.org_id)):
        raise NotVisible(f"statement {uid}")
    return row


def get_certificate(session: Session, user: User, certificate_id: int) -> Certificate:
    """A vendor's certificate whose file the user may read: the vendor's own users, admins, and a lab the vendor bid
    to, for a verified certificate, while the lab compares that bid (a sealed job's once its deadline has passed: the
    lab learns who bid then) and its screening does not exclude the vendor. Raises NotVisible (404) for anyone else,
    so that nobody learns the certificate exists."""
    certificate = session.get(Certificate, certificate_id)
    if certificate is None:
        raise NotVisible(f"certificate {certificate_id}")
    if user.is_admin or (user.is_vendor and user.org_id == certificate.vendor_org_id):
        return certificate
    if user.is_buyer and user.org_id is not None and certificate.status == CertificateStatus.VERIFIED:
        jobs = session.execute(
            select(Job)
            .join(Bid, col(Bid.job_id) == col(Job.id))
            .where(
                col(Job.buyer_org_id) == user.org_id,
                col(Bid.vendor_org_id) == certificate.vendor_org_id,
                comparable_bid_condition(),
            )
        ).scalars()
        vendor_org = cast(Organization, session.get(Organization, certificate.vendor_org_id))
        if any(bid_amounts_visible(job) for job in jobs) and (
            verdict_between(session, user.org_id, vendor_org) != Verdict.EXCLUDE
        ):
            return certificate
    raise NotVisible(f"certificate {certificate_id}")


def organisation_member(session: Session, org_id: int, user_id: int) -> User:
    """A user of the organisation (removed ones too), for what acts on the organisation's behalf without a person
    (its SCIM token). NotVisible for anyone else: a token learns nothing of other organisations' users."""
    user = session.get(User, user_id)
    if user is None or user.org_id != org_id:
        raise NotVisible(f"user {user_id}")
    return user
