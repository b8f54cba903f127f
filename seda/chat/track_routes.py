from flask import current_app

from seda.chat import cards
from seda.chat.schemas import PopularQuerySchema, PopularTrackSchema
from seda.common import ratelimit
from seda.common.api import Blueprint
from seda.common.auth import login_required
from seda.extensions import cache
from seda.tracks import services as tracks
from seda.tracks.schemas import TrackRefSchema, UnfurlSchema

bp = Blueprint("tracks", __name__, url_prefix="/tracks", description="Track cards from music links")


@bp.route("/unfurl", methods=["POST"])
@login_required
@ratelimit.limit(lambda: current_app.config["RATE_LIMIT_UNFURL"])
@bp.arguments(UnfurlSchema)
@bp.response(200, TrackRefSchema)
@bp.alt_response(422, description="Not a supported music link, or the provider gave no usable details")
@bp.alt_response(
    502, description="Could not reach <provider>, retry later: the provider or the network failed (with Retry-After)"
)
def unfurl(body):
    """The TrackRef of a Spotify, Apple Music, YouTube, SoundCloud, Bandcamp, Tidal or Deezer link."""
    return tracks.unfurl(body["url"])


@bp.route("/popular")
@login_required
@bp.arguments(PopularQuerySchema, location="query")
@bp.response(200, PopularTrackSchema(many=True))
@cache.cached(timeout=300, query_string=True)
def popular(query):
    """Most shared tracks in public rooms (the same answer for every caller, cached 5 minutes)."""
    return cards.popular(query["days"], query["limit"])
