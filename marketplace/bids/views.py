"""Vendors bid, revise and withdraw; buyers compare bids and award one."""

from pathlib import Path
from typing import cast

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace import visibility
from marketplace.accounts.models import Organization, OrgRole
from marketplace.accounts.suspension import ensure_may_act
from marketplace.bids import approvals, pilots, service
from marketplace.bids.chart import Point, scatter
from marketplace.bids.forms import BidForm, DeclineForm, FinalOffersForm
from marketplace.bids.models import AwardRequest, BidStatus
from marketplace.downloads import send_private_file
from marketplace.errors import show_on_form
from marketplace.extensions import db
from marketplace.guards import org_role_required, role_required

bp = Blueprint("bids", __name__)


@bp.app_template_global()
def requirement_answers(job, terms):
    """Each of the job's data-handling requirements with the bid's (or revision's) answer, for templates."""
    return service.answered_requirements(job, terms)


@bp.app_template_global()
def bid_panel(job):
    """The bidding panel of a job page (templates/bids/_job_panel.html) for the signed-in user."""
    if not current_user.is_authenticated:
        return None
    return service.panel_for(db.session, current_user, job)


@bp.route("/jobs/<int:job_id>/bid", methods=["GET", "POST"])
@login_required
@role_required("vendor")
def new(job_id: int):
    """Place a bid, or bid again after withdrawing (the form filled in with the withdrawn terms); 404 for a job
    the vendor may not see, 403 (with the reason) when it may not bid now."""
    job = visibility.get_visible_job(db.session, current_user, job_id)
    existing = service.own_bid_on(db.session, current_user, job)
    # A form posted after a colleague's bid landed comes back as typed, with the refusal, below.
    if existing is not None and existing.status != BidStatus.WITHDRAWN and request.method == "GET":
        flash(service.ALREADY_BID, "info")
        return redirect(url_for("bids.revise", bid_id=existing.id), 303)
    requirements = service.data_handling_requirements(job)
    context = {
        "job": job,
        "buyer": visibility.buyer_label(db.session, job, current_user),
        "requirements": requirements,
        "withdrawn": existing,
    }
    form = BidForm(currency=job.currency)
    if request.method == "GET":
        refusal = service.bidding_refusal(db.session, current_user, job)
        if refusal:
            return render_template("bids/new.html", form=None, refusal=refusal, **context), 403
        if existing is not None:
            form = BidForm.for_bid(existing)
        return render_template("bids/new.html", form=form, **context)
    if form.validate_on_submit():
        try:
            bid = service.place_bid(db.session, current_user, job.id, form.offer())
        except service.BidError as error:
            show_on_form(form, error)
        else:
            number = bid.revision  # read before the commit: after it, another revision may be the latest
            db.session.commit()
            flash(
                f"Your bid is live again as revision {number}; its history keeps the withdrawal."
                if existing is not None
                else "Your bid is placed. You can revise or withdraw it until the deadline.",
                "success",
            )
            return redirect(url_for("bids.show", bid_id=bid.id), 303)
    return render_template("bids/new.html", form=form, **context), 400


@bp.get("/bids/<int:bid_id>")
@login_required
@role_required("vendor")
def show(bid_id: int):
    """The vendor's own bid with every revision; 404 for anyone else's."""
    page = service.bid_page(db.session, current_user, bid_id)
    return render_template("bids/show.html", page=page, outcome=service.outcome_for(db.session, current_user, page.bid))


@bp.route("/bids/<int:bid_id>/revise", methods=["GET", "POST"])
@login_required
@role_required("vendor")
def revise(bid_id: int):
    """Revise the vendor's own active bid before the deadline; 404 for anyone else's, 403 when too late."""
    page = service.bid_page(db.session, current_user, bid_id)
    if page.bid.status == BidStatus.WITHDRAWN:
        return _bid_again_instead(page)
    context = {
        "page": page,
        "job": page.job,
        "buyer": page.buyer,
        "requirements": service.data_handling_requirements(page.job),
    }
    if request.method == "GET":
        if page.change_refusal:
            return render_template("bids/revise.html", form=None, refusal=page.change_refusal, **context), 403
        return render_template("bids/revise.html", form=BidForm.for_bid(page.bid), **context)
    form = BidForm(currency=page.bid.currency)
    if form.validate_on_submit():
        try:
            bid = service.revise_bid(db.session, current_user, bid_id, form.offer())
        except service.BidError as error:
            show_on_form(form, error)
        else:
            number = bid.revision  # read before the commit: after it, another revision may be the latest
            db.session.commit()
            flash(f"Revision {number} saved; earlier revisions are kept.", "success")
            return redirect(url_for("bids.show", bid_id=bid.id), 303)
    return render_template("bids/revise.html", form=form, **context), 400


