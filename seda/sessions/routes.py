"""REST routes of listening sessions (API.md section 10): thin wrappers over seda.sessions.services."""

import json

from flask import Response

from seda.common.api import Blueprint
from seda.common.auth import acting_admin, current_user, login_required
from seda.common.pagination import PAGE_HEADERS_DOC, payload_page
from seda.common.schemas import PageQuerySchema
from seda.sessions import services
from seda.sessions.schemas import (
    AddToQueueSchema,
    HistoryItemSchema,
    ListeningSessionSchema,
    QueueItemSchema,
    SkipSchema,
)

bp = Blueprint(
    "sessions",
    __name__,
    url_prefix="/chat/rooms/<room_id>/session",
    description="Listening sessions: a room's shared queue, now playing and skip votes (section 10)",
)
NO_SESSION_DOC = "No such room (or a private one I am not in), or the room has no ACTIVE session"


def _json(payload, status=200):
    return Response(json.dumps(payload, ensure_ascii=False, separators=(",", ":")), status, mimetype="application/json")


@bp.route("", methods=["POST"])
@login_required
@bp.response(201, ListeningSessionSchema)
@bp.alt_response(409, description="The room already has an ACTIVE session")
def start(room_id):
    """Start the room's listening session (members only); the caller hosts it. `session_started`."""
    return _json(services.start_session(current_user(), room_id), 201)


@bp.route("")
@login_required
@bp.response(200, ListeningSessionSchema)
@bp.alt_response(404, description=NO_SESSION_DOC)
def get(room_id):
    """The room's ACTIVE session; a late joiner's position in the track is serverTime - startedAt."""
    return _json(services.get_session(current_user(), room_id))


@bp.route("", methods=["DELETE"])
@login_required
@bp.response(204)
@bp.alt_response(404, description=NO_SESSION_DOC)
def end(room_id):
    """End the session (the host, the room's OWNER or MODERATORs, or an admin). `session_ended`."""
    services.end_session(current_user(), room_id, acting_admin())


@bp.route("/queue", methods=["POST"])
@login_required
@bp.arguments(AddToQueueSchema)
@bp.response(201, QueueItemSchema)
@bp.alt_response(404, description=NO_SESSION_DOC)
@bp.alt_response(409, description="3 tracks of mine already waiting, or 100 in the queue")
@bp.alt_response(422, description="Not a supported music link, or the provider gave no usable details")
@bp.alt_response(502, description="A `url` whose provider could not be reached: retry later (with Retry-After)")
def add_to_queue(body, room_id):
    """Queue a track (members only), by `trackRef` or by `url`. With nothing playing it starts at
    once (`now_playing`), else `queue_updated`."""
    item = services.add_to_queue(current_user(), room_id, body.get("trackRef"), body.get("url"))
    return _json(item, 201)


@bp.route("/queue/<item_id>", methods=["DELETE"])
@login_required
@bp.response(204)
@bp.alt_response(404, description=NO_SESSION_DOC + ", or no such waiting or playing item")
def remove_from_queue(room_id, item_id):
    """Remove a track (who added it, the host, the room's OWNER or MODERATORs, or an admin);
    removing the playing one skips it (`now_playing`), else `queue_updated`."""
    services.remove_item(current_user(), room_id, item_id, acting_admin())


@bp.route("/skip", methods=["POST"])
@login_required
@bp.arguments(SkipSchema, required=False)
@bp.response(200, ListeningSessionSchema)
@bp.alt_response(404, description=NO_SESSION_DOC)
@bp.alt_response(409, description="Nothing is playing, or `itemId` is no longer the playing item")
def skip(body, room_id):
    """The host, the room's OWNER or MODERATORs and admins skip at once (`now_playing`); other
    members vote, once per track (`skip_votes`), and the track is skipped when the votes reach
    skipNeeded. The Session after the vote and any skip it caused. With `itemId`, a skip meant
    for a track that has already moved on changes nothing (a double click never skips two)."""
    return _json(services.skip(current_user(), room_id, acting_admin(), body.get("itemId")))


@bp.route("/history")
@login_required
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, HistoryItemSchema(many=True), headers=PAGE_HEADERS_DOC)
@bp.alt_response(404, description=NO_SESSION_DOC)
def history(query, room_id):
    """What the room's sessions played (the playing track included), most recent first."""
    return payload_page(services.history(current_user(), room_id, query["limit"], query.get("cursor")), query["limit"])
