"""The lab's webhook pages: its endpoints, registering one, and each endpoint's delivery log with replays."""

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from marketplace.accounts.models import OrgRole
from marketplace.errors import show_on_form
from marketplace.extensions import db
from marketplace.guards import org_role_required, role_required
from marketplace.webhooks import service
from marketplace.webhooks.addresses import AddressRefused
from marketplace.webhooks.forms import ButtonForm, EnableForm, EndpointEditForm, EndpointForm

bp = Blueprint("webhooks", __name__)
POST = frozenset({"POST"})


def _policy() -> service.Policy:
    config = current_app.config
    return service.Policy(
        allow_private=bool(config.get("WEBHOOKS_ALLOW_PRIVATE")), production=config.get("ENV_NAME") == "production"
    )


def _index(form: EndpointForm, status: int = 200, *, new_secret: str | None = None, endpoint=None):
    return render_template(
        "webhooks/index.html",
        form=form,
        endpoints=service.endpoints_of(db.session, current_user),
        labels=service.EVENT_LABELS,
        new_secret=new_secret,
        new_endpoint=endpoint,
    ), status


@bp.get("/webhooks")
@login_required
@role_required("buyer")
def index():
    """The lab's endpoints and the form to register one."""
    return _index(EndpointForm(formdata=None))


@bp.post("/webhooks")
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "register webhook endpoints")
def register():
    """Register an endpoint; the page shows its secret this once (no redirect: the secret is never stored in a
    cookie nor shown again)."""
    form = EndpointForm()
    if form.validate_on_submit():
        try:
            endpoint = service.register(
                db.session, current_user, form.url.data, form.events.data or [], form.description.data, _policy()
            )
        except (service.WebhookError, AddressRefused) as error:
            show_on_form(form, error)
        else:
            secret = endpoint.secret
            db.session.commit()
            return _index(EndpointForm(formdata=None), new_secret=secret, endpoint=endpoint)
    return _index(form, 400)


def _endpoint_page(endpoint_id: int, status: int = 200, *, new_secret: str | None = None, error: str | None = None):
    endpoint = service.get_endpoint(db.session, current_user, endpoint_id)
    return render_template(
        "webhooks/endpoint.html",
        endpoint=endpoint,
        log=service.delivery_log(db.session, current_user, endpoint_id),
        labels=service.EVENT_LABELS,
        button=ButtonForm(formdata=None),
        enable=EnableForm(formdata=None),
        new_secret=new_secret,
        error=error,
    ), status


@bp.get("/webhooks/<int:endpoint_id>")
@login_required
@role_required("buyer")
def endpoint(endpoint_id: int):
    """One endpoint: its events, its state, and its delivery log (each attempt, its status and answer)."""
    return _endpoint_page(endpoint_id)


@bp.route("/webhooks/<int:endpoint_id>/edit", methods=["GET", "POST"])
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "change webhook endpoints")
def edit(endpoint_id: int):
    """Change the endpoint's address, description, events, and whether it is on; the address is checked as at
    registration (404 for another lab's endpoint)."""
    endpoint = service.get_endpoint(db.session, current_user, endpoint_id)
    form = EndpointEditForm(formdata=None, obj=endpoint) if request.method == "GET" else EndpointEditForm()
    if form.validate_on_submit():
        try:
            service.update_endpoint(
                db.session,
                current_user,
                endpoint_id,
                form.url.data,
                form.events.data or [],
                form.description.data,
                bool(form.enabled.data),
                _policy(),
            )
        except (service.WebhookError, AddressRefused) as error:
            db.session.rollback()
            show_on_form(form, error)
        else:
            db.session.commit()
            flash("The endpoint is saved.", "success")
            return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id), 303)
    return render_template("webhooks/edit.html", form=form, endpoint=endpoint), (
        400 if request.method == "POST" else 200
    )


@bp.post("/webhooks/<int:endpoint_id>/rotate")
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "rotate webhook secrets")
def rotate(endpoint_id: int):
    """A new secret, shown this once; the old one signs nothing more."""
    if not ButtonForm().validate_on_submit():
        return _endpoint_page(endpoint_id, 400, error="Reload the page and try again.")
    endpoint = service.rotate_secret(db.session, current_user, endpoint_id)
    secret = endpoint.secret
    db.session.commit()
    return _endpoint_page(endpoint_id, new_secret=secret)


@bp.post("/webhooks/<int:endpoint_id>/enabled")
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "turn webhook endpoints on or off")
def set_enabled(endpoint_id: int):
    """Turn the endpoint on or off."""
    form = EnableForm()
    if not form.validate_on_submit():
        return _endpoint_page(endpoint_id, 400, error="Reload the page and try again.")
    endpoint = service.set_enabled(db.session, current_user, endpoint_id, form.enabled.data == "1")
    db.session.commit()
    flash("The endpoint is on." if endpoint.enabled else "The endpoint is off: nothing is sent to it.", "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id), 303)


@bp.post("/webhooks/<int:endpoint_id>/delete")
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "delete webhook endpoints")
def delete(endpoint_id: int):
    """Delete the endpoint and its delivery log."""
    if not ButtonForm().validate_on_submit():
        return _endpoint_page(endpoint_id, 400, error="Reload the page and try again.")
    service.delete_endpoint(db.session, current_user, endpoint_id)
    db.session.commit()
    flash("The endpoint is deleted: nothing more is sent to it.", "success")
    return redirect(url_for("webhooks.index"), 303)


@bp.post("/webhooks/<int:endpoint_id>/deliveries/<int:delivery_id>/replay")
@login_required
@role_required("buyer")
@org_role_required(OrgRole.MANAGER, "replay webhook deliveries")
def replay(endpoint_id: int, delivery_id: int):
    """Send a delivery again as a new attempt."""
    if not ButtonForm().validate_on_submit():
        return _endpoint_page(endpoint_id, 400, error="Reload the page and try again.")
    try:
        service.replay(db.session, current_user, endpoint_id, delivery_id)
    except service.WebhookError as error:
        db.session.rollback()
        return _endpoint_page(endpoint_id, 400, error=str(error))
    db.session.commit()
    flash("The delivery will be sent again within a minute, as a new attempt.", "success")
    return redirect(url_for("webhooks.endpoint", endpoint_id=endpoint_id), 303)
