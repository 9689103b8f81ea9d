"""factory_boy factories for every area, writing through the test's own session."""

from datetime import date, timedelta

import factory
from factory.alchemy import SQLAlchemyModelFactory

from marketplace.accounts.models import Organization, OrgKind, Role, User, VendorProfile
from marketplace.accounts.passwords import hash_password
from marketplace.bids.models import Bid, BidRevision, BidStatus
from marketplace.certificates.models import Certificate, CertificateStatus
from marketplace.contracts.models import Contract
from marketplace.db_types import utcnow
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.extensions import db
from marketplace.jobs.models import BiddingMode, Job, JobStatus, Question, Visibility
from marketplace.parties.models import Interest, Party, PartyKind, TieOrigin
from marketplace.parties.service import normalize_name
from marketplace.screening.models import Rival

PASSWORD = "correct horse battery staple"
# Every admin from the factory has two-factor authentication on with this secret (tests compute its codes).
ADMIN_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
_PASSWORD_HASH = hash_password(PASSWORD)


class Base(SQLAlchemyModelFactory):
    class Meta:
        abstract = True
        sqlalchemy_session_factory = lambda: db.session  # noqa: E731
        sqlalchemy_session_persistence = "flush"


class PartyFactory(Base):
    class Meta:
        model = Party

    kind = PartyKind.ENTITY
    party_type = "registeredEntity"
    name = factory.Sequence(lambda n: f"Holding {n} Ltd")
    name_normalized = factory.LazyAttribute(lambda o: normalize_name(o.name))


class PersonFactory(PartyFactory):
    kind = PartyKind.PERSON
    party_type = "knownPerson"
    name = factory.Sequence(lambda n: f"Person {n}")


class OrganizationFactory(Base):
    class Meta:
        model = Organization

    # Names unlike the ones tests choose: organisation names are unique (case, punctuation, suffix aside).
    name = factory.Sequence(lambda n: f"Org {n} Group")
    kind = OrgKind.BUYER
    party_id = factory.LazyAttribute(lambda o: PartyFactory(name=o.name).id)
    verified_at = factory.LazyFunction(utcnow)


class BuyerOrgFactory(OrganizationFactory):
    name = factory.Sequence(lambda n: f"Lab {n} Research")
    kind = OrgKind.BUYER


class VendorOrgFactory(OrganizationFactory):
    name = factory.Sequence(lambda n: f"Vendor {n} Labeling")
    kind = OrgKind.VENDOR

    @factory.post_generation
    def profile(obj, create, extracted, **kwargs):
        if create:
            db.session.add(VendorProfile(org_id=obj.id))
            db.session.flush()


class UserFactory(Base):
    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    name = factory.Sequence(lambda n: f"User {n}")
    password_hash = _PASSWORD_HASH
    role = Role.BUYER
    org_id = None
    timezone = "UTC"
    email_verified_at = factory.LazyFunction(utcnow)


class BuyerFactory(UserFactory):
    role = Role.BUYER
    org_id = factory.LazyFunction(lambda: BuyerOrgFactory().id)


class VendorFactory(UserFactory):
    role = Role.VENDOR
    org_id = factory.LazyFunction(lambda: VendorOrgFactory().id)


class AdminFactory(UserFactory):
    role = Role.ADMIN
    totp_secret = ADMIN_TOTP_SECRET
    totp_enabled_at = factory.LazyFunction(utcnow)


class JobFactory(Base):
    class Meta:
        model = Job

    buyer_org_id = factory.LazyFunction(lambda: BuyerOrgFactory().id)
    title = factory.Sequence(lambda n: f"Label {n} thousand images")
    description = "Draw boxes around every vehicle."
    modality = "image"
    task_type = "bounding_boxes"
    volume = 10000
    unit = "images"
    quality_target_pct = 98.0
    languages = factory.LazyFunction(list)
    certifications = factory.LazyFunction(lambda: ["soc2_type2"])
    budget_min_minor = 500_000
    budget_max_minor = 1_000_000
    currency = "USD"
    bid_deadline = factory.LazyFunction(lambda: utcnow() + timedelta(days=7))
    delivery_date = factory.LazyFunction(lambda: date.today() + timedelta(days=60))
    visibility = Visibility.PUBLIC
    bidding_mode = BiddingMode.SEALED
    status = JobStatus.OPEN
    codename = factory.Sequence(lambda n: f"Project Heron {n}")
    published_at = factory.LazyFunction(utcnow)


