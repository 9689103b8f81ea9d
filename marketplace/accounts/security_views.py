"""Confirming an address, resetting and changing a password, the second factor, and the sessions list."""

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, logout_user

from marketplace.accounts import caught_mail, mails, security, sessions, two_factor, web_sessions
from marketplace.accounts.forms import (
    ChangePasswordForm,
    ConfirmEmailForm,
    DisableTwoFactorForm,
    EmailOnlyForm,
    EnableTwoFactorForm,
    EndSessionForm,
    RenewRecoveryCodesForm,
    ResendConfirmationForm,
    ResetPasswordForm,
    SecondFactorForm,
)
from marketplace.accounts.models import TokenPurpose
from marketplace.extensions import db, limiter

bp = Blueprint("security", __name__)
SETUP_SECRET_KEY = "totp_setup_secret"  # noqa: S105 (a session key name, not a secret)
RESET_SENT = (
    "If an account uses that address, we have sent it a link to reset the password. It works for an hour, once."
)


def _network_key() -> str:
    return "ip:" + (get_remote_address() or "")


def _email_key() -> str:
    return "mail:" + (request.form.get("email") or "").strip().lower()


def _user_key() -> str:
    return "user:" + (str(current_user.id) if current_user.is_authenticated else "")


def _mail_limit() -> str:
    return current_app.config["MAIL_RATE_LIMIT"]


def _network_limit() -> str:
    return current_app.config["SIGNUP_RATE_LIMIT"]


# --- confirming the address -------------------------------------------------------------------------------


@bp.get("/sign-up/check-email")
def check_email():
    """What every sign-up sees, whether or not the address already had an account."""
    return render_template("accounts/check_email.html")


@bp.get("/confirm-email")
@login_required
def confirm_notice():
    """A signed-in user whose address is not confirmed sees only this: confirm, or have the link sent again."""
    if current_user.email_verified:
        return redirect(url_for("main.dashboard"))
    return render_template("accounts/confirm_notice.html", form=ResendConfirmationForm())


@bp.post("/confirm-email/resend")
@login_required
@limiter.limit(_mail_limit, key_func=_user_key, error_message="We sent several links already: wait an hour.")
def resend_confirmation():
    """Mail a new confirmation link (the earlier ones stop working)."""
    if ResendConfirmationForm().validate_on_submit():
        issued = security.request_email_confirmation(db.session, current_user)
        db.session.commit()
        if issued is not None:
            mails.send_confirmation(current_user, issued.token)
            flash(f"We sent a new link to {current_user.email}.", "success")
    return redirect(url_for("security.confirm_notice"), 303)


def _token_page(template: str, token: str, purpose: TokenPurpose, form):
    """The page behind a mailed link, or 404 with the reason when the link is unknown, expired or used."""
    try:
        security.find_token(db.session, token, purpose)
    except security.TokenError as error:
        return render_template("accounts/bad_link.html", message=str(error)), 404
    return render_template(template, form=form, token=token), 400 if form.errors else 200


@bp.route("/confirm-email/<token>", methods=["GET", "POST"])
def confirm_email(token: str):
    """Following the mailed link shows a button; pressing it confirms the address (nothing changes on GET)."""
    form = ConfirmEmailForm()
    if form.validate_on_submit():
        try:
            user = security.confirm_email(db.session, token)
        except security.TokenError as error:
            return render_template("accounts/bad_link.html", message=str(error)), 404
        db.session.commit()
        flash(f"Thank you: {user.email} is confirmed.", "success")
        signed_in = current_user.is_authenticated and current_user.id == user.id
        return redirect(url_for("main.dashboard") if signed_in else url_for("accounts.sign_in"), 303)
    return _token_page("accounts/confirm_email.html", token, TokenPurpose.CONFIRM_EMAIL, form)


# --- forgotten and changed passwords ----------------------------------------------------------------------


