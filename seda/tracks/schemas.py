import marshmallow as ma

from seda.chat.schemas import PROVIDERS
from seda.common.schemas import Timestamp, Trimmed


class UnfurlSchema(ma.Schema):
    url = Trimmed(required=True, validate=[ma.validate.Length(1, 2048), ma.validate.URL(schemes={"http", "https"})])


class TrackRefSchema(ma.Schema):
    provider = ma.fields.String(metadata={"enum": PROVIDERS})
    providerId = ma.fields.String()
    url = ma.fields.String()
    title = ma.fields.String(allow_none=True)
    artist = ma.fields.String(allow_none=True)
    artwork = ma.fields.String(allow_none=True)
    duration = ma.fields.Integer(allow_none=True, metadata={"description": "Seconds"})


class PopularTrackSchema(TrackRefSchema):
    shareCount = ma.fields.Integer()
    lastSharedAt = Timestamp()


class PopularQuerySchema(ma.Schema):
    days = ma.fields.Integer(load_default=7, validate=ma.validate.Range(1, 30))
    limit = ma.fields.Integer(load_default=20, validate=ma.validate.Range(1, 50))
