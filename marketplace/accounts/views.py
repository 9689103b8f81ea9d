"""Signing up, in and out; colleagues; settings; the vendor profile."""

from typing import cast
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_limiter.util import get_remote_address
from flask_login import current_user, login_required, logout_user

from marketplace.accounts import mails, security, service, sessions, team_views, web_sessions
from marketplace.accounts.forms import (
    AcceptInviteForm,
    InviteForm,
    ProfileForm,
    SettingsForm,
    SignInForm,
    SignUpForm,
    split_list,
)
from marketplace.accounts.models import Organization, OrgKind, OrgRole, TokenPurpose
from marketplace.extensions import db, limiter, login_manager
from marketplace.guards import org_role_required, role_required
from marketplace.sso import service as sso

bp = Blueprint("accounts", __name__)
login_manager.login_view = "accounts.sign_in"
login_manager.login_message = "Please sign in to continue."
login_manager.login_message_category = "info"
REMOVED_ACCOUNT = "This account was removed from its organisation: ask its owner to invite you again."


def safe_next(target: str | None) -> str | None:
    """The `next` address if it stays inside this site, else None."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def _login_email_key() -> str:
    return "email:" + (request.form.get("email") or "").strip().lower()


def _network_key() -> str:
    return "ip:" + (get_remote_address() or "")


def _inviter_key() -> str:
    return f"user:{current_user.id}" if current_user.is_authenticated else _network_key()


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["LOGIN_IP_RATE_LIMIT"],
    methods=["POST"],
    key_func=_network_key,
    error_message="Too many sign-in attempts from your network. Wait a while and try again.",
)
@limiter.limit(
    lambda: current_app.config["LOGIN_RATE_LIMIT"],
    methods=["POST"],
    key_func=_login_email_key,
    error_message="Too many sign-in attempts for this account. Wait a minute and try again, or reset your password.",
)
def sign_in():
    """Sign in with email and password (then a code, if the account has a second factor); throttled per account
    and, more loosely, per network address."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = SignInForm()
    if form.validate_on_submit():
        user = service.authenticate(db.session, form.email.data, form.password.data)
        if user is None:
            form.password.errors.append("That email and password do not match an account.")
        elif user.removed_at is not None:
            form.password.errors.append(REMOVED_ACCOUNT)
        elif (closed := sso.password_refusal(db.session, user)) is not None:
            form.password.errors.append(closed)
        else:
            if sso.is_break_glass(db.session, user):
                sso.record_break_glass(db.session, user)
            db.session.commit()
            next_url = safe_next(request.args.get("next"))
            if user.has_second_factor:
                web_sessions.remember_password_checked(user, next_url)
                return redirect(url_for("security.second_factor"), 303)
            web_sessions.sign_in_user(user)
            flash(f"Welcome back, {user.name}.", "success")
            return redirect(next_url or url_for("main.dashboard"), 303)
    return render_template("accounts/sign_in.html", form=form), 200 if request.method == "GET" else 400


@bp.post("/sign-out")
@login_required
def sign_out():
    """Sign out: this session ends, and with it every copy of its cookie."""
    record = web_sessions.current_session_record()
    if record is not None:
        sessions.end_session(db.session, record)
    db.session.commit()
    logout_user()
    session.pop(web_sessions.SESSION_KEY, None)
    flash("You are signed out.", "info")
    return redirect(url_for("accounts.sign_in"), 303)


@bp.route("/sign-up", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["SIGNUP_RATE_LIMIT"],
    methods=["POST"],
    key_func=_network_key,
    error_message="Too many sign-ups from your network. Wait an hour and try again.",
)
def sign_up():
    """Create a buyer or vendor organisation and its first user, whose address is then confirmed by mail.

    The answer is the same whether or not the address already has an account; its owner is told by mail.
    """
    form = SignUpForm(kind=request.args.get("kind", "buyer"))
    if form.validate_on_submit():
        try:
            result = service.sign_up(
                db.session,
                org_name=form.org_name.data,
                kind=OrgKind(form.kind.data),
                email=form.email.data,
                name=form.name.data,
                password=form.password.data,
                timezone=form.timezone.data,
            )
        except service.AccountError as error:
            getattr(form, error.field or "email").errors.append(str(error))
        else:
            db.session.commit()
            if result.created:
                mails.send_confirmation(result.user, result.confirmation.token)
            else:
                mails.send_sign_up_attempt(result.user)
            return redirect(url_for("security.check_email"), 303)
    status = 400 if request.method == "POST" else 200
    return render_template("accounts/sign_up.html", form=form), status


