"""The change-of-control playbook: a contract's answer when its vendor turns excluded for the lab.

Who may do what: the lab's managers set the defaults and each contract's playbook, issue and revoke data-access
grants, settle or go on; an officer of the vendor (its owner or a manager) attests the deletion; admins read, and
are told when an attestation is overdue. Contracts stay 404 for strangers (contracts.service.get_contract).

The vendor learns what it must do (stop using the lab's data, delete it, attest by a date), never why: the finding,
the rival and the verdict are the lab's.
"""

import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import col

from marketplace import visibility
from marketplace.accounts.models import Organization, OrgRole, User
from marketplace.accounts.org_roles import has_org_role
from marketplace.audit.service import record_event
from marketplace.contracts import service as contracts
from marketplace.contracts.lifecycle import contract_link, lock_contract, milestones_of
from marketplace.contracts.models import Contract, ContractStatus, Delivery, DeliveryDecision, Milestone
from marketplace.dates import user_zone
from marketplace.db_types import utcnow
from marketplace.errors import NotVisible, Refusal
from marketplace.money import format_money
from marketplace.notifications.service import notify_admins, notify_org
from marketplace.payments.gateway import StripeGateway
from marketplace.playbook.models import (
    ContractPlaybook,
    DataGrant,
    GrantAccess,
    LabPlaybook,
    PlaybookStatus,
)
from marketplace.webhooks import events as webhook_events
from marketplace.webhooks.models import EventType

MAX_DELETION_DAYS = 90
MAX_GRANT_DAYS = 365
MIN_REASON = 10
REMIND_DAYS_BEFORE = 3
OPEN = (ContractStatus.ACTIVE, ContractStatus.FLAGGED, ContractStatus.PAUSED)
REVOKED_BY_PLAYBOOK = "Revoked by the contract's change-of-control playbook."


class PlaybookError(Refusal):
    """A refusal the user can understand; `field` names the form field it belongs to, if any."""


class WrongSide(PlaybookError):
    """A party to the contract, but not the side (or role) whose action this is: answered as 403."""


# ------------------------------------------------------------------------------------------------ reading


def _today(user: User) -> date:
    """Today where the user is (a deletion date or a grant's last day is the user's calendar day)."""
    return datetime.now(user_zone(user)).date()


def lab_defaults(session: Session, org_id: int) -> LabPlaybook:
    """The lab's defaults; a new, unsaved row with the platform's when it never set them."""
    found = session.execute(select(LabPlaybook).where(col(LabPlaybook.org_id) == org_id)).scalar_one_or_none()
    return found if found is not None else LabPlaybook(org_id=org_id)


def playbook_of(session: Session, contract: Contract, *, keep: bool = True) -> ContractPlaybook:
    """The contract's playbook, armed when the contract was made (every contract gets one: the insert listener, and
    migration 0035 for older ones). Should one be missing (rows written around the ORM), the lab's defaults stand
    in: stored when an action needs it (`keep`), never by a page that only reads."""
    found = session.execute(
        select(ContractPlaybook).where(col(ContractPlaybook.contract_id) == contract.id)
    ).scalar_one_or_none()
    if found is None:
        defaults = lab_defaults(session, contract.buyer_org_id)
        found = ContractPlaybook(
            contract_id=contract.id, wind_down=defaults.wind_down, deletion_days=defaults.deletion_days
        )
        if keep:
            session.add(found)
            session.flush()
    return found


def _side(user: User, contract: Contract) -> str:
    if user.is_admin:
        return "admin"
    return "buyer" if user.org_id == contract.buyer_org_id else "vendor"


def _contract_for(session: Session, user: User, contract_id: int, side: str | None = None) -> Contract:
    """The contract (locked when an action names its side): 404 for strangers, WrongSide for the other side."""
    contract = contracts.get_contract(session, user, contract_id)
    if side is not None:
        if _side(user, contract) != side:
            raise WrongSide(f"Only the contract's {'lab' if side == 'buyer' else 'vendor'} can do this.")
        contract = cast(Contract, lock_contract(session, contract.id))
    return contract


def _grants(session: Session, contract_id: int) -> list[DataGrant]:
    return list(
        session.execute(
            select(DataGrant).where(col(DataGrant.contract_id) == contract_id).order_by(col(DataGrant.id))
        ).scalars()
    )


def grant_state(grant: DataGrant, today: date) -> str:
    """ "revoked", "expired" (its last day passed) or "live"."""
    if grant.revoked_at is not None:
        return "revoked"
    return "expired" if grant.expires_on < today else "live"