def _bid_again_instead(page: service.BidPage):
    """A withdrawn bid is not revised: the vendor may bid again. Opened, the revise address leads to the bid
    form; posted (the bid was withdrawn in another tab), the terms come back in the bid form, as typed."""
    if request.method == "GET":
        flash("This bid is withdrawn, so there is nothing to revise.", "info")
        return redirect(url_for("bids.new", job_id=page.job.id), 303)
    context = {
        "job": page.job,
        "buyer": page.buyer,
        "withdrawn": page.bid,
        "requirements": service.data_handling_requirements(page.job),
    }
    if page.bid_refusal:
        return render_template("bids/new.html", form=None, refusal=page.change_refusal, **context), 400
    form = BidForm(currency=page.bid.currency)
    form.validate()
    form.form_errors.append(
        "This bid was withdrawn, so it was not revised: bid again with these terms to make it live."
    )
    return render_template(
        "bids/new.html", form=form, form_action=url_for("bids.new", job_id=page.job.id), **context
    ), 400


@bp.route("/bids/<int:bid_id>/withdraw", methods=["GET", "POST"])
@login_required
@role_required("vendor")
def withdraw(bid_id: int):
    """Withdraw the vendor's own bid before the deadline, once the vendor has confirmed on the page this address
    shows; 404 for anyone else's."""
    if request.method == "GET":
        ensure_may_act(db.session, current_user)
        preview = service.withdrawal_preview(db.session, current_user, bid_id)
        return render_template("bids/withdraw.html", preview=preview), 403 if preview.refusal else 200
    try:
        service.withdraw_bid(db.session, current_user, bid_id)
    except service.BidError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash("Your bid is withdrawn. You may bid again on this job until its deadline.", "success")
    return redirect(url_for("bids.show", bid_id=bid_id), 303)


@bp.get("/bids/")
@login_required
@role_required("vendor")
def mine():
    """Every bid of the vendor's organisation, with its outcome."""
    return render_template("bids/mine.html", rows=service.my_bids(db.session, current_user))


@bp.get("/jobs/<int:job_id>/bids")
@login_required
def compare(job_id: int):
    """The buyer's comparison of its job's bids; 404 for vendors and other organisations."""
    comparison = service.comparison(db.session, current_user, job_id)
    chart = None
    if comparison.rows:
        chart = scatter(
            [Point(row.bid.turnaround_days, row.bid.total_minor, row.vendor.name) for row in comparison.rows],
            comparison.job.currency,
        )
    return render_template("bids/compare.html", comparison=comparison, job=comparison.job, chart=chart)


@bp.route("/jobs/<int:job_id>/bids/<int:bid_id>/award", methods=["GET", "POST"])
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "award jobs")
def award(job_id: int, bid_id: int):
    """Award one bid of the buyer's own job, once the buyer has confirmed on the page this address shows; 404 for
    another organisation's job or bid."""
    if request.method == "GET":
        ensure_may_act(db.session, current_user)
        preview = service.award_preview(db.session, current_user, job_id, bid_id)
        return render_template("bids/award.html", preview=preview, job=preview.job), (403 if preview.refusal else 200)
    try:
        made = approvals.award_or_request(db.session, current_user, job_id, bid_id)
    except service.BidError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        if isinstance(made, AwardRequest):
            flash("This award is above your lab's approval amount: your approvers are asked to approve it.", "info")
        else:
            flash(f"Awarded. Contract #{made.id} is made; every bidder has been told.", "success")
    return redirect(url_for("bids.compare", job_id=job_id), 303)


@bp.get("/jobs/<int:job_id>/bids/<int:bid_id>")
@login_required
@role_required("buyer", "admin")
def proposal(job_id: int, bid_id: int):
    """The whole bid beside the comparison: terms, each requirement with its answer, files, findings. 404 for
    anyone else's job, a bid that left the comparison, and a sealed bid before the deadline."""
    found = service.proposal(db.session, current_user, job_id, bid_id)
    return render_template("bids/proposal.html", proposal=found, job=found.job)


