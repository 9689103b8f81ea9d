"""A bid's private thread: the lab and the bidder read it and write in it; 404 for anyone else."""

from flask import Blueprint, current_app, flash, redirect, render_template
from flask_login import current_user, login_required
from werkzeug.datastructures import FileStorage

from marketplace.downloads import send_private_file
from marketplace.errors import show_on_form
from marketplace.extensions import db
from marketplace.messages import service
from marketplace.messages.forms import MessageForm

bp = Blueprint("messages", __name__)


def _folder() -> str:
    return str(current_app.config["UPLOAD_FOLDER"]) + "/" + service.FOLDER


def _read_files(files) -> list[service.NewFile]:
    """The files chosen, each read up to one byte past the limit so the service can refuse it."""
    return [
        service.NewFile(storage.filename, storage.mimetype or "", storage.stream.read(service.MAX_FILE_BYTES + 1))
        for storage in files or []
        if isinstance(storage, FileStorage) and storage.filename  # a plain text field of that name is no file
    ]


def _render(bid_id: int, form: MessageForm, status: int = 200):
    return render_template(
        "messages/thread.html", thread=service.thread(db.session, current_user, bid_id), form=form
    ), status


@bp.get("/bids/<int:bid_id>/messages")
@login_required
def show(bid_id: int):
    """The thread, oldest first, and the form to write in it."""
    return _render(bid_id, MessageForm(formdata=None))


@bp.post("/bids/<int:bid_id>/messages")
@login_required
def send(bid_id: int):
    """Add a message (and files) to the thread; the other side is notified."""
    form = MessageForm()
    if form.validate_on_submit():
        try:
            service.post(
                db.session,
                current_user,
                bid_id,
                form.body.data or "",
                _read_files(form.files.data),
                current_app.config["UPLOAD_FOLDER"],
            )
        except service.MessageError as error:  # refused before anything was written
            show_on_form(form, error)
        else:
            db.session.commit()
            flash("Message sent.", "success")
            return redirect(service.thread_path(bid_id), 303)
    return _render(bid_id, form, 400)


@bp.get("/bids/<int:bid_id>/messages/files/<int:attachment_id>")
@login_required
def attachment(bid_id: int, attachment_id: int):
    """A file of the thread, for its two sides only (404 otherwise)."""
    found = service.attachment(db.session, current_user, bid_id, attachment_id)
    return send_private_file(_folder(), found.stored_name, filename=found.filename, content_type=found.content_type)