@dataclass
class Share:
    """A held milestone's proposed division: the vendor's percentage of the work done, and why that figure."""

    milestone: Milestone
    held_minor: int
    percent: int
    basis: str


@dataclass
class PlaybookPage:
    contract: Contract
    playbook: ContractPlaybook
    side: str
    vendor_name: str
    lab_name: str
    grants: list[DataGrant]
    shares: list[Share] = field(default_factory=list)
    storage_ready: bool = False
    may_manage: bool = False  # a manager of the lab
    may_attest: bool = False  # an officer of the vendor
    today: date | None = None

    def state_of(self, grant: DataGrant) -> str:
        return grant_state(grant, cast(date, self.today))

    @property
    def overdue(self) -> bool:
        due = self.playbook.deletion_due_on
        return due is not None and self.playbook.attested_at is None and self.today is not None and self.today > due


def proposed_shares(session: Session, contract: Contract, started_at: datetime | None) -> list[Share]:
    """Each milestone holding money the wind-down divides, with the share of the work done proposed for the vendor:
    all of it for a delivery waiting for the lab's decision; otherwise the part of the time from funding to the
    milestone's due date that had passed when the playbook started (pro rata); nothing without a due date."""
    moment = started_at or utcnow()
    shares = []
    for milestone in milestones_of(session, contract.id):
        if milestone.status not in contracts.DIVIDED_STATES:
            continue
        held = contracts.held_minor(session, milestone)
        waiting = session.execute(
            select(col(Delivery.id)).where(
                col(Delivery.milestone_id) == milestone.id, col(Delivery.decision) == DeliveryDecision.WAITING
            )
        ).first()
        if waiting is not None:
            shares.append(Share(milestone, held, 100, "delivered, waiting for your decision"))
        elif milestone.due_date is not None and milestone.funded_at is not None:
            start = milestone.funded_at
            end = datetime.combine(milestone.due_date, datetime.min.time(), tzinfo=start.tzinfo)
            whole = (end - start).total_seconds()
            done = (moment - start).total_seconds()
            percent = 100 if whole <= 0 else max(0, min(100, math.floor(100 * done / whole)))
            shares.append(
                Share(milestone, held, percent, f"pro rata: {percent}% of the time from funding to the due date")
            )
        else:
            shares.append(Share(milestone, held, 0, "no due date: state the share of the work done"))
    return shares


def playbook_page(session: Session, user: User, contract_id: int) -> PlaybookPage:
    contract = _contract_for(session, user, contract_id)
    playbook = playbook_of(session, contract, keep=False)
    side = _side(user, contract)
    names = visibility.organization_names(session, {contract.buyer_org_id, contract.vendor_org_id})
    page = PlaybookPage(
        contract,
        playbook,
        side,
        names.get(contract.vendor_org_id, ""),
        names.get(contract.buyer_org_id, ""),
        _grants(session, contract.id),
        today=_today(user),
    )
    if side == "buyer":
        page.storage_ready = storage_ready(session, contract.buyer_org_id)
        page.may_manage = has_org_role(user, OrgRole.MANAGER)
        if playbook.status == PlaybookStatus.RUNNING:
            page.shares = proposed_shares(session, contract, playbook.started_at)
    elif side == "vendor":
        page.may_attest = has_org_role(user, OrgRole.MANAGER) and _attestable(playbook)
    return page


def _attestable(playbook: ContractPlaybook) -> bool:
    return playbook.status in (PlaybookStatus.RUNNING, PlaybookStatus.SETTLED) and playbook.attested_at is None


# ------------------------------------------------------------------------------------------------ the lab's settings


def _check_days(value: int | None, field_name: str) -> int:
    if value is None or not 1 <= value <= MAX_DELETION_DAYS:
        raise PlaybookError(
            f"Give the days for the deletion: a whole number from 1 to {MAX_DELETION_DAYS}.", field_name
        )
    return value


def save_defaults(session: Session, user: User, *, wind_down: bool, deletion_days: int | None) -> LabPlaybook:
    """The lab's playbook for the contracts it makes from now on."""
    if user.org_id is None or not user.is_buyer:
        raise WrongSide("Only a lab sets a change-of-control playbook.")
    days = _check_days(deletion_days, "deletion_days")
    defaults = lab_defaults(session, user.org_id)
    before = {"wind_down": defaults.wind_down, "deletion_days": defaults.deletion_days}
    defaults.wind_down, defaults.deletion_days, defaults.updated_at = wind_down, days, utcnow()
    session.add(defaults)
    session.flush()
    after = {"wind_down": wind_down, "deletion_days": days}
    record_event(session, user, "playbook.defaults_set", "organization", user.org_id, before=before, after=after)
    return defaults


