from flask import current_app
from flask_limiter.util import get_remote_address

from seda.accounts import deletion
from seda.accounts.schemas import DeleteAccountSchema, DeletionSchema, RestoreAccountSchema
from seda.auth.schemas import AuthSessionSchema
from seda.auth.web import client_of_request, configured, counts_as_login_attempt
from seda.common import ratelimit
from seda.common.api import Blueprint
from seda.common.auth import admin_required, current_actor, current_user, login_required

bp = Blueprint("accounts", __name__, description="Deleting my account, restoring it, purging it")


@bp.route("/users/me", methods=["DELETE"])
@login_required
@bp.arguments(DeleteAccountSchema)
@bp.response(202, DeletionSchema)
@bp.alt_response(403, description="Incorrect password, or Invalid two-factor code")
@bp.alt_response(409, description="Set a password first, or The last super admin cannot be deleted")
def delete_me(body):
    """Delete my account: at once every device is signed out (`signed_out` ACCOUNT_DELETED),
    every room left, and I read as "Deleted user" everywhere; my messages stay. Restorable until
    `purgeAt` (POST /auth/account/restore), when everything personal is erased."""
    return deletion.delete_account(current_user(), body["password"], body.get("code"))


@bp.route("/auth/account/restore", methods=["POST"])
@ratelimit.limit(configured("RATE_LIMIT_LOGIN_IP"), key_func=get_remote_address)
@counts_as_login_attempt
@bp.arguments(RestoreAccountSchema)
@bp.response(200, AuthSessionSchema)
@bp.alt_response(401, description="Invalid email or password (unknown or purged), or Invalid two-factor code")
@bp.alt_response(409, description="Account is not deleted")
def restore_account(body):
    """Bring my deleted account back before its purge, signed in on a new device: email,
    username, profile and role come back; rooms, devices and invitations do not."""
    return deletion.restore(
        current_app.config["JWT_SECRET"], body["email"], body["password"], body.get("code"), client_of_request()
    )


@bp.route("/admin/users/<user_id>/purge", methods=["POST"])
@admin_required
@bp.response(204)
@bp.alt_response(404, description="User not found (unknown or already purged)")
@bp.alt_response(409, description="Account is not deleted")
def purge_user(user_id):
    """Purge a deleted account now, before its purgeAt (audited as `user.purge`)."""
    deletion.purge_by_admin(current_actor(), user_id)