@bp.route("/team", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["INVITE_RATE_LIMIT"],
    methods=["POST"],
    key_func=_inviter_key,
    error_message="Too many invitations from your account. Wait an hour and try again.",
)
@login_required
@role_required("buyer", "vendor")
@org_role_required(OrgRole.MANAGER, "invite colleagues", methods=frozenset({"POST"}))
def team():
    """The organisation's members and pending invitations; invite a colleague. Throttled per user: the answer says
    whether an address already has an account, which sign-up does not tell."""
    form = InviteForm()
    invite_link = None
    if form.validate_on_submit():
        try:
            issued = service.invite_colleague(db.session, current_user, form.email.data)
        except service.AccountError as error:
            form.email.errors.append(str(error))
        else:
            db.session.commit()
            invite_link = url_for("accounts.accept_invite", token=issued.token, _external=True)
            org_name = db.session.get(Organization, current_user.org_id).name
            if mails.send_invitation(issued.invitation.email, current_user, org_name, invite_link):
                flash(f"Invitation mailed to {issued.invitation.email}; the link is below too.", "success")
            else:
                flash(f"Invitation created for {issued.invitation.email}. Send them the link below.", "success")
            form = InviteForm(formdata=None)
    return team_views.team_page(form, invite_link=invite_link)


@bp.route("/invite/<token>", methods=["GET", "POST"])
def accept_invite(token: str):
    """Join an organisation through an invitation link."""
    invitation = service.find_invitation(db.session, token)
    if invitation is None:
        return render_template("errors/404.html"), 404
    if invitation.accepted_at is not None:
        flash(service.INVITATION_USED, "info")
        return redirect(url_for("accounts.sign_in"), 303)
    org = cast(Organization, db.session.get(Organization, invitation.org_id))
    form = AcceptInviteForm()
    if form.validate_on_submit():
        try:
            user = service.accept_invitation(
                db.session, invitation, name=form.name.data, password=form.password.data, timezone=form.timezone.data
            )
        except service.InvitationUsed as error:  # the same form sent twice at once: the first made the account
            db.session.rollback()
            flash(str(error), "info")
            return redirect(url_for("accounts.sign_in"), 303)
        except service.AccountError as error:
            form.name.errors.append(str(error))
        else:
            confirmation = security.issue_token(db.session, user, TokenPurpose.CONFIRM_EMAIL)
            db.session.commit()
            mails.send_confirmation(user, confirmation.token)
            if (closed := sso.password_refusal(db.session, user)) is not None:
                flash(f"Your account is made. {closed}", "info")  # no session from a password: the provider's
                return redirect(url_for("sso.start"), 303)
            web_sessions.sign_in_user(user)
            flash(f"Welcome to {org.name}. Confirm your address to start: we sent you a link.", "success")
            return redirect(url_for("main.dashboard"), 303)
    return render_template("accounts/accept_invite.html", form=form, org=org, invitation=invitation), (
        400 if form.errors else 200
    )


@bp.route("/settings", methods=["GET", "POST"])
@login_required
def settings():
    """Your name and the time zone every time is shown in."""
    form = SettingsForm(obj=current_user)
    if form.validate_on_submit():
        current_user.name = form.name.data.strip()
        current_user.timezone = form.timezone.data
        db.session.commit()
        flash("Settings saved.", "success")
        return redirect(url_for("accounts.settings"), 303)
    return render_template("accounts/settings.html", form=form), 400 if form.errors else 200


@bp.route("/profile", methods=["GET", "POST"])
@login_required
@role_required("vendor")
@org_role_required(OrgRole.MANAGER, "change the vendor profile", methods=frozenset({"POST"}))
def profile():
    """The vendor's profile: capabilities, certifications, workforce, data handling."""
    current = service.profile_for(db.session, current_user.org_id)
    form = ProfileForm(obj=current)
    if request.method == "GET":
        form.languages.data = ", ".join(current.languages)
        form.workforce_locations.data = ", ".join(current.workforce_locations)
    if form.validate_on_submit():
        service.update_profile(
            db.session,
            current_user,
            summary=form.summary.data or "",
            modalities=form.modalities.data,
            task_types=form.task_types.data,
            certifications=form.certifications.data,
            languages=split_list(form.languages.data),
            workforce_size=form.workforce_size.data or 0,
            workforce_locations=split_list(form.workforce_locations.data),
            data_handling=form.data_handling.data,
        )
        db.session.commit()
        flash("Profile saved.", "success")
        return redirect(url_for("accounts.profile"), 303)
    return render_template("accounts/profile.html", form=form), 400 if form.errors else 200


@bp.get("/vendors/<int:org_id>")
@login_required
def vendor_profile(org_id: int):
    """A vendor's public profile."""
    org = db.session.get(Organization, org_id)
    if org is None or org.kind != OrgKind.VENDOR:
        return render_template("errors/404.html"), 404
    return render_template("accounts/vendor_profile.html", org=org, profile=service.profile_for(db.session, org.id))