class BidFactory(Base):
    class Meta:
        model = Bid

    job_id = factory.LazyFunction(lambda: JobFactory().id)
    vendor_org_id = factory.LazyFunction(lambda: VendorOrgFactory().id)
    price_per_unit_minor = 60
    total_minor = 600_000
    currency = "USD"
    turnaround_days = 21
    quality_guarantee_pct = 98.5
    proposal = "We will do it well."

    @factory.post_generation
    def first_revision(obj, create, extracted, **kwargs):
        if create:
            db.session.add(
                BidRevision(
                    bid_id=obj.id,
                    number=1,
                    price_per_unit_minor=obj.price_per_unit_minor,
                    total_minor=obj.total_minor,
                    currency=obj.currency,
                    turnaround_days=obj.turnaround_days,
                    quality_guarantee_pct=obj.quality_guarantee_pct,
                    proposal=obj.proposal,
                )
            )
            db.session.flush()


class ContractFactory(Base):
    """An active contract between a lab and a vendor on the vendor's awarded bid (its job and bid made unless
    given), of one milestone for the whole amount (contracts.models makes it)."""

    class Meta:
        model = Contract

    buyer_org_id = factory.LazyFunction(lambda: BuyerOrgFactory().id)
    vendor_org_id = factory.LazyFunction(lambda: VendorOrgFactory().id)
    job_id = factory.LazyAttribute(lambda o: JobFactory(buyer_org_id=o.buyer_org_id).id)
    bid_id = factory.LazyAttribute(
        lambda o: BidFactory(job_id=o.job_id, vendor_org_id=o.vendor_org_id, status=BidStatus.AWARDED).id
    )
    total_minor = 600_000
    currency = "USD"


class QuestionFactory(Base):
    class Meta:
        model = Question

    job_id = factory.LazyFunction(lambda: JobFactory().id)
    vendor_org_id = factory.LazyFunction(lambda: VendorOrgFactory().id)
    text = "Is the data in English only?"


class CertificateFactory(Base):
    """A verified ISO 27001 certificate valid for another year (its file is not on disk)."""

    class Meta:
        model = Certificate

    vendor_org_id = factory.LazyFunction(lambda: VendorOrgFactory().id)
    kind = "iso27001"
    issuer = "BSI Group"
    scope = "Annotation platform and the Lisbon delivery centre"
    issued_on = factory.LazyFunction(lambda: utcnow().date() - timedelta(days=300))
    expires_on = factory.LazyFunction(lambda: utcnow().date() + timedelta(days=365))
    filename = "iso27001.pdf"
    stored_name = factory.Sequence(lambda n: f"{n:040x}.pdf")
    content_type = "application/pdf"
    size_bytes = 1000
    sha256 = "0" * 64
    status = CertificateStatus.VERIFIED
    uploaded_by_id = factory.LazyAttribute(lambda o: VendorFactory(org_id=o.vendor_org_id).id)


class DisclosureFactory(Base):
    class Meta:
        model = DisclosureVersion

    vendor_org_id = factory.LazyFunction(lambda: VendorOrgFactory().id)
    number = 1
    status = DisclosureStatus.SUBMITTED
    attester_name = "Ana Officer"
    attester_title = "CEO"
    submitted_at = factory.LazyFunction(utcnow)


class ApprovedDisclosureFactory(DisclosureFactory):
    """An approved version, approved now: screening's unverified rule says nothing about its vendor."""

    status = DisclosureStatus.APPROVED
    decided_at = factory.LazyFunction(utcnow)


class VerifiedVendorOrgFactory(VendorOrgFactory):
    """A vendor organisation with an approved disclosure (and no ties): screened clear unless a test adds one."""

    @factory.post_generation
    def approved_disclosure(obj, create, extracted, **kwargs):
        if create:
            ApprovedDisclosureFactory(vendor_org_id=obj.id)


class VerifiedVendorFactory(VendorFactory):
    org_id = factory.LazyFunction(lambda: VerifiedVendorOrgFactory().id)


class InterestFactory(Base):
    class Meta:
        model = Interest

    interested_party_id = factory.LazyFunction(lambda: PartyFactory().id)
    subject_party_id = factory.LazyFunction(lambda: PartyFactory().id)
    interest_type = "shareholding"
    share_exact = 30.0
    origin = TieOrigin.ADMIN_FACT


class RivalFactory(Base):
    class Meta:
        model = Rival

    buyer_org_id = factory.LazyFunction(lambda: BuyerOrgFactory().id)
    party_id = factory.LazyFunction(lambda: PartyFactory().id)
