"""JSON log lines for the app, gunicorn, Celery and SQLAlchemy alike, each with its request id."""

import logging
import sys

from pythonjsonlogger.json import JsonFormatter

from seda.common.request_id import current_request_id


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id()
        return True


def configure_logging(level="INFO"):
    """Send every logger's records to stdout as one JSON object per line."""
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        )
    )
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_seda", False):
            root.removeHandler(existing)
    handler._seda = True
    root.addHandler(handler)
    root.setLevel(level)
