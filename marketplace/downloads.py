"""Serving a stored upload (a job's attachment, a delivery, disclosure evidence) to a user already allowed it."""

from pathlib import Path

from flask import Response, abort, send_file
from werkzeug.security import safe_join


def send_private_file(folder: str | Path, stored_name: str, *, filename: str, content_type: str) -> Response:
    """The file as an attachment under the name it was uploaded with, never cached, the browser told neither to
    guess its type nor to run anything in it. 404 when it is not a file inside the folder (or is gone)."""
    path = safe_join(str(folder), stored_name)
    if path is None or not Path(path).is_file():
        abort(404)
    response = send_file(path, mimetype=content_type, as_attachment=True, download_name=filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