def set_contract_playbook(
    session: Session, user: User, contract_id: int, *, wind_down: bool, deletion_days: int | None
) -> ContractPlaybook:
    """The lab changes one contract's playbook while it waits (armed)."""
    contract = _contract_for(session, user, contract_id, "buyer")
    playbook = playbook_of(session, contract)
    if playbook.status != PlaybookStatus.ARMED:
        raise PlaybookError(f"This playbook has {_done_words(playbook)}: it can no longer be changed.")
    days = _check_days(deletion_days, "deletion_days")
    before = {"wind_down": playbook.wind_down, "deletion_days": playbook.deletion_days}
    playbook.wind_down, playbook.deletion_days, playbook.updated_at = wind_down, days, utcnow()
    contracts.audit_contract(
        session, user, "playbook.set", contract, None, before, {"wind_down": wind_down, "deletion_days": days}
    )
    return playbook


def _done_words(playbook: ContractPlaybook) -> str:
    return {
        PlaybookStatus.RUNNING: "started",
        PlaybookStatus.SETTLED: "settled the contract",
        PlaybookStatus.CONTINUED: "been set aside to go on with the contract",
    }.get(playbook.status, "started")


# ------------------------------------------------------------------------------------------------ data-access grants


def storage_ready(session: Session, lab_org_id: int) -> bool:
    """Whether the lab's storage hears of revoked access: an enabled webhook endpoint of the lab subscribed to it."""
    return bool(webhook_events.subscribed(session, lab_org_id, EventType.DATA_ACCESS_REVOKED))


def _tell_storage(session: Session, contract: Contract, grant: DataGrant, event: EventType, reason: str = "") -> None:
    """The signed call telling the lab's storage of a grant given or taken back: a webhook event of the lab
    (marketplace.webhooks), written in this transaction and sent, retried and logged as every webhook is."""
    vendor = session.get(Organization, contract.vendor_org_id)
    webhook_events.emit(
        session,
        contract.buyer_org_id,
        event,
        {
            "grant_id": grant.id,
            "contract_id": contract.id,
            "vendor": {"id": contract.vendor_org_id, "name": vendor.name if vendor else ""},
            "resource": grant.resource,
            "access": str(grant.access),
            "expires_on": grant.expires_on.isoformat(),
            "reason": reason,
        },
    )


def issue_grant(
    session: Session, user: User, contract_id: int, *, resource: str, access: str, days: int | None
) -> DataGrant:
    """The lab gives the vendor access to a place in its storage for this contract; its storage is told, signed."""
    contract = _contract_for(session, user, contract_id, "buyer")
    playbook = playbook_of(session, contract)
    if playbook.status in (PlaybookStatus.RUNNING, PlaybookStatus.SETTLED):
        raise PlaybookError("The change-of-control playbook stopped new data access on this contract.")
    if contract.status != ContractStatus.ACTIVE:
        raise PlaybookError(f"This contract is {contract.status}: no new data access can be given.")
    if not storage_ready(session, contract.buyer_org_id):
        raise PlaybookError(
            "Register your storage as a webhook endpoint for the data access events first: access is given and "
            "taken back through it."
        )
    resource = resource.strip()
    if not resource:
        raise PlaybookError("Name the data: a bucket, a folder or a dataset.", "resource")
    if len(resource) > 500:
        raise PlaybookError("Name the data in at most 500 characters.", "resource")
    if access not in (GrantAccess.READ, GrantAccess.READ_WRITE):
        raise PlaybookError("Choose read, or read and write.", "access")
    if days is None or not 1 <= days <= MAX_GRANT_DAYS:
        raise PlaybookError(f"Give the days of access: a whole number from 1 to {MAX_GRANT_DAYS}.", "days")
    grant = DataGrant(
        contract_id=contract.id,
        resource=resource,
        access=GrantAccess(access),
        expires_on=_today(user) + timedelta(days=days),
        issued_by_id=user.id,
    )
    session.add(grant)
    session.flush()
    _tell_storage(session, contract, grant, EventType.DATA_ACCESS_GRANTED)
    contracts.audit_contract(
        session, user, "grant.issued", contract, None, None, {"resource": resource, "access": access, "days": days}
    )
    notify_org(
        session,
        contract.vendor_org_id,
        "grant_issued",
        f"The lab gave you {grant.access} access to {resource} until {grant.expires_on.isoformat()}.",
        contract_link(contract),
    )
    return grant


