"""The mail the accounts area sends: links to confirm an address or reset a password, and warnings to owners.

Each message is written from a template in templates/accounts/mail/ and sent through marketplace.mail.
"""

from flask import current_app, render_template, url_for

from marketplace.accounts.models import User
from marketplace.mail import MailSettings, send_mail


def _send(to: str, subject: str, template: str, **context) -> bool:
    body = render_template(f"accounts/mail/{template}", **context)
    return send_mail(MailSettings.from_config(current_app.config), to, subject, body)


def send_confirmation(user: User, token: str) -> bool:
    link = url_for("security.confirm_email", token=token, _external=True)
    return _send(user.email, "Confirm your email address", "confirm_email.txt", user=user, link=link)


def send_sign_up_attempt(user: User) -> bool:
    """Someone signed up with an address that already has an account: tell its owner, not the visitor."""
    reset = url_for("security.forgot_password", _external=True)
    return _send(
        user.email, "Someone tried to sign up with your address", "sign_up_attempt.txt", user=user, reset=reset
    )


def send_invitation(email: str, inviter: User, org_name: str, link: str) -> bool:
    """The invitation link, to the colleague invited: the inviter may also copy it from the page."""
    subject = f"{inviter.name} invited you to {org_name}"
    return _send(email, subject, "invitation.txt", inviter=inviter, org_name=org_name, link=link)


def send_password_reset(user: User, token: str) -> bool:
    link = url_for("security.reset_password", token=token, _external=True)
    return _send(user.email, "Reset your password", "reset_password.txt", user=user, link=link)


def send_password_changed(user: User) -> bool:
    reset = url_for("security.forgot_password", _external=True)
    return _send(user.email, "Your password was changed", "password_changed.txt", user=user, reset=reset)
