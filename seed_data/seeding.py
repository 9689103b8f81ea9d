"""`flask seed`: load the demo marketplace from seed_data/.

Dates in the seed files are relative to today (`*_days_ago`, `deadline_in_days`), so the demo is always live.
The loader writes models directly: it stages history (decided disclosures, past awards) that no service would
let a user create today. Contracts are the exception: their money history (seed_data/contracts.json) is played
through the contract and payment services against the local Stripe simulator, so that every funded, paid or
refunded milestone has its Stripe objects and `flask payments reconcile` agrees; only the timestamps are moved back
to the days the file names (the audit trail keeps the real time it was written). Without the simulator, contracts
stay awarded and unfunded, and the seed says so. Screening runs once at the end, over the finished graph, so that
verdict records, conflicted bids and flagged contracts agree with it.
"""

import hashlib
import io
import json
import urllib.error
import urllib.parse
import urllib.request
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any, cast

import click
from flask import current_app
from flask.cli import with_appcontext
from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session
from sqlmodel import SQLModel, col

from marketplace.accounts.models import Organization, OrgKind, OrgRole, Role, User, VendorProfile
from marketplace.accounts.passwords import hash_password
from marketplace.audit.service import record_event
from marketplace.bids import pilots
from marketplace.bids.models import Bid, BidRevision, BidStatus
from marketplace.bids.service import data_handling_requirements
from marketplace.certificates import service as certificates
from marketplace.certificates.models import Certificate, CertificateStatus
from marketplace.contracts import service as contract_service
from marketplace.contracts.models import (
    HELD_STATES,
    Contract,
    ContractStatus,
    Delivery,
    DeliveryDecision,
    Milestone,
    MilestoneStatus,
)
from marketplace.db_types import utcnow
from marketplace.deals import service as deals
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.downloads import store_private_file
from marketplace.extensions import db
from marketplace.jobs.models import BiddingMode, Job, JobInvitation, JobStatus, Question, Visibility
from marketplace.messages.models import BidMessage
from marketplace.money import to_minor
from marketplace.ndas.models import Nda, NdaAcceptance
from marketplace.notifications.models import Notification
from marketplace.parties.models import (
    INTEREST_TYPES,
    CommercialKind,
    CommercialTie,
    Interest,
    Party,
    PartyIdentifier,
    PartyKind,
    TieOrigin,
    VerificationLevel,
)
from marketplace.parties.service import find_or_create_party, normalize_identifier
from marketplace.payments import service as payment_service
from marketplace.payments.gateway import StripeGateway, from_config
from marketplace.payments.models import LedgerEntry, PayoutAccount
from marketplace.payments.reconcile import reconcile
from marketplace.scoring import service as scoring
from marketplace.scoring.models import BidScore, ScoringWeights
from marketplace.screening.models import Rival
from marketplace.screening.services.refresh import refresh_verdicts

SEED_DIR = Path(__file__).resolve().parent
DEMO_PASSWORD = "demo-password-2026"  # noqa: S105  (published on the sign-in page on purpose)
DEMO_LOGINS = (
    ("buyer", "maya@northwind-ai.example"),
    ("vendor", "ines@clearlabel.example"),
    ("admin", "admin@armslength.example"),
)
CONTRACTED = (JobStatus.AWARDED, JobStatus.IN_PROGRESS, JobStatus.DELIVERED, JobStatus.COMPLETED)
DECIDED = (DisclosureStatus.APPROVED, DisclosureStatus.CHANGES_REQUESTED, DisclosureStatus.REJECTED)
# Bids should not be left "active" on a job that has been awarded; the files say which won and which lost.
CLOSED_BID_STATUSES = (BidStatus.AWARDED, BidStatus.LOST, BidStatus.WITHDRAWN)
# The card the buyers of the demo history paid with, on the simulator's Checkout page (it always succeeds).
TEST_CARD = {"number": "4242 4242 4242 4242", "exp": "12/34", "cvc": "123"}
# Where the simulator's Checkout and onboarding pages would send a browser back; the seed never follows them.
RETURN_BASE = "http://127.0.0.1:5000"
# Notices about steps older than this are history, already read; newer ones wait in the bell.
UNREAD_DAYS = 3


class SeedDataError(click.ClickException):
    """The seed files contradict themselves (an unknown name, a job with no winner...)."""


def certificate_pdf(title: str, issuer: str) -> bytes:
    """A one-page PDF reading the certificate's title and issuer: the demo's certificate files."""
    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica"),
        }
    )
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})}
    )
    words = [
        text.encode("latin-1", "replace").decode("latin-1").replace("(", "[").replace(")", "]")
        for text in (title, f"Issued by {issuer}", "Demo certificate: not a real attestation.")
    ]
    stream = DecodedStreamObject()
    stream.set_data(
        ("BT /F1 16 Tf 72 760 Td " + " 0 -28 Td ".join(f"({line}) Tj" for line in words) + " ET").encode("latin-1")
    )
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def demo_gateway(config) -> tuple[StripeGateway | None, str]:
    """The gateway the demo's contract money moves through, or None and the reason there is none.

    Only the local simulator: the history needs a buyer's card on Checkout and a vendor's onboarding, which only
    the simulator's pages let a program complete (and real Stripe should never get demo payments).
    """
    gateway = from_config(config)
    if gateway is None:
        return None, "no Stripe key is set (STRIPE_SECRET_KEY), so payments are off"
    if not gateway.simulated:
        return None, (
            "contract money is staged only against the local Stripe simulator (STRIPE_API_BASE), never at Stripe itself"
        )
    if not gateway.reachable():
        return None, f"the local Stripe simulator at {gateway.api_base} does not answer"
    return gateway, ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def submit_simulator_form(gateway: StripeGateway, url: str, form: dict) -> int:
    """POST a form on one of the simulator's own pages (Checkout, onboarding), as a browser would; the status.

    Refuses any address that is not the simulator's, so that a card number never goes anywhere else.
    """
    if not gateway.simulated or not url.startswith(gateway.api_base + "/hosted/"):
        raise SeedDataError(f"not a page of the local Stripe simulator: {url}")
    request = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST")  # noqa: S310
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:  # a redirect (the page's success) or a refusal
        return error.code


