"""Sending mail over SMTP (smtplib), configured by MAIL_* settings; no Flask here.

The demo and the tests point MAIL_SERVER/MAIL_PORT at a local SMTP server that catches every message
(dev/mail_catcher.py, tests/mailbox.py). A message that cannot be sent is logged by recipient and subject only:
bodies carry one-time links, and logs must never hold them.
"""

import logging
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MailSettings:
    server: str
    port: int
    sender: str
    username: str = ""
    password: str = ""
    starttls: bool = False
    timeout: float = 10.0

    @classmethod
    def from_config(cls, config) -> "MailSettings":
        return cls(
            server=config.get("MAIL_SERVER", ""),
            port=int(config.get("MAIL_PORT", 25)),
            sender=config.get("MAIL_FROM", ""),
            username=config.get("MAIL_USERNAME", ""),
            password=config.get("MAIL_PASSWORD", ""),
            starttls=bool(config.get("MAIL_STARTTLS", False)),
        )


def build_message(settings: MailSettings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=settings.sender.rpartition("@")[2].strip("> ") or None)
    message.set_content(body)
    return message


def send_mail(settings: MailSettings, to: str, subject: str, body: str) -> bool:
    """Send one plain-text message; True once the server accepted it, False (logged) when it could not be sent."""
    if not settings.server:
        log.warning("mail is off (MAIL_SERVER unset): not sent to %s: %s", to, subject)
        return False
    message = build_message(settings, to, subject, body)
    try:
        with smtplib.SMTP(settings.server, settings.port, timeout=settings.timeout) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.username:
                smtp.login(settings.username, settings.password)
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        log.error("mail to %s (%s) not sent: %s", to, subject, type(error).__name__)
        return False
    return True