def _revoke(session: Session, user, contract: Contract, grant: DataGrant, reason: str) -> None:
    grant.revoked_at, grant.revoke_reason = utcnow(), reason[:500]
    _tell_storage(session, contract, grant, EventType.DATA_ACCESS_REVOKED, reason)
    contracts.audit_contract(
        session, user, "grant.revoked", contract, None, {"resource": grant.resource}, {"reason": reason}
    )


def revoke_grant(session: Session, user: User, contract_id: int, grant_id: int) -> DataGrant:
    contract = _contract_for(session, user, contract_id, "buyer")
    grant = session.get(DataGrant, grant_id)
    if grant is None or grant.contract_id != contract.id:
        raise NotVisible(f"grant {grant_id}")
    if grant.revoked_at is not None:
        raise PlaybookError("This access is revoked already.")
    _revoke(session, user, contract, grant, "Revoked by the lab.")
    return grant


# ------------------------------------------------------------------------------------------------ running


def on_verdict_changed(session: Session, actor, *, buyer_org_id: int, vendor_org_id: int, before: str, after: str):
    """A lab's verdict on a vendor turned to exclude: each open contract between them whose playbook winds down runs
    it now, in the transaction that stored the verdict (registered with marketplace.changes)."""
    if after != "exclude" or before == "exclude":
        return
    found = session.execute(
        select(Contract, ContractPlaybook)
        .join(ContractPlaybook, col(ContractPlaybook.contract_id) == Contract.id, isouter=True)
        .where(
            col(Contract.buyer_org_id) == buyer_org_id,
            col(Contract.vendor_org_id) == vendor_org_id,
            col(Contract.status).in_(OPEN),
        )
    ).all()
    for contract, playbook in found:
        playbook = playbook or playbook_of(session, contract)
        if playbook.status == PlaybookStatus.ARMED and playbook.wind_down:
            _run(session, actor, contract, playbook)


def _run(session: Session, actor, contract: Contract, playbook: ContractPlaybook) -> None:
    now = utcnow()
    due = now.date() + timedelta(days=playbook.deletion_days)
    playbook.status, playbook.started_at, playbook.deletion_due_on, playbook.updated_at = (
        PlaybookStatus.RUNNING,
        now,
        due,
        now,
    )
    before = contract.status
    contract.status = ContractStatus.PAUSED
    revoked = 0
    for grant in _grants(session, contract.id):
        if grant.revoked_at is None:
            _revoke(session, actor, contract, grant, REVOKED_BY_PLAYBOOK)
            revoked += 1
    contracts.audit_contract(
        session,
        actor,
        "playbook.started",
        contract,
        None,
        {"status": str(before)},
        {"status": "paused", "grants_revoked": revoked, "deletion_due_on": due.isoformat()},
    )
    link = f"/contracts/{contract.id}/playbook"
    notify_org(
        session,
        contract.buyer_org_id,
        "playbook_started",
        f"Contract #{contract.id}: screening now excludes the vendor, so its change-of-control playbook started. "
        f"The contract is paused and {revoked} data access grant(s) were revoked. Settle the work done, or go on "
        f"with the contract giving your reason. The vendor must attest deletion by {due.isoformat()}.",
        link,
    )
    notify_org(
        session,
        contract.vendor_org_id,
        "playbook_started",
        f"The lab is winding down contract #{contract.id}: your access to its data is revoked and no new data will "
        f"be sent. Delete the lab's data, and have an officer attest it by {due.isoformat()}.",
        link,
    )


