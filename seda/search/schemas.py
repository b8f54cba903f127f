"""Search queries and results (API.md section 9)."""

import marshmallow as ma
from marshmallow.validate import Length, Range

from seda.chat.schemas import MessageSchema
from seda.common.schemas import PageQuerySchema, Trimmed
from seda.search.words import MAX_WORDS, SearchTerms

Q_DESCRIPTION = (
    "Words that must all occur (in the text, the track's title or its artist), the last one as a"
    " prefix; case and accents are ignored. A word is a run of letters and digits: any other"
    f" character, operators and quotes included, only separates words. 1–200 characters, at most {MAX_WORDS} words."
)


def _has_words(q):
    terms = SearchTerms(q)
    if not terms:
        raise ma.ValidationError("Enter at least one word (letters or digits).")
    if len(terms) > MAX_WORDS:
        raise ma.ValidationError(f"At most {MAX_WORDS} words.")


def _query_text():
    return Trimmed(required=True, validate=[Length(1, 200), _has_words], metadata={"description": Q_DESCRIPTION})


class MessageSearchQuerySchema(PageQuerySchema):
    q = _query_text()
    roomId = ma.fields.UUID(metadata={"description": "Only this room (one I am a member of, else 404)"})
    userId = ma.fields.UUID(metadata={"description": "Only messages by this user"})
    hasTrack = ma.fields.Boolean(
        metadata={"description": "true: only track cards; false: none; absent: both"},
    )
    cursor = ma.fields.String(
        validate=Length(1, 64), metadata={"description": "The id of the last message of the previous page"}
    )


class TrackSearchQuerySchema(ma.Schema):
    q = _query_text()
    limit = ma.fields.Integer(load_default=20, validate=Range(1, 50))


class MessageHitSchema(ma.Schema):
    message = ma.fields.Nested(MessageSchema)
    roomName = ma.fields.String()
    highlight = ma.fields.String(
        metadata={
            "description": "The whole text, HTML-escaped, each matching word in <mark>…</mark> (no mark when"
            " only the track's title or artist matched)"
        }
    )
