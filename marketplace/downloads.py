"""Keeping an upload (a job's attachment, a delivery, disclosure evidence, a bid's or a message's file) and serving
it to a user already allowed it: stored under a random name, shown under the name the user gave it."""

import io
import re
import secrets
from pathlib import Path, PurePosixPath, PureWindowsPath

from flask import Response, abort, send_file
from werkzeug.security import safe_join

# Controls, bidi overrides and invisible characters: they could disguise a name ("invoice\u202efdp.exe").
_HIDDEN = re.compile("[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def display_name(filename: str | None, default: str = "file") -> str:
    """The file's own name, for showing only (never used on disk): without any folder a browser may send, the
    characters that could disguise it, quotes, slashes or leading dots; `default` when nothing is left."""
    name = PureWindowsPath(PurePosixPath(filename or "").name).name
    name = "".join(c for c in _HIDDEN.sub("", name) if c.isprintable() and c not in '"\\/').strip().lstrip(".")
    return (name or default)[-255:]


def store_private_file(folder: str | Path, data: bytes, suffix: str = "") -> str:
    """Write the bytes under a new random name in the folder (made if missing); the name, for the row that points
    at the file."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stored_name = f"{secrets.token_hex(20)}{suffix}"
    (folder / stored_name).write_bytes(data)
    return stored_name


def private_path(folder: str | Path, stored_name: str) -> Path:
    """The stored file's path inside the folder; 404 when it is not a file there (or is gone)."""
    path = safe_join(str(folder), stored_name)
    if path is None or not Path(path).is_file():
        abort(404)
    return Path(path)


def send_private_file(
    folder: str | Path, stored_name: str, *, filename: str, content_type: str, data: bytes | None = None
) -> Response:
    """The file (or `data`, the file's bytes as this user gets them) as an attachment under the name it was uploaded
    with, never cached, the browser told neither to guess its type nor to run anything in it. 404 when it is not a
    file inside the folder (or is gone)."""
    path = private_path(folder, stored_name)
    source = io.BytesIO(data) if data is not None else path
    response = send_file(source, mimetype=content_type, as_attachment=True, download_name=filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