def go_on(session: Session, user: User, contract_id: int, reason: str) -> ContractPlaybook:
    """The lab goes on with the contract instead, giving its reason (kept in the audit trail)."""
    contract = _contract_for(session, user, contract_id, "buyer")
    playbook = playbook_of(session, contract)
    if playbook.status != PlaybookStatus.RUNNING:
        raise PlaybookError("Only a running playbook can be set aside.")
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON:
        raise PlaybookError(f"Give your reason to go on, in at least {MIN_REASON} characters.", "reason")
    if len(reason) > 2000:
        raise PlaybookError("Give your reason in at most 2,000 characters.", "reason")
    now = utcnow()
    playbook.status, playbook.continued_reason, playbook.decided_by_id, playbook.updated_at = (
        PlaybookStatus.CONTINUED,
        reason,
        user.id,
        now,
    )
    before = contract.status
    contract.status = ContractStatus.ACTIVE
    contracts.audit_contract(
        session,
        user,
        "playbook.continued",
        contract,
        None,
        {"status": str(before)},
        {"status": "active", "reason": reason},
    )
    notify_org(
        session,
        contract.vendor_org_id,
        "playbook_continued",
        f"The lab goes on with contract #{contract.id}: no deletion is asked of you. "
        "Data access is given again only by new grants.",
        contract_link(contract),
    )
    return playbook


def settle(
    session: Session,
    user: User,
    gateway: StripeGateway | None,
    contract_id: int,
    percents: dict[int, int | None],
    *,
    fee_bps: int,
) -> ContractPlaybook:
    """The lab pays for the work done and the contract ends: each held milestone divided by the percentage of the
    work done the lab confirms (proposed pro rata), the rest refunded, through Stripe."""
    contract = _contract_for(session, user, contract_id, "buyer")
    playbook = playbook_of(session, contract)
    if playbook.status != PlaybookStatus.RUNNING:
        raise PlaybookError("Only a running playbook settles a contract.")
    parts: dict[int, int] = {}
    words = []
    for share in proposed_shares(session, contract, playbook.started_at):
        percent = percents.get(share.milestone.id)
        if percent is None or not 0 <= percent <= 100:
            raise PlaybookError(
                f"Give the share of milestone {share.milestone.number}'s work done: a whole number from 0 to 100.",
                f"percent_{share.milestone.id}",
            )
        parts[share.milestone.id] = share.held_minor * percent // 100
        words.append(
            f"milestone {share.milestone.number}: {percent}% done, "
            f"{format_money(parts[share.milestone.id], share.milestone.currency)} to the vendor"
        )
    reason = "Settled by the change-of-control playbook: " + ("; ".join(words) or "nothing was held")
    try:
        contracts.wind_down(session, user, gateway, contract, parts, reason, fee_bps=fee_bps)
    except contracts.ContractError as error:
        raise PlaybookError(str(error), error.field) from error
    now = utcnow()
    playbook.status, playbook.settled_at, playbook.decided_by_id, playbook.updated_at = (
        PlaybookStatus.SETTLED,
        now,
        user.id,
        now,
    )
    contracts.audit_contract(session, user, "playbook.settled", contract, None, None, {"settlement": reason})
    notify_org(
        session,
        contract.vendor_org_id,
        "playbook_settled",
        f"The lab ended contract #{contract.id} and paid for the work done: {'; '.join(words) or 'nothing was held'}."
        + ("" if playbook.attested_at else f" Your deletion attestation is still due by {playbook.deletion_due_on}."),
        contract_link(contract),
    )
    return playbook


def attest(
    session: Session,
    user: User,
    contract_id: int,
    *,
    officer_name: str,
    officer_title: str,
    deleted_on: date | None,
    details: str,
    confirmed: bool,
) -> ContractPlaybook:
    """An officer of the vendor (its owner or a manager) attests that the lab's data is deleted."""
    contract = _contract_for(session, user, contract_id, "vendor")
    if not has_org_role(user, OrgRole.MANAGER):
        raise WrongSide("Only an officer of your organisation (its owner or a manager) can attest the deletion.")
    playbook = playbook_of(session, contract)
    if not _attestable(playbook):
        raise PlaybookError(
            "A deletion was attested already." if playbook.attested_at else "No deletion is asked on this contract."
        )
    name, title = (officer_name or "").strip(), (officer_title or "").strip()
    if not name or len(name) > 200:
        raise PlaybookError("Give your full name, as the officer attesting.", "officer_name")
    if not title or len(title) > 200:
        raise PlaybookError("Give your title in your organisation.", "officer_title")
    today = _today(user)
    started = cast(datetime, playbook.started_at).date()
    if deleted_on is None or deleted_on > today:
        raise PlaybookError("Give the date the data was deleted: today or earlier.", "deleted_on")
    if deleted_on < started:
        raise PlaybookError(f"The deletion must come after the wind-down began ({started.isoformat()}).", "deleted_on")
    details = (details or "").strip()
    if len(details) > 2000:
        raise PlaybookError("Describe what was deleted in at most 2,000 characters.", "details")
    if not confirmed:
        raise PlaybookError("Confirm the attestation: tick the box.", "confirmed")
    now = utcnow()
    playbook.attested_at, playbook.attested_by_id, playbook.updated_at = now, user.id, now
    playbook.officer_name, playbook.officer_title, playbook.deleted_on = name, title, deleted_on
    playbook.deletion_details = details
    contracts.audit_contract(
        session,
        user,
        "playbook.attested",
        contract,
        None,
        None,
        {"officer": f"{name}, {title}", "deleted_on": deleted_on.isoformat(), "details": details},
    )
    notify_org(
        session,
        contract.buyer_org_id,
        "deletion_attested",
        f"Contract #{contract.id}: {name}, {title}, attested that your data was deleted on {deleted_on.isoformat()}.",
        f"/contracts/{contract.id}/playbook",
    )
    return playbook


