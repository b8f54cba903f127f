"""Listening session requests, and the shapes of its responses for the OpenAPI document (the
payloads themselves are built in `seda.sessions.payloads`, already in the contract's form)."""

import marshmallow as ma
from marshmallow.validate import Length, Range

from seda.chat.schemas import TrackRefInputSchema
from seda.common.schemas import HttpsUrl, JsonInteger, Trimmed
from seda.tracks.schemas import TrackRefSchema
from seda.users.schemas import UserRefSchema

MAX_CLIENT_DURATION = 3600


def _moment(description):
    return ma.fields.String(allow_none=True, metadata={"format": "date-time", "description": description})


class QueueTrackRefSchema(TrackRefInputSchema):
    """A track the client chose: the link must be a supported one whose provider and providerId
    it matches. Title, artist, artwork and duration are seda's when it has unfurled the link,
    else the ones sent here."""

    title = Trimmed(validate=Length(max=300), allow_none=True, load_default=None)
    artist = Trimmed(validate=Length(max=300), allow_none=True, load_default=None)
    artwork = HttpsUrl(allow_none=True, load_default=None)
    duration = JsonInteger(
        validate=Range(1, MAX_CLIENT_DURATION),
        allow_none=True,
        load_default=None,
        metadata={"description": "Seconds (1–3600); seda's own duration wins when it knows one"},
    )


class AddToQueueSchema(ma.Schema):
    trackRef = ma.fields.Nested(QueueTrackRefSchema, metadata={"description": "Either this or url"})
    url = Trimmed(
        validate=[Length(1, 2048), ma.validate.URL(schemes={"http", "https"})],
        metadata={"description": "A supported music link, unfurled as POST /tracks/unfurl does (422 otherwise)"},
    )

    @ma.validates_schema
    def exactly_one(self, data, **kwargs):
        if ("trackRef" in data) == ("url" in data):
            raise ma.ValidationError("Give either trackRef or url.", "trackRef")


class SkipSchema(ma.Schema):
    """The body of a skip; no body at all is a skip of whatever plays."""

    BODY_OPTIONAL = True
    itemId = ma.fields.UUID(
        metadata={"description": "The item the caller means to skip; 409 when it is no longer the playing one"}
    )


class QueueItemSchema(ma.Schema):
    id = ma.fields.UUID()
    trackRef = ma.fields.Nested(TrackRefSchema)
    addedBy = ma.fields.Nested(UserRefSchema)
    addedAt = _moment("When it was queued")


class NowPlayingSchema(QueueItemSchema):
    startedAt = _moment("When it started; the position is serverTime - startedAt")
    endsAt = _moment("startedAt + duration; null for a track without a duration (plays until skipped)")


class ListeningSessionSchema(ma.Schema):
    id = ma.fields.UUID()
    roomId = ma.fields.UUID()
    host = ma.fields.Nested(UserRefSchema, allow_none=True)
    status = ma.fields.String(metadata={"enum": ["ACTIVE", "ENDED"]})
    nowPlaying = ma.fields.Nested(NowPlayingSchema, allow_none=True)
    queue = ma.fields.List(ma.fields.Nested(QueueItemSchema), metadata={"description": "Waiting, in play order"})
    skipVotes = ma.fields.Integer(metadata={"description": "Votes to skip the playing track"})
    skipNeeded = ma.fields.Integer(metadata={"description": "Half of the members online in the room, plus one"})
    myVote = ma.fields.Boolean(metadata={"description": "Whether I voted to skip (false in broadcasts)"})
    createdAt = _moment("When the session started")
    endedAt = _moment("When it ended")
    serverTime = _moment("The server's clock when this was built")


class HistoryItemSchema(QueueItemSchema):
    startedAt = _moment("When it started playing")
    endedAt = _moment("When it stopped (null while playing)")
    skipped = ma.fields.Boolean()
