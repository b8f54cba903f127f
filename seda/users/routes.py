from seda.common.api import Blueprint
from seda.common.auth import current_user, login_required
from seda.users import services
from seda.users.schemas import (
    ArtistProfileInputSchema,
    PublicUserSchema,
    UpdateMeSchema,
    UserSchema,
)

bp = Blueprint("users", __name__, url_prefix="/users", description="Accounts and artist profiles")


@bp.route("/me")
@login_required
@bp.response(200, UserSchema)
def get_me():
    """The caller's own account."""
    return current_user()


@bp.route("/me", methods=["PATCH"])
@login_required
@bp.arguments(UpdateMeSchema)
@bp.response(200, UserSchema)
def patch_me(changes):
    """Change display name, avatar or bio (role, email and ban state are not accepted)."""
    return services.update_profile(current_user(), changes)


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