# ------------------------------------------------------------------------------------------------ deadlines


@dataclass
class DeadlineRun:
    reminded: int = 0
    escalated: int = 0

    def summary(self) -> str:
        return f"Deletion attestations: {self.reminded} reminded, {self.escalated} escalated to the admins."


def run_deadlines(session: Session, today: date | None = None) -> DeadlineRun:
    """Remind the vendor before its attestation is due (once) and tell the admins and the lab once it is overdue
    (once). Idempotent: each is marked when sent, in the same transaction."""
    today = today or utcnow().date()
    run = DeadlineRun()
    waiting = session.execute(
        select(ContractPlaybook, Contract)
        .join(Contract, col(Contract.id) == ContractPlaybook.contract_id)
        .where(
            col(ContractPlaybook.status).in_((PlaybookStatus.RUNNING, PlaybookStatus.SETTLED)),
            col(ContractPlaybook.attested_at).is_(None),
            col(ContractPlaybook.escalated_at).is_(None),
        )
        .with_for_update(of=col(ContractPlaybook.id), skip_locked=True)
    ).all()
    for playbook, contract in waiting:
        due = cast(date, playbook.deletion_due_on)
        link = f"/contracts/{contract.id}/playbook"
        if today > due:
            names = visibility.organization_names(session, {contract.buyer_org_id, contract.vendor_org_id})
            notify_admins(
                session,
                "attestation_overdue",
                f"{names.get(contract.vendor_org_id)} has not attested the deletion of "
                f"{names.get(contract.buyer_org_id)}'s data for contract #{contract.id}, due {due.isoformat()}.",
                link,
            )
            notify_org(
                session,
                contract.buyer_org_id,
                "attestation_overdue",
                f"Contract #{contract.id}: the vendor's deletion attestation was due {due.isoformat()} and has not "
                "come. The platform's admins are told.",
                link,
            )
            playbook.escalated_at = utcnow()
            run.escalated += 1
        elif playbook.reminded_at is None and today >= due - timedelta(days=REMIND_DAYS_BEFORE):
            notify_org(
                session,
                contract.vendor_org_id,
                "attestation_due",
                f"Contract #{contract.id}: an officer must attest the deletion of the lab's data by {due.isoformat()}.",
                link,
            )
            playbook.reminded_at = utcnow()
            run.reminded += 1
    return run


@dataclass
class Overdue:
    contract: Contract
    playbook: ContractPlaybook
    vendor: str
    lab: str


def overdue_attestations(session: Session, user: User) -> list[Overdue]:
    """For admins: every wind-down whose deletion attestation is past due, oldest deadline first."""
    if not user.is_admin:
        raise WrongSide("Only admins see the overdue attestations.")
    rows = session.execute(
        select(ContractPlaybook, Contract)
        .join(Contract, col(Contract.id) == ContractPlaybook.contract_id)
        .where(
            col(ContractPlaybook.status).in_((PlaybookStatus.RUNNING, PlaybookStatus.SETTLED)),
            col(ContractPlaybook.attested_at).is_(None),
            col(ContractPlaybook.deletion_due_on) < utcnow().date(),
        )
        .order_by(col(ContractPlaybook.deletion_due_on))
    ).all()
    org_ids = {c.buyer_org_id for _, c in rows} | {c.vendor_org_id for _, c in rows}
    names = visibility.organization_names(session, org_ids)
    return [Overdue(c, p, names.get(c.vendor_org_id, ""), names.get(c.buyer_org_id, "")) for p, c in rows]
