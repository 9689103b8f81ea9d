"""Imports every model module so that mappers and autogenerate see every table."""

from marketplace.accounts.models import (
    AccountSession,
    AccountToken,
    Organization,
    OrgInvitation,
    RecoveryCode,
    User,
    VendorProfile,
)
from marketplace.api.models import ApiToken, IdempotentResponse
from marketplace.audit.models import AuditRecord
from marketplace.bids.models import Bid, BidAttachment, BidRevision, ShortlistedBid
from marketplace.certificates.models import Certificate, CertificateReminder
from marketplace.concentration.models import OwnerGroupReport, SpendCap
from marketplace.contracts.models import Contract, Delivery, DeliveryFile, Milestone, Rating
from marketplace.deals.models import PendingDeal
from marketplace.disclosures.models import DisclosureVersion
from marketplace.disputes.models import Dispute, DisputeFile, DisputeStatement
from marketplace.jobs.models import Job, JobAttachment, JobInvitation, Question
from marketplace.messages.models import BidMessage, MessageAttachment
from marketplace.ndas.models import Nda, NdaAcceptance
from marketplace.neutrality.models import NeutralityStatement
from marketplace.notifications.models import Notification
from marketplace.parties.models import (
    BodsUpload,
    CommercialTie,
    Interest,
    NoOwnersDeclaration,
    Party,
    PartyIdentifier,
)
from marketplace.payments.models import BillingCustomer, LedgerEntry, PayoutAccount, WebhookEvent
from marketplace.playbook.models import ContractPlaybook, DataGrant, LabPlaybook
from marketplace.scoring.models import BidScore, ScoringWeights
from marketplace.screening.models import (
    PendingRescreen,
    Rival,
    ScreeningPolicy,
    TableGeneration,
    VerdictRecord,
    Waiver,
)
from marketplace.sso.models import ScimToken, SsoConfig, SsoDomain
from marketplace.webhooks.models import (
    DeadlineAnnounced,
    OutgoingEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

__all__ = [
    "AccountSession",
    "AccountToken",
    "RecoveryCode",
    "AuditRecord",
    "Bid",
    "BidAttachment",
    "BidMessage",
    "BidRevision",
    "BidScore",
    "BodsUpload",
    "Certificate",
    "CertificateReminder",
    "CommercialTie",
    "Contract",
    "DisclosureVersion",
    "Interest",
    "Job",
    "JobAttachment",
    "JobInvitation",
    "MessageAttachment",
    "Nda",
    "NdaAcceptance",
    "NeutralityStatement",
    "PendingDeal",
    "SpendCap",
    "OwnerGroupReport",
    "Notification",
    "OrgInvitation",
    "Organization",
    "Party",
    "PartyIdentifier",
    "Question",
    "Rival",
    "ScoringWeights",
    "ShortlistedBid",
    "User",
    "VendorProfile",
    "VerdictRecord",
    "TableGeneration",
    "ScreeningPolicy",
    "Waiver",
    "BillingCustomer",
    "Delivery",
    "DeliveryFile",
    "LedgerEntry",
    "Milestone",
    "PayoutAccount",
    "Rating",
    "WebhookEvent",
    "NoOwnersDeclaration",
    "PendingRescreen",
    "Dispute",
    "DisputeFile",
    "DisputeStatement",
    "ContractPlaybook",
    "DataGrant",
    "LabPlaybook",
    "WebhookEndpoint",
    "OutgoingEvent",
    "WebhookDelivery",
    "WebhookAttempt",
    "DeadlineAnnounced",
    "SsoConfig",
    "SsoDomain",
    "ScimToken",
    "ApiToken",
    "IdempotentResponse",
]
