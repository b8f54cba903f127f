"""JSON log lines for the app, gunicorn, Celery and SQLAlchemy alike, each with its request id."""

import logging
import re
import sys

from pythonjsonlogger.json import JsonFormatter

from seda.common.request_id import current_request_id
from seda.common.scheduler import periodic_task_names


class RequestIdFilter(logging.Filter):
    def filter(self, record):
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id()
        return True


# What a periodic job returns when it found nothing to do: None, 0, {} or counts that are all 0.
_IDLE = re.compile(r"None|0|\{\}|\{'\w+': 0(?:, '\w+': 0)*\}")


class IdlePeriodicJobsAtDebug(logging.Filter):
    """Celery logs every task's success at INFO: the embedded scheduler's 5-second session sweep
    alone wrote a line every 5 s. A periodic job that did nothing is told at DEBUG only."""

    def filter(self, record):
        args = record.args if isinstance(record.args, dict) else None
        if record.levelno != logging.INFO or args is None or not _IDLE.fullmatch(str(args.get("return_value"))):
            return True
        return args.get("name") not in periodic_task_names() or logging.getLogger().isEnabledFor(logging.DEBUG)


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
    handler.addFilter(IdlePeriodicJobsAtDebug())
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_seda", False):
            root.removeHandler(existing)
    handler._seda = True
    root.addHandler(handler)
    root.setLevel(level)