def database_has_data(session: Session) -> bool:
    """True when any organisation or user exists: seeding would mix the demo into real data."""
    orgs = session.execute(select(func.count(col(Organization.id)))).scalar_one()
    users = session.execute(select(func.count(col(User.id)))).scalar_one()
    return bool(orgs or users)


def empty_database(session: Session) -> None:
    """Delete every row of every table, children before parents, inside the caller's transaction."""
    session.flush()
    for table in reversed(SQLModel.metadata.sorted_tables):
        session.execute(table.delete())
    # Objects loaded before are gone; new rows may reuse their ids (SQLite does), so forget them.
    session.expunge_all()


class DemoLoader:
    """Reads seed_data/*.json and writes the demo marketplace, one step at a time."""

    def __init__(
        self,
        session: Session,
        data_dir: Path = SEED_DIR,
        now: datetime | None = None,
        gateway: StripeGateway | None = None,
        fee_bps: int = 0,
        no_money_reason: str = "",
    ):
        self.session = session
        self.gateway = gateway
        self.fee_bps = fee_bps
        self.no_money_reason = no_money_reason or "no Stripe gateway was given"
        self.data_dir = data_dir
        self.now = now or utcnow()
        self.today = self.now.date()
        self.password_hash = hash_password(DEMO_PASSWORD)
        self.orgs: dict[str, Organization] = {}
        self.members: dict[str, list[User]] = {}
        self.users: dict[str, User] = {}
        self.parties: dict[str, Party] = {}
        self.jobs: dict[str, Job] = {}
        self.admin: User | None = None

    def steps(self):
        """(label, step) in the order that foreign keys need."""
        return [
            ("organisations", self.load_organisations),
            ("users", self.load_users),
            ("vendor profiles", self.load_vendor_profiles),
            ("certificates", self.load_certificates),
            ("parties", self.load_parties),
            ("facts from public sources", self.load_facts),
            ("disclosures", self.load_disclosures),
            ("rivals", self.load_rivals),
            ("jobs", self.load_jobs),
            ("bids", self.load_bids),
            ("contracts", self.make_contracts),
            ("contract money", self.play_contract_money),
            ("questions", self.load_questions),
            ("proposals, scores, messages and NDAs", self.load_engagement),
            ("notifications", self.load_notifications),
            ("screening", self.screen_everything),
        ]

    # --- helpers -----------------------------------------------------------------------------------------

    def _read(self, name: str) -> list[dict]:
        path = self.data_dir / f"{name}.json"
        if not path.exists():
            return []
        return json.loads(path.read_text(encoding="utf-8"))

    def _ago(self, days: float) -> datetime:
        return self.now - timedelta(days=days)

    def _date_ago(self, days: int | None) -> date | None:
        """A date `days` before today; negative means in the future; None stays None."""
        return None if days is None else self.today - timedelta(days=days)

    def _deadline(self, days: int) -> datetime:
        """17:00 UTC, `days` from today (negative for a deadline that has passed)."""
        return datetime.combine(self.today + timedelta(days=days), time(17, 0), tzinfo=UTC)

    @staticmethod
    def _lookup(table: dict, key: str, what: str):
        try:
            return table[key]
        except KeyError:
            raise SeedDataError(f"seed_data: {what} “{key}” is not defined.") from None

    def _org(self, name: str) -> Organization:
        return self._lookup(self.orgs, name, "organisation")

    def _user(self, email: str) -> User:
        return self._lookup(self.users, email, "user")

    def _party(self, name: str) -> Party:
        return self._lookup(self.parties, name, "party")

    def _job(self, key: str) -> Job:
        return self._lookup(self.jobs, key, "job")

    def _first_member(self, org_name: str) -> User:
        members = self.members.get(org_name)
        if not members:
            raise SeedDataError(f"seed_data: organisation “{org_name}” has no user.")
        return members[0]

    def _add(self, row):
        self.session.add(row)
        self.session.flush()
        return row

    # --- organisations, people, parties ------------------------------------------------------------------

    def load_organisations(self) -> None:
        for row in self._read("organisations"):
            party = find_or_create_party(self.session, row["name"])
            party.jurisdiction = row.get("jurisdiction", "")
            party.description = row.get("description", "")
            org = self._add(
                Organization(
                    name=row["name"],
                    kind=OrgKind(row["kind"]),
                    party_id=party.id,
                    website=row.get("website", ""),
                    country=row.get("country", ""),
                    created_at=self._ago(row.get("joined_days_ago", 420)),
                    # The demo's labs are known: verified by the platform when they joined.
                    verified_at=self._ago(row.get("joined_days_ago", 420)) if row["kind"] == "buyer" else None,
                    award_approval_above_minor=row.get("award_approval_above_minor"),
                    award_approval_currency=row.get("award_approval_currency", "USD"),
                )
            )
            self.orgs[org.name] = org
            self.parties[org.name] = party
            self.members[org.name] = []
            record_event(
                self.session,
                None,
                "organization.created",
                "organization",
                org.id,
                after={"name": org.name, "kind": org.kind.value},
                buyer_org_id=org.id if org.kind == OrgKind.BUYER else None,
                vendor_org_id=org.id if org.kind == OrgKind.VENDOR else None,
            )

    def load_users(self) -> None:
        for row in self._read("users"):
            org = self._org(row["org"]) if row.get("org") else None
            role = Role(row["role"]) if row.get("role") else Role(cast(Organization, org).kind.value)
            user = self._add(
                User(
                    email=row["email"].strip().lower(),
                    name=row["name"],
                    password_hash=self.password_hash,
                    role=role,
                    org_id=org.id if org else None,
                    timezone=row.get("timezone", "UTC"),
                    # The first user listed for an organisation owns it; the others manage unless the row says.
                    org_role=OrgRole(row.get("org_role") or ("manager" if org and self.members[org.name] else "owner")),
                    approver=bool(row.get("approver", False)),
                    created_at=self._ago(row.get("joined_days_ago", 400)),
                    email_verified_at=self._ago(row.get("joined_days_ago", 400)),
                    # A demo-only secret in seed_data (README: `flask totp-code`); real admins set up their own.
                    totp_secret=row.get("totp_secret", ""),
                    totp_enabled_at=self._ago(row.get("joined_days_ago", 400)) if row.get("totp_secret") else None,
                )
            )
            self.users[user.email] = user
            if org is not None:
                self.members[org.name].append(user)
            elif role == Role.ADMIN and self.admin is None:
                self.admin = user
        if self.admin is None:
            raise SeedDataError("seed_data/users.json needs an admin: disclosures are decided by one.")

    def load_vendor_profiles(self) -> None:
        described = set()
        for row in self._read("vendor_profiles"):
            org = self._org(row["org"])
            fields = {key: value for key, value in row.items() if key != "org"}
            self._add(VendorProfile(org_id=org.id, updated_at=self._ago(20), **fields))
            described.add(org.name)
        for org in self.orgs.values():
            if org.kind == OrgKind.VENDOR and org.name not in described:
                self._add(VendorProfile(org_id=org.id))

    def load_certificates(self) -> None:
        """Each vendor's certificates, with a one-page PDF as the file, uploaded and decided as the pages do it."""
        folder = Path(current_app.config["UPLOAD_FOLDER"]) / certificates.FOLDER
        for row in self._read("certificates"):
            org = self._org(row["org"])
            uploader = self._user(row["uploaded_by"]) if row.get("uploaded_by") else self._first_member(org.name)
            data = certificate_pdf(f"{certificates.label(row['kind'])} certificate of {org.name}", row["issuer"])
            status = CertificateStatus(row["status"])
            certificate = self._add(
                Certificate(
                    vendor_org_id=org.id,
                    kind=row["kind"],
                    issuer=row["issuer"],
                    scope=row["scope"],
                    issued_on=self.today - timedelta(days=row["issued_days_ago"]),
                    expires_on=self.today + timedelta(days=row["expires_in_days"]),
                    filename=f"{row['kind']}-{org.name.lower().replace(' ', '-')}.pdf",
                    stored_name=store_private_file(folder, data, ".pdf"),
                    content_type="application/pdf",
                    size_bytes=len(data),
                    sha256=hashlib.sha256(data).hexdigest(),
                    status=status,
                    uploaded_by_id=uploader.id,
                    uploaded_at=self._ago(row["uploaded_days_ago"]),
                    decided_by_id=self.admin.id if self.admin and status != CertificateStatus.PENDING else None,
                    decided_at=self._ago(row["decided_days_ago"]) if "decided_days_ago" in row else None,
                    decision_reason=row.get("reason", ""),
                )
            )
            record_event(
                self.session,
                uploader,
                "certificate.uploaded",
                "certificate",
                certificate.id,
                after={"kind": certificate.kind, "expires_on": certificate.expires_on.isoformat()},
                vendor_org_id=org.id,
            )
            if status != CertificateStatus.PENDING:
                record_event(
                    self.session,
                    self.admin,
                    f"certificate.{status.value}",
                    "certificate",
                    certificate.id,
                    before={"status": "pending"},
                    after={"status": status.value},
                    vendor_org_id=org.id,
                )

    def load_parties(self) -> None:
        for row in self._read("parties"):
            party = find_or_create_party(
                self.session, row["name"], PartyKind(row.get("kind", "entity")), row.get("party_type")
            )
            party.jurisdiction = row.get("jurisdiction", "")
            party.description = row.get("description", "")
            for identifier in row.get("identifiers", []):
                self.session.add(
                    PartyIdentifier(
                        party_id=party.id,
                        scheme=identifier.get("scheme", ""),
                        value=identifier["value"],
                        value_normalized=normalize_identifier(identifier["value"]),
                    )
                )
            self.parties[party.name] = party
        self.session.flush()

    def _interest(self, row: dict, default_subject: str, **provenance) -> Interest:
        if row["type"] not in INTEREST_TYPES:
            raise SeedDataError(f"seed_data: “{row['type']}” is not a BODS interest type.")
        return self._add(
            Interest(
                interested_party_id=self._party(row["holder"]).id,
                subject_party_id=self._party(row.get("subject", default_subject)).id,
                interest_type=row["type"],
                share_exact=row.get("share"),
                share_min=row.get("share_min"),
                share_max=row.get("share_max"),
                share_min_exclusive=row.get("share_min_exclusive", False),
                share_max_exclusive=row.get("share_max_exclusive", False),
                start_date=self._date_ago(row.get("start_days_ago")),
                end_date=self._date_ago(row.get("end_days_ago")),
                role_title=row.get("role_title", ""),
                note=row.get("note", ""),
                **provenance,
            )
        )

    def load_facts(self) -> None:
        """Ties an admin recorded from registers and the news: they count in screening at once."""
        vendors_by_party = {org.party_id: org.id for org in self.orgs.values() if org.kind == OrgKind.VENDOR}
        for row in self._read("facts"):
            source_date = self._date_ago(row.get("source_days_ago"))
            interest = self._interest(
                row,
                row["subject"],
                origin=TieOrigin.ADMIN_FACT,
                verification_level=VerificationLevel(row.get("verification_level", "admin-verified")),
                source_description=row.get("source_description", ""),
                source_url=row.get("source_url", ""),
                source_date=source_date,
                recorded_by_id=cast(User, self.admin).id,
                recorded_at=self._ago(row.get("source_days_ago", 0)),
            )
            record_event(
                self.session,
                self.admin,
                "fact.recorded",
                "interest",
                interest.id,
                after={
                    "holder": row["holder"],
                    "subject": row["subject"],
                    "type": row["type"],
                    "source": interest.source_description,
                },
                vendor_org_id=vendors_by_party.get(interest.subject_party_id),
            )

    # --- disclosures and rivals --------------------------------------------------------------------------

    def load_disclosures(self) -> None:
        for entry in self._read("disclosures"):
            org = self._org(entry["vendor"])
            for number, row in enumerate(entry["versions"], start=1):
                self._load_version(org, number, row)

    def _load_version(self, org: Organization, number: int, row: dict) -> None:
        officer = self._first_member(org.name)
        status = DisclosureStatus(row["status"])
        version = DisclosureVersion(
            vendor_org_id=org.id,
            number=number,
            status=status,
            summary=row.get("summary", ""),
            created_by_id=officer.id,
            created_at=self._ago(row["created_days_ago"]),
        )
        if status != DisclosureStatus.DRAFT:
            version.submitted_at = self._ago(row["submitted_days_ago"])
            version.attested_by_id = officer.id
            version.attester_name = row.get("attester_name", officer.name)
            version.attester_title = row.get("attester_title", "Chief Executive Officer")
        if status in DECIDED:
            version.decided_by_id = cast(User, self.admin).id
            version.decided_at = self._ago(row["decided_days_ago"])
            version.decision_reason = row.get("decision_reason", "")
        self._add(version)
        # Approval marks a version's ties admin-verified, as the admin's review does.
        level = (
            VerificationLevel.ADMIN_VERIFIED if status == DisclosureStatus.APPROVED else VerificationLevel.SELF_DECLARED
        )
        filed = version.submitted_at or version.created_at
        provenance: dict[str, Any] = {
            "origin": TieOrigin.DISCLOSURE,
            "disclosure_id": version.id,
            "recorded_by_id": officer.id,
            "recorded_at": filed,
            "source_date": filed.date(),
        }
        for tie in row.get("interests", []):
            chosen = VerificationLevel(tie["verification_level"]) if "verification_level" in tie else level
            self._interest(tie, org.name, verification_level=chosen, **provenance)
        for tie in row.get("commercial_ties", []):
            self._add(
                CommercialTie(
                    vendor_party_id=cast(int, org.party_id),
                    counterparty_id=self._party(tie["counterparty"]).id,
                    kind=CommercialKind(tie["kind"]),
                    revenue_share_pct=tie.get("revenue_share_pct"),
                    start_date=self._date_ago(tie.get("start_days_ago")),
                    end_date=self._date_ago(tie.get("end_days_ago")),
                    note=tie.get("note", ""),
                    verification_level=level,
                    **provenance,
                )
            )
        self._audit_version(org, version, officer)

    def _audit_version(self, org: Organization, version: DisclosureVersion, officer: User) -> None:
        if version.submitted_at is not None:
            record_event(
                self.session,
                officer,
                "disclosure.submitted",
                "disclosure",
                version.id,
                before={"status": DisclosureStatus.DRAFT.value},
                after={"status": DisclosureStatus.SUBMITTED.value, "number": version.number},
                vendor_org_id=org.id,
            )
        if version.decided_at is not None:
            record_event(
                self.session,
                self.admin,
                f"disclosure.{version.status.value}",
                "disclosure",
                version.id,
                before={"status": DisclosureStatus.SUBMITTED.value},
                after={"status": version.status.value, "reason": version.decision_reason},
                vendor_org_id=org.id,
            )

    def load_rivals(self) -> None:
        """Rival rows only: screening waits until bids and contracts exist, so that it can act on them."""
        for row in self._read("rivals"):
            buyer = self._org(row["buyer"])
            added_by = self._user(row["added_by"]) if row.get("added_by") else self._first_member(buyer.name)
            for name in row["rivals"]:
                party = self._party(name)
                rival = self._add(
                    Rival(
                        buyer_org_id=buyer.id,
                        party_id=party.id,
                        added_by_id=added_by.id,
                        created_at=self._ago(row.get("added_days_ago", 100)),
                    )
                )
                record_event(
                    self.session,
                    added_by,
                    "rival.added",
                    "rival",
                    rival.id,
                    after={"party_id": party.id, "name": party.name},
                    buyer_org_id=buyer.id,
                )

    # --- jobs, bids, contracts, questions ----------------------------------------------------------------

    def load_jobs(self) -> None:
        for row in self._read("jobs"):
            buyer = self._org(row["buyer"])
            author = self._user(row["created_by"]) if row.get("created_by") else self._first_member(buyer.name)
            status = JobStatus(row["status"])
            if status == JobStatus.CLOSED:
                raise SeedDataError("seed_data: “closed” is never stored; give an open job a past deadline.")
            currency = row.get("currency", "USD")
            published = None if status == JobStatus.DRAFT else self._ago(row.get("published_days_ago", 14))
            job = self._add(
                Job(
                    buyer_org_id=buyer.id,
                    created_by_id=author.id,
                    title=row["title"],
                    description=row.get("description", ""),
                    modality=row["modality"],
                    task_type=row["task_type"],
                    volume=row["volume"],
                    unit=row["unit"],
                    quality_metric=row.get("quality_metric", "accuracy"),
                    quality_target_pct=row.get("quality_target_pct"),
                    languages=row.get("languages", []),
                    certifications=row.get("certifications", []),
                    data_residency=row.get("data_residency", ""),
                    labeler_locations=row.get("labeler_locations", []),
                    hosting=row.get("hosting", "vendor_cloud"),
                    retention_days=row.get("retention_days"),
                    deletion_terms=row.get("deletion_terms", ""),
                    pilot_scope=row.get("pilot_scope", ""),
                    pilot_criteria=row.get("pilot_criteria", ""),
                    budget_min_minor=to_minor(row["budget_min"], currency),
                    budget_max_minor=to_minor(row["budget_max"], currency),
                    currency=currency,
                    bid_deadline=self._deadline(row["deadline_in_days"]),
                    delivery_date=self.today + timedelta(days=row["delivery_in_days"]),
                    visibility=Visibility(row.get("visibility", "public")),
                    bidding_mode=BiddingMode(row.get("bidding_mode", "sealed")),
                    status=status,
                    codename=row.get("codename", ""),
                    published_at=published,
                    awarded_at=self._ago(row["awarded_days_ago"]) if status in CONTRACTED else None,
                    cancelled_at=self._ago(row["cancelled_days_ago"]) if status == JobStatus.CANCELLED else None,
                    created_at=(published or self.now) - timedelta(days=1),
                    updated_at=published or self.now,
                )
            )
            self.jobs[row["key"]] = job
            for vendor_name in row.get("invited", []):
                self.session.add(
                    JobInvitation(
                        job_id=job.id,
                        vendor_org_id=self._org(vendor_name).id,
                        created_at=published or self.now,
                    )
                )
        self.session.flush()

    def load_bids(self) -> None:
        for row in self._read("bids"):
            job = self._job(row["job"])
            vendor = self._org(row["vendor"])
            author = self._first_member(vendor.name)
            status = BidStatus(row.get("status", "active"))
            revisions = [self._terms(job, revision) for revision in row["revisions"]]
            first, last = revisions[0], revisions[-1]
            bid = self._add(
                Bid(
                    job_id=job.id,
                    vendor_org_id=vendor.id,
                    status=status,
                    revision=len(revisions),
                    created_at=first["created_at"],
                    updated_at=last["created_at"],
                    withdrawn_at=self._ago(row["withdrawn_days_ago"]) if status == BidStatus.WITHDRAWN else None,
                    **{key: value for key, value in last.items() if key != "created_at"},
                )
            )
            for number, terms in enumerate(revisions, start=1):
                # A withdrawn bid's history shows the withdrawal on its last revision, as withdrawing leaves it.
                withdrawn_at = bid.withdrawn_at if number == len(revisions) else None
                self.session.add(
                    BidRevision(
                        bid_id=bid.id, number=number, created_by_id=author.id, withdrawn_at=withdrawn_at, **terms
                    )
                )
        self.session.flush()

    def _terms(self, job: Job, revision: dict) -> dict:
        """One revision's terms; the total is the unit price times the job's volume unless given."""
        per_unit = to_minor(revision["price_per_unit"], job.currency)
        total = to_minor(revision["total"], job.currency) if "total" in revision else per_unit * job.volume
        return {
            "price_per_unit_minor": per_unit,
            "total_minor": total,
            "currency": job.currency,
            "turnaround_days": revision["turnaround_days"],
            "quality_guarantee_pct": revision.get("quality_guarantee_pct"),
            "proposal": revision.get("proposal", ""),
            "data_handling_response": revision.get("data_handling_response", ""),
            "created_at": self._ago(revision["days_ago"]),
        }

    # --- what the labs and the bidders did with the bids -------------------------------------------------------

    def _bid_of(self, job_key: str, vendor_name: str) -> Bid:
        job, vendor = self._job(job_key), self._org(vendor_name)
        bid = self.session.execute(
            select(Bid).where(col(Bid.job_id) == job.id, col(Bid.vendor_org_id) == vendor.id)
        ).scalar_one_or_none()
        if bid is None:
            raise SeedDataError(f"seed_data: {vendor_name} has no bid on “{job_key}”.")
        return bid

    def _latest_revision(self, bid: Bid) -> BidRevision:
        return self.session.execute(
            select(BidRevision).where(col(BidRevision.bid_id) == bid.id, col(BidRevision.number) == bid.revision)
        ).scalar_one()

    def load_engagement(self) -> None:
        """Scoring weights, the bidders' answers to each requirement, colleagues' scores, bid threads, pilots, a
        pending deal and NDAs."""
        data = json.loads((self.data_dir / "engagement.json").read_text(encoding="utf-8"))
        for row in data.get("weights", []):
            self._add(ScoringWeights(job_id=self._job(row["job"]).id, weights=scoring.check_weights(row["weights"])))
        for row in data.get("answers", []):
            bid = self._bid_of(row["job"], row["vendor"])
            asked = {requirement.key for requirement in data_handling_requirements(self._job(row["job"]))}
            unknown = set(row["answers"]) - asked
            if unknown:
                raise SeedDataError(f"seed_data: “{row['job']}” asks nothing about {', '.join(sorted(unknown))}.")
            bid.requirement_answers = dict(row["answers"])
            self._latest_revision(bid).requirement_answers = dict(row["answers"])
        for row in data.get("scores", []):
            bid = self._bid_of(row["job"], row["vendor"])
            by = self._user(row["by"])
            for criterion in scoring.BY_HAND:
                if row.get(criterion) is not None:
                    self._add(
                        BidScore(
                            bid_id=bid.id,
                            user_id=by.id,
                            criterion=criterion,
                            score=row[criterion],
                            note=row.get("note", ""),
                        )
                    )
        for row in data.get("messages", []):
            bid = self._bid_of(row["job"], row["vendor"])
            author = self._user(row["from"])
            self._add(
                BidMessage(
                    bid_id=bid.id,
                    author_id=author.id,
                    from_buyer=author.role == "buyer",
                    body=row["body"],
                    created_at=self._ago(row["days_ago"]),
                )
            )
        for row in data.get("pilots", []):
            job = self._job(row["job"])
            for vendor_name, price in row["prices"].items():
                bid = self._bid_of(row["job"], vendor_name)
                bid.pilot_price_minor = to_minor(price, bid.currency)
                self._latest_revision(bid).pilot_price_minor = bid.pilot_price_minor
            self.session.flush()
            for vendor_name in row.get("start", []):
                bid = self._bid_of(row["job"], vendor_name)
                pilots.start_pilot(self.session, self._user(row["by"]), job.id, bid.id)
        for row in data.get("deals", []):
            deal = deals.record_deal(
                self.session,
                self._user(row["by"]),
                deals.DealInput(
                    acquirer=row["acquirer"],
                    target=row["target"],
                    share_pct=row["share_pct"],
                    announced_on=self.today - timedelta(days=row["announced_days_ago"]),
                    expected_close=row.get("expected_close", ""),
                    source_url=row.get("source_url", ""),
                    source_description=row.get("source_description", ""),
                ),
            )
            deal.created_at = self._ago(row["announced_days_ago"])
        for row in data.get("ndas", []):
            lab, by = self._org(row["buyer"]), self._user(row["by"])
            nda = self._add(
                Nda(
                    buyer_org_id=lab.id,
                    version=1,
                    text=row["text"],
                    created_by_id=by.id,
                    created_at=self._ago(row["days_ago"]),
                )
            )
            for key in row.get("require_on", []):
                self._job(key).requires_nda = True
            for accepted in row.get("accepted_by", []):
                user = self._user(accepted["user"])
                self._add(
                    NdaAcceptance(
                        nda_id=nda.id,
                        vendor_org_id=cast(int, user.org_id),
                        user_id=user.id,
                        job_id=self._job(accepted["job"]).id,
                        accepted_at=self._ago(accepted["days_ago"]),
                    )
                )
        self.session.flush()

    def make_contracts(self) -> None:
        """One contract per awarded job, from its winning bid."""
        for job in self.jobs.values():
            if job.status not in CONTRACTED:
                continue
            winners = (
                self.session.execute(select(Bid).where(col(Bid.job_id) == job.id, col(Bid.status) == BidStatus.AWARDED))
                .scalars()
                .all()
            )
            if len(winners) != 1:
                raise SeedDataError(
                    f"seed_data: job “{job.title}” is {job.status.value} and needs exactly "
                    f"one awarded bid, not {len(winners)}."
                )
            bid = winners[0]
            # Active, as an award leaves it: its money history (play_contract_money) moves it on from there.
            contract = self._add(
                Contract(
                    job_id=job.id,
                    bid_id=bid.id,
                    buyer_org_id=job.buyer_org_id,
                    vendor_org_id=bid.vendor_org_id,
                    total_minor=bid.total_minor,
                    currency=bid.currency,
                    status=ContractStatus.ACTIVE,
                    created_at=cast(datetime, job.awarded_at),
                )
            )
            record_event(
                self.session,
                self.session.get(User, job.created_by_id),
                "job.awarded",
                "job",
                job.id,
                after={
                    "bid_id": bid.id,
                    "contract_id": contract.id,
                    "total_minor": bid.total_minor,
                    "currency": bid.currency,
                },
                buyer_org_id=job.buyer_org_id,
                vendor_org_id=bid.vendor_org_id,
            )

    # --- contract money -----------------------------------------------------------------------------------

    def play_contract_money(self) -> None:
        """Each contract's milestones and money history from contracts.json, through the real services.

        A job's status in jobs.json is what its contract's history must lead to (checked). Without the local
        Stripe simulator nothing that needs money happens: every contract stays awarded and unfunded, and so
        does its job, whatever jobs.json says, so that no page shows money that never moved.
        """
        contracts = {c.job_id: c for c in self.session.execute(select(Contract).order_by(col(Contract.id))).scalars()}
        wanted = {}
        for job in self.jobs.values():
            if job.id in contracts:
                wanted[job.id] = JobStatus(job.status)
                job.status = JobStatus.AWARDED  # where an award leaves a job; the history moves it on
        self.session.flush()
        if self.gateway is None:
            return
        for story in self._read("contracts"):
            job = self._job(story["job"])
            if job.id not in contracts:
                raise SeedDataError(f"seed_data/contracts.json: job “{story['job']}” has no contract.")
            self._play_contract(contracts[job.id], job, story)
        for job_id, status in wanted.items():
            job = cast(Job, self.session.get(Job, job_id))
            if job.status != status:
                raise SeedDataError(
                    f"seed_data: job “{job.title}” is {status.value} in jobs.json, but its contract's history "
                    f"in contracts.json leaves it {JobStatus(job.status).value}."
                )

    def _play_contract(self, contract: Contract, job: Job, story: dict) -> None:
        buyer = cast(User, self.session.get(User, job.created_by_id))
        vendor_org = cast(Organization, self.session.get(Organization, contract.vendor_org_id))
        vendor = self._first_member(vendor_org.name)
        label = f"seed_data/contracts.json, “{story['job']}”"
        rows = story["milestones"]
        shares = [row["share_pct"] for row in rows]
        if not rows or sum(shares) != 100 or min(shares) <= 0:
            raise SeedDataError(f"{label}: milestone shares must be above 0 and add up to 100.")
        amounts = [contract.total_minor * share // 100 for share in shares]
        amounts[-1] = contract.total_minor - sum(amounts[:-1])  # the last takes the rounding
        plan = [
            contract_service.PlannedMilestone(row["title"], amount, self._due(row))
            for row, amount in zip(rows, amounts, strict=True)
        ]
        awarded = contract.created_at
        with self._backdated(awarded, contract):
            milestones = contract_service.plan_milestones(
                self.session, buyer, self.gateway, contract.id, plan, fee_bps=self.fee_bps
            )
            for milestone in milestones:
                milestone.created_at = awarded
        if any(step["do"] == "fund" for row in rows for step in row["steps"]):
            self._connect_payouts(vendor, awarded)
        steps = [
            (step["days_ago"], number, order, step)
            for number, row in enumerate(rows)
            for order, step in enumerate(row["steps"])
        ]
        for days_ago, number, _order, step in sorted(steps, key=lambda item: (-item[0], item[1], item[2])):
            milestone = milestones[number]
            when = self._ago(days_ago)
            with (
                self._backdated(when, contract, milestone, unread=days_ago <= UNREAD_DAYS),
                self._decided_as_of(milestone, when),
            ):
                try:
                    self._step(contract, buyer, vendor, milestone, step)
                except (contract_service.ContractError, payment_service.PaymentError) as error:
                    raise SeedDataError(f"{label}, milestone {number + 1}: “{step['do']}” failed: {error}") from error

    @contextmanager
    def _decided_as_of(self, milestone: Milestone, when: datetime):
        """A step that happened at `when`, replayed now: the deliveries waiting for the lab's decision are dated as
        long before now as they were before `when` while it runs (the lab's time to decide is judged by the clock:
        contracts.deadlines.lab_decides_by), then put back."""
        shift = utcnow() - when
        waiting = list(
            self.session.execute(
                select(Delivery).where(
                    col(Delivery.milestone_id) == milestone.id, col(Delivery.decision) == DeliveryDecision.WAITING
                )
            ).scalars()
        )
        for delivery in waiting:
            delivery.delivered_at += shift
        try:
            yield
        finally:
            for delivery in waiting:
                delivery.delivered_at -= shift

    def _due(self, row: dict) -> date | None:
        if "due_in_days" in row:
            return self._date_ago(-row["due_in_days"])
        return self._date_ago(row.get("due_days_ago"))

    def _step(self, contract: Contract, buyer: User, vendor: User, milestone: Milestone, step: dict) -> None:
        action, session, gateway = step["do"], self.session, self.gateway
        if action == "fund":
            self._fund(contract, buyer, milestone)
        elif action == "deliver":
            contract_service.deliver(session, vendor, contract.id, milestone.id, step["note"], [], None)
        elif action == "reject":
            contract_service.reject_delivery(session, buyer, contract.id, milestone.id, step["reason"])
        elif action == "accept":
            if not contract_service.accept_delivery(session, buyer, gateway, contract.id, milestone.id):
                raise payment_service.PaymentError(milestone.last_payment_error or "the payout did not go through")
        elif action == "cancel":
            contract_service.cancel_milestone(session, buyer, gateway, contract.id, milestone.id, fee_bps=self.fee_bps)
        else:
            raise SeedDataError(f"seed_data/contracts.json: unknown step “{action}”.")

    def _fund(self, contract: Contract, buyer: User, milestone: Milestone) -> None:
        """The buyer pays on the simulator's Checkout page with a test card; Stripe's answer is recorded as its
        webhook would record it."""
        back = f"{RETURN_BASE}/contracts/{contract.id}"
        url = contract_service.funding_url(
            self.session,
            buyer,
            cast(StripeGateway, self.gateway),
            contract.id,
            milestone.id,
            success_url=f"{back}?paid={milestone.id}",
            cancel_url=back,
            fee_bps=self.fee_bps,
        )
        status = submit_simulator_form(cast(StripeGateway, self.gateway), cast(str, url), TEST_CARD)
        checkout = cast(StripeGateway, self.gateway).retrieve_checkout_session(cast(str, milestone.checkout_session_id))
        if status != 303 or not checkout.payment_intent_id:
            raise payment_service.PaymentError(f"the simulator's Checkout did not take the test card ({status})")
        payment_service.record_payment(
            self.session,
            cast(StripeGateway, self.gateway),
            payment_service.STRIPE,
            checkout.payment_intent_id,
            self.fee_bps,
        )

    def _connect_payouts(self, vendor: User, when: datetime) -> None:
        """The vendor's Express account, onboarded on the simulator's page (once per organisation)."""
        account = payment_service.payout_account_of(self.session, cast(int, vendor.org_id))
        if account is not None and account.payouts_ready:
            return
        with self._backdated(when):
            link = payment_service.start_onboarding(
                self.session,
                cast(StripeGateway, self.gateway),
                vendor,
                refresh_url=f"{RETURN_BASE}/payments/payouts",
                return_url=f"{RETURN_BASE}/payments/payouts",
            )
            if submit_simulator_form(cast(StripeGateway, self.gateway), link, {}) != 303:
                raise SeedDataError(f"the simulator did not complete {vendor.email}'s payout onboarding")
            account = cast(PayoutAccount, payment_service.payout_account_of(self.session, cast(int, vendor.org_id)))
            payment_service.refresh_payout_account(
                self.session,
                cast(StripeGateway, self.gateway),
                payment_service.STRIPE,
                cast(str, account.stripe_account_id),
            )
            account.created_at = account.updated_at = when

    @contextmanager
    def _backdated(
        self, when: datetime, contract: Contract | None = None, milestone: Milestone | None = None, unread: bool = False
    ):
        """Move what the services write inside the block to `when`: ledger entries, deliveries, notices, and the
        milestone's and contract's own dates. Notices of old steps are marked read. The audit trail is left as
        written: its records are hash-chained, and it tells when the demo was loaded."""
        session = self.session
        started = utcnow()
        last = {
            model: session.execute(select(func.coalesce(func.max(model.id), 0))).scalar_one()
            for model in (LedgerEntry, Delivery, Notification)
        }
        yield
        session.flush()
        session.execute(update(LedgerEntry).where(col(LedgerEntry.id) > last[LedgerEntry]).values(created_at=when))
        session.execute(
            update(Notification)
            .where(col(Notification.id) > last[Notification])
            .values(created_at=when, read_at=None if unread else when)
        )
        session.execute(update(Delivery).where(col(Delivery.id) > last[Delivery]).values(delivered_at=when))
        if milestone is not None:
            decided = session.execute(select(Delivery).where(col(Delivery.milestone_id) == milestone.id)).scalars()
            for delivery in decided:
                if delivery.decided_at is not None and delivery.decided_at >= started:
                    delivery.decided_at = when
            for name in ("funded_at", "accepted_at", "released_at", "closed_at", "updated_at"):
                value = getattr(milestone, name)
                if value is not None and value >= started:
                    setattr(milestone, name, when)
        if contract is not None:
            for name in ("completed_at", "ended_at"):
                value = getattr(contract, name)
                if value is not None and value >= started:
                    setattr(contract, name, when)
        session.flush()

    def money_summary(self) -> str:
        """What the seed did about contract money, in a sentence for its output."""
        if self.gateway is None:
            return (
                f"Contracts: left awarded and unfunded, with no money history, because {self.no_money_reason}. "
                "Start the local Stripe simulator first (./run-demo does) for funded, delivered, paid and "
                "refunded milestones."
            )
        counts = dict(
            self.session.execute(
                select(col(Milestone.status), func.count(col(Milestone.id))).group_by(Milestone.status)
            ).all()
        )
        held = sum(counts.get(status, 0) for status in HELD_STATES)
        return (
            f"Contract money moved through the local Stripe simulator at {self.gateway.api_base}: "
            f"{counts.get(MilestoneStatus.RELEASED, 0)} milestones paid out, {held} held by the platform, "
            f"{counts.get(MilestoneStatus.REFUNDED, 0)} refunded, {counts.get(MilestoneStatus.PENDING, 0)} "
            f"waiting to be funded; {self._count(LedgerEntry)} ledger entries."
        )

    def load_questions(self) -> None:
        for row in self._read("questions"):
            job = self._job(row["job"])
            vendor = self._org(row["vendor"])
            question = Question(
                job_id=job.id,
                vendor_org_id=vendor.id,
                asked_by_id=self._first_member(vendor.name).id,
                text=row["text"],
                asked_at=self._ago(row["asked_days_ago"]),
            )
            if row.get("answer"):
                answerer = self._user(row["answered_by"]) if row.get("answered_by") else None
                question.answer = row["answer"]
                question.answered_by_id = answerer.id if answerer else job.created_by_id
                question.answered_at = self._ago(row["answered_days_ago"])
            self.session.add(question)
        self.session.flush()

    def load_notifications(self) -> None:
        for row in self._read("notifications"):
            created = self._ago(row.get("days_ago", 0))
            link = f"/jobs/{self._job(row['job']).id}" if row.get("job") else row.get("link", "")
            self.session.add(
                Notification(
                    user_id=self._user(row["user"]).id,
                    kind=row["kind"],
                    message=row["message"],
                    link=link,
                    created_at=created,
                    read_at=created if row.get("read") else None,
                )
            )
        self.session.flush()

    def screen_everything(self) -> None:
        """Screen every vendor for every lab and act on it: verdicts, conflicted bids, flagged contracts."""
        refresh_verdicts(self.session, None)

    def summary(self) -> str:
        buyers = sum(org.kind == OrgKind.BUYER for org in self.orgs.values())
        return (
            f"{buyers} labs, {len(self.orgs) - buyers} vendors, {len(self.users)} users, "
            f"{self._count(Job)} jobs, {self._count(Bid)} bids, "
            f"{self._count(DisclosureVersion)} disclosure versions, {self._count(Rival)} rivals named."
        )

    def _count(self, model) -> int:
        return self.session.execute(select(func.count()).select_from(model)).scalar_one()


@click.command("seed")
@click.option("--reset", is_flag=True, help="Empty every table first (deletes all data).")
@with_appcontext
def seed_command(reset: bool) -> None:
    """Load seed_data/ into the database (refuses if it already has data, unless --reset)."""
    session = db.session
    if reset:
        empty_database(session)
    elif database_has_data(session):
        raise click.ClickException(
            "The database already has organisations or users; the demo is loaded only into an empty one. "
            "Run `flask --app marketplace seed --reset` to delete everything and load the demo."
        )
    gateway, no_money_reason = demo_gateway(current_app.config)
    loader = DemoLoader(
        session,
        gateway=gateway,
        fee_bps=int(current_app.config.get("PLATFORM_FEE_BPS", 0)),
        no_money_reason=no_money_reason,
    )
    try:
        with click.progressbar(
            loader.steps(), label="Loading demo data", item_show_func=lambda step: step[0] if step else ""
        ) as bar:
            for _label, step in bar:
                step()
        checked = None
        if gateway is not None:
            differences, checked = reconcile(session, gateway)
            if differences:
                raise click.ClickException(
                    "The demo's money does not reconcile with Stripe (nothing was saved):\n" + "\n".join(differences)
                )
        session.commit()
    except Exception:
        session.rollback()
        raise
    click.echo(f"Demo data loaded: {loader.summary()}")
    click.echo(loader.money_summary())
    if checked is not None:
        click.echo(
            f"Checked as `flask --app marketplace payments reconcile` checks: the ledger agrees with Stripe "
            f"and with the contracts ({checked} ledger entries)."
        )
    click.echo(f"Sign in with the password {DEMO_PASSWORD} as:")
    for role, email in DEMO_LOGINS:
        click.echo(f"  {role:<7} {email}")
    click.echo("Every other user in seed_data/users.json has the same password.")
