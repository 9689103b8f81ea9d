"""The audit trail in words, for the admins' page: what happened as a sentence, a link to what it concerns, and
each change as "field: before → after". The stored record (its action code, its JSON) is unchanged; the export and
`flask audit verify` read that."""

from dataclasses import dataclass
from typing import Any

from marketplace.audit.models import AuditRecord

# What each action says, after the actor's name.
ACTIONS = {
    "bid.placed": "placed a bid",
    "bid.resubmitted": "bid again after withdrawing",
    "bid.revised": "revised a bid",
    "bid.withdrawn": "withdrew a bid",
    "bid.shortlisted": "shortlisted a bid",
    "bid.unshortlisted": "took a bid off the shortlist",
    "bods.imported": "imported a BODS file",
    "certificate.rejected": "rejected a certificate",
    "certificate.uploaded": "uploaded a certificate",
    "certificate.verified": "verified a certificate",
    "contract.ended": "ended a contract",
    "contract.milestones_planned": "planned a contract's milestones",
    "contract.purchase_order_set": "set a contract's purchase-order number",
    "dispute.decided": "decided a dispute",
    "grant.issued": "gave a vendor access to data for a contract",
    "grant.revoked": "revoked a vendor's access to data for a contract",
    "playbook.defaults_set": "set the lab's change-of-control playbook for new contracts",
    "playbook.set": "changed a contract's change-of-control playbook",
    "playbook.started": "started a contract's change-of-control playbook (the vendor is now excluded)",
    "playbook.continued": "went on with a contract instead of winding it down, with a reason",
    "playbook.settled": "settled a wound-down contract's work done",
    "playbook.attested": "attested the deletion of the lab's data",
    "dispute.opened": "opened a dispute",
    "dispute.withdrawn": "withdrew a dispute",
    "dispute.statement_added": "added a statement to a dispute",
    "disclosure.evidence_attached": "attached evidence to a disclosure",
    "disclosure.evidence_removed": "removed evidence from a disclosure",
    "disclosure.started": "started a disclosure version",
    "disclosure.submitted": "filed a disclosure version",
    "disclosure.approved": "approved a disclosure version",
    "disclosure.rejected": "rejected a disclosure version",
    "disclosure.changes_requested": "asked for changes to a disclosure version",
    "fact.recorded": "recorded a fact from another source",
    "job.awarded": "awarded a job",
    "award.approval_requested": "asked the lab's approvers to approve an award",
    "award.approved": "approved an award",
    "award.declined": "declined an award, with a reason",
    "award.request_withdrawn": "closed an award waiting for an approver (the job cancelled or the bid withdrawn)",
    "organization.approval_amount_set": "set the amount above which an award needs an approver",
    "organization.ownership_transferred": "handed the organisation's ownership to a colleague",
    "user.left": "left the organisation",
    "user.removed": "removed a member from the organisation",
    "user.reinstated": "came back to the organisation through a new invitation",
    "user.role_changed": "changed a colleague's role",
    "pilot.started": "started a paid pilot with a bid",
    "deal.recorded": "recorded a pending deal",
    "leak.traced": "checked a leaked copy of a confidential brief for its marks",
    "spend_cap.changed": "changed the lab's cap on its spend under one owner",
    "deal.closed": "closed a pending deal: its stake is now a tie",
    "deal.abandoned": "marked a pending deal abandoned",
    "neutrality.signed": "was given a signed neutrality statement",
    "neutrality.revoked": "revoked a neutrality statement a change made untrue",
    "job.final_offers_requested": "asked the shortlist for best and final offers",
    "job.cancelled": "cancelled a job",
    "job.published": "published a job",
    "job.status_changed": "moved a job to its next state",
    "job.vendors_invited": "invited vendors to a job",
    "milestone.accepted": "accepted a delivery",
    "milestone.accepted_at_deadline": "accepted a delivery at its acceptance deadline (the buyer was silent)",
    "milestone.cancelled": "cancelled a milestone",
    "milestone.checkout_started": "started paying for a milestone",
    "milestone.delivered": "delivered a milestone",
    "milestone.funded": "funded a milestone",
    "milestone.refunded": "refunded a milestone",
    "milestone.rejected": "rejected a delivery",
    "milestone.released": "released a milestone's payment",
    "nda.accepted": "accepted a lab's NDA",
    "nda.not_required": "stopped requiring its NDA on a job",
    "nda.published": "published an NDA version",
    "nda.required": "required its NDA on a job",
    "organization.created": "created an organisation",
    "organization.reinstated": "reinstated an organisation",
    "organization.suspended": "suspended an organisation",
    "organization.verified": "verified a lab",
    "party.distinction_withdrawn": "withdrew a “not the same party” mark",
    "party.marked_distinct": "marked two parties as not the same",
    "party.merged": "merged two parties",
    "payment.refunded": "refunded a payment",
    "payout_account.created": "set up a payout account",
    "payout_account.updated": "updated a payout account",
    "policy.changed": "changed its screening policy",
    "rival.added": "named a rival",
    "rival.removed": "removed a rival",
    "scoring.weights_set": "set a job's scoring weights",
    "screening.verdict_changed": "saw a screening verdict change",
    "user.email_confirmed": "confirmed an email address",
    "user.password_changed": "changed a password",
    "user.password_reset": "reset a password",
    "user.password_reset_requested": "asked for a password reset",
    "user.recovery_code_used": "signed in with a recovery code",
    "user.recovery_codes_renewed": "renewed recovery codes",
    "user.session_ended": "ended a session",
    "user.two_factor_disabled": "turned off the second factor",
    "user.two_factor_enabled": "turned on the second factor",
    "waiver.added": "waived a finding",
    "waiver.removed": "withdrew a waiver",
    "webhook.endpoint_registered": "registered a webhook endpoint",
    "webhook.secret_rotated": "renewed a webhook endpoint's signing secret",
    "webhook.endpoint_enabled": "turned a webhook endpoint on",
    "webhook.endpoint_disabled": "turned a webhook endpoint off",
    "webhook.endpoint_deleted": "deleted a webhook endpoint",
    "webhook.endpoint_changed": "changed a webhook endpoint (its address, events or state)",
    "webhook.delivery_replayed": "sent a webhook delivery again",
    "sso.configured": "changed the organisation's single sign-on settings",
    "sso.domain_claimed": "claimed an email domain for single sign-on",
    "sso.domain_removed": "withdrew an email domain from single sign-on",
    "sso.domain_verified": "verified an organisation's email domain for single sign-on",
    "sso.domain_rejected": "turned down an organisation's claim on an email domain",
    "sso.password_break_glass": "signed in with a password while single sign-on is required (break-glass)",
    "user.joined_through_sso": "joined the organisation through its identity provider",
    "user.signed_in_through_sso": "signed in through the organisation's identity provider",
    "user.provisioned": "created a user through SCIM provisioning",
    "user.deprovisioned": "deactivated a user through SCIM provisioning, ending its sessions",
    "user.reprovisioned": "reactivated a user through SCIM provisioning",
    "user.scim_updated": "changed a user's name or address through SCIM provisioning",
    "scim_token.created": "created a SCIM provisioning token",
    "scim_token.revoked": "revoked a SCIM provisioning token",
    "api_token.created": "made an API token",
    "api_token.revoked": "revoked an API token",
}
# Subjects a link can lead an admin to: the page, by the subject's id.
LINKS = {
    "job": "/jobs/{id}",
    "disclosure": "/admin/disclosures/{id}",
    "organization": "/admin/organizations/{id}",
    "party": "/admin/parties/{id}",
    "contract": "/contracts/{id}",
    "certificate": "/admin/certificates/{id}",
    "dispute": "/disputes/{id}",
}
SUBJECTS = {
    "bid": "bid",
    "bods_file": "BODS file",
    "certificate": "certificate",
    "contract": "contract",
    "disclosure": "disclosure version",
    "dispute": "dispute",
    "job": "job",
    "milestone": "milestone",
    "nda": "NDA",
    "organization": "organisation",
    "party": "party",
    "rival": "rival",
    "screening_policy": "screening policy",
    "user": "account",
    "waiver": "waiver",
    "webhook_endpoint": "webhook endpoint",
}


