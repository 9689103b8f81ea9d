"""Signing in through an organisation's identity provider, and the owner's single sign-on page (the provider, the
email domains it claims, the SCIM tokens)."""

from typing import cast

from flask import Blueprint, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required

from marketplace.accounts import web_sessions
from marketplace.accounts.models import Organization, OrgRole
from marketplace.errors import show_on_form
from marketplace.extensions import db
from marketplace.guards import org_role_required, role_required
from marketplace.sso import oidc, provisioning, service
from marketplace.sso.forms import DomainClaimForm, ScimTokenForm, SsoConfigForm, SsoStartForm

bp = Blueprint("sso", __name__)
PENDING_KEY = "sso_pending"
STARTED_ELSEWHERE = "This sign-in was not started in this browser, or took too long: start again."


def _safe_next(target: str | None) -> str | None:
    """The `next` address if it stays inside this site (the sign-in page's own rule)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target or ":" in target:
        return None
    return target


@bp.get("/sign-in/organisation")
def start():
    """Find the organisation named, or the one of the address's domain, and show the way to its identity provider.

    A page with a link, not a redirect: the form that asks (on the sign-in page) may lead only to this site (CSP
    form-action, which browsers apply to a form's redirects too), and the page says whose provider comes next."""
    if current_user.is_authenticated:
        return redirect(url_for("main.dashboard"))
    form = SsoStartForm(request.args)
    if not request.args:
        return render_template("sso/start.html", form=form)
    if not form.validate():
        return render_template("sso/start.html", form=form), 400
    try:
        if (form.email.data or "").strip():
            org, config = service.provider_for_email(db.session, form.email.data)
        else:
            org, config = service.provider_for_org_name(db.session, form.organization.data or "")
    except service.SsoError as error:
        show_on_form(form, error)
        return render_template("sso/start.html", form=form), 400
    client = oidc.client_for(config)
    try:
        oidc.expected_issuer(client, config)
        authorization = client.create_authorization_url(url_for("sso.callback", _external=True))
    except oidc.IdTokenRefused as error:
        form.form_errors.append(f"{org.name}'s identity provider cannot be used: {error}. Ask your IT team.")
        return render_template("sso/start.html", form=form), 502
    except oidc.PROVIDER_ERRORS:
        form.form_errors.append(
            f"{org.name}'s identity provider did not answer. Try again in a while, or ask your IT team."
        )
        return render_template("sso/start.html", form=form), 502
    # State, nonce and PKCE verifier wait in this browser's session for the provider's answer; one sign-in at a time,
    # so that starting again and again cannot grow the session cookie past what a browser keeps.
    for key in [key for key in session if key.startswith(oidc.STATE_KEY_PREFIX)]:
        session.pop(key)
    client.save_authorize_data(
        redirect_uri=url_for("sso.callback", _external=True),
        **{key: authorization[key] for key in ("state", "nonce", "code_verifier") if key in authorization},
    )
    session[PENDING_KEY] = {"org": org.id, "next": _safe_next(request.args.get("next")) or ""}
    return render_template("sso/continue.html", org=org, provider_url=authorization["url"])


@bp.get("/sign-in/organisation/callback")
def callback():
    """Where the identity provider sends the browser back: check its answer and sign the person in."""
    pending = session.pop(PENDING_KEY, None) or {}
    org = db.session.get(Organization, pending.get("org") or 0)
    if org is None:
        return _refused(STARTED_ELSEWHERE)
    try:
        config = service.switched_on_config(db.session, org.id)
    except service.SsoError as error:
        return _refused(str(error))
    try:
        claims = oidc.verified_claims(oidc.client_for(config), config)
    except oidc.IdTokenRefused as error:
        current_app.logger.warning("SSO id token refused for organisation %s: %s", org.id, error)
        return _refused(
            f"{org.name}'s identity provider sent an identity token we cannot accept: {error}. Nobody was signed "
            "in. Start again; if this goes on, ask your IT team to check the marketplace's settings at the provider."
        )
    except oidc.PROVIDER_ERRORS:
        # A wrong or replayed state, a refused consent, a provider that is down.
        return _refused(f"{org.name}'s identity provider did not sign you in. Start again.")
    if not claims:
        return _refused(f"{org.name}'s identity provider sent no identity token. Ask your IT team.")
    try:
        user = service.sign_in_identity(db.session, org, claims)
    except service.SsoError as error:
        return _refused(str(error))
    db.session.commit()
    web_sessions.sign_in_user(user)
    flash(f"Welcome, {user.name}: you are signed in through {org.name}'s identity provider.", "success")
    return redirect(pending.get("next") or url_for("main.dashboard"), 303)


def _refused(message: str):
    return render_template("sso/refused.html", message=message), 403


def _org() -> Organization:
    return cast(Organization, db.session.get(Organization, current_user.org_id))


def settings_page(
    config_form: SsoConfigForm | None = None,
    domain_form: DomainClaimForm | None = None,
    token_form: ScimTokenForm | None = None,
    new_token: str | None = None,
    status: int = 200,
):
    """The owner's single sign-on page, with whichever form came back with its errors."""
    config = service.config_of(db.session, current_user.org_id)
    if config_form is None:
        config_form = SsoConfigForm(formdata=None, obj=config)
    return render_template(
        "sso/settings.html",
        org=_org(),
        config=config,
        config_form=config_form,
        domain_form=domain_form or DomainClaimForm(formdata=None),
        token_form=token_form or ScimTokenForm(formdata=None),
        domains=service.domains_of(db.session, current_user.org_id),
        tokens=provisioning.live_tokens(db.session, current_user.org_id),
        new_token=new_token,
        callback_url=url_for("sso.callback", _external=True),
        scim_url=url_for("scim.users", _external=True),
    ), status


def _owner_only(action: str):
    def decorate(view):
        view = org_role_required(OrgRole.OWNER, action)(view)
        view = role_required("buyer", "vendor")(view)
        return login_required(view)

    return decorate


@bp.route("/organisation/sign-in", methods=["GET", "POST"])
@_owner_only("set up single sign-on")
def settings():
    """The organisation's identity provider: issuer, client, and whether sign-in through it is on or required."""
    form = SsoConfigForm()
    if form.validate_on_submit():
        try:
            service.save_config(
                db.session,
                current_user,
                issuer=form.issuer.data,
                client_id=form.client_id.data,
                client_secret=form.client_secret.data or "",
                enabled=form.enabled.data,
                required=form.required.data,
            )
        except service.SsoError as error:
            show_on_form(form, error)
        else:
            db.session.commit()
            flash("Single sign-on settings saved.", "success")
            return redirect(url_for("sso.settings"), 303)
    if request.method == "GET":
        return settings_page()
    return settings_page(config_form=form, status=400)


@bp.post("/organisation/sign-in/domains")
@_owner_only("claim email domains")
def claim_domain():
    """Claim an email domain; a platform admin verifies it before it counts."""
    form = DomainClaimForm()
    if form.validate_on_submit():
        try:
            claim = service.claim_domain(db.session, current_user, form.domain.data)
        except service.SsoError as error:
            show_on_form(form, error)
        else:
            db.session.commit()
            flash(f"{claim.domain} claimed: it counts once a platform admin has verified it.", "success")
            return redirect(url_for("sso.settings"), 303)
    return settings_page(domain_form=form, status=400)


@bp.post("/organisation/sign-in/domains/<int:claim_id>/remove")
@_owner_only("remove email domains")
def remove_domain(claim_id: int):
    """Withdraw a domain claim."""
    try:
        claim = service.remove_domain(db.session, current_user, claim_id)
    except service.SsoError as error:
        flash(str(error), "error")
        return redirect(url_for("sso.settings"), 303)
    db.session.commit()
    flash(f"{claim.domain} removed.", "success")
    return redirect(url_for("sso.settings"), 303)


@bp.post("/organisation/sign-in/scim-tokens")
@_owner_only("create provisioning tokens")
def create_scim_token():
    """A new SCIM token, shown this once."""
    form = ScimTokenForm()
    if form.validate_on_submit():
        try:
            issued = provisioning.create_token(db.session, current_user, form.label.data)
        except provisioning.ProvisioningError as error:
            form.label.errors.append(str(error))
        else:
            db.session.commit()
            flash("Token created. Copy it now: it is not shown again.", "success")
            return settings_page(new_token=issued.token)
    return settings_page(token_form=form, status=400)


@bp.post("/organisation/sign-in/scim-tokens/<int:token_id>/revoke")
@_owner_only("revoke provisioning tokens")
def revoke_scim_token(token_id: int):
    """Stop a SCIM token working."""
    record = provisioning.revoke_token(db.session, current_user, token_id)
    db.session.commit()
    flash(f"Token “{record.label}” revoked.", "success")
    return redirect(url_for("sso.settings"), 303)