@bp.route("/forgot-password", methods=["GET", "POST"])
@limiter.limit(
    _network_limit,
    methods=["POST"],
    key_func=_network_key,
    error_message="Too many requests from your network. Wait an hour and try again.",
)
@limiter.limit(
    _mail_limit,
    methods=["POST"],
    key_func=_email_key,
    error_message="We sent several links to that address already: wait an hour.",
)
def forgot_password():
    """Ask for a reset link; the answer is the same whether or not the address has an account."""
    form = EmailOnlyForm()
    if form.validate_on_submit():
        issued = security.request_password_reset(db.session, form.email.data)
        db.session.commit()
        if issued is not None:
            mails.send_password_reset(issued.user, issued.token)
        flash(RESET_SENT, "info")
        return redirect(url_for("accounts.sign_in"), 303)
    return render_template("accounts/forgot_password.html", form=form), 400 if form.errors else 200


@bp.route("/reset-password/<token>", methods=["GET", "POST"])
def reset_password(token: str):
    """Choose a new password through a mailed link; every session of the account ends."""
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = security.reset_password(db.session, token, form.password.data)
        except security.TokenError as error:
            return render_template("accounts/bad_link.html", message=str(error)), 404
        db.session.commit()
        if current_user.is_authenticated:
            logout_user()
            session.pop(web_sessions.SESSION_KEY, None)
        flash(f"Your password is changed and every session of {user.email} is signed out. Sign in with it.", "success")
        return redirect(url_for("accounts.sign_in"), 303)
    return _token_page("accounts/reset_password.html", token, TokenPurpose.RESET_PASSWORD, form)


@bp.route("/settings/password", methods=["GET", "POST"])
@login_required
def change_password():
    """Change the password, giving the current one; every other session ends."""
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            ended = security.change_password(
                db.session,
                current_user,
                form.current_password.data,
                form.password.data,
                current_session=web_sessions.current_session_record(),
            )
        except security.PasswordError as error:
            getattr(form, error.field).errors.append(str(error))
        else:
            db.session.commit()
            mails.send_password_changed(current_user)
            flash(f"Password changed. Other sessions signed out: {ended}.", "success")
            return redirect(url_for("accounts.settings"), 303)
    return render_template("accounts/change_password.html", form=form), 400 if form.errors else 200


# --- the second factor -----------------------------------------------------------------------------------


@bp.route("/sign-in/code", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_IP_RATE_LIMIT"],
    methods=["POST"],
    key_func=_network_key,
    error_message="Too many attempts from your network. Wait a while and try again.",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    methods=["POST"],
    key_func=web_sessions.pending_user_key,
    error_message="Too many codes tried for this account. Wait a minute and try again.",
)
def second_factor():
    """After the password: a code from the authenticator app, or a recovery code."""
    user, next_url = web_sessions.user_awaiting_second_factor()
    if user is None:
        flash("Sign in again: that took too long.", "info")
        return redirect(url_for("accounts.sign_in"), 303)
    form = SecondFactorForm()
    if form.validate_on_submit():
        try:
            used = two_factor.check_second_factor(db.session, user, form.code.data)
        except two_factor.SecondFactorError as error:
            form.code.errors.append(str(error))
        else:
            web_sessions.sign_in_user(user)
            flash(f"Welcome back, {user.name}.", "success")
            if used == "recovery code":
                left = two_factor.unused_recovery_codes(db.session, user)
                flash(f"You used a recovery code: {left} left. Make new ones in Settings when you run low.", "warning")
            return redirect(next_url or url_for("main.dashboard"), 303)
    return render_template("accounts/second_factor.html", form=form), 400 if form.errors else 200


