"""How a composed mail leaves: SMTP (`SMTP_URL`), or the outbox folder in the embedded default.

`smtp://[user:password@]host[:port]` (25; STARTTLS when the server offers it),
`smtp+starttls://…` (587; STARTTLS required), `smtps://…` (465; TLS from the start). User and
password are percent-decoded and sent only over TLS, or to a loopback host. Each attempt has a
deadline of DEADLINE_SECONDS. A failure says whether trying again later may help."""

import ipaddress
import logging
import os
import re
import smtplib
import ssl
import time
import uuid
from pathlib import Path
from urllib.parse import unquote, urlsplit

from seda.common.db import utcnow

log = logging.getLogger(__name__)

DEADLINE_SECONDS = 10.0
DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
LINK = re.compile(r"https?://\S+")


class MailFailure(Exception):
    """A mail that did not go out; `temporary` when trying again later may help."""

    def __init__(self, reason, temporary):
        super().__init__(reason)
        self.temporary = temporary


class SmtpTransport:
    def __init__(self, url, ca_bundle=None, deadline=DEADLINE_SECONDS):
        parts = urlsplit(url)
        if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
            raise ValueError("SMTP_URL must be smtp://, smtp+starttls:// or smtps://host[:port]")
        self.scheme, self.host = parts.scheme, parts.hostname
        self.port = parts.port or DEFAULT_PORTS[parts.scheme]
        self.user = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self._tls = ssl.create_default_context(cafile=ca_bundle)
        self._deadline = deadline

    def send(self, message):
        started = time.monotonic()
        try:
            with self._connect() as smtp:
                secure = self.scheme == "smtps" or self._start_tls(smtp)
                self._check_deadline(started)
                if self.user:
                    if not secure and not _is_loopback(self.host):
                        raise MailFailure("SMTP credentials are sent only over TLS or to a loopback host", False)
                    smtp.login(self.user, self.password or "")
                    self._check_deadline(started)
                smtp.send_message(message)
        except MailFailure:
            raise
        except smtplib.SMTPResponseException as error:
            raise MailFailure(f"SMTP {error.smtp_code}: {_text(error.smtp_error)}", error.smtp_code < 500) from error
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            raise MailFailure(f"recipient refused: {codes}", all(code < 500 for code in codes)) from error
        except (OSError, smtplib.SMTPException) as error:  # refused, timed out, dropped, TLS failed
            raise MailFailure(f"{type(error).__name__}: {error}", True) from error

    def _connect(self):
        if self.scheme == "smtps":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self._deadline, context=self._tls)
        return smtplib.SMTP(self.host, self.port, timeout=self._deadline)

    def _start_tls(self, smtp):
        smtp.ehlo()
        if smtp.has_extn("starttls"):
            smtp.starttls(context=self._tls)
            smtp.ehlo()
            return True
        if self.scheme == "smtp+starttls":
            raise MailFailure("the SMTP server does not offer STARTTLS, which smtp+starttls requires", False)
        return False

    def _check_deadline(self, started):
        if time.monotonic() - started > self._deadline:
            raise MailFailure(f"no answer within {self._deadline:g} s", True)

    def describe(self):
        return f"{self.scheme}://{self.host}:{self.port}"


class OutboxTransport:
    """Each mail written exactly as it would be sent (RFC 5322) into `folder`, atomically, with
    one WARNING line naming recipient and subject (and, outside production, the mail's links)."""

    def __init__(self, folder, show_links):
        self.folder, self.show_links = Path(folder), show_links

    def send(self, message):
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        name = f"{utcnow():%Y%m%dT%H%M%S%f}Z-{uuid.uuid4()}.eml"
        aside = self.folder / f".{name}.part"
        aside.write_bytes(bytes(message))
        os.replace(aside, self.folder / name)
        links = LINK.findall(message.get_content()) if self.show_links else []
        log.warning(
            "mail to %s: %s (outbox %s)%s",
            message["To"],
            message["Subject"],
            name,
            "".join(f" {link}" for link in links),
        )
        return self.folder / name

    def describe(self):
        return f"the outbox folder {self.folder}"


def transport_from_config(config):
    if config["SMTP_URL"]:
        return SmtpTransport(config["SMTP_URL"], config["SMTP_CA_BUNDLE"])
    return OutboxTransport(config["MAIL_OUTBOX_DIR"], show_links=config["APP_ENV"] != "production")


def _is_loopback(host):
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _text(value):
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
