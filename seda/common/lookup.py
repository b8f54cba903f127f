"""Loading a row by the id a client sent: an id that is not a UUID is simply not found."""

from seda.common.db import parse_uuid
from seda.common.errors import NotFound
from seda.extensions import db


def find_by_id(model, raw_id):
    """The `model` row whose id is `raw_id`, or None (also for ids that are not UUIDs)."""
    row_id = parse_uuid(raw_id)
    return db.session.get(model, row_id) if row_id is not None else None


def get_or_404(model, raw_id, message):
    """The `model` row whose id is `raw_id`; NotFound(`message`) when there is none."""
    row = find_by_id(model, raw_id)
    if row is None:
        raise NotFound(message)
    return row
