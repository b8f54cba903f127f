from seda.common.api import Blueprint
from seda.common.auth import current_user, login_required
from seda.common.kept_responses import kept_for_caller
from seda.common.pagination import PAGE_HEADERS_DOC, paged
from seda.common.schemas import PageQuerySchema
from seda.users import blocks, services
from seda.users.schemas import (
    ArtistProfileInputSchema,
    PublicUserSchema,
    UpdateMeSchema,
    UserRefSchema,
    UserSchema,
    UserSearchQuerySchema,
)

bp = Blueprint("users", __name__, url_prefix="/users", description="Accounts and artist profiles")


@bp.route("")
@login_required
@bp.arguments(UserSearchQuerySchema, location="query")
@bp.response(200, UserRefSchema(many=True), headers=PAGE_HEADERS_DOC)
def search_users(query):
    """Find people: username or display name starting with `q`, by username (banned users left out).

    Usernames compare byte by byte: digits, then `_`, then letters (the same on every tier)."""
    return paged(services.search_users(query["q"], query["limit"], query.get("cursor")), query["limit"])


@bp.route("/by-username/<username>")
@login_required
@bp.response(200, PublicUserSchema)
@bp.alt_response(404, description="No user has this username")
def get_by_username(username):
    """A user's public profile by username (any case)."""
    return services.get_by_username(username)


@bp.route("/me")
@kept_for_caller
@login_required
@bp.response(200, UserSchema)
def get_me():
    """The caller's own account."""
    return current_user()


@bp.route("/me", methods=["PATCH"])
@login_required
@bp.arguments(UpdateMeSchema)
@bp.response(200, UserSchema)
@bp.alt_response(409, description="Username taken, or changed less than 30 days ago")
def patch_me(changes):
    """Change username, display name, avatar or bio (role, email and ban state are not accepted).

    A username taken by someone else (or given up by someone else less than 30 days ago) is 409
    `Username is taken`; a second change within 30 days of the last one is 409 `Username can be
    changed again after <time>`; setting the current name again changes nothing."""
    return services.update_profile(current_user(), changes)


@bp.route("/me/blocks")
@login_required
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, UserRefSchema(many=True), headers=PAGE_HEADERS_DOC)
def list_blocks(query):
    """The users the caller blocks, most recently blocked first."""
    return paged(blocks.blocked_users(current_user(), query["limit"], query.get("cursor")), query["limit"])


@bp.route("/<user_id>/block", methods=["POST"])
@login_required
@bp.response(204)
@bp.alt_response(400, description="Blocking yourself")
@bp.alt_response(404, description="No such user")
def block_user(user_id):
    """Block a user (idempotent): no direct messages either way (403 `You cannot message this
    user`), no notifications from them. They are not told."""
    blocks.block(current_user(), user_id)


@bp.route("/<user_id>/block", methods=["DELETE"])
@login_required
@bp.response(204)
@bp.alt_response(404, description="No such user")
def unblock_user(user_id):
    """Lift a block (idempotent)."""
    blocks.unblock(current_user(), user_id)


@bp.route("/me/artist-profile", methods=["PUT"])
@login_required
@bp.arguments(ArtistProfileInputSchema)
@bp.response(200, UserSchema)
@bp.alt_response(409, description="The artist name of a verified profile cannot change")
def put_artist_profile(fields):
    """Create or replace the caller's artist profile."""
    return services.put_artist_profile(current_user(), fields)


@bp.route("/<user_id>")
@login_required
@bp.response(200, PublicUserSchema)
@bp.alt_response(404, description="No such user")
def get_user(user_id):
    """Another user's public profile."""
    return services.get_user(user_id)
