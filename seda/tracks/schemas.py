import marshmallow as ma

from seda.common.schemas import Trimmed
from seda.tracks.providers import NAMES


class UnfurlSchema(ma.Schema):
    url = Trimmed(required=True, validate=[ma.validate.Length(1, 2048), ma.validate.URL(schemes={"http", "https"})])


class TrackRefSchema(ma.Schema):
    provider = ma.fields.String(metadata={"enum": NAMES})
    providerId = ma.fields.String()
    url = ma.fields.String()
    title = ma.fields.String(allow_none=True)
    artist = ma.fields.String(allow_none=True)
    artwork = ma.fields.String(allow_none=True)
    duration = ma.fields.Integer(allow_none=True, metadata={"description": "Seconds"})
