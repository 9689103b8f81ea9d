"""Contracts and their milestones over the API, read only: the contract's two organisations see it, nobody else."""

from sqlalchemy import select
from sqlmodel import col

from marketplace.accounts.models import Organization, User
from marketplace.api.routing import operation, page_of
from marketplace.api.schemas import ContractOut, ContractPage, ListQuery, MilestoneOut
from marketplace.contracts import service
from marketplace.contracts.lifecycle import milestones_of
from marketplace.contracts.models import Contract
from marketplace.extensions import db


def _names(ids: set[int]) -> dict[int, str]:
    rows = db.session.execute(select(col(Organization.id), col(Organization.name)).where(col(Organization.id).in_(ids)))
    return dict(rows.all())


def _contract_out(user: User, contract: Contract, names: dict[int, str]) -> ContractOut:
    side = "vendor" if user.is_vendor else "buyer"
    return ContractOut(
        id=contract.id,
        job_id=contract.job_id,
        buyer=names[contract.buyer_org_id],
        vendor=names[contract.vendor_org_id],
        total_minor=contract.total_minor,
        currency=contract.currency,
        # A vendor reads a flagged or paused contract as "on hold", never why (contracts.service).
        status=service.status_seen_by(contract, side),
        created_at=contract.created_at,
        milestones=[
            MilestoneOut(
                id=m.id,
                title=m.title,
                amount_minor=m.amount_minor,
                currency=m.currency,
                status=str(m.status),
                due_date=m.due_date,
            )
            for m in milestones_of(db.session, contract.id)
        ],
    )


@operation(
    "GET",
    "/contracts",
    summary="List your organisation's contracts",
    scope="contracts:read",
    response=ContractPage,
    query=ListQuery,
    tag="contracts",
)
def list_contracts(user: User, query: ListQuery) -> ContractPage:
    """The contracts your organisation is a party to, newest first, with their milestones."""
    statement = select(Contract).where(service.contract_filter(user))
    contracts, following = page_of(statement, Contract.id, query.cursor, query.limit, "list_contracts")
    names = _names({c.buyer_org_id for c in contracts} | {c.vendor_org_id for c in contracts})
    return ContractPage(items=[_contract_out(user, c, names) for c in contracts], next=following)


@operation(
    "GET",
    "/contracts/<int:contract_id>",
    summary="Read a contract and its milestones",
    scope="contracts:read",
    response=ContractOut,
    tag="contracts",
)
def get_contract(user: User, contract_id: int) -> ContractOut:
    """A contract your organisation is a party to; 404 for any other."""
    contract = service.get_contract(db.session, user, contract_id)
    return _contract_out(user, contract, _names({contract.buyer_org_id, contract.vendor_org_id}))
