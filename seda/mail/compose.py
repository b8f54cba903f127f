"""Every mail seda sends: fixed subjects (clients, filters and tests match them), a text part,
the RFC 5322 headers. Nothing here sends anything."""

import uuid
from email.message import EmailMessage
from email.policy import default
from email.utils import format_datetime, make_msgid

from flask import current_app

from seda.common.db import utcnow

VERIFY_EMAIL = "Confirm your email for seda"
CONFIRM_NEW_EMAIL = "Confirm your new email for seda"
EMAIL_CHANGED = "Your seda email address was changed"
RESET_PASSWORD = "Reset your seda password"
PASSWORD_CHANGED = "Your seda password was changed"
TWO_FACTOR_ON = "Two-factor authentication was turned on for your seda account"
TWO_FACTOR_OFF = "Two-factor authentication was turned off for your seda account"
EXPORT_READY = "Your seda data export is ready"
DELETION_SCHEDULED = "Your seda account will be deleted"
DIGEST = "You have unread notifications on seda"
TEST_MAIL = "seda test mail"

# Header lines up to RFC 5322's 998 characters: a List-Unsubscribe URL is never folded into
# RFC 2047 encoded words, which mail clients would not read as a URL (API.md §13).
POLICY = default.clone(max_line_length=998)
SIGNATURE = "\n\n-- \nseda.fm · this mail was sent automatically; replies are not read.\n"


def email_verification(to, token):
    return _mail(
        to,
        VERIFY_EMAIL,
        "Welcome to seda!\n\nConfirm that this address is yours by opening this link within "
        f"{_hours('EMAIL_VERIFICATION_TTL_HOURS')}:\n\n{_link('/verify-email', token)}\n\n"
        "If you did not sign up for seda, you can ignore this mail.",
    )


def email_change(to, token):
    return _mail(
        to,
        CONFIRM_NEW_EMAIL,
        "Someone (we hope you) asked to use this address for a seda account. Open this link within "
        f"{_hours('EMAIL_VERIFICATION_TTL_HOURS')} to make the change:\n\n{_link('/verify-email', token)}\n\n"
        "If it was not you, ignore this mail: nothing changes until the link is opened.",
    )


def email_changed(to, new_email):
    return _mail(
        to,
        EMAIL_CHANGED,
        f"The email address of your seda account is now {new_email}; this address no longer signs in.\n\n"
        "If you did not make this change, reset your password from the new address's inbox or "
        "contact the seda team at once.",
    )


def password_reset(to, token):
    minutes = current_app.config["PASSWORD_RESET_TTL_MINUTES"]
    return _mail(
        to,
        RESET_PASSWORD,
        f"Choose a new password for your seda account within {minutes} minutes:\n\n"
        f"{_link('/reset-password', token)}\n\n"
        "If you did not ask for this, ignore this mail: your password stays as it is.",
    )


def password_changed(to):
    return _mail(
        to,
        PASSWORD_CHANGED,
        "The password of your seda account was just changed, and every device was signed out.\n\n"
        "If this was not you, get your account back at once:\n\n"
        f"{current_app.config['PUBLIC_BASE_URL']}/forgot-password",
    )


def two_factor(to, on):
    if on:
        return _mail(
            to,
            TWO_FACTOR_ON,
            "Two-factor authentication is now on for your seda account: signing in asks for a code from "
            "your authenticator app (or one of your recovery codes).\n\nIf you did not do this, reset your "
            "password at once.",
        )
    return _mail(
        to,
        TWO_FACTOR_OFF,
        "Two-factor authentication is now off for your seda account: signing in asks for your password "
        "alone.\n\nIf you did not do this, reset your password at once and turn it on again.",
    )


def export_ready(to):
    return _mail(
        to,
        EXPORT_READY,
        "The copy of your seda data you asked for is ready. Download it while you are signed in, "
        f"within {current_app.config['EXPORT_TTL_HOURS']} hours:\n\n"
        f"{current_app.config['PUBLIC_BASE_URL']}/settings/data",
    )


def deletion_scheduled(to, purge_at):
    return _mail(
        to,
        DELETION_SCHEDULED,
        "Your seda account is deleted and everything about you will be erased for good on "
        f"{purge_at:%Y-%m-%d at %H:%M} UTC. Until then you can still change your mind: choose "
        '"Restore my account" on the sign-in page and sign in with this email address and your '
        "password (and a two-factor code, if you use one).\n\n"
        "Your messages stay in their rooms, signed Deleted user.",
    )


def digest(to, lines, more, unsubscribe_token):
    """`lines`: (who, where, what, link) of each notification carried, newest first; `more`: how
    many more are waiting. One-click unsubscribe as RFC 8058 asks, and a link in the text."""
    config = current_app.config
    items = "\n\n".join(f"{who} in {where}: {what}\n{link}" for who, where, what, link in lines)
    rest = f"\n\n…and {more} more." if more else ""
    message = _mail(
        to,
        DIGEST,
        f"While you were away:\n\n{items}{rest}\n\n"
        f"No more of these digests: {config['PUBLIC_BASE_URL']}/unsubscribe?token={unsubscribe_token}",
    )
    message["List-Unsubscribe"] = (
        f"<{config['PUBLIC_API_URL']}{config['API_PREFIX']}/notifications/unsubscribe?token={unsubscribe_token}>"
    )
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return message


def test_mail(to):
    return _mail(
        to,
        TEST_MAIL,
        "This mail checks seda's mail settings (flask --app wsgi seda send-test-mail). It arrived: they work.",
    )


def _mail(to, subject, text):
    config = current_app.config
    message = EmailMessage(policy=POLICY)
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utcnow())
    message["Message-ID"] = make_msgid(idstring=uuid.uuid4().hex, domain=_domain_of(config["MAIL_FROM"]))
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(text + SIGNATURE, charset="utf-8")
    return message


def _link(path, token):
    return f"{current_app.config['PUBLIC_BASE_URL']}{path}?token={token}"


def _hours(name):
    hours = current_app.config[name]
    return f"{hours} hours" if hours != 1 else "an hour"


def _domain_of(address):
    """The domain of the From address, for Message-ID (localhost when it has none)."""
    domain = address.rpartition("@")[2].strip(" >")
    return domain or "localhost"
