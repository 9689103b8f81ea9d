"""The vendor's neutrality statements, and the page where anyone checks one."""

from flask import Blueprint, Response, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from marketplace import visibility
from marketplace.accounts.models import OrgRole
from marketplace.db_types import utcnow
from marketplace.extensions import db
from marketplace.guards import org_role_required, role_required
from marketplace.neutrality import service, signing
from marketplace.neutrality.forms import MAX_DOCUMENT, StatementRequestForm, VerifyForm

bp = Blueprint("neutrality", __name__, url_prefix="/neutrality")


@bp.route("", methods=["GET", "POST"])
@login_required
@role_required("vendor")
@org_role_required(OrgRole.MANAGER, "ask for neutrality statements", methods=frozenset({"POST"}))
def index():
    """The vendor's statements, and the form to ask for one."""
    form = StatementRequestForm()
    if form.validate_on_submit():
        try:
            row = service.request_statement(db.session, current_user, form.parties.data or "", form.days.data)
        except service.NeutralityError as error:
            db.session.rollback()
            form[error.field or "parties"].errors = [str(error)]
        else:
            db.session.commit()
            flash("The statement is signed: download it and send it to the lab.", "success")
            return redirect(url_for("neutrality.index", _anchor=f"statement-{row.uid}"), 303)
    status = 400 if form.errors else 200
    statements = service.statements_of(db.session, current_user)
    return render_template(
        "neutrality/index.html", form=form, statements=statements, threshold=service.THRESHOLD_PCT, now=utcnow()
    ), status


@bp.get("/<uid>.json")
@login_required
def download(uid: str):
    row = visibility.get_neutrality_statement(db.session, current_user, uid)
    return Response(
        row.document,
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="neutrality-{row.as_of.date()}-{row.uid[:8]}.json"'},
    )


@bp.get("/public-key.pem")
def public_key():
    """The platform's public key: what anyone needs to check a statement offline."""
    return Response(signing.public_pem(service.public_key()), mimetype="application/x-pem-file")


@bp.route("/verify", methods=["GET", "POST"])
def verify():
    """Anyone checks a statement: signature, expiry, revocation, and optionally that it covers their list."""
    form = VerifyForm()
    result = None
    if form.validate_on_submit():
        text = form.statement_text()
        if not text.strip():
            form.document.errors = ["Paste the statement, or choose its file."]
        elif len(text) > MAX_DOCUMENT:
            form.document.errors = ["That is far longer than any statement."]
        else:
            result = service.verify(db.session, text, form.parties.data or "")
    status = 400 if form.errors else 200
    key = service.public_key()
    return render_template(
        "neutrality/verify.html", form=form, result=result, key_id=signing.key_id(key), pem=signing.public_pem(key)
    ), status
