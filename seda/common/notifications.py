"""The one way a feature asks for notifications (API.md section 8): after its commit it says what
happened, and the notifications feature decides off the caller's path (a task) who is told."""

from seda.common.tasks import enqueue

FOR_MESSAGE_TASK = "notifications.for_message"
FOR_VERIFICATION_TASK = "notifications.for_verification"


def message_stored(message_id, newly_mentioned=None):
    """A message was stored, or edited to mention `newly_mentioned` (user ids, strings) as well."""
    enqueue(FOR_MESSAGE_TASK, str(message_id), newly_mentioned)


def verification_changed(request_id, status):
    """A verification request reached `status` (the name of a status its owner hears about)."""
    enqueue(FOR_VERIFICATION_TASK, str(request_id), status)
