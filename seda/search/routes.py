from flask import current_app

from seda.chat.schemas import PopularTrackSchema
from seda.common import ratelimit
from seda.common.api import Blueprint
from seda.common.auth import current_user, login_required
from seda.common.pagination import PAGE_HEADERS_DOC, payload_page
from seda.search import services
from seda.search.schemas import MessageHitSchema, MessageSearchQuerySchema, TrackSearchQuerySchema

bp = Blueprint("search", __name__, url_prefix="/search", description="Full-text search (section 9)")


def _search_limit():
    return current_app.config["RATE_LIMIT_SEARCH"]


# One budget for both routes: API.md gives search one limit per user.
_search_budget = ratelimit.shared_limit(_search_limit, scope="search")


@bp.route("/messages")
@login_required
@_search_budget
@bp.arguments(MessageSearchQuerySchema, location="query")
@bp.response(200, MessageHitSchema(many=True), headers=PAGE_HEADERS_DOC)
@bp.alt_response(404, description="roomId is not a room I am a member of")
def search_messages(query):
    """Messages of the rooms I am a member of now whose text, track title or track artist hold
    every word of `q`, newest first (createdAt, then seq, then id). Soft-deleted messages are
    never found; an edited one is found by its new text."""
    result = services.search_messages(
        current_user(),
        query["q"],
        query["limit"],
        query.get("cursor"),
        query.get("roomId"),
        query.get("userId"),
        query.get("hasTrack"),
    )
    return payload_page(result, query["limit"])


@bp.route("/tracks")
@login_required
@_search_budget
@bp.arguments(TrackSearchQuerySchema, location="query")
@bp.response(200, PopularTrackSchema(many=True))
def search_tracks(query):
    """Tracks shared as cards in public rooms and rooms I belong to whose title or artist hold
    every word of `q`. Best match first: all words in the title, then all in the artist, then
    spread over both; ties by shareCount, then lastSharedAt (most recent first)."""
    return services.search_tracks(current_user(), query["q"], query["limit"])