@bp.route("/settings/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_settings():
    """Set up the second factor (scan the QR code, enter a code), or turn it off and renew recovery codes."""
    if current_user.has_second_factor:
        return render_template(
            "accounts/two_factor_on.html",
            disable_form=DisableTwoFactorForm(),
            renew_form=RenewRecoveryCodesForm(),
            left=two_factor.unused_recovery_codes(db.session, current_user),
        )
    # The secret waits in this browser's signed session until a code proves the app has it.
    secret = session.get(SETUP_SECRET_KEY) or two_factor.new_secret()
    session[SETUP_SECRET_KEY] = secret
    form = EnableTwoFactorForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.enable_totp(db.session, current_user, secret, form.code.data)
        except two_factor.SecondFactorError as error:
            form.code.errors.append(str(error))
        else:
            db.session.commit()
            session.pop(SETUP_SECRET_KEY, None)
            flash("Two-factor authentication is on.", "success")
            return render_template("accounts/recovery_codes.html", codes=codes)
    uri = two_factor.provisioning_uri(secret, current_user.email)
    return render_template(
        "accounts/two_factor_setup.html", form=form, secret=secret, qr_svg=two_factor.qr_svg(uri)
    ), 400 if form.errors else 200


@bp.post("/settings/two-factor/disable")
@login_required
def disable_two_factor():
    """Turn the second factor off, with the password and a code (not for admins)."""
    form = DisableTwoFactorForm()
    if form.validate_on_submit():
        try:
            two_factor.disable_totp(db.session, current_user, form.password.data, form.code.data)
        except two_factor.SecondFactorError as error:
            getattr(form, error.field).errors.append(str(error))
        else:
            db.session.commit()
            flash("Two-factor authentication is off.", "success")
            return redirect(url_for("security.two_factor_settings"), 303)
    return render_template(
        "accounts/two_factor_on.html",
        disable_form=form,
        renew_form=RenewRecoveryCodesForm(),
        left=two_factor.unused_recovery_codes(db.session, current_user),
    ), 400


@bp.post("/settings/two-factor/recovery-codes")
@login_required
def renew_recovery_codes():
    """New recovery codes for a current code; shown once, the old ones stop working."""
    form = RenewRecoveryCodesForm()
    if form.validate_on_submit():
        try:
            codes = two_factor.regenerate_recovery_codes(db.session, current_user, form.code.data)
        except two_factor.SecondFactorError as error:
            form.code.errors.append(str(error))
        else:
            db.session.commit()
            return render_template("accounts/recovery_codes.html", codes=codes)
    return render_template(
        "accounts/two_factor_on.html",
        disable_form=DisableTwoFactorForm(),
        renew_form=form,
        left=two_factor.unused_recovery_codes(db.session, current_user),
    ), 400


# --- sessions ----------------------------------------------------------------------------------------------


@bp.get("/settings/sessions")
@login_required
def session_list():
    """Where you are signed in: device, address, since and last seen; end any of them."""
    return render_template(
        "accounts/sessions.html",
        records=sessions.sessions_of(db.session, current_user),
        current=web_sessions.current_session_record(),
        form=EndSessionForm(),
    )


@bp.post("/settings/sessions/<int:session_id>/end")
@login_required
def end_session(session_id: int):
    """End one of your sessions at once. 404 for a session that is not yours (or already ended)."""
    if not EndSessionForm().validate_on_submit():
        abort(400)
    try:
        record = sessions.end_session_of(db.session, current_user, session_id)
    except LookupError:
        abort(404)
    db.session.commit()
    current = web_sessions.current_session_record()
    if current is not None and record.id == current.id:
        logout_user()
        flash("This session is signed out.", "info")
        return redirect(url_for("accounts.sign_in"), 303)
    flash("That session is signed out.", "success")
    return redirect(url_for("security.session_list"), 303)


# --- the demo's caught mail ----------------------------------------------------------------------------------


@bp.get("/dev/mail")
def caught_mail_list():
    """The demo's caught mail (only with DEMO_LOGINS on and a catcher directory): read the links sent."""
    folder = current_app.config.get("MAIL_CATCH_DIR")
    if not current_app.config.get("DEMO_LOGINS") or not folder:
        abort(404)
    return render_template("accounts/caught_mail.html", messages=caught_mail.read_messages(folder))
