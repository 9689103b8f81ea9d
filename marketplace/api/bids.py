"""Bids over the API: the same services and visibility as marketplace.bids.views. A lab compares, reads and awards
its jobs' bids (a sealed job's terms only after the deadline); a vendor places, revises and withdraws its own."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import cast

from flask import url_for

from marketplace import visibility
from marketplace.accounts.models import Organization, User
from marketplace.api.problems import ApiProblem, field_errors
from marketplace.api.routing import Created, operation, page_of
from marketplace.api.schemas import AwardOut, BidOut, BidPage, Comparison, ListQuery, OfferIn, RevisionOut, Terms
from marketplace.bids import approvals, service
from marketplace.bids.models import AwardRequest, Bid, BidTerms
from marketplace.extensions import db

LAB, VENDOR = ("buyer",), ("vendor",)
# The bid form's field names, as the API names them.
API_FIELDS = {"price_per_unit": "price_per_unit_minor", "total": "total_minor", "pilot_price": "pilot_price_minor"}


def _terms(terms: BidTerms) -> Terms:
    return Terms(
        price_per_unit_minor=terms.price_per_unit_minor,
        total_minor=terms.total_minor,
        currency=terms.currency,
        turnaround_days=terms.turnaround_days,
        quality_guarantee_pct=terms.quality_guarantee_pct,
        proposal=terms.proposal,
        requirement_answers=dict(terms.requirement_answers or {}),
        data_handling_response=terms.data_handling_response,
        pilot_price_minor=terms.pilot_price_minor,
    )


def bid_out(bid: Bid, vendor: str, *, terms: bool, findings: list[str] | None = None, revisions=None) -> BidOut:
    return BidOut(
        id=bid.id,
        job_id=bid.job_id,
        vendor=vendor,
        status=str(bid.status),
        revision=bid.revision,
        created_at=bid.created_at,
        updated_at=bid.updated_at,
        terms=_terms(bid) if terms else None,
        findings=findings or [],
        revisions=revisions,
    )


def _offer(body: OfferIn) -> service.Offer:
    return service.Offer(
        price_per_unit_minor=body.price_per_unit_minor,
        total_minor=body.total_minor,
        turnaround_days=body.turnaround_days,
        quality_guarantee_pct=body.quality_guarantee_pct,
        proposal=body.proposal.strip(),
        data_handling_response=body.data_handling_response.strip(),
        requirement_answers={key: body.requirement_answers.get(key, "") for key in service.REQUIREMENTS},
        pilot_price_minor=body.pilot_price_minor,
    )


@contextmanager
def _offer_fields() -> Iterator[None]:
    """A refusal beside a bid form's field, named as the API names it."""
    try:
        yield
    except service.BidError as error:
        if error.field is None:
            raise
        name = API_FIELDS.get(error.field) or error.field.replace("answer_", "requirement_answers.", 1)
        raise ApiProblem(422, str(error), "validation", errors=field_errors({name: str(error)})) from None


def _own_bid(user: User, bid_id: int) -> BidOut:
    page = service.bid_page(db.session, user, bid_id)
    revisions = [
        RevisionOut(
            **_terms(revision).model_dump(),
            number=revision.number,
            created_at=revision.created_at,
            withdrawn_at=revision.withdrawn_at,
        )
        for revision in page.revisions
    ]
    vendor = cast(Organization, db.session.get(Organization, page.bid.vendor_org_id))
    return bid_out(page.bid, vendor.name, terms=True, revisions=revisions)


# --- the lab -----------------------------------------------------------------------------------------------------


@operation(
    "GET",
    "/jobs/<int:job_id>/bids",
    summary="Compare your job's bids",
    scope="bids:read",
    response=Comparison,
    kinds=LAB,
    tag="bids",
)
def compare_bids(user: User, job_id: int) -> Comparison:
    """The comparison of bids.compare: on a sealed job, only how many until the deadline; a vendor excluded since
    it bid has left it. 404 for another organisation's job."""
    comparison = service.comparison(db.session, user, job_id)
    return Comparison(
        job_id=comparison.job.id,
        amounts_visible=comparison.amounts_visible,
        sealed_until=comparison.sealed_until,
        bid_count=comparison.bid_count,
        can_award=comparison.can_award,
        bids=[
            bid_out(row.bid, row.vendor.name, terms=comparison.amounts_visible, findings=row.findings)
            for row in comparison.rows
        ],
    )


