"""Reading the demo's caught mail: dev/mail_catcher.py writes one .eml file per message into a folder."""

from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from pathlib import Path

SHOWN = 50


@dataclass(frozen=True)
class CaughtMessage:
    name: str
    to: str
    subject: str
    date: str
    body: str


def read_messages(folder: str | Path, limit: int = SHOWN) -> list[CaughtMessage]:
    """The newest messages first (file names sort by arrival)."""
    path = Path(folder)
    if not path.is_dir():
        return []
    messages = []
    for file in sorted(path.glob("*.eml"), reverse=True)[:limit]:
        message = BytesParser(policy=policy.default).parsebytes(file.read_bytes())
        body = message.get_body(preferencelist=("plain",))
        messages.append(
            CaughtMessage(
                name=file.name,
                to=str(message.get("To", "")),
                subject=str(message.get("Subject", "")),
                date=str(message.get("Date", "")),
                body=body.get_content() if body is not None else "",
            )
        )
    return messages
