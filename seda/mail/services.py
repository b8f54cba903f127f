"""Send a composed mail after the commit that caused it, off the request path; deliver it from
the task, retrying a temporary failure three times (about 30 s, 2 min and 10 min later)."""

import logging
from datetime import timedelta
from email import message_from_bytes

from flask import current_app

from seda.common.db import utcnow
from seda.common.request_id import bind_request_id, current_request_id, reset_request_id
from seda.common.tasks import enqueue, enqueue_at
from seda.mail import compose
from seda.mail.transports import MailFailure, transport_from_config

log = logging.getLogger(__name__)

SEND_TASK = "mail.send"
RETRY_AFTER = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10))


def send(message):
    """Queue `message` (an EmailMessage); call it after the commit that caused it."""
    enqueue(SEND_TASK, bytes(message).decode("utf-8"), 0, current_request_id())


def deliver(raw, attempt=0, request_id=None):
    """Send one queued mail through the configured transport (the task's body)."""
    token = bind_request_id(request_id)
    try:
        message = message_from_bytes(raw.encode("utf-8"), policy=compose.POLICY)
        try:
            transport_from_config(current_app.config).send(message)
        except MailFailure as failure:
            _failed(raw, attempt, request_id, message, failure)
    finally:
        reset_request_id(token)


def _failed(raw, attempt, request_id, message, failure):
    if failure.temporary and attempt < len(RETRY_AFTER):
        log.warning("mail %r to %s not sent (%s), retrying", message["Subject"], message["To"], failure)
        enqueue_at(SEND_TASK, utcnow() + RETRY_AFTER[attempt], raw, attempt + 1, request_id)
        return
    log.error("mail %r to %s dropped: %s", message["Subject"], message["To"], failure)


def send_now(message):
    """Send `message` at once through the configured transport; what happened (the operator's
    check of SMTP_URL). Raises MailFailure."""
    transport = transport_from_config(current_app.config)
    transport.send(message)
    return transport.describe()