@operation(
    "GET",
    "/jobs/<int:job_id>/bids/<int:bid_id>",
    summary="Read one bid of your job",
    scope="bids:read",
    response=BidOut,
    kinds=LAB,
    tag="bids",
)
def read_proposal(user: User, job_id: int, bid_id: int) -> BidOut:
    """The whole bid with what screening found, as bids.proposal shows it; 404 before a sealed job's deadline."""
    found = service.proposal(db.session, user, job_id, bid_id)
    return bid_out(found.bid, found.vendor.name, terms=True, findings=found.findings)


@operation(
    "POST",
    "/jobs/<int:job_id>/bids/<int:bid_id>/award",
    summary="Award a bid (or ask your approvers)",
    scope="bids:write",
    response=AwardOut,
    status=201,
    kinds=LAB,
    creates=True,
    tag="bids",
)
def award(user: User, job_id: int, bid_id: int) -> Created:
    """Award the bid as bids.award does: a contract is made and every bidder told; above the lab's approval
    amount, its approvers are asked instead."""
    made = approvals.award_or_request(db.session, user, job_id, bid_id)
    if isinstance(made, AwardRequest):
        return Created(
            AwardOut(outcome="approval_requested", contract_id=None, award_request_id=made.id),
            url_for("api.read_proposal", job_id=job_id, bid_id=bid_id),
        )
    return Created(
        AwardOut(outcome="awarded", contract_id=made.id, award_request_id=None),
        url_for("api.get_contract", contract_id=made.id),
    )


# --- the vendor ----------------------------------------------------------------------------------------------------


@operation(
    "GET",
    "/bids",
    summary="List your bids",
    scope="bids:read",
    response=BidPage,
    query=ListQuery,
    kinds=VENDOR,
    tag="bids",
)
def list_bids(user: User, query: ListQuery) -> BidPage:
    """Your organisation's bids on jobs it may still see, newest first."""
    bids, following = page_of(visibility.own_bids(db.session, user), Bid.id, query.cursor, query.limit, "list_bids")
    vendor = cast(Organization, db.session.get(Organization, user.org_id))
    return BidPage(items=[bid_out(bid, vendor.name, terms=True) for bid in bids], next=following)


@operation(
    "GET", "/bids/<int:bid_id>", summary="Read your bid", scope="bids:read", response=BidOut, kinds=VENDOR, tag="bids"
)
def get_bid(user: User, bid_id: int) -> BidOut:
    """Your bid with every revision, newest first; 404 for anyone else's."""
    return _own_bid(user, bid_id)


@operation(
    "POST",
    "/jobs/<int:job_id>/bids",
    summary="Place a bid",
    scope="bids:write",
    response=BidOut,
    body=OfferIn,
    status=201,
    kinds=VENDOR,
    creates=True,
    tag="bids",
)
def place_bid(user: User, job_id: int, body: OfferIn) -> Created:
    """Place your organisation's bid (or bid again after withdrawing), as bids.new does; 404 for a job you may not
    see, 409 when you may not bid now."""
    with _offer_fields():
        bid = service.place_bid(db.session, user, job_id, _offer(body))
    return Created(_own_bid(user, bid.id), url_for("api.get_bid", bid_id=bid.id))


@operation(
    "PUT",
    "/bids/<int:bid_id>",
    summary="Revise your bid",
    scope="bids:write",
    response=BidOut,
    body=OfferIn,
    kinds=VENDOR,
    tag="bids",
)
def revise_bid(user: User, bid_id: int, body: OfferIn) -> BidOut:
    """A new revision of your active bid before the deadline; earlier ones are kept."""
    with _offer_fields():
        service.revise_bid(db.session, user, bid_id, _offer(body))
    return _own_bid(user, bid_id)


@operation(
    "POST",
    "/bids/<int:bid_id>/withdraw",
    summary="Withdraw your bid",
    scope="bids:write",
    response=BidOut,
    kinds=VENDOR,
    tag="bids",
)
def withdraw_bid(user: User, bid_id: int) -> BidOut:
    """Withdraw your bid before the deadline; it leaves the lab's comparison."""
    service.withdraw_bid(db.session, user, bid_id)
    return _own_bid(user, bid_id)
