"""Signing and checking neutrality statements with the platform's Ed25519 key; no database, no Flask.

A statement travels as one JSON document: {"statement": {...}, "signature": "<base64>"}. The signature covers the
statement's canonical JSON (keys sorted, no spaces, UTF-8), so anyone holding the platform's public key can check
it offline, with this module or any Ed25519 library. A party list is never in a statement, only its SHA-256 over
the canonical list (`list_digest`), which a lab holding the same list recomputes.
"""

import base64
import binascii
import hashlib
import json
import os
import time
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

FORMAT = "armslength-neutrality-statement/1"


class BadStatement(ValueError):
    """The document is not a statement this platform could have signed: the reason, in words."""


def canonical(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def list_entries(text: str) -> list[str]:
    """The list's entries as they are hashed: one per line, spaces collapsed, compatibility-normalised (NFKC),
    lower-cased; empty lines dropped, duplicates once, sorted."""
    entries = {" ".join(unicodedata.normalize("NFKC", line).split()).casefold() for line in text.splitlines()}
    return sorted(entry for entry in entries if entry)


def list_digest(text: str) -> str:
    """SHA-256 (hex) of the canonical list: its entries joined by newlines."""
    return hashlib.sha256("\n".join(list_entries(text)).encode("utf-8")).hexdigest()


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short name for a public key: the first 16 hex digits of the SHA-256 of its raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except ValueError as error:
        raise BadStatement("That is not a PEM public key.") from error
    if not isinstance(key, Ed25519PublicKey):
        raise BadStatement("That public key is not an Ed25519 key.")
    return key


def platform_key(path: Path) -> Ed25519PrivateKey:
    """The platform's signing key, kept in `path` (owner-only) and made on first use. Workers starting together
    agree on one key: the first to create the file writes it, the others read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            pem = path.read_bytes()
            if pem.strip():
                key = serialization.load_pem_private_key(pem, password=None)
                if not isinstance(key, Ed25519PrivateKey):
                    raise BadStatement(f"{path} does not hold an Ed25519 private key.") from None
                return key
            time.sleep(0.02)  # another worker is writing it
        raise BadStatement(f"{path} is empty: delete it to make a new signing key.") from None
    key = Ed25519PrivateKey.generate()
    with os.fdopen(descriptor, "wb") as file:
        file.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
    return key


def sign(key: Ed25519PrivateKey, statement: dict[str, Any]) -> dict[str, Any]:
    """The signed document for a statement."""
    return {"statement": statement, "signature": base64.b64encode(key.sign(canonical(statement))).decode()}


@dataclass(frozen=True)
class Checked:
    """A statement whose signature holds, and whether it has expired at the time asked."""

    statement: dict[str, Any]
    expired: bool


def check(document: bytes | str, public_key: Ed25519PublicKey, now: datetime | None = None) -> Checked:
    """Check a signed document offline. Raises BadStatement, with the reason, for anything but a statement signed
    by this key; a valid one says whether it has expired."""
    try:
        parsed = json.loads(document)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadStatement("This is not a statement: it is not JSON.") from error
    if not isinstance(parsed, dict) or not isinstance(parsed.get("statement"), dict):
        raise BadStatement("This is not a statement: it has no “statement” part.")
    statement, signature = parsed["statement"], parsed.get("signature")
    if statement.get("format") != FORMAT:
        raise BadStatement("This is not a neutrality statement of this platform.")
    if statement.get("key_id") != key_id(public_key):
        raise BadStatement("This statement was signed with another key than the one given.")
    try:
        raw = base64.b64decode(str(signature), validate=True)
    except (binascii.Error, ValueError) as error:
        raise BadStatement("The signature is not base64.") from error
    try:
        public_key.verify(raw, canonical(statement))
    except InvalidSignature as error:
        raise BadStatement("The signature does not match: the statement was changed after it was signed.") from error
    try:
        expires = datetime.fromisoformat(statement["expires_at"])
    except (KeyError, TypeError, ValueError) as error:
        raise BadStatement("The statement has no valid expiry.") from error
    return Checked(statement, expired=(now or datetime.now(UTC)) >= expires)