@dataclass(frozen=True)
class Described:
    sentence: str  # "Maya Lindqvist (Northwind AI) published a job"
    subject: str  # "job 12"
    link: str | None  # where the admin reads it, or None
    changes: list[str]  # "total: 6000 → 5500"


def action_words(action: str) -> str:
    """The action as words: its own sentence, or the words of its code ("contract.completed": "contract completed")."""
    if action in ACTIONS:
        return ACTIONS[action]
    area, _, what = action.partition(".")
    return f"{SUBJECTS.get(area, area.replace('_', ' '))} {what.replace('_', ' ')}".strip()


def _value(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_value(item) for item in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{_key(key)} {_value(item)}" for key, item in value.items()) or "none"
    return str(value)


def _key(key: str) -> str:
    return key.replace("_", " ").replace(" minor", "").replace("pct", "%")


def change_lines(before: dict | None, after: dict | None) -> list[str]:
    """Each field that changed (or was set) as "field: before → after", in the order the record gives them."""
    before, after = before or {}, after or {}
    lines = []
    for key in dict.fromkeys([*before, *after]):
        old, new = before.get(key), after.get(key)
        if key in before and key in after:
            if old != new:
                lines.append(f"{_key(key)}: {_value(old)} → {_value(new)}")
        elif key in after:
            lines.append(f"{_key(key)}: {_value(new)}")
        else:
            lines.append(f"{_key(key)}: {_value(old)} → removed")
    return lines


def describe(record: AuditRecord) -> Described:
    subject = SUBJECTS.get(record.subject_type, record.subject_type.replace("_", " "))
    if record.subject_id:
        subject = f"{subject} {record.subject_id}"
    pattern = LINKS.get(record.subject_type)
    link = pattern.format(id=record.subject_id) if pattern and record.subject_id else None
    return Described(
        f"{record.actor_label} {action_words(record.action)}",
        subject,
        link,
        change_lines(record.before, record.after),
    )
