"""Mail as a user receives it: a real SMTP server on loopback (aiosmtpd) that keeps what it
accepts, and the embedded default's outbox folder, both parsed as RFC 5322 messages."""

import asyncio
import re
import threading
import time
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

from seda.common.tasks import wait_for_in_process_tasks
from tests.helpers.servers import free_port

TOKEN = re.compile(r"[?&]token=([A-Za-z0-9_-]+)")


class MailSink:
    """An SMTP server on 127.0.0.1: `reply` answers every DATA with that line instead of
    accepting it (e.g. "451 4.3.0 try later"); `delay` seconds pass before each answer."""

    def __init__(self, tls_context=None, require_starttls=False, login=None, reply=None, delay=0.0, implicit_tls=None):
        self.messages, self.envelopes, self.reply, self.delay = [], [], reply, delay
        self._lock = threading.Lock()
        kwargs = {"tls_context": tls_context, "require_starttls": require_starttls}
        if login is not None:
            kwargs.update(authenticator=_authenticator(*login), auth_require_tls=False)
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port, ssl_context=implicit_tls, **kwargs)

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.reply:
            return self.reply
        with self._lock:
            self.envelopes.append(envelope)
            self.messages.append(message_from_bytes(envelope.original_content, policy=default_policy))
        return "250 OK"

    def start(self):
        self._controller.start()
        return self

    def stop(self):
        self._controller.stop()

    def url(self, scheme="smtp", credentials=""):
        return f"{scheme}://{credentials}127.0.0.1:{self.port}"

    def wait_for(self, count=1, timeout=10.0):
        """The first `count` mails accepted, waiting for them."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages[:count])
            time.sleep(0.02)
        raise AssertionError(f"{count} mail(s) expected, {len(self.messages)} arrived")


def _authenticator(user, password):
    def authenticate(server, session, envelope, mechanism, auth_data):
        ok = auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok)

    return authenticate


def outbox(app):
    """Every mail in the app's outbox folder, oldest first (after the in-process tasks ran)."""
    wait_for_in_process_tasks()
    folder = Path(app.config["MAIL_OUTBOX_DIR"])
    if not folder.exists():
        return []
    return [message_from_bytes(path.read_bytes(), policy=default_policy) for path in sorted(folder.glob("*.eml"))]


def mails_to(app, address, subject=None):
    return [m for m in outbox(app) if m["To"] == address and (subject is None or m["Subject"] == subject)]


def token_in(message):
    """The token of the one link in `message`'s text."""
    found = TOKEN.findall(message.get_content())
    assert len(found) == 1, message.get_content()
    return found[0]


def wait_for_mail(folder, address, timeout=10.0):
    """The first mail to `address` in an outbox `folder` a server process writes, waiting for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for path in sorted(Path(folder).glob("*.eml")):
            message = message_from_bytes(path.read_bytes(), policy=default_policy)
            if message["To"] == address:
                return message
        time.sleep(0.05)
    raise AssertionError(f"no mail to {address} in {folder}")