@bp.get("/bids/<int:bid_id>/files/<int:file_id>")
@login_required
def proposal_file(bid_id: int, file_id: int):
    """A file of a bid, for its vendor and for the lab once the bid's terms are open to it (404 otherwise)."""
    found = service.proposal_file(db.session, current_user, bid_id, file_id)
    return send_private_file(
        Path(current_app.config["UPLOAD_FOLDER"]) / service.FILES_FOLDER,
        found.stored_name,
        filename=found.filename,
        content_type=found.content_type,
    )


@bp.post("/jobs/<int:job_id>/bids/<int:bid_id>/shortlist")
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "shortlist bids")
def shortlist(job_id: int, bid_id: int):
    """Shortlist a bid the lab compares (keep=1), or take it off (keep=0)."""
    keep = request.form.get("keep") == "1"
    try:
        bid = service.shortlist(db.session, current_user, job_id, bid_id, keep)
    except service.BidError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        vendor = cast(Organization, db.session.get(Organization, bid.vendor_org_id))
        flash(f"{vendor.name} is {'on' if keep else 'off'} the shortlist.", "success")
    return redirect(url_for("bids.compare", job_id=job_id), 303)


@bp.post("/jobs/<int:job_id>/bids/<int:bid_id>/pilot")
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "start paid pilots")
def start_pilot(job_id: int, bid_id: int):
    """Start the job's paid pilot with one bid; the pilot's contract page is where the lab funds it."""
    try:
        contract = pilots.start_pilot(db.session, current_user, job_id, bid_id)
    except pilots.PilotError as error:
        flash(str(error), "error")
        return redirect(url_for("bids.compare", job_id=job_id), 303)
    db.session.commit()
    flash("The pilot has started: fund it here, and the vendor can begin.", "success")
    return redirect(url_for("contracts.show", contract_id=contract.id), 303)


@bp.post("/jobs/<int:job_id>/final-offers")
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "ask for final offers")
def final_offers(job_id: int):
    """Ask the shortlisted bidders for best and final offers by a new time; the terms stay sealed until then."""
    form = FinalOffersForm()
    if not form.validate_on_submit():
        flash(
            next(iter(e for errors in form.errors.values() for e in errors), "Choose when final offers are due."),
            "error",
        )
        return redirect(url_for("bids.compare", job_id=job_id), 303)
    try:
        asked = service.ask_final_offers(db.session, current_user, job_id, form.due.data, form.note.data or "")
    except service.BidError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(
            f"Asked {len(asked)} shortlisted {'bidder' if len(asked) == 1 else 'bidders'} for best and final offers; "
            "every bid's terms are sealed until they are due.",
            "success",
        )
    return redirect(url_for("bids.compare", job_id=job_id), 303)


@bp.get("/approvals")
@login_required
@role_required("buyer")
def approvals_list():
    """The lab's awards waiting for an approver: approve or decline each. 403 for anyone who is not an approver."""
    if not current_user.approver:
        abort(403)
    return render_template(
        "bids/approvals.html", pending=approvals.pending_awards(db.session, current_user), form=DeclineForm()
    )


@bp.post("/approvals/<int:request_id>/approve")
@login_required
@role_required("buyer")
def approve_award(request_id: int):
    """Approve a waiting award: the award is made now. 404 for another lab's request or a user who is no approver."""
    try:
        contract = approvals.approve(db.session, current_user, request_id)
    except service.BidError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash(f"Approved and awarded. Contract #{contract.id} is made; every bidder has been told.", "success")
    return redirect(url_for("bids.approvals_list"), 303)


@bp.post("/approvals/<int:request_id>/decline")
@login_required
@role_required("buyer")
def decline_award(request_id: int):
    """Decline a waiting award with a reason; nothing is awarded. 404 as approve_award."""
    form = DeclineForm()
    try:
        approvals.decline(db.session, current_user, request_id, form.reason.data or "")
    except service.BidError as error:
        flash(str(error), "error")
    else:
        db.session.commit()
        flash("Declined; your colleague who asked is told why.", "success")
    return redirect(url_for("bids.approvals_list"), 303)
