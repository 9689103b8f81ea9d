"""Stripe's webhook, the vendor's payout account, and statements of every money movement."""

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from marketplace.accounts.models import OrgRole
from marketplace.extensions import db
from marketplace.guards import org_role_required, role_required
from marketplace.payments import service, webhooks
from marketplace.payments.configured import current_gateway, fee_bps
from marketplace.payments.fees import percent
from marketplace.payments.gateway import MISSING, GatewayError
from marketplace.payments.models import WebhookEvent

bp = Blueprint("payments", __name__, url_prefix="/payments")


@bp.app_template_global()
def payments_mode() -> tuple[str, str] | None:
    """What every payment page says about the money: test mode, or not configured; None when it is real."""
    gateway = current_gateway()
    if gateway is None:
        return "Payments off", "This server has no Stripe key (STRIPE_SECRET_KEY): milestones cannot be funded."
    return ("Test mode", gateway.mode_label) if gateway.mode_label else None


# ------------------------------------------------------------------------------------------------ webhook


def _already_processed(event_id: str) -> bool:
    found = db.session.execute(
        select(col(WebhookEvent.id)).where(col(WebhookEvent.stripe_event_id) == event_id)
    ).first()
    return found is not None


def _object_id(event: dict) -> str:
    obj = event.get("data", {}).get("object", {})
    return ", ".join(str(obj[key]) for key in ("id", "payment_intent") if isinstance(obj.get(key), str))


@bp.post("/webhook")
def webhook():
    """Stripe's events. 400 unless signed with our secret (nothing changes); 2xx once handled or seen before;
    500 when handling fails, after rolling everything back, so that Stripe sends it again."""
    try:
        event = webhooks.verify(
            request.get_data(),
            request.headers.get("Stripe-Signature"),
            current_app.config.get("STRIPE_WEBHOOK_SECRET") or "",
        )
    except webhooks.InvalidEvent as error:
        return jsonify(error=f"Invalid Stripe event: {error}"), 400
    gateway = current_gateway()
    if gateway is None:
        return jsonify(error="Payments are not configured."), 503
    try:
        outcome = webhooks.process_event(db.session, gateway, event, fee_bps())
        db.session.commit()
    except IntegrityError:
        # A second delivery of the same event, handled at the same moment by another worker.
        db.session.rollback()
        if _already_processed(event["id"]):
            return jsonify(received=True, outcome="duplicate"), 200
        current_app.logger.exception("Stripe event %s could not be stored", event["id"])
        return jsonify(error="The event could not be handled; it will be retried."), 500
    except service.PaymentError as error:
        db.session.rollback()
        if error.code != MISSING:
            current_app.logger.exception("Stripe event %s (%s) failed", event["id"], event["type"])
            return jsonify(error="The event could not be handled; it will be retried."), 500
        # Stripe does not know the object the event names: a retry cannot help, so it is acknowledged.
        current_app.logger.warning(
            "Stripe event %s (%s) names an object Stripe does not know (%s): %s",
            event["id"],
            event["type"],
            _object_id(event),
            error,
        )
        return jsonify(received=True, outcome="unknown_object"), 200
    except Exception:
        db.session.rollback()
        current_app.logger.exception("Stripe event %s (%s) failed", event["id"], event["type"])
        return jsonify(error="The event could not be handled; it will be retried."), 500
    return jsonify(received=True, outcome=outcome), 200


# ------------------------------------------------------------------------------------------------ payout account


@bp.get("/payouts")
@login_required
@role_required("vendor")
def payouts():
    """The vendor's payout account: connect it, or see whether Stripe can pay it."""
    account = service.payout_account_of(db.session, current_user.org_id)
    live, problem = None, None
    gateway = current_gateway()
    if account is not None and account.stripe_account_id and gateway is not None:
        try:
            live = gateway.retrieve_account(account.stripe_account_id)
        except GatewayError as error:
            problem = str(error)
    return render_template(
        "payments/payouts.html",
        account=account,
        live=live,
        problem=problem,
        returned=request.args.get("returned") == "1",
        expired=request.args.get("expired") == "1",
    )


@bp.post("/payouts/connect")
@login_required
@role_required("vendor")
@org_role_required(OrgRole.OWNER, "change the payout account")
def connect():
    """Start (or continue) Stripe's onboarding of the vendor's Express account."""
    gateway = current_gateway()
    if gateway is None:
        flash("Payments are not configured on this server.", "error")
        return redirect(url_for("payments.payouts"), 303)
    try:
        link = service.start_onboarding(
            db.session,
            gateway,
            current_user,
            refresh_url=url_for("payments.payouts", expired=1, _external=True),
            return_url=url_for("payments.payouts", returned=1, _external=True),
        )
    except service.PaymentError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("payments.payouts"), 303)
    db.session.commit()
    return redirect(link, 303)


@bp.post("/payouts/refresh")
@login_required
@role_required("vendor")
@org_role_required(OrgRole.OWNER, "change the payout account")
def refresh():
    """Ask Stripe for the account's state now; once it can be paid, waiting payouts are made."""
    account = service.payout_account_of(db.session, current_user.org_id)
    gateway = current_gateway()
    if account is None or not account.stripe_account_id or gateway is None:
        flash("Connect a payout account first.", "error")
        return redirect(url_for("payments.payouts"), 303)
    try:
        paid = service.refresh_payout_account(db.session, gateway, current_user, account.stripe_account_id)
    except service.PaymentError as error:
        db.session.rollback()
        flash(str(error), "error")
        return redirect(url_for("payments.payouts"), 303)
    db.session.commit()
    flash(f"Payout account checked. {paid} waiting payment(s) made." if paid else "Payout account checked.", "success")
    return redirect(url_for("payments.payouts"), 303)


# ------------------------------------------------------------------------------------------------ statements


@bp.get("/statement")
@login_required
def statement():
    """Every money movement on the organisation's contracts; an admin sees all of them and the platform's fees."""
    if not (current_user.is_admin or current_user.org_id):
        abort(403)
    return render_template(
        "payments/statement.html", statement=service.statement(db.session, current_user), fee_label=percent(fee_bps())
    )
